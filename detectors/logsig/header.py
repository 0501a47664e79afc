"""Learn, from the templates themselves, how many leading tokens are a header.

Raw lines start with fields that say *who* and *when* (timestamp, host,
level, component, thread), not *what happened*. Rather than knowing formats,
this watches the first token positions over all templates: a position is
header when most templates hold a variable there (timestamps, pids) or when
its constant values are few compared with the templates that carry them (the
same host, levels or component names recur under many different messages).
The header is the leading run of such positions. A message position, by
contrast, holds a different word in almost every template.

A column that is variable in nearly every template (a timestamp, a sequence
number, a pid) is header as well, and so is everything before it: a message
cannot hold a variable in the same place in every event. That closes a header
whose low-cardinality fields (a component and a state, say) are still too
varied early in a stream for the value-ratio rule alone.

The miner ignores header tokens when it compares a line with templates, so one
message logged by two components, at two levels or from two threads is still
one signature, as Loghub's ground truth (built on the message alone) has it.
"""

from __future__ import annotations

from collections import Counter

from detectors.logsig.masking import WILDCARD

MAX_HEADER = 16
# A position is header when its distinct constant values are at most this
# share of the templates holding a constant there.
DEFAULT_VALUE_RATIO = 0.3
# A column is "always variable" when at least this many templates reach it, as
# do nearly all templates, and at most a tenth of them hold a constant there.
MIN_COLUMN_TEMPLATES = 5
VARIABLE_COLUMN_SHARE = 0.9


class HeaderProfile:
    """Positional statistics over templates; ``length()`` is the learned header size."""

    def __init__(self, value_ratio: float = DEFAULT_VALUE_RATIO) -> None:
        self.value_ratio = value_ratio
        self._values = [Counter[str]() for _ in range(MAX_HEADER)]
        self._constants = [0] * MAX_HEADER
        self._templates = [0] * MAX_HEADER
        self._length: int | None = None  # cached until the statistics change

    def add(self, tokens: list[str]) -> None:
        """Account for a new template."""
        self._length = None
        for i, token in enumerate(tokens[:MAX_HEADER]):
            self._templates[i] += 1
            if token != WILDCARD:
                self._values[i][token] += 1
                self._constants[i] += 1

    def generalise(self, old: list[str], new: list[str]) -> None:
        """Account for a template whose positions became variables."""
        self._length = None
        for i, (before, after) in enumerate(zip(old[:MAX_HEADER], new)):
            if before != after and before != WILDCARD:
                values = self._values[i]
                values[before] -= 1
                if values[before] <= 0:
                    del values[before]
                self._constants[i] -= 1

    def length(self) -> int:
        """How many leading positions are header now (0 until two templates exist)."""
        if self._length is None:
            self._length = self._measure()
        return self._length

    def _measure(self) -> int:
        size = 0
        for i in range(MAX_HEADER):
            templates = self._templates[i]
            if templates < 2:
                break
            constants = self._constants[i]
            mostly_variable = constants * 2 <= templates
            few_values = len(self._values[i]) <= self.value_ratio * constants
            if not (mostly_variable or few_values):
                break
            size = i + 1
        return max(size, self._last_variable_column())

    def _last_variable_column(self) -> int:
        """1 + index of the last always-variable column among the first ones, else 0."""
        reach = self._templates[0] * VARIABLE_COLUMN_SHARE
        for i in range(MAX_HEADER - 1, -1, -1):
            templates = self._templates[i]
            if templates < MIN_COLUMN_TEMPLATES or templates < reach:
                continue
            if self._constants[i] <= (1.0 - VARIABLE_COLUMN_SHARE) * templates:
                return i + 1
        return 0
