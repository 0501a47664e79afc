"""Status drafts and their approval: nothing reaches stakeholders without an approver.

Platform-neutral: Slack and Teams handlers call `approve`, `edit`, `discard`
with the clicking user and a `post` callback. "Posts exactly once" rests on
one conditional UPDATE (pending -> posted): of two clicks, or two replicas,
only the one whose UPDATE changed a row posts.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Awaitable, Callable

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.approval_models import AuditEntry, StatusDraft
from bot.ownership import Owner, OwnershipMap
from bot.store import Store


@dataclass
class Draft:
    id: int
    group_key: str
    title: str
    labels: dict[str, str]
    platform: str
    channel: str
    thread_ts: str | None
    message_ts: str | None
    text: str
    status: str
    edited_by: str | None = None
    decided_by: str | None = None
    decided_at: float | None = None
    posted_to: str | None = None
    posted_ts: str | None = None


@dataclass
class Actor:
    """Who clicked: `identities` are every name the ownership map may list them under."""

    user_id: str
    display: str = ""
    identities: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.identities = set(self.identities) | {self.user_id}


@dataclass
class Outcome:
    kind: str  # posted | refused | already | missing | failed | discarded | edited
    message: str
    draft: Draft | None = None


def _view(row: StatusDraft) -> Draft:
    return Draft(id=row.id, group_key=row.group_key, title=row.title, labels=json.loads(row.labels),
                 platform=row.platform, channel=row.channel, thread_ts=row.thread_ts,
                 message_ts=row.message_ts, text=row.text, status=row.status, edited_by=row.edited_by,
                 decided_by=row.decided_by, decided_at=row.decided_at, posted_to=row.posted_to,
                 posted_ts=row.posted_ts)


class Approvals:
    """Draft rows in the store's database (blocking methods: call through `store.run`)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        StatusDraft.metadata.create_all(store.engine, tables=[StatusDraft.__table__, AuditEntry.__table__])

    def _session(self) -> Session:
        return Session(self.store.engine, expire_on_commit=False)

    @staticmethod
    def _audit(s: Session, actor: str, action: str, draft_id: int | None, detail: str = "") -> None:
        s.add(AuditEntry(at=time.time(), actor=actor, action=action, draft_id=draft_id, detail=detail[:4000]))

    def create(self, draft_key: str, group_key: str, title: str, labels: dict[str, str], platform: str,
               channel: str, thread_ts: str | None, text: str) -> Draft:
        """One draft per key: a retried report gets the draft it already has."""
        try:
            with self._session() as s, s.begin():
                row = StatusDraft(draft_key=draft_key, group_key=group_key, title=title,
                                  labels=json.dumps(labels, sort_keys=True), platform=platform,
                                  channel=channel, thread_ts=thread_ts, text=text, status="pending",
                                  created_at=time.time())
                s.add(row)
                s.flush()
                self._audit(s, "oncall-copilot", "drafted", row.id, text)
                return _view(row)
        except IntegrityError:
            with self._session() as s:
                return _view(s.scalars(select(StatusDraft).where(StatusDraft.draft_key == draft_key)).one())

    def set_message(self, draft_id: int, channel: str, message_ts: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(StatusDraft).where(StatusDraft.id == draft_id)
                      .values(channel=channel, message_ts=message_ts))

    def get(self, draft_id: int) -> Draft | None:
        with self._session() as s:
            row = s.get(StatusDraft, draft_id)
            return _view(row) if row else None

    def edit(self, draft_id: int, text: str, actor: str) -> bool:
        """Replace the text of a pending draft; False once it was decided."""
        with self._session() as s, s.begin():
            changed = s.execute(update(StatusDraft).where(StatusDraft.id == draft_id,
                                                          StatusDraft.status == "pending")
                                .values(text=text, edited_by=actor)).rowcount
            if changed:
                self._audit(s, actor, "edited", draft_id, text)
            return changed == 1

    def claim(self, draft_id: int, actor: str) -> bool:
        """pending -> posted, atomically: True for exactly one caller."""
        with self._session() as s, s.begin():
            won = s.execute(update(StatusDraft).where(StatusDraft.id == draft_id,
                                                      StatusDraft.status == "pending")
                            .values(status="posted", decided_by=actor, decided_at=time.time())).rowcount
            if won:
                self._audit(s, actor, "approved", draft_id)
            return won == 1

    def mark_posted(self, draft_id: int, actor: str, channel: str, ts: str) -> None:
        with self._session() as s, s.begin():
            s.execute(update(StatusDraft).where(StatusDraft.id == draft_id)
                      .values(posted_to=channel, posted_ts=ts))
            self._audit(s, actor, "posted", draft_id, f"{channel} {ts}")

    def release(self, draft_id: int, actor: str, error: str) -> None:
        """The post failed: back to pending so someone can approve again."""
        with self._session() as s, s.begin():
            s.execute(update(StatusDraft).where(StatusDraft.id == draft_id, StatusDraft.status == "posted",
                                                StatusDraft.posted_ts.is_(None))
                      .values(status="pending", decided_by=None, decided_at=None))
            self._audit(s, actor, "post_failed", draft_id, error)

    def discard(self, draft_id: int, actor: str) -> bool:
        with self._session() as s, s.begin():
            done = s.execute(update(StatusDraft).where(StatusDraft.id == draft_id,
                                                       StatusDraft.status == "pending")
                             .values(status="discarded", decided_by=actor, decided_at=time.time())).rowcount
            if done:
                self._audit(s, actor, "discarded", draft_id)
            return done == 1

    def refused(self, draft_id: int, actor: str, action: str) -> None:
        with self._session() as s, s.begin():
            self._audit(s, actor, "refused", draft_id, action)

    def audit(self, draft_id: int | None = None) -> list[dict]:
        with self._session() as s:
            stmt = select(AuditEntry).order_by(AuditEntry.id)
            if draft_id is not None:
                stmt = stmt.where(AuditEntry.draft_id == draft_id)
            return [{"at": a.at, "actor": a.actor, "action": a.action, "draft_id": a.draft_id,
                     "detail": a.detail} for a in s.scalars(stmt)]


GroupCheck = Callable[[list[str], Actor], Awaitable[bool]]
Poster = Callable[[Owner, Draft], Awaitable[tuple[str, str]]]


class ApprovalFlow:
    """The rules, shared by every chat surface."""

    def __init__(self, approvals: Approvals, ownership: OwnershipMap) -> None:
        self.approvals, self.ownership = approvals, ownership

    async def _run(self, fn, *args):
        return await self.approvals.store.run(fn, *args)

    async def may_decide(self, draft: Draft, actor: Actor, in_group: GroupCheck | None) -> Owner | None:
        owner = self.ownership.resolve(draft.labels)
        if owner.allows(actor.identities):
            return owner
        if owner.approver_groups and in_group is not None and await in_group(owner.approver_groups, actor):
            return owner
        return None

    def refusal(self, draft: Draft) -> str:
        owner = self.ownership.resolve(draft.labels)
        who = ", ".join(owner.approvers + owner.approver_groups) or "nobody yet (policies/ownership.yaml)"
        return (f"Only approvers of team *{owner.team}* can approve or discard this status update "
                f"(approvers: {who}). Nothing was posted.")

    async def approve(self, draft_id: int, actor: Actor, post: Poster,
                      in_group: GroupCheck | None = None) -> Outcome:
        draft = await self._run(self.approvals.get, draft_id)
        if draft is None:
            return Outcome("missing", f"Status draft #{draft_id} does not exist.")
        owner = await self.may_decide(draft, actor, in_group)
        if owner is None:
            await self._run(self.approvals.refused, draft_id, actor.user_id, "approve")
            return Outcome("refused", self.refusal(draft), draft)
        if draft.status != "pending":
            return Outcome("already", _already(draft), draft)
        if not (owner.teams_stakeholder_conversation if draft.platform == "teams"
                else owner.stakeholder_channel):
            return Outcome("failed", f"Team *{owner.team}* has no stakeholder channel in the ownership map.",
                           draft)
        if not await self._run(self.approvals.claim, draft_id, actor.user_id):
            return Outcome("already", _already(await self._run(self.approvals.get, draft_id)), draft)
        try:
            channel, ts = await post(owner, draft)
        except Exception as exc:  # not posted: reopen, tell the approver
            await self._run(self.approvals.release, draft_id, actor.user_id, repr(exc))
            return Outcome("failed", f"Posting failed ({type(exc).__name__}); the draft is open again.",
                           draft)
        await self._run(self.approvals.mark_posted, draft_id, actor.user_id, channel, ts)
        where = ("the stakeholder conversation" if draft.platform == "teams"
                 else owner.stakeholder_channel)
        return Outcome("posted", f"Posted to {where}.", await self._run(self.approvals.get, draft_id))

    async def discard(self, draft_id: int, actor: Actor, in_group: GroupCheck | None = None) -> Outcome:
        draft = await self._run(self.approvals.get, draft_id)
        if draft is None:
            return Outcome("missing", f"Status draft #{draft_id} does not exist.")
        if await self.may_decide(draft, actor, in_group) is None:
            await self._run(self.approvals.refused, draft_id, actor.user_id, "discard")
            return Outcome("refused", self.refusal(draft), draft)
        if not await self._run(self.approvals.discard, draft_id, actor.user_id):
            return Outcome("already", _already(await self._run(self.approvals.get, draft_id)), draft)
        return Outcome("discarded", "Discarded.", await self._run(self.approvals.get, draft_id))

    async def edit(self, draft_id: int, text: str, actor: Actor) -> Outcome:
        """Anyone in the thread may improve the wording; only approvers can send it."""
        text = text.strip()
        if not text:
            return Outcome("failed", "The status update cannot be empty.")
        if not await self._run(self.approvals.edit, draft_id, text, actor.user_id):
            draft = await self._run(self.approvals.get, draft_id)
            return Outcome("already" if draft else "missing",
                           _already(draft) if draft else f"Status draft #{draft_id} does not exist.", draft)
        return Outcome("edited", "Draft updated.", await self._run(self.approvals.get, draft_id))


def _already(draft: Draft | None) -> str:
    if draft is None:
        return "This status draft no longer exists."
    return f"This status draft was already {draft.status} by {draft.decided_by or 'someone'}."
