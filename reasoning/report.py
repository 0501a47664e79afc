"""The platform-neutral incident report, made of typed blocks.

One renderer per surface (Slack Block Kit, terminal, JSON...) walks the blocks,
so no surface needs to know how a report was assembled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, Union

from pydantic import BaseModel, Field

from detectors.finding import Finding


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


class Report(BaseModel):
    """What the copilot concluded about one page, with everything it rests on."""

    title: str
    group_key: str
    status: str
    severity: str
    tldr: list[str] = Field(description="two lines: what is wrong, what most likely causes it")
    findings: list[Finding] = Field(default_factory=list)
    failures: dict[str, str] = Field(default_factory=dict, description="detector or source -> error")
    generated_at: datetime
    elapsed_ms: float = 0.0

    def blocks(self) -> list[Block]:
        out: list[Block] = [HeaderBlock(text=self.title), TextBlock(text="*TL;DR*\n" + "\n".join(self.tldr))]
        if self.findings:
            out.append(DividerBlock())
            out.extend(FindingBlock(finding=f) for f in self.findings)
        else:
            out.append(TextBlock(text="No detector found anything abnormal in the page's scope."))
        if self.failures:
            out.append(TextBlock(text="*Could not check*\n" + "\n".join(
                f"• {name}: {error}" for name, error in sorted(self.failures.items()))))
        return out
