"""`oncall agent-run -n NS [--once | --interval 5m]`: the sweep of bot.watch, from a terminal.

The clients come from `ONCALL_*` (or a replayed `--scenario`), exactly as the
on-demand commands open them; chat is Slack when a bot token is configured,
else the terminal. `--once` prints each namespace's report and posts nothing.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from rich.console import Console

from bot.chat import ChatSink, SlackSink, TerminalSink
from bot.cli_workflows import cluster_for
from bot.ownership import OwnershipMap
from bot.runtime import make_slack_app
from bot.settings import Settings
from bot.watch import Outcome, Sweeper
from detectors import Severity
from detectors.slo import load_slos
from reasoning.workflows.sources import Sources, open_sources

log = logging.getLogger(__name__)


def chat_sink(settings: Settings) -> ChatSink:
    slack = make_slack_app(settings)
    return SlackSink(slack, settings.slack_channel) if slack is not None else TerminalSink()


async def _investigate_kwargs(src: Sources, settings: Settings) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"kube": src.kube, "loki": src.loki,
                              "loki_events_selector": src.events_selector,
                              "slos": load_slos(settings.policies_dir / "slo.yaml"),
                              "slo_objective": settings.slo_objective}
    if settings.runbooks_enabled:
        from reasoning.runbooks import RunbookIndex, runbook_dirs

        index = RunbookIndex(runbook_dirs(settings.runbooks_dirs or ""), settings.runbooks_index_dir)
        await asyncio.to_thread(index.ensure)
        kwargs["runbooks"] = index
    config = settings.llm_config()
    if config is not None:
        from reasoning.llm.agent import Agent

        kwargs["llm"] = Agent(config, loki=src.loki, kube=src.kube)
    return kwargs


async def sweep(namespaces: list[str], *, scenario: Path | None, threshold: Severity,
                interval: float | None, console: Console) -> list[Outcome]:
    """One round (interval None: reports returned, nothing posted) or rounds until interrupted."""
    settings = Settings()
    async with cluster_for(scenario) as cluster, \
            open_sources(cluster, events_selector=settings.loki_events_selector) as src:
        sweeper = Sweeper(src.prometheus, namespaces, threshold=threshold,
                          sink=chat_sink(settings) if interval else None,
                          ownership=OwnershipMap.from_settings(settings),
                          default_channel=settings.slack_channel,
                          deadline=settings.investigation_deadline,
                          investigate_kwargs=await _investigate_kwargs(src, settings))
        if interval is None:
            return await sweeper.round()
        while True:
            for o in await sweeper.round():
                console.print(f"{o.namespace}: {len(o.crossed)} finding(s) at or above "
                              f"{threshold.value}: {o.action}", markup=False, highlight=False)
            await asyncio.sleep(interval)
