"""`oncall serve`: one aiohttp server for Alertmanager, Slack, health and metrics."""

from __future__ import annotations

import asyncio
import gc
import hmac
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

from bot import metrics
from bot.chat import ChatSink
from bot.chat_routes import attach_chat
from bot.intake import IntakeQueue
from bot.memory import limit_arenas
from bot.runtime import WorkerProcess, build_worker, make_slack_app
from bot.settings import Settings
from bot.store import Store
from bot.webhook import BadWebhook, parse_webhook

if TYPE_CHECKING:
    from bot.worker import Worker

log = logging.getLogger(__name__)
STORE, SLACK = web.AppKey("store", Store), web.AppKey("slack", AsyncApp)
WORKER: web.AppKey[Worker] = web.AppKey("worker")  # only when the worker is in this process
SETTINGS, INTAKE = web.AppKey("settings", Settings), web.AppKey("intake", IntakeQueue)


def _error(status: int, reason: str, outcome: str) -> web.Response:
    metrics.WEBHOOKS.labels(outcome=outcome).inc()
    return web.json_response({"status": "rejected", "error": reason}, status=status)


async def alertmanager(request: web.Request) -> web.Response:
    """Validate, persist, then acknowledge; the worker does the rest."""
    settings = request.app[SETTINGS]
    if settings.webhook_token is not None:
        expected = f"Bearer {settings.webhook_token.get_secret_value()}"
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return _error(401, "missing or wrong bearer token", "unauthorized")
    if (request.content_length or 0) > settings.max_body_bytes:
        return _error(413, f"body over {settings.max_body_bytes} bytes", "too_large")
    try:
        body = await request.content.read(settings.max_body_bytes + 1)
    except Exception as exc:  # client went away mid-body
        return _error(400, f"could not read body: {exc}", "bad_body")
    if len(body) > settings.max_body_bytes:
        return _error(413, f"body over {settings.max_body_bytes} bytes", "too_large")
    try:
        hook = parse_webhook(body)
    except BadWebhook as exc:
        return _error(400, str(exc), "invalid")
    try:
        notification_id, duplicate = await request.app[INTAKE].submit(hook, body)
    except Exception as exc:  # not stored: make Alertmanager retry rather than lose it
        log.exception("store unavailable")
        return _error(503, f"store unavailable, retry later: {type(exc).__name__}", "store_error")
    if duplicate:
        metrics.WEBHOOKS.labels(outcome="duplicate").inc()
        return web.json_response({"status": "duplicate"})
    metrics.WEBHOOKS.labels(outcome="accepted").inc()
    if (worker := request.app.get(WORKER)) is not None:
        worker.wake.set()  # the worker in this loop starts at once instead of at its next poll
    return web.json_response({"status": "accepted", "id": notification_id})


async def slack_events(request: web.Request) -> web.Response:
    app = request.app.get(SLACK)
    if app is None:
        return web.json_response({"error": "Slack is not configured on this server"}, status=503)
    if request.app[SETTINGS].slack_signing_secret is None:
        # Nothing proves the request came from Slack: refuse it. (A check here, not a
        # middleware, so every other request skips aiohttp's middleware chain.)
        return web.json_response({"error": "set ONCALL_SLACK_SIGNING_SECRET to accept Slack requests "
                                           "(or use Socket Mode with ONCALL_SLACK_APP_TOKEN)"}, status=503)
    return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))


async def healthz(request: web.Request) -> web.Response:
    try:
        ok = await request.app[STORE].run(request.app[STORE].ping)
    except Exception as exc:
        return web.json_response({"status": "unhealthy", "store": str(exc)}, status=503)
    return web.json_response({"status": "ok" if ok else "unhealthy"}, status=200 if ok else 503)


async def prometheus_metrics(request: web.Request) -> web.Response:
    store = request.app[STORE]
    try:
        depth = await store.run(store.queue_depth)
        metrics.QUEUE_OLDEST.set(await store.run(store.oldest_pending_age))
    except Exception:  # the store is down: serve the rest; the gauges keep their last value
        log.warning("queue gauges not refreshed: store unavailable", exc_info=True)
    else:
        for state in {"pending", "processing", "done", "dead"} | set(depth):
            metrics.QUEUE.labels(state=state).set(depth.get(state, 0))
    return web.Response(body=metrics.exposition(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def make_app(settings: Settings, *, sink: ChatSink | None = None,
             run_worker: bool | None = None, with_worker: bool = True) -> web.Application:
    """The HTTP app; `run_worker` (default: worker_mode == "inline") runs the worker in this loop.

    `with_worker=False` (serve with the worker in its own process) builds none here,
    so this process never loads the investigation stack.
    """
    app = web.Application(client_max_size=settings.max_body_bytes + 1024)
    store = Store(settings.database_url)
    slack = make_slack_app(settings)
    worker = build_worker(settings, store, sink, slack) if with_worker else None
    app[SETTINGS], app[STORE] = settings, store
    if worker is not None:
        app[WORKER] = worker
    app[INTAKE] = IntakeQueue(store)
    if slack is not None:
        app[SLACK] = slack
    attach_chat(app, settings, store, slack)  # Slack listeners, Socket Mode, Teams /api/messages
    app.router.add_post("/alertmanager", alertmanager)
    app.router.add_post("/slack/events", slack_events)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus_metrics)

    async def lifecycle(app: web.Application):
        inline = settings.worker_mode == "inline" if run_worker is None else run_worker
        task = asyncio.create_task(worker.run()) if inline and worker is not None else None
        yield
        if task:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        if worker is not None:
            await worker.aclose()
        store.close()

    app.cleanup_ctx.append(lifecycle)
    return app


def serve(settings: Settings) -> None:
    """Intake in this process; the worker beside it (worker_mode=process) or inline."""
    limit_arenas()
    app = make_app(settings, with_worker=settings.worker_mode != "process")
    if settings.worker_mode == "process":
        child = WorkerProcess(settings)

        async def supervise(app: web.Application):
            child.start()
            task = asyncio.create_task(child.supervise())
            yield
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await asyncio.to_thread(child.stop)

        app.cleanup_ctx.append(supervise)
    if settings.worker_mode == "inline" and settings.runbooks_enabled:
        from reasoning.runbooks import RunbookIndex

        RunbookIndex.preload()
    # Everything imported so far lives as long as the process: move it out of the
    # collector's sight, or each full collection walks the SDKs' objects and
    # stalls every in-flight acknowledgement (~150 ms here, measured with
    # bench/webhook_ack.py).
    gc.freeze()
    web.run_app(app, host=settings.host, port=settings.port, print=None)
