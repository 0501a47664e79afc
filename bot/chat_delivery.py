"""Every Slack write of the bot goes through here: once, in its channel's slot, 429-aware.

- once: inside a named chat step (bot.outbox.chat_step) a post is keyed; the
  outbox skips it if already done, and the key rides along as message
  metadata so an uncertain earlier attempt can be found in the channel;
- slot: the shared per-channel limiter (bot.chat_rate) spaces the sends;
- 429: `Retry-After` pushes the channel's slot back for every replica, then
  the send is retried (up to `max_429` times, then the step fails and the
  notification is retried later with backoff);
- metrics: calls by method, errors by method and Slack error code.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot import metrics
from bot.chat_rate import ChannelLimiter
from bot.outbox import STEP, Outbox

log = logging.getLogger(__name__)
META_EVENT = "oncall_step"


class SlackRefused(RuntimeError):
    """Slack answered `ok: false`: nothing was posted."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"Slack {method} refused: {error}")
        self.method, self.error = method, error


class SlackDelivery:
    def __init__(self, client: Any, *, outbox: Outbox | None = None,
                 limiter: ChannelLimiter | None = None, max_429: int = 8) -> None:
        self.client, self.outbox, self.limiter, self.max_429 = client, outbox, limiter, max_429

    async def post(self, channel: str, *, thread_ts: str | None = None, part: str = "",
                   **msg: Any) -> tuple[str, str]:
        """chat.postMessage; once per key when a chat step is named."""
        step = STEP.get()
        if step is None or self.outbox is None:
            return await self._post(channel, thread_ts, None, msg)
        key = step + part

        async def call() -> tuple[str, str]:
            return await self._post(channel, thread_ts, key, msg)

        async def reconcile(since: float) -> tuple[str, str] | None:
            found = await self.find(channel, thread_ts, key, since)
            if found:
                metrics.CHAT_DEDUPED.labels(how="lookup").inc()
                log.warning("chat step %s was posted before an interruption; not posting again", key)
            return found

        return await self.outbox.once(key, call, reconcile=reconcile, refused=(SlackRefused,))

    async def update(self, channel: str, ts: str, **msg: Any) -> None:
        """chat.update is idempotent: no outbox, but the same slots and 429 handling."""
        await self._call("chat_update", channel, ts=ts, **msg)

    async def _post(self, channel: str, thread_ts: str | None, key: str | None,
                    msg: dict[str, Any]) -> tuple[str, str]:
        if key is not None:
            msg = {**msg, "metadata": {"event_type": META_EVENT, "event_payload": {"key": key}}}
        resp = await self._call("chat_postMessage", channel, thread_ts=thread_ts, **msg)
        if self.limiter is not None and resp["channel"] != channel:
            await self.limiter.store.run(self.limiter.learn, channel, resp["channel"])
        return resp["channel"], resp["ts"]

    async def _call(self, method: str, channel: str, **kwargs: Any) -> Any:
        kwargs = {k: v for k, v in kwargs.items() if v is not None}
        for attempt in range(self.max_429 + 1):
            if self.limiter is not None:
                await self.limiter.wait(channel)
            metrics.CHAT_CALLS.labels(method=method).inc()
            try:
                return await getattr(self.client, method)(channel=channel, **kwargs)
            except SlackApiError as exc:
                status = exc.response.status_code
                error = (exc.response.get("error") if isinstance(exc.response.data, dict)
                         else None) or f"http_{status}"
                metrics.CHAT_ERRORS.labels(method=method, error=error).inc()
                if status == 429:
                    retry_after = float(exc.response.headers.get("Retry-After", 1) or 1)
                    log.info("Slack rate-limited %s in %s: retry after %ss", method, channel,
                             retry_after)
                    if attempt < self.max_429:
                        await self._back_off(channel, retry_after)
                        continue
                if status >= 500:
                    raise  # ambiguous: Slack may have done it (the outbox stays uncertain)
                raise SlackRefused(method, error) from exc
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                metrics.CHAT_ERRORS.labels(method=method, error=type(exc).__name__).inc()
                raise
        raise AssertionError("unreachable")

    async def _back_off(self, channel: str, seconds: float) -> None:
        if self.limiter is not None:
            self.limiter.note_block(channel, time.time() + seconds)
            await self.limiter.store.run(self.limiter.push_back, channel, time.time() + seconds)
        else:
            await asyncio.sleep(seconds)

    async def find(self, channel: str, thread_ts: str | None, key: str,
                   since: float) -> tuple[str, str] | None:
        """Look for a message carrying `key` in its metadata, posted since `since`."""
        if self.limiter is not None:
            channel = await self.limiter.store.run(self.limiter.resolve, channel)
        args = dict(channel=channel, oldest=f"{since - 60:.6f}", include_all_metadata=True,
                    limit=200)
        method = "conversations_replies" if thread_ts else "conversations_history"
        try:
            if thread_ts:
                resp = await self.client.conversations_replies(ts=thread_ts, **args)
            else:
                resp = await self.client.conversations_history(**args)
        except (SlackApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else None
            metrics.CHAT_ERRORS.labels(method=method, error=error or type(exc).__name__).inc()
            log.warning("cannot look up earlier post %s (%s): posting again", key, exc)
            return None
        for m in resp.get("messages") or []:
            meta = m.get("metadata") or {}
            if meta.get("event_type") == META_EVENT and \
                    (meta.get("event_payload") or {}).get("key") == key:
                return channel, m["ts"]
        return None
