"""New log signatures: mine templates from raw log lines, flag the unseen ones."""

from detectors.logsig.masking import WILDCARD, mask, tokenize
from detectors.logsig.miner import DEFAULT_SIMILARITY, Match, TemplateMiner

__all__ = ["DEFAULT_SIMILARITY", "WILDCARD", "Match", "TemplateMiner", "mask", "tokenize"]
