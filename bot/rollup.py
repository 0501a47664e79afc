"""Alert storms: beyond N new groups a minute in a channel, summarise instead of flood.

A new group is admitted to a channel either as a thread of its own or, once
the channel has had `limit` new threads arrive within `window` seconds, as an entry
of the channel's next roll-up. Entries older than `delay` become one roll-up
job (a queue row of kind "rollup", so it is leased, retried and dead-lettered
like any notification) that posts one message listing them all. Decisions are
made under a per-channel row lock, so every replica counts the same threads.

A rolled-up group is not investigated on its own (shedding load is the
point); if it gets new firing alerts after the storm, it is admitted again
and may get its own thread then.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from sqlalchemy import func, select, update

from bot.models import Alert, AlertGroup, ChatChannel, Notification, RollupEntry
from bot.render.blockkit import MAX_BLOCKS, section
from bot.render.common import SEVERITY_TAG
from bot.store import GroupView, Store


class Storm:
    def __init__(self, store: Store, *, limit: int, window: float, delay: float) -> None:
        self.store, self.limit, self.window, self.delay = store, limit, window, delay

    def admit(self, group_key: str, channel: str, promote: bool = False,
              arrived: float | None = None) -> str:
        """"thread" or "rollup" for a group about to get its first post in `channel`.

        Counted by arrival (`arrived`: when intake stored the notification), not
        by processing time: a backlog worked off after the storm is still the storm.
        """
        now = arrived if arrived is not None else time.time()
        with self.store._session() as s, s.begin():
            lock = f"admit:{channel}"
            s.execute(self.store._insert()(ChatChannel).values(name=lock, next_at=0.0)
                      .on_conflict_do_nothing(index_elements=["name"]))
            s.execute(select(ChatChannel).where(ChatChannel.name == lock).with_for_update())
            group = s.get(AlertGroup, group_key)
            if group is None:
                raise LookupError(f"unknown group {group_key!r}")
            if group.mode == "thread" or (group.mode == "rollup" and not promote):
                return group.mode
            recent = s.execute(select(func.count()).select_from(AlertGroup).where(
                AlertGroup.route == channel, AlertGroup.mode == "thread",
                AlertGroup.admitted_at >= now - self.window)).scalar() or 0
            mode = "thread" if self.limit <= 0 or recent < self.limit else "rollup"
            if group.mode == "rollup" and mode == "rollup":
                return "rollup"  # still stormy: it stays in the roll-up it was listed in
            group.mode, group.route, group.admitted_at = mode, channel, now
            if mode == "rollup":
                s.execute(self.store._insert()(RollupEntry)
                          .values(group_key=group_key, channel=channel, added_at=time.time())
                          .on_conflict_do_nothing(index_elements=["group_key"]))
            return mode

    def schedule(self) -> int:
        """Turn entries waiting over `delay` into roll-up jobs; returns how many were made."""
        now, made = time.time(), 0
        with self.store._session() as s:
            rows = list(s.execute(
                select(RollupEntry.channel, func.min(RollupEntry.id), func.max(RollupEntry.id),
                       func.min(RollupEntry.added_at))
                .where(RollupEntry.job_id.is_(None)).group_by(RollupEntry.channel)))
        for channel, low, high, oldest in rows:
            if oldest > now - self.delay:
                continue
            with self.store._session() as s, s.begin():
                # The digest names the batch by its first entry: two replicas racing
                # to schedule the same batch insert one job, the other inserts nothing.
                digest = hashlib.sha256(f"rollup:{channel}:{low}".encode()).hexdigest()
                job = s.execute(self.store._insert()(Notification).values(
                    digest=digest, group_key=f"rollup:{channel}", received_at=now,
                    body=json.dumps({"channel": channel}), state="pending", attempts=0, steps="",
                    kind="rollup").on_conflict_do_nothing(index_elements=["digest"])
                    .returning(Notification.id)).scalar()
                if job is None:
                    continue
                s.execute(update(RollupEntry).where(
                    RollupEntry.job_id.is_(None), RollupEntry.channel == channel,
                    RollupEntry.id >= low, RollupEntry.id <= high).values(job_id=job))
                made += 1
        return made

    def members(self, job_id: int) -> list[GroupView]:
        """The groups a roll-up job lists, in the order they arrived."""
        with self.store._session() as s:
            keys = list(s.scalars(select(RollupEntry.group_key)
                                  .where(RollupEntry.job_id == job_id).order_by(RollupEntry.id)))
            groups = {g.group_key: g for g in s.scalars(
                select(AlertGroup).where(AlertGroup.group_key.in_(keys)))}
            counts: dict[str, list[int]] = {}
            for key, status, n in s.execute(
                    select(Alert.group_key, Alert.status, func.count())
                    .where(Alert.group_key.in_(keys)).group_by(Alert.group_key, Alert.status)):
                c = counts.setdefault(key, [0, 0])
                c[0] += n if status == "firing" else 0
                c[1] += n
            return [self.store._view(groups[k], *counts.get(k, [0, 0]), [], [])
                    for k in keys if k in groups]

    def pending(self) -> int:
        with self.store._session() as s:
            return s.execute(select(func.count()).select_from(RollupEntry)
                             .where(RollupEntry.job_id.is_(None))).scalar() or 0


def group_line(g: GroupView) -> str:
    """One roll-up line: severity, name, the labels that make the group, summary."""
    tag = SEVERITY_TAG.get(g.severity, g.severity.upper())
    labels = ", ".join(f"{k}={v}" for k, v in sorted(g.labels.items()) if k != "alertname")
    parts = [f"[{tag}] *{g.title or 'alert'}*", f"`{labels[:200]}`" if labels else "",
             f"{g.firing}/{g.total} firing" if g.status == "firing" else "resolved",
             g.summary[:120]]
    return "• " + " · ".join(p for p in parts if p)


def rollup_messages(channel: str, groups: list[GroupView], window: float,
                    limit: int) -> list[dict[str, Any]]:
    """Slack messages (within block limits) listing every group of a roll-up."""
    head = (f":rotating_light: *Alert storm in {channel}*: {len(groups)} more new alert "
            f"group{'s' if len(groups) != 1 else ''}. Over {limit} new groups in {window:g} s, "
            "so they are listed here instead of a thread each (not investigated one by one).")
    blocks = section(head) + section("\n".join(group_line(g) for g in groups))
    chunks = [blocks[i:i + MAX_BLOCKS] for i in range(0, len(blocks), MAX_BLOCKS)]
    text = f"Alert storm: {len(groups)} new alert groups in {channel}"
    return [{"text": text if i == 0 else f"{text} (part {i + 1})", "blocks": c}
            for i, c in enumerate(chunks)]
