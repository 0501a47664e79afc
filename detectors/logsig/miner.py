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
   are compared by their message without knowing the log format. A mismatch
   costs half when that position is likely a variable: the line holds a masked
   value there, or the token before it is one the miner has already seen
   introduce a variable (``user`` once ``user alice`` and ``user bob`` were
   merged), so a parameter after a known keyword is not a different message.
   Tokens made only of punctuation (``****``, ``--``) are structure, never a
   value, so a mismatch against one costs in full.
3. A template that has absorbed ``settled_variants`` distinct masked forms
   has shown which positions vary; a word that stayed constant through all of
   them belongs to the message (``Failed password`` vs ``Failed none``), so a
   line that changes it starts a template of its own whatever the score. The
   value of a ``key=value`` token is exempt: a changed value under the same key
   is still a parameter. A changed *capitalised* word vetoes at once, settled
   or not: states, verbs and methods (``VM Started``/``VM Stopped``,
   ``AUTO``/``SUSPENDED``, ``"GET``/``"POST``) are vocabulary, while the words
   that name things (users, hosts) are written in lower case.
4. At ``similarity`` or above, the best template absorbs the line and the
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
# Distinct masked forms a template must absorb before its constant words are
# trusted as part of the message (rule 3 above).
DEFAULT_SETTLED_VARIANTS = 3
# An exact-match cache is only an accelerator: bound it for unbounded streams.
_CACHE_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Match:
    """Where one line went: its template, and whether that template is new."""

    template_id: str
    template: str
    new: bool


class _Template:
    __slots__ = ("id", "tokens", "text", "size", "variants")

    def __init__(self, template_id: str, tokens: list[str]) -> None:
        self.id = template_id
        self.tokens = tokens
        self.text = render(tokens)
        self.size = 0
        self.variants = 1  # distinct masked lines absorbed


class TemplateMiner:
    """Streaming log template miner; one instance per log stream."""

    def __init__(
        self,
        baseline: int = 0,
        similarity: float = DEFAULT_SIMILARITY,
        variable_mismatch_cost: float = 0.5,
        header_value_ratio: float = DEFAULT_VALUE_RATIO,
        settled_variants: int = DEFAULT_SETTLED_VARIANTS,
    ) -> None:
        if baseline < 0:
            raise ValueError("baseline must be >= 0")
        if settled_variants < 2:
            raise ValueError("settled_variants must be >= 2")
        self.baseline = baseline
        self.similarity = similarity
        self.variable_mismatch_cost = variable_mismatch_cost
        self.settled_variants = settled_variants
        self.lines_seen = 0
        self._templates: list[_Template] = []
        self._by_length: dict[int, list[_Template]] = {}
        self._by_id: dict[str, _Template] = {}
        self._cache: dict[str, _Template] = {}
        self._token_templates: Counter[str] = Counter()
        self._header = HeaderProfile(header_value_ratio)
        # Tokens seen right before a position that turned variable ("user", "from").
        self._parameter_keys: set[str] = set()

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
                template.variants += 1
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
        skip = self._header.length()
        if all(t == WILDCARD for t in tokens[skip:]):
            skip = 0  # nothing but header: compare it all
        best: _Template | None = None
        best_score = -1.0
        for candidate in candidates:
            score = self._score(candidate, tokens, skip)
            if score > best_score:
                best, best_score = candidate, score
        return best if best_score >= self.similarity else None

    def _score(self, candidate: _Template, tokens: list[str], skip: int) -> float:
        """Weighted share of the candidate's constants the line repeats; -1 when vetoed."""
        counts = self._token_templates
        total = len(self._templates) + 1.0
        keys = self._parameter_keys
        settled = candidate.variants >= self.settled_variants
        mine_tokens = candidate.tokens
        same = 0.0
        differ = 0.0
        for i in range(skip, len(tokens)):
            mine = mine_tokens[i]
            if mine == WILDCARD:
                continue
            theirs = tokens[i]
            weight = 1.0 - counts[mine] / total
            if mine == theirs:
                same += weight
            elif _likely_parameter(mine, theirs) or (
                i > 0 and tokens[i - 1] == mine_tokens[i - 1] and tokens[i - 1] in keys
            ):
                differ += weight * self.variable_mismatch_cost
            elif settled and not _same_key(mine, theirs):
                return -1.0
            elif _distinct_words(mine, theirs):
                return -1.0
            else:
                differ += weight
        if same + differ == 0.0:
            return 1.0 if all(t == WILDCARD for t in tokens) else 0.0
        return same / (same + differ)

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
            for i in range(1, len(new)):
                if new[i] == WILDCARD and old[i] != WILDCARD and new[i - 1] != WILDCARD:
                    self._parameter_keys.add(new[i - 1])
            template.tokens = new
            template.text = render(new)


def _likely_parameter(mine: str, theirs: str) -> bool:
    """The line holds a masked value where the template has a word (not punctuation)."""
    return theirs == WILDCARD and any(c.isalnum() for c in mine)


_EDGE = "\"'([{<>}]),;:.!?"


def _distinct_words(mine: str, theirs: str) -> bool:
    """Two different capitalised words (quotes and brackets aside): vocabulary."""
    a, b = mine.strip(_EDGE), theirs.strip(_EDGE)
    return a != b and a.isalpha() and b.isalpha() and a[0].isupper() and b[0].isupper()


def _same_key(mine: str, theirs: str) -> bool:
    """Both are ``key=value`` tokens with the same key and non-empty values."""
    cut = mine.find("=") + 1
    return 0 < cut < len(mine) and len(theirs) > cut and theirs[:cut] == mine[:cut]


def _short_hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=6).hexdigest()
