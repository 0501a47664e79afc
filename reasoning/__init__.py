"""Reasoning: from a page and its findings to a report a human can act on."""

from reasoning.investigate import investigate
from reasoning.page import Page, PageAlert
from reasoning.report import Report

__all__ = ["Page", "PageAlert", "Report", "investigate"]
