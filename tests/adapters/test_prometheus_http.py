"""Prometheus adapter options that need no real server: auth, tenant, CA, POST, warnings."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs

from aiohttp import web

from adapters.envelope import Status
from adapters.httpconf import HttpAuth
from adapters.prometheus import PrometheusClient
from tests.adapters.conftest import END, fault_app


def answering(body: dict, seen: list) -> web.Application:
    async def handle(request: web.Request) -> web.Response:
        seen.append({"method": request.method, "path": request.path, "query": request.query_string,
                     "headers": request.headers.copy(), "form": dict(await request.post())
                     if request.method == "POST" else {}})
        return web.json_response(body)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    return app


async def test_auth_tenant_and_headers_go_out(serve):
    seen: list = []
    url = await serve(answering({"status": "success", "data": []}, seen))
    auth = HttpAuth(bearer_token="s3", tenant="mimir-team", headers={"X-Extra": "1"})
    async with PrometheusClient(url, auth=auth) as prom:
        await prom.labels()
    async with PrometheusClient(url, auth=HttpAuth(username="u", password="p")) as prom:
        await prom.labels()
    first, second = seen
    assert first["headers"]["Authorization"] == "Bearer s3"
    assert first["headers"]["X-Scope-OrgID"] == "mimir-team" and first["headers"]["X-Extra"] == "1"
    assert second["headers"]["Authorization"].startswith("Basic ")


async def test_answers_are_uncompressed_unless_the_source_asks(serve):
    """gzip costs both ends CPU on every answer; only a remote back end is worth it."""
    seen: list = []
    url = await serve(answering({"status": "success", "data": ["up"]}, seen))
    async with PrometheusClient(url) as prom:
        await prom.labels()
    async with PrometheusClient(url, auth=HttpAuth(compress=True)) as prom:
        result = await prom.labels()
    assert seen[0]["headers"]["Accept-Encoding"] == "identity"
    assert "gzip" in seen[1]["headers"]["Accept-Encoding"] and result.data == ["up"]


async def test_proxy_from_the_environment_is_used(serve, monkeypatch):
    """As with httpx before: HTTP_PROXY reaches a Prometheus the copilot cannot resolve."""
    seen: list = []
    proxy = await serve(answering({"status": "success", "data": ["up"]}, seen))
    for name in ("NO_PROXY", "no_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", proxy)
    async with PrometheusClient("http://prometheus.invalid:9090") as prom:
        result = await prom.labels()
    assert result.data == ["up"] and seen[0]["headers"]["Host"] == "prometheus.invalid:9090"


def test_auth_options_build_the_client():
    auth = HttpAuth(ca_file=None, insecure=True)
    assert auth.verify() is False
    assert HttpAuth().verify() is True
    assert "s3cr3t" not in repr(HttpAuth(bearer_token="s3cr3t", password="s3cr3t"))


async def test_warnings_are_kept_and_empty_is_empty(serve):
    seen: list = []
    body = {"status": "success", "warnings": ["PromQL info: metric might not be a counter"],
            "data": {"resultType": "vector", "result": []}}
    url = await serve(answering(body, seen))
    async with PrometheusClient(url) as prom:
        result = await prom.instant("rate(x[5m])", END)
    assert result.status is Status.EMPTY
    assert result.warnings == ["PromQL info: metric might not be a counter"]


async def test_long_series_match_is_posted_as_a_form(serve):
    seen: list = []
    url = await serve(answering({"status": "success", "data": [{"__name__": "up"}]}, seen))
    matchers = [f'up{{instance="host-{i:04d}.example.internal:9100"}}' for i in range(60)]
    async with PrometheusClient(url) as prom:
        result = await prom.series(matchers, END - timedelta(hours=1), END)
    assert result.status is Status.OK and result.query.startswith("POST /api/v1/series")
    assert seen[0]["method"] == "POST"
    async with PrometheusClient(url) as prom:
        await prom.series(matchers[:2], END - timedelta(hours=1), END)
    assert seen[1]["method"] == "GET"
    assert parse_qs(seen[1]["query"])["match[]"] == matchers[:2]


async def test_failures_are_envelopes(serve):
    for mode, status in (("500", Status.ERROR), ("403", Status.FORBIDDEN),
                         ("bad-json", Status.ERROR)):
        url = await serve(fault_app(mode))
        async with PrometheusClient(url) as prom:
            for result in (await prom.instant("up", END), await prom.rules(),
                           await prom.alerts(), await prom.metadata()):
                assert result.status is status and result.error, (mode, result)
    slow = await serve(fault_app("slow", delay=2))
    async with PrometheusClient(slow, timeout=0.3) as prom:
        result = await prom.series(["up"])
    assert result.status is Status.TIMEOUT


def test_the_environment_proxy_is_chosen_once_per_source(monkeypatch):
    """NO_PROXY exempts a host; other hosts of the scheme go through HTTP(S)_PROXY."""
    from adapters.httpconf import environment_proxy

    for name in ("http_proxy", "https_proxy", "no_proxy", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.corp:3128")
    monkeypatch.setenv("NO_PROXY", "prometheus.monitoring.svc,.cluster.local")
    assert environment_proxy("http://prometheus.monitoring.svc:9090") is None
    assert environment_proxy("http://loki.logging.svc.cluster.local:3100") is None
    assert environment_proxy("http://thanos.example.com:10902") == "http://proxy.corp:3128"
    assert environment_proxy("https://thanos.example.com") is None  # no HTTPS_PROXY set
