"""`oncall status`: the work queue as the store sees it, from any replica or a laptop.

Shows what an operator needs during an incident about the bot itself: how
much is waiting and for how long, who is working on what, what is dead and
why, how far behind each chat channel is; `--retry ID` revives a dead letter.
"""

from __future__ import annotations

import json
import time

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def collect(store) -> dict:
    """Everything `oncall status` prints, as plain data (also its --json output)."""
    from bot.chat_rate import ChannelLimiter
    from bot.rollup import Storm

    return {
        "queue": store.queue_depth(),
        "oldest_pending_seconds": round(store.oldest_pending_age(), 1),
        "in_flight": store.in_flight(),
        "dead": store.dead_letters(),
        "rollup_waiting": Storm(store, limit=0, window=60, delay=0).pending(),
        "channel_backlog_seconds": {k: round(v, 1) for k, v in
                                    ChannelLimiter(store, 1.0).backlog().items()},
    }


def status(
    as_json: bool = typer.Option(False, "--json", help="print JSON instead of tables"),
    retry: int = typer.Option(None, "--retry", help="move dead notification ID back to pending"),
) -> None:
    """Queue depth, oldest pending age, work in flight, dead letters, chat backlog."""
    from bot.settings import Settings
    from bot.store import Store

    store = Store(Settings().database_url)
    try:
        if retry is not None:
            if not store.requeue(retry):
                console.print(f"notification {retry} is not dead (or does not exist)")
                raise typer.Exit(1)
            console.print(f"notification {retry} is pending again")
        data = collect(store)
    finally:
        store.close()
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
        return
    _print(data)


def _print(data: dict) -> None:
    queue = Table("state", "notifications", title="work queue")
    for state in ("pending", "processing", "done", "dead"):
        queue.add_row(state, str(data["queue"].get(state, 0)))
    console.print(queue)
    console.print(f"oldest unfinished: {data['oldest_pending_seconds']} s · "
                  f"groups waiting for a storm roll-up: {data['rollup_waiting']}")
    if data["in_flight"]:
        flight = Table("id", "group", "owner", "attempt", "lease left", title="in flight")
        for n in data["in_flight"]:
            flight.add_row(str(n["id"]), n["group_key"][:60], n["owner"] or "",
                           str(n["attempts"]), f"{n['lease_left']:.0f} s")
        console.print(flight)
    if data["dead"]:
        dead = Table("id", "group", "attempts", "age", "error", title="dead letters")
        for n in data["dead"]:
            error = (n["error"] or "").strip().splitlines()
            dead.add_row(str(n["id"]), n["group_key"][:60], str(n["attempts"]),
                         f"{(time.time() - n['received_at']) / 60:.0f} min",
                         (error[-1] if error else "")[:100])
        console.print(dead)
        console.print("retry one with: oncall status --retry ID")
    else:
        console.print("no dead letters")
    backlog = {k: v for k, v in data["channel_backlog_seconds"].items() if v > 0}
    if backlog:
        console.print("chat backlog: " + ", ".join(f"{k} {v} s" for k, v in backlog.items()))
