"""How the HTTP adapters reach a server: auth, TLS trust and the tenant header.

Prometheus, Thanos, Mimir, Cortex and Loki all sit behind the same handful of
options (bearer or basic auth, a private CA, `X-Scope-OrgID` for multi-tenant
back ends), so one small value object configures every httpx client alike.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field

import httpx

TENANT_HEADER = "X-Scope-OrgID"


@dataclass(frozen=True)
class HttpAuth:
    """Credentials and transport options for one HTTP data source."""

    bearer_token: str | None = field(default=None, repr=False)
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    tenant: str | None = None
    ca_file: str | None = None
    insecure: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    # Off by default: in-cluster bandwidth is plentiful, while gzip costs the server and
    # the copilot CPU on every answer (bench/fanout.py). Turn on for remote back ends.
    compress: bool = False

    def all_headers(self) -> dict[str, str]:
        """Static headers to send: extras, the tenant, a bearer token if set, and
        uncompressed answers unless `compress` asks for them."""
        out = dict(self.headers)
        if self.tenant:
            out[TENANT_HEADER] = self.tenant
        if self.bearer_token:
            out["Authorization"] = f"Bearer {self.bearer_token}"
        if not self.compress:
            out.setdefault("Accept-Encoding", "identity")
        return out

    def verify(self) -> ssl.SSLContext | bool:
        """httpx's `verify`: off, the system trust store, or a private CA bundle."""
        if self.insecure:
            return False
        if self.ca_file:
            return ssl.create_default_context(cafile=self.ca_file)
        return True

    def basic(self) -> httpx.BasicAuth | None:
        if self.username is None:
            return None
        return httpx.BasicAuth(self.username, self.password or "")

    def client(self, timeout: float, extra_headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A fresh async client carrying these options, for every HTTP data source.

        Few idle connections: httpx re-checks each one on every request, and that
        CPU, not the network, sets how far a fan-out trails its slowest query.
        """
        headers = {**(extra_headers or {}), **self.all_headers()}
        return httpx.AsyncClient(
            headers=headers, auth=self.basic(), verify=self.verify(), timeout=timeout,
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
        )
