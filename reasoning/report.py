"""The platform-neutral incident report, made of typed blocks.

One renderer per surface (Slack Block Kit, terminal, JSON...) walks the blocks,
so no surface needs to know how a report was assembled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from detectors.finding import Finding
from reasoning.hypotheses import Hypothesis
from reasoning.llm.note import LLMNote


class Link(BaseModel):
    label: str
    url: str


class HeaderBlock(BaseModel):
    type: Literal["header"] = "header"
    text: str


class TextBlock(BaseModel):
    """Short prose; `*bold*` and `` `code` `` are the only markup renderers must support."""

    type: Literal["text"] = "text"
    text: str


class FindingBlock(BaseModel):
    type: Literal["finding"] = "finding"
    finding: Finding


class LinksBlock(BaseModel):
    type: Literal["links"] = "links"
    links: list[Link]


class DividerBlock(BaseModel):
    type: Literal["divider"] = "divider"


Block = Annotated[
    Union[HeaderBlock, TextBlock, FindingBlock, LinksBlock, DividerBlock],
    Field(discriminator="type"),
]


class RunbookExcerpt(BaseModel):
    """A runbook passage quoted in a report, with where it came from and why it matched."""

    source: str
    title: str
    section: str
    excerpt: str
    why: str


class Report(BaseModel):
    """What the copilot concluded about one page, with everything it rests on."""

    title: str
    group_key: str
    status: str
    severity: str
    tldr: list[str] = Field(description="two lines: what is wrong, what most likely causes it")
    hypotheses: list[Hypothesis] = Field(default_factory=list, description="best first")
    next_checks: list[str] = Field(default_factory=list, description="read-only commands and queries")
    runbooks: list[RunbookExcerpt] = Field(default_factory=list, description="best matching runbooks")
    status_draft: str = Field("", description="for stakeholders, posted only after approval")
    findings: list[Finding] = Field(default_factory=list)
    failures: dict[str, str] = Field(default_factory=dict, description="detector or source -> error")
    generated_at: datetime
    elapsed_ms: float = 0.0
    llm: LLMNote | None = Field(None, description="what the optional LLM step did; null without a key")

    def blocks(self) -> list[Block]:
        out: list[Block] = [HeaderBlock(text=self.title), TextBlock(text="*TL;DR*\n" + "\n".join(self.tldr))]
        if self.hypotheses:
            out.append(TextBlock(text="*Likely causes*\n" + "\n".join(
                f"{i}. `{h.cause}` {_culprit(h)} ({h.confidence:.0%}): {h.summary}"
                for i, h in enumerate(self.hypotheses[:3], 1))))
        if self.next_checks:
            out.append(TextBlock(text="*Next checks* (read-only)\n" + "\n".join(
                f"• `{c}`" for c in self.next_checks)))
        if self.runbooks:
            out.append(TextBlock(text="*Runbooks*\n" + "\n".join(
                f"• *{r.title}* ({r.section}, `{r.source}`): {r.excerpt}" for r in self.runbooks)))
        if self.findings:
            out.append(DividerBlock())
            out.extend(FindingBlock(finding=f) for f in self.findings)
        else:
            out.append(TextBlock(text="No detector found anything abnormal in the page's scope."))
        if self.failures:
            out.append(TextBlock(text="*Could not check*\n" + "\n".join(
                f"• {name}: {error}" for name, error in sorted(self.failures.items()))))
        if self.llm is not None:
            out.append(TextBlock(text=self.llm.line()
                                 + (f"\n{self.llm.summary}" if self.llm.refined and self.llm.summary else "")))
        if self.status_draft:
            out.append(DividerBlock())
            out.append(TextBlock(text="*Status draft* (not sent; needs approval)\n" + self.status_draft))
        return out


def _culprit(h: Hypothesis) -> str:
    if h.culprit is None:
        return ""
    where = f"{h.culprit.namespace}/" if h.culprit.namespace else ""
    return f"{h.culprit.kind} {where}{h.culprit.name}"
