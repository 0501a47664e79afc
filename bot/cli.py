"""`oncall`: the command line. Each command is a thin shell over a workflow."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from bot import cli_agent
from bot.cli_slo import slo_app
from bot.cli_logs import logs_app
from bot.cli_detect import detect_app
from bot.cli_canary import canary_gate, canary_prom
from bot.cli_cost import cost as cost_command
from bot.cli_health import health as health_command
from bot.cli_slo_prom import slo_prom as slo_prom_command
from bot.cli_triage import triage as triage_command
from bot.settings import Settings
from bot.cli_status import status as status_command
from bot.cli_errors import run_cli, set_debug
from bot.logs import setup_logging

app = typer.Typer(help="oncall-copilot: self-hosted on-call copilot for Kubernetes.",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Replay a recorded incident on loopback (tests, demos).",
                          no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(sandbox_app, name="sandbox")
app.add_typer(logs_app, name="logs")
app.add_typer(slo_app, name="slo")
app.add_typer(detect_app, name="detect")
app.command("agent-run")(cli_agent.agent_run)
app.command("eval")(cli_agent.eval_scenarios)
app.command("canary-gate")(canary_gate)
app.command("canary-prom")(canary_prom)
app.command("health")(health_command)
app.command("triage")(triage_command)
app.command("slo-prom")(slo_prom_command)
app.command("cost")(cost_command)
app.command("status")(status_command)
console = Console()


@app.callback()
def _global_options(
    debug: bool = typer.Option(False, "--debug", envvar="ONCALL_DEBUG",
                               help="on an error, print the full traceback and debug logs"),
) -> None:
    set_debug(debug)
    if debug:
        logging.basicConfig(level=logging.DEBUG)


def main() -> None:
    """The `oncall` entry point: errors are one line and exit 1 unless --debug."""
    run_cli(app)


@app.command()
def serve(
    port: int = typer.Option(None, help="HTTP port (default ONCALL_PORT, 8080)"),
    log_level: str = typer.Option("INFO", help="logging level"),
) -> None:
    """Run the HTTP server: Alertmanager webhooks, Slack events, /healthz, /metrics."""
    settings = Settings()
    setup_logging(log_level, settings.log_format, role="serve")
    if settings.worker_mode == "process":
        _share_metrics_with_worker()
    from bot.server import serve as run

    if port:
        settings.port = port
    run(settings)


def _share_metrics_with_worker() -> None:
    """Both processes must know the metrics directory before prometheus_client loads."""
    import atexit
    import os
    import shutil
    import tempfile

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = tempfile.mkdtemp(prefix="oncall-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = path
        atexit.register(shutil.rmtree, path, True)


@app.command()
def work(log_level: str = typer.Option("INFO", help="logging level")) -> None:
    """Run only the worker (investigations and chat), e.g. as a separate deployment."""
    import asyncio

    from bot.runtime import run_worker

    settings = Settings()
    setup_logging(log_level, settings.log_format, role="worker")
    try:
        asyncio.run(run_worker(settings))
    except KeyboardInterrupt:
        pass


@config_app.command("show")
def config_show() -> None:
    """Print the effective settings, secrets masked."""
    table = Table("setting", "value", title="effective configuration")
    for key, value in Settings().masked().items():
        table.add_row(key, value)
    console.print(table)


@sandbox_app.command("up")
def sandbox_up(
    scenario: Path = typer.Option(..., exists=True, file_okay=False, help="scenario folder"),
    webhook_url: str = typer.Option("http://127.0.0.1:8080/alertmanager",
                                    help="where Alertmanager sends pages"),
    webhook_token: str = typer.Option(None, help="bearer token Alertmanager sends"),
) -> None:
    """Start Prometheus, Alertmanager and the Loki/Kubernetes/Slack stand-ins until Ctrl-C."""
    from bot.demo import run_sandbox_forever

    run_sandbox_forever(scenario, webhook_url, webhook_token, console)


@app.command()
def demo(
    scenario: Path = typer.Option(None, file_okay=False,
                                  help="scenario folder (default: the bundled OOM-kill demo)"),
    timeout: float = typer.Option(90.0, help="seconds to wait for the page and the report"),
) -> None:
    """Replay an incident end to end: real Prometheus pages, the bot answers in a Slack thread."""
    from bot.demo import run_demo

    raise typer.Exit(run_demo(scenario, timeout, console))


if __name__ == "__main__":
    main()
