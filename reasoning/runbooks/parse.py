"""Runbook files -> front matter + sections -> chunks small enough for the embedding model.

A runbook is Markdown with YAML front matter (title, alerts, signatures, reasons, causes,
optional urls). The front matter drives exact matching; the sections are what gets
embedded and quoted. Chunks stay under the model's 256-token window so nothing a
responder needs is silently truncated away.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

log = logging.getLogger(__name__)

LIST_FIELDS = ("alerts", "signatures", "reasons", "causes", "urls")
MAX_CHUNK_CHARS = 700  # ~200 word pieces of prose and PromQL, under the 256-token window
_ITEM = re.compile(r"^(\d+\.|[-*])\s")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CODE = re.compile(r"`([^`]+)`")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]+$")  # NAMESPACE, POD, APP: say nothing about meaning


class RunbookError(ValueError):
    """A runbook file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Section:
    heading: str
    text: str


@dataclass(frozen=True)
class Runbook:
    path: Path
    title: str
    alerts: tuple[str, ...]
    signatures: tuple[str, ...]
    reasons: tuple[str, ...]
    causes: tuple[str, ...]
    urls: tuple[str, ...]
    sections: tuple[Section, ...]
    digest: str

    @property
    def stem(self) -> str:
        return self.path.stem


@dataclass(frozen=True)
class Chunk:
    id: str
    path: str
    title: str
    section: str
    text: str      # what is embedded: title, heading and body
    excerpt: str   # what is quoted: the body alone


def split_front_matter(text: str) -> tuple[dict, str]:
    """Return (front matter mapping, body); raises RunbookError without front matter."""
    if not text.startswith("---"):
        raise RunbookError("no front matter (file must start with '---')")
    end = text.find("\n---", 3)
    if end < 0:
        raise RunbookError("front matter is not closed by '---'")
    try:
        meta = yaml.load(text[3:end], Loader=_LOADER) or {}
    except yaml.YAMLError as exc:
        raise RunbookError(f"front matter is not valid YAML: {exc}") from exc
    if not isinstance(meta, dict):
        raise RunbookError("front matter is not a mapping")
    body = text[end + 4:].split("\n", 1)[1] if "\n" in text[end + 4:] else ""
    return meta, body


def _str_list(meta: dict, key: str) -> tuple[str, ...]:
    value = meta.get(key) or []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) for v in value):
        raise RunbookError(f"'{key}' must be a list of strings")
    return tuple(str(v).strip() for v in value if str(v).strip())


def _sections(body: str) -> tuple[str, list[Section]]:
    """Split on '## ' headings; text before the first one is the summary."""
    h1, heading = "", "Summary"
    lines: list[str] = []
    out: list[Section] = []
    for line in body.splitlines():
        if line.startswith("# ") and not h1:
            h1 = line[2:].strip()
        elif line.startswith("## "):
            out.append(Section(heading, "\n".join(lines).strip()))
            heading, lines = line[3:].strip(), []
        else:
            lines.append(line)
    out.append(Section(heading, "\n".join(lines).strip()))
    return h1, [s for s in out if s.text]


def parse_runbook(path: Path, raw: bytes | None = None) -> Runbook:
    raw = path.read_bytes() if raw is None else raw
    try:
        meta, body = split_front_matter(raw.decode("utf-8"))
        h1, sections = _sections(body)
        fields = {key: _str_list(meta, key) for key in LIST_FIELDS}
    except (RunbookError, UnicodeDecodeError) as exc:
        raise RunbookError(f"{path}: {exc}") from exc
    title = str(meta.get("title") or h1 or path.stem)
    return Runbook(path=path, title=title, sections=tuple(sections),
                   digest=hashlib.sha256(raw).hexdigest(), **fields)


def runbook_files(dirs: Iterable[Path]) -> list[Path]:
    """Markdown files under each directory (recursively), README files excepted."""
    files: list[Path] = []
    for directory in dirs:
        if not directory.is_dir():
            log.warning("runbook directory %s does not exist", directory)
            continue
        files += sorted(p for p in directory.rglob("*.md") if p.name.lower() != "readme.md")
    return files


def load_runbooks(dirs: Sequence[Path], cache: dict[Path, Runbook] | None = None) -> list[Runbook]:
    """Every usable runbook; a broken file is logged and skipped so one typo hides nothing else.

    With `cache`, a file whose bytes did not change is not parsed again.
    """
    books = []
    for path in runbook_files(dirs):
        raw = path.read_bytes()
        cached = cache.get(path) if cache is not None else None
        if cached is not None and cached.digest == hashlib.sha256(raw).hexdigest():
            books.append(cached)
            continue
        try:
            book = parse_runbook(path, raw)
        except RunbookError as exc:
            log.warning("skipping runbook: %s", exc)
            continue
        if cache is not None:
            cache[path] = book
        books.append(book)
    return books


def _pieces(text: str, limit: int = MAX_CHUNK_CHARS) -> list[str]:
    """Cut a section at list-item or paragraph boundaries into pieces of at most ~limit chars."""
    blocks: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if (_ITEM.match(line) or not line.strip()) and current:
            blocks.append("\n".join(current).strip())
            current = []
        if line.strip():
            current.append(line)
    if current:
        blocks.append("\n".join(current).strip())
    pieces, piece = [], ""
    for block in blocks:
        if piece and len(piece) + len(block) + 1 > limit:
            pieces.append(piece)
            piece = block
        else:
            piece = f"{piece}\n{block}" if piece else block
    return pieces + ([piece] if piece else [])


def _plain_code(match: re.Match[str]) -> str:
    """Code as words: PromQL/kubectl punctuation and placeholders cost tokens, carry no meaning."""
    words = re.split(r"[^A-Za-z0-9]+", match.group(1))
    kept: list[str] = []
    for w in words:
        if len(w) > 1 and not _PLACEHOLDER.match(w) and w not in kept:
            kept.append(w)
    return " ".join(kept)


def embedding_text(text: str) -> str:
    return _CODE.sub(_plain_code, text)


def chunk_runbook(book: Runbook) -> list[Chunk]:
    """One chunk per section piece; the summary chunk also carries the front matter words."""
    chunks: list[Chunk] = []
    for section in book.sections:
        for piece in _pieces(section.text):
            head = f"{book.title}. {section.heading}."
            if section.heading == "Summary":
                keys = " ".join(book.alerts + book.reasons + book.causes)
                head = f"{book.title}. {keys}."
            chunks.append(Chunk(id=f"{book.stem}-{len(chunks)}", path=str(book.path),
                                title=book.title, section=section.heading,
                                text=f"{head}\n{embedding_text(piece)}", excerpt=piece))
    return chunks
