"""Read-only Kubernetes access: allowlisted get/list and pod logs, as envelopes.

The official client is synchronous, so each call runs in a worker thread with a
socket timeout. Answers are kept as the API server's raw JSON (dicts), which
sidesteps the typed models' validation gaps (events.k8s.io/v1 with
`eventTime: null`) and is what detectors and the LLM read anyway. API errors
become statuses: 401/403 FORBIDDEN, a missing object EMPTY, anything else ERROR
with the server's own message; the kubelet being unreachable for pod logs is a
plain, non-fatal ERROR.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from datetime import datetime
from typing import Any, Callable
from urllib.parse import urlencode

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as Urllib3Timeout

from adapters.envelope import SourceResult, Status
from adapters.kube_allowlist import POD_LOG, Read, resolve
from adapters.kube_config import KubeConfigError, KubeTarget, api_client
from adapters.loki import LogLine

Json = dict[str, Any]
_STAMP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z")


class KubeClient:
    """Allowlisted reads against one API server; every method returns a SourceResult."""

    def __init__(self, api: k8s.ApiClient | None, *, timeout: float = 10.0,
                 unavailable: str | None = None, page_size: int = 500,
                 max_items: int = 5000) -> None:
        self._api = api
        self.timeout = timeout
        self.unavailable = unavailable
        self.page_size, self.max_items = page_size, max_items

    @classmethod
    def connect(cls, target: KubeTarget, *, timeout: float = 10.0) -> "KubeClient":
        """Build from a target; a missing config yields a client whose calls all say so."""
        try:
            api, _ = api_client(target)
        except KubeConfigError as exc:
            return cls(None, timeout=timeout, unavailable=str(exc))
        return cls(api, timeout=timeout)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()

    async def list(
        self, resource: str, namespace: str | None = None, *, label_selector: str | None = None,
        field_selector: str | None = None, timeout: float | None = None,
    ) -> SourceResult:
        """All objects of an allowlisted kind (data: list of raw JSON objects), following
        `continue` pages up to `max_items`."""
        read = resolve(resource)
        if read is None:
            return _refused(resource)
        query = {k: v for k, v in (("labelSelector", label_selector),
                                   ("fieldSelector", field_selector)) if v}
        shown = "GET " + read.path(namespace) + (f"?{urlencode(query)}" if query else "")
        method, args = _list_call(read, namespace)
        kwargs: Json = {"label_selector": label_selector, "field_selector": field_selector}
        items: list[Json] = []
        started, token = time.perf_counter(), None
        while True:
            page = {"limit": self.page_size, **({"_continue": token} if token else {})}
            result = await self._raw(read.api, method, args, {**kwargs, **page}, shown, timeout)
            if not result.ok:
                result.elapsed_ms = (time.perf_counter() - started) * 1000
                return result
            items += result.data.get("items") or []
            token = (result.data.get("metadata") or {}).get("continue")
            if not token or len(items) >= self.max_items:
                break
        if token:
            result.warnings.append(f"stopped after {len(items)} objects; more exist")
        result.data = items[: self.max_items]
        result.status = Status.OK if items else Status.EMPTY
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result

    async def get(
        self, resource: str, name: str, namespace: str | None = None, *,
        timeout: float | None = None,
    ) -> SourceResult:
        """One object (data: raw JSON); a missing object is EMPTY with the API's message."""
        read = resolve(resource)
        if read is None:
            return _refused(resource)
        args = (name, namespace) if read.namespaced else (name,)
        shown = "GET " + read.path(namespace, name)
        return await self._raw(read.api, read.read, args, {}, shown, timeout)

    async def pod_logs(
        self, namespace: str, pod: str, *, container: str | None = None,
        previous: bool = False, tail: int | None = None, since_seconds: int | None = None,
        timeout: float | None = None,
    ) -> SourceResult:
        """A container's log (data: list[LogLine], oldest first), like
        `kubectl logs [--previous] [--tail N]`."""
        query = {k: v for k, v in (("container", container), ("previous", "true" if previous else None),
                                   ("tailLines", tail), ("sinceSeconds", since_seconds)) if v}
        shown = f"GET /api/v1/namespaces/{namespace}/pods/{pod}/log?" + urlencode(
            {**query, "timestamps": "true"})
        kwargs: Json = {"container": container, "previous": previous, "tail_lines": tail,
                        "since_seconds": since_seconds, "timestamps": True}
        result = await self._raw(k8s.CoreV1Api, POD_LOG, (pod, namespace), kwargs, shown,
                                 timeout, decode=False)
        if result.ok:
            labels = {"namespace": namespace, "pod": pod}
            if container:
                labels["container"] = container
            result.data = parse_log_text(result.data, labels)
            result.status = Status.OK if result.data else Status.EMPTY
        elif result.error and "containerLogs" in result.error:
            result.error = f"pod logs unavailable (the API server could not reach the " \
                           f"kubelet): {result.error}"
        return result

    async def _raw(
        self, api_cls: type, method: str, args: tuple[Any, ...], kwargs: Json, shown: str,
        timeout: float | None, *, decode: bool = True,
    ) -> SourceResult:
        """Call one allowlisted method off the event loop and wrap the answer."""
        started = time.perf_counter()
        result = SourceResult(source="kubernetes", status=Status.OK, query=shown)
        if self._api is None:
            result.status, result.error = Status.ERROR, self.unavailable or "no Kubernetes API"
            return result
        budget = timeout or self.timeout
        call: Callable[..., Any] = getattr(api_cls(self._api), method)
        clean = {k: v for k, v in kwargs.items() if v is not None}

        def fetch() -> Any:
            # Body read and parse stay in the worker too: a slow body must not block the loop.
            body = call(*args, **clean, _preload_content=False,
                        _request_timeout=(min(budget, 5.0), budget)).data
            return json.loads(body) if decode else body.decode("utf-8", "replace")

        try:
            result.data = await asyncio.wait_for(asyncio.to_thread(fetch), budget + 0.5)
        except ApiException as exc:
            _api_failure(result, exc)
        except (asyncio.TimeoutError, Urllib3Timeout):
            result.status, result.error = Status.TIMEOUT, f"no answer within {budget:.3g}s"
        except MaxRetryError as exc:
            timed_out = isinstance(exc.reason, Urllib3Timeout) and not isinstance(
                exc.reason, NewConnectionError)  # urllib3 files refusals under timeouts
            result.status = Status.TIMEOUT if timed_out else Status.ERROR
            result.error = f"cannot reach the API server: {exc.reason}"
        except (Urllib3Error, OSError, ValueError) as exc:
            result.status, result.error = Status.ERROR, f"{type(exc).__name__}: {exc}"
        result.elapsed_ms = (time.perf_counter() - started) * 1000
        return result


def _list_call(read: Read, namespace: str | None) -> tuple[str, tuple[Any, ...]]:
    if namespace and read.list_namespaced:
        return read.list_namespaced, (namespace,)
    return read.list_all, ()


def _refused(resource: str) -> SourceResult:
    return SourceResult(source="kubernetes", status=Status.FORBIDDEN, query=resource,
                        error=f"{resource!r} is not on the copilot's read allowlist")


def _api_failure(result: SourceResult, exc: ApiException) -> None:
    """Map an API Status answer onto the envelope, keeping the server's message."""
    message = exc.reason or "error"
    details: Json = {}
    try:
        body = json.loads(exc.body or "")
        message, details = body.get("message") or message, body.get("details") or {}
    except (ValueError, AttributeError):
        if exc.body:
            message = str(exc.body).strip()[:300]
    code = exc.status or 0
    result.error = f"HTTP {code}: {message}"
    if code in (401, 403):
        result.status = Status.FORBIDDEN
    elif code == 404 and details.get("name"):
        result.status = Status.EMPTY  # the kind exists, that object does not
    else:
        result.status = Status.ERROR


def parse_log_text(text: str, labels: dict[str, str]) -> list[LogLine]:
    """`timestamps=true` pod log text into LogLines (RFC 3339 nano prefix per line)."""
    out: list[LogLine] = []
    for raw in text.splitlines():
        stamp, _, line = raw.partition(" ")
        ts = rfc3339_ns(stamp)
        if ts is None:  # a line without a stamp continues the previous one
            ts, line = (out[-1].ts_ns if out else 0), raw
        out.append(LogLine(ts, labels, line))
    return out


def rfc3339_ns(value: str) -> int | None:
    """RFC 3339 UTC ('Z', any fraction length) to unix ns; None when it is not one."""
    m = _STAMP.fullmatch(value)
    if not m:
        return None
    secs = int(datetime.fromisoformat(m.group(1) + "+00:00").timestamp())
    return secs * 10**9 + int(((m.group(2) or "") + "000000000")[:9])
