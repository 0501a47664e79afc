"""What every chat surface needs, built once per process: settings, store views,
the ownership map and the approval flow."""

from __future__ import annotations

from dataclasses import dataclass, field

from adapters.prometheus import PrometheusClient
from bot.approvals import ApprovalFlow, Approvals
from bot.chat_executor import BackgroundLoop
from bot.incidents import Incidents
from bot.ownership import OwnershipMap
from bot.settings import Settings
from bot.store import Store


@dataclass
class ChatDeps:
    settings: Settings
    store: Store
    ownership: OwnershipMap
    incidents: Incidents
    approvals: Approvals
    flow: ApprovalFlow
    background: BackgroundLoop = field(default_factory=BackgroundLoop)  # workflows run there
    _prometheus: PrometheusClient | None = None

    @classmethod
    def build(cls, settings: Settings, store: Store) -> "ChatDeps":
        ownership = OwnershipMap.from_settings(settings)
        approvals = Approvals(store)
        return cls(settings, store, ownership, Incidents(store), approvals, ApprovalFlow(approvals, ownership))

    def prometheus(self) -> PrometheusClient:
        """One client for every command: making one costs ~45 ms of CPU (TLS context), which
        would stall acknowledgements running in the same event loop."""
        if self._prometheus is None:
            self._prometheus = PrometheusClient(self.settings.prometheus_url,
                                                link_url=self.settings.prometheus_link_url)
        return self._prometheus

    async def work(self, coro):
        """Run slow chat work (a workflow, an investigation) off the acknowledging loop."""
        return await self.background.run(coro)

    async def aclose(self) -> None:
        async def close_client() -> None:
            if self._prometheus is not None:
                await self._prometheus.aclose()
                self._prometheus = None

        await self.background.stop(close_client)
