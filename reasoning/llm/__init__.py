"""Optional LLM refinement of the rule-based report (Anthropic Messages API).

Kept import-light on purpose: `reasoning.report` imports `note`, and the rules
alone must work where the `anthropic` package is not installed. Import the
agent from `reasoning.llm.agent`.
"""
