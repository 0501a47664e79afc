"""The agent loop: the rule-based report in, a refined report (or the same one) out.

The model reads the report, calls read-only tools, and must finish with
`submit_report`; every failure mode (overload, timeout, budget, an answer that
does not validate, anything unexpected) returns the rule-based report
unchanged apart from a note saying what happened, so the LLM can only add.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from typing import Any

import anthropic

from adapters.anonymise import Anonymiser
from adapters.kube import KubeClient
from adapters.loki import LokiClient
from adapters.prometheus import PrometheusClient
from adapters.redact import Redactor
from reasoning.llm import merge
from reasoning.llm.answer import SUBMIT, submit_tool
from reasoning.llm.budget import Budget, BudgetExceeded, estimate_tokens
from reasoning.llm.config import LLMConfig
from reasoning.llm.evidence import EvidenceIndex, payload
from reasoning.llm.note import LLMNote, Outcome
from reasoning.llm.privacy import Shield
from reasoning.llm.prompt import SYSTEM, brief, tool_output
from reasoning.llm.tools import Toolbox
from reasoning.report import Report

MAX_TOOL_CALLS_PER_TURN = 6
TOOL_TIMEOUT = 10.0


class InvalidAnswer(Exception):
    """The model's last chance to answer was used on an answer that does not validate."""


class Agent:
    """Built once by the bot from its settings (with the Loki and Kubernetes clients it
    has), then asked to refine each report."""

    def __init__(self, config: LLMConfig, *, loki: LokiClient | None = None,
                 kube: KubeClient | None = None,
                 client: anthropic.AsyncAnthropic | None = None) -> None:
        self.config, self.loki, self.kube = config, loki, kube
        self.client = client or anthropic.AsyncAnthropic(
            api_key=config.api_key, base_url=config.base_url, timeout=config.timeout,
            max_retries=config.max_retries)
        self.price = config.price()

    async def aclose(self) -> None:
        await self.client.close()

    async def refine(self, report: Report, prometheus: PrometheusClient | None = None, *,
                     at: datetime | None = None, loki: LokiClient | None = None,
                     kube: KubeClient | None = None) -> Report:
        """The report refined by the model, or the rule-based one with `llm` saying why not.

        `loki`/`kube` override the agent's own for one page (a page's cluster has its own)."""
        started = time.perf_counter()
        budget = Budget(self.config, self.price)
        shield = Shield(Redactor(emails=self.config.redact_emails, ips=self.config.redact_ips),
                        Anonymiser() if self.config.anonymise else None)
        toolbox = Toolbox(prometheus, loki or self.loki, kube or self.kube,
                          at or report.generated_at)
        run = _Run(self, budget, shield, toolbox)
        outcome: Outcome = "error"
        detail, result = "", report
        try:
            async with asyncio.timeout(self.config.timeout):
                result, notes = await run.go(report)
            outcome, detail = "refined", "; ".join(notes)
        except (TimeoutError, anthropic.APITimeoutError):
            outcome, detail = "timeout", f"no answer within {self.config.timeout:g}s"
        except anthropic.APIStatusError as exc:
            outcome = "overloaded" if exc.status_code == 529 else "error"
            detail = f"HTTP {exc.status_code} from the Messages API"
        except anthropic.APIConnectionError as exc:
            detail = f"cannot reach the Messages API: {type(exc).__name__}"
        except BudgetExceeded as exc:
            outcome, detail = "budget", str(exc)
        except InvalidAnswer as exc:
            outcome, detail = "invalid", str(exc)
        except Exception as exc:  # the rules' answer must survive any LLM-side bug
            detail = f"{type(exc).__name__}: {exc}"
        note = LLMNote(outcome=outcome, detail=shield.redactor.redact(detail)[:500],
                       model=self.config.model, steps=budget.steps, tool_calls=budget.tool_calls,
                       input_tokens=budget.input_tokens, output_tokens=budget.output_tokens,
                       cost_usd=round(budget.cost_usd, 6), summary=run.summary,
                       elapsed_ms=round((time.perf_counter() - started) * 1000, 1))
        return result.model_copy(update={"llm": note})


class _Run:
    """State of one investigation's conversation."""

    def __init__(self, agent: Agent, budget: Budget, shield: Shield, toolbox: Toolbox) -> None:
        self.agent, self.budget, self.shield, self.toolbox = agent, budget, shield, toolbox
        self.index = EvidenceIndex()
        self.summary = ""

    async def go(self, report: Report) -> tuple[Report, list[str]]:
        shield, cfg = self.shield, self.agent.config
        subjects = [h.culprit for h in report.hypotheses if h.culprit]
        subjects += [f.subject for f in report.findings]
        for s in subjects:
            shield.learn("namespace", s.namespace)
            shield.learn(s.kind, s.name)
        suspects = {shield.text(s.name) for s in subjects}
        next_update = (report.generated_at + timedelta(minutes=30)).strftime("%H:%M UTC")
        messages: list[dict[str, Any]] = [
            {"role": "user", "content": brief(report, self.index, shield, next_update)}]
        tools = self.toolbox.definitions() + [submit_tool()]
        last_errors: list[str] = []
        while True:
            self.budget.check(estimate_tokens(SYSTEM, json.dumps(tools), json.dumps(messages)))
            force = self.budget.is_last_step()
            reply = await self.agent.client.messages.create(
                model=cfg.model, system=SYSTEM, messages=messages, tools=tools,
                max_tokens=self.budget.output_cap(estimate_tokens(json.dumps(messages))),
                tool_choice={"type": "tool", "name": SUBMIT} if force else {"type": "any"},
                timeout=max(1.0, self.budget.remaining_seconds()))
            self.budget.charge(reply.usage.input_tokens, reply.usage.output_tokens)
            messages.append({"role": "assistant", "content": _blocks(reply, shield)})
            uses = [b for b in reply.content if b.type == "tool_use"]
            for use in uses:
                if use.name == SUBMIT:
                    answer, last_errors = merge.validate(use.input, self.index, suspects)
                    if answer is not None:
                        self.summary = merge.summary_of(answer, shield)
                        return merge.apply(report, answer, self.index, shield, next_update)
            if force:
                raise InvalidAnswer("; ".join(last_errors)[:400]
                                    or "no submit_report in the last step")
            results = await self._answer_tools(uses, last_errors)
            messages.append({"role": "user", "content": results or [{
                "type": "text", "text": f"Use the tools, then call {SUBMIT}."}]})

    async def _answer_tools(self, uses: list[Any], errors: list[str]) -> list[dict[str, Any]]:
        """tool_result blocks, data tools run concurrently, in the order asked."""
        data = [u for u in uses if u.name != SUBMIT][:MAX_TOOL_CALLS_PER_TURN]
        timeout = max(0.5, min(TOOL_TIMEOUT, self.budget.remaining_seconds()))
        outs = await asyncio.gather(*(self.toolbox.run(u.name, self.shield.restore_obj(u.input),
                                                       timeout) for u in data))
        self.budget.tool_calls += len(data)
        texts: dict[str, tuple[str, bool]] = {}
        for use, result in zip(data, outs):
            shown = payload(result, self.agent.config.tool_output_chars)
            self.shield.learn_data(shown.get("data"))
            if isinstance(shown.get("data"), dict) and shown["query"].startswith("describe pod"):
                self.shield.learn("pod", shown["data"].get("name"))
            eid = self.index.add_result(result, "")
            text = tool_output(eid, shown, self.shield)
            self.index.items[eid].sent = text
            texts[use.id] = (text, False)
        for use in uses:
            if use.name == SUBMIT:
                texts[use.id] = ("submit_report rejected:\n- " + "\n- ".join(errors)
                                 + "\nFix these and call submit_report again.", True)
            elif use.id not in texts:
                texts[use.id] = (f"skipped: at most {MAX_TOOL_CALLS_PER_TURN} tool calls "
                                 "per turn", True)
        return [{"type": "tool_result", "tool_use_id": u.id, "content": texts[u.id][0],
                 **({"is_error": True} if texts[u.id][1] else {})} for u in uses]


def _blocks(reply: Any, shield: Shield) -> list[dict[str, Any]]:
    """The assistant turn as it is sent back: text and tool_use only, shielded like the rest
    (a name the model spelled out in clear travels back as its placeholder)."""
    out: list[dict[str, Any]] = []
    for b in reply.content:
        if b.type == "text" and b.text.strip():
            out.append({"type": "text", "text": shield.text(b.text)})
        elif b.type == "tool_use":
            asked = shield.restore_obj(b.input)
            shield.learn_data(asked)
            if b.name == "kube_describe_pod" and isinstance(asked, dict):
                shield.learn("pod", asked.get("name"))
            out.append({"type": "tool_use", "id": b.id, "name": b.name,
                        "input": shield.obj(b.input)})
    return out or [{"type": "text", "text": "(no content)"}]
