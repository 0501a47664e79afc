"""Everything besides Prometheus an investigation may read, built once per worker from settings.

Kubernetes only when an API URL, a kubeconfig or an in-cluster service account
exists (otherwise every report would say the API failed); Loki only when
configured; the runbook index warms in the background and is used once ready
so the first page is not held up by embedding the runbooks; the LLM only
with an API key.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adapters.kube import KubeClient
from adapters.kube_config import KubeTarget
from adapters.loki import LokiClient
from bot.settings import Settings
from detectors.slo import Slo, load_slos

log = logging.getLogger(__name__)


@dataclass
class InvestigationSources:
    kube: KubeClient | None = None
    loki: LokiClient | None = None
    slos: list[Slo] = field(default_factory=list)
    events_selector: str | None = None
    runbooks: Any = None
    llm: Any = None
    _runbooks_ready: bool = False

    def kwargs(self) -> dict[str, Any]:
        return {"kube": self.kube, "loki": self.loki, "slos": self.slos,
                "loki_events_selector": self.events_selector, "llm": self.llm,
                "runbooks": self.runbooks if self._runbooks_ready else None}

    async def warm(self) -> None:
        """Build or open the runbook index off the event loop; reports quote runbooks after."""
        if self.runbooks is None:
            return
        try:
            await asyncio.to_thread(self.runbooks.ensure)
            self._runbooks_ready = True
        except Exception:
            log.exception("runbook index unavailable; reports go without runbook excerpts")

    async def aclose(self) -> None:
        if self.loki is not None:
            await self.loki.aclose()
        if self.kube is not None:
            self.kube.close()
        if self.llm is not None and hasattr(self.llm, "aclose"):
            await self.llm.aclose()


def _kube_reachable(settings: Settings) -> bool:
    return bool(settings.kube_api_url or os.environ.get("KUBERNETES_SERVICE_HOST")
                or Path(os.environ.get("KUBECONFIG", "~/.kube/config")).expanduser().exists())


def build_sources(settings: Settings, *, runbooks: bool = True) -> InvestigationSources:
    sources = InvestigationSources(slos=load_slos(settings.policies_dir / "slo.yaml"),
                                   events_selector=settings.loki_events_selector)
    if settings.loki_url:
        sources.loki = LokiClient(settings.loki_url)
    if _kube_reachable(settings):
        token = settings.kube_token.get_secret_value() if settings.kube_token else None
        sources.kube = KubeClient.connect(KubeTarget(url=settings.kube_api_url, token=token,
                                                     ca_file=settings.kube_ca_file,
                                                     context=settings.kube_context))
    if runbooks:
        from reasoning.runbooks import RunbookIndex, runbook_dirs

        sources.runbooks = RunbookIndex(runbook_dirs(settings.runbooks_dirs or ""),
                                        settings.runbooks_index_dir)
    config = settings.llm_config()
    if config is not None:
        from reasoning.llm.agent import Agent

        sources.llm = Agent(config, loki=sources.loki, kube=sources.kube)
    return sources
