"""Online template miner: groups raw log lines into templates as they stream in.

How a line is placed, and why:

1. It is masked and tokenised (:mod:`detectors.logsig.masking`). Lines whose
   masked form was seen before go straight to the same template (a dict hit:
   this is the fast path for almost every line of a real stream).
2. Otherwise it is compared with the templates that have the same number of
   tokens. The score is the weighted share of the template's constant tokens
   that the line repeats. A token's weight is ``1 - share of templates that
   contain it``: header tokens every template carries (host, program,
   ``RAS KERNEL``) weigh almost nothing, and the leading header fields the
   miner has learned (:mod:`detectors.logsig.header`) are skipped, so raw lines
   are compared by their message without knowing the log format. A mismatch against a token the
   masker already found variable in the line (``test9`` vs ``admin``) costs
   half, since that position is likely a variable.
3. At ``similarity`` or above, the best template absorbs the line and the
   differing positions become ``<*>`` (the template generalises; its id does
   not change). Below, the line starts a new template: a *new signature*.

Template ids are a short hash of the masked line that created the template:
stable while the template generalises, and the same across restarts that see
the same first line.

``baseline``: the first ``baseline`` lines only teach the miner; templates
born there are not reported as new. The default, 0, reports every first
occurrence, which is what a fresh deployment with no history should do; give
a baseline when feeding a known-good window first.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass

from detectors.logsig.header import DEFAULT_VALUE_RATIO, HeaderProfile
from detectors.logsig.masking import WILDCARD, render, tokenize

DEFAULT_SIMILARITY = 0.8
# An exact-match cache is only an accelerator: bound it for unbounded streams.
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Match:
    """Where one line went: its template, and whether that template is new."""

    template_id: str
    template: str
    new: bool


class _Template:
    __slots__ = ("id", "tokens", "text", "size")

    def __init__(self, template_id: str, tokens: list[str]) -> None:
        self.id = template_id
        self.tokens = tokens
        self.text = render(tokens)
        self.size = 0


class TemplateMiner:
    """Streaming log template miner; one instance per log stream."""

    def __init__(
        self,
        baseline: int = 0,
        similarity: float = DEFAULT_SIMILARITY,
        variable_mismatch_cost: float = 0.5,
        header_value_ratio: float = DEFAULT_VALUE_RATIO,
    ) -> None:
        if baseline < 0:
            raise ValueError("baseline must be >= 0")
        self.baseline = baseline
        self.similarity = similarity
        self.variable_mismatch_cost = variable_mismatch_cost
        self.lines_seen = 0
        self._templates: list[_Template] = []
        self._by_length: dict[int, list[_Template]] = {}
        self._by_id: dict[str, _Template] = {}
        self._cache: dict[str, _Template] = {}
        self._token_templates: Counter[str] = Counter()
        self._header = HeaderProfile(header_value_ratio)

    def add(self, line: str) -> Match:
        """Place one raw log line (trailing newline allowed) and report its template."""
        self.lines_seen += 1
        tokens = tokenize(line)
        key = " ".join(tokens)
        template = self._cache.get(key)
        created = False
        if template is None:
            template = self._closest(tokens)
            if template is None:
                template = self._create(key, tokens)
                created = True
            else:
                self._generalise(template, tokens)
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = template
        template.size += 1
        return Match(template.id, template.text, created and self.lines_seen > self.baseline)

    def template(self, template_id: str) -> str | None:
        """The current text of a template, or None for an unknown id."""
        found = self._by_id.get(template_id)
        return found.text if found else None

    def templates(self) -> dict[str, str]:
        """Every template so far, id -> text, in creation order."""
        return {t.id: t.text for t in self._templates}

    def sizes(self) -> dict[str, int]:
        """How many lines each template has absorbed."""
        return {t.id: t.size for t in self._templates}

    def _closest(self, tokens: list[str]) -> _Template | None:
        candidates = self._by_length.get(len(tokens))
        if not candidates:
            return None
        counts = self._token_templates
        total = len(self._templates) + 1.0
        cheap = self.variable_mismatch_cost
        skip = self._header.length()
        if all(t == WILDCARD for t in tokens[skip:]):
            skip = 0  # nothing but header: compare it all
        best: _Template | None = None
        best_score = -1.0
        for candidate in candidates:
            same = 0.0
            differ = 0.0
            for mine, theirs in zip(candidate.tokens[skip:], tokens[skip:]):
                if mine == WILDCARD:
                    continue
                weight = 1.0 - counts[mine] / total
                if mine == theirs:
                    same += weight
                elif theirs == WILDCARD:
                    differ += weight * cheap
                else:
                    differ += weight
            if same + differ == 0.0:
                score = 1.0 if all(t == WILDCARD for t in tokens) else 0.0
            else:
                score = same / (same + differ)
            if score > best_score:
                best, best_score = candidate, score
        return best if best_score >= self.similarity else None

    def _create(self, key: str, tokens: list[str]) -> _Template:
        template_id = _short_hash(key)
        salt = 0
        while template_id in self._by_id:
            salt += 1
            template_id = _short_hash(f"{key}\x00{salt}")
        template = _Template(template_id, list(tokens))
        self._templates.append(template)
        self._by_length.setdefault(len(tokens), []).append(template)
        self._by_id[template_id] = template
        self._token_templates.update({t for t in tokens if t != WILDCARD})
        self._header.add(template.tokens)
        return template

    def _generalise(self, template: _Template, tokens: list[str]) -> None:
        old = template.tokens
        new = [mine if mine == theirs else WILDCARD for mine, theirs in zip(old, tokens)]
        if new != old:
            self._token_templates.subtract(set(old) - set(new))
            self._header.generalise(old, new)
            template.tokens = new
            template.text = render(new)


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
