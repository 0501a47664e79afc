"""The structured final answer the model must give, as the `submit_report` tool's input.

Validation is the contract: a cause outside the taxonomy, a hypothesis without
evidence, an uncertain `none` dressed up as confident, or prose of the wrong
shape is rejected and sent back to the model, never shown to a human.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

Cause = Literal["bad-deploy", "oom-killed", "crashloop-config", "image-pull",
                "scheduling-capacity", "node-failure", "dependency-down", "cpu-throttling",
                "disk-full", "traffic-surge", "cert-expiry", "none"]
Line = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=240)]


class Citation(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(pattern=r"^[ET][0-9]+$",
                    description="an evidence id: E<n> from the rule-based report, "
                                "T<n> from a tool result")
    fact: str = Field(min_length=1, max_length=400,
                      description="what this evidence shows, one sentence")


class Culprit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    namespace: str | None = Field(None, max_length=253)
    kind: str = Field(min_length=1, max_length=40,
                      description="Deployment, StatefulSet, Node, Service...")
    name: str = Field(min_length=1, max_length=253)


class Claim(BaseModel):
    """One hypothesis as the model proposes it."""

    model_config = ConfigDict(extra="forbid")
    cause: Cause
    culprit: Culprit | None = Field(
        None, description="the workload or node to act on; null only for none")
    confidence: float = Field(ge=0.0, le=1.0)
    summary: str = Field(min_length=1, max_length=300)
    evidence: list[Citation] = Field(min_length=1, max_length=8)

    @model_validator(mode="after")
    def _consistent(self) -> "Claim":
        if self.cause == "none" and self.confidence >= 0.5:
            raise ValueError("cause `none` means the evidence is thin: keep confidence below 0.5")
        if self.cause != "none" and self.culprit is None:
            raise ValueError(f"cause `{self.cause}` needs a culprit (namespace, kind, name)")
        return self


class Answer(BaseModel):
    """Everything submit_report carries."""

    model_config = ConfigDict(extra="forbid")
    tldr: list[Line] = Field(min_length=2, max_length=2,
                             description="two lines: what is wrong; what most likely causes it")
    summary: str = Field(min_length=1, max_length=1500,
                         description="a short paragraph for the engineer")
    status_draft: str = Field(min_length=1, max_length=800,
                              description="for non-technical stakeholders: impact, what is being "
                                          "done, next update time; no jargon, no object names")
    hypotheses: list[Claim] = Field(min_length=1, max_length=5, description="best first")


SUBMIT = "submit_report"


def submit_tool() -> dict[str, Any]:
    return {"name": SUBMIT,
            "description": "Submit the final, evidence-backed answer. Call exactly once, last.",
            "input_schema": inline_schema(Answer)}


def inline_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema with `$ref`s expanded, which every tool-use API accepts."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def expand(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return expand(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: expand(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [expand(v) for v in node]
        return node

    return expand(schema)
