"""How the HTTP adapters reach a server: auth, TLS trust and the tenant header.

Prometheus, Thanos, Mimir, Cortex and Loki all sit behind the same handful of
options (bearer or basic auth, a private CA, `X-Scope-OrgID` for multi-tenant
back ends), so one small value object configures every httpx client alike.
"""

from __future__ import annotations

import ssl
import urllib.parse
import urllib.request
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

    def client(self, base_url: str, timeout: float,
               extra_headers: dict[str, str] | None = None) -> httpx.AsyncClient:
        """A fresh async client for one source at `base_url`, carrying these options.

        httpx's API over aiohttp's connection pool (httpx-aiohttp): an investigation's
        fan-out is bound by the client's CPU per request, and httpcore spends about
        twice aiohttp's (0.6 vs 0.3 ms a query here, bench/fanout.py), much of it
        re-checking every idle connection on each request. The proxy the environment
        names for `base_url` (HTTP(S)_PROXY, NO_PROXY) is looked up once here: asking
        aiohttp to trust the environment re-reads it on every request (+0.25 ms each).
        """
        import aiohttp  # with the first client, not with `oncall --help`
        from httpx_aiohttp import AiohttpTransport

        verify, proxy = self.verify(), environment_proxy(base_url)

        def session() -> aiohttp.ClientSession:  # made on first use, inside the event loop
            connector = aiohttp.TCPConnector(ssl=verify, limit=32, keepalive_timeout=5.0)
            return aiohttp.ClientSession(connector=connector, proxy=proxy)

        headers = {**(extra_headers or {}), **self.all_headers()}
        return httpx.AsyncClient(headers=headers, auth=self.basic(), timeout=timeout,
                                 transport=AiohttpTransport(client=session))


def environment_proxy(url: str) -> str | None:
    """The proxy URL the environment sets for `url`, or None (none set, or NO_PROXY)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname or urllib.request.proxy_bypass(parts.hostname):
        return None
    return urllib.request.getproxies().get(parts.scheme)
