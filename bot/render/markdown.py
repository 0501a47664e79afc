"""Markdown rendering of a report (CLI `--format md`, tickets, postmortem drafts)."""

from __future__ import annotations

from reasoning.report import DividerBlock, FindingBlock, HeaderBlock, LinksBlock, Report, TextBlock


def render_markdown(report: Report) -> str:
    out: list[str] = []
    for block in report.blocks():
        if isinstance(block, HeaderBlock):
            out.append(f"# {block.text}")
        elif isinstance(block, TextBlock):
            out.append(block.text.replace("*", "**", 2) if block.text.startswith("*") else block.text)
        elif isinstance(block, DividerBlock):
            out.append("---")
        elif isinstance(block, LinksBlock):
            out.append(" · ".join(f"[{link.label}]({link.url})" for link in block.links))
        elif isinstance(block, FindingBlock):
            f = block.finding
            lines = [f"### [{f.severity.value}] {f.title}"] + [f"- {d}" for d in f.details]
            for ev in f.evidence:
                link = f" ([open]({ev.link}))" if ev.link else ""
                lines.append(f"- `{ev.query}`{link}")
            out.append("\n".join(lines))
    return "\n\n".join(out) + "\n"
