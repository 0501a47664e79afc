"""Everything bound for the Messages API passes this shield; answers come back through it.

Secrets are masked by the one project redactor (adapters.redact), always.
Names of pods, namespaces and nodes become placeholders when anonymisation is
on, and the model's answer is mapped back. Anonymisation is best effort: a
name is replaced only once it is known (from the report, a Kubernetes object
or a label), which is why every tool result is learned from before it is sent.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.anonymise import Anonymiser
from adapters.redact import Redactor

_LABEL_KINDS = {"namespace": "namespace", "pod": "pod", "node": "node",
                "deployment": "deployment", "statefulset": "statefulset",
                "daemonset": "daemonset", "service": "service", "job_name": "job"}


class Shield:
    def __init__(self, redactor: Redactor, anonymiser: Anonymiser | None = None) -> None:
        self.redactor, self.anonymiser = redactor, anonymiser
        self.pods: set[str] = set()  # real pod names seen, kept out of stakeholder prose

    def text(self, value: str) -> str:
        """Redacted, then anonymised: ready to leave the process."""
        value = self.redactor.redact(value)
        return self.anonymiser.anonymise(value) if self.anonymiser else value

    def obj(self, value: Any) -> Any:
        """The same structure with every string value shielded; keys are structure, kept."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {k: self.obj(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.obj(v) for v in value]
        return value

    def dumps(self, value: Any) -> str:
        """Shielded JSON, with `<` escaped so data can never close the tag around it."""
        text = json.dumps(self.obj(value), ensure_ascii=False, default=str)
        return self.redactor.redact(text).replace("<", "\\u003c")

    def restore(self, value: str) -> str:
        return self.anonymiser.restore(value) if self.anonymiser else value

    def restore_obj(self, value: Any) -> Any:
        if isinstance(value, str):
            return self.restore(value)
        if isinstance(value, dict):
            return {k: self.restore_obj(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.restore_obj(v) for v in value]
        return value

    def learn(self, kind: str, name: str | None) -> None:
        if not name:
            return
        kind = kind.lower()
        if kind == "pod":
            self.pods.add(name)
        if self.anonymiser is not None:
            self.anonymiser.add(kind, name)

    def learn_data(self, data: Any) -> None:
        """Names in JSON-like tool data: Kubernetes objects and metric/log labels."""
        if isinstance(data, list):
            for item in data:
                self.learn_data(item)
            return
        if not isinstance(data, dict):
            return
        meta = data.get("metadata")
        if isinstance(meta, dict):
            self.learn("namespace", meta.get("namespace"))
            spec = data.get("spec") if isinstance(data.get("spec"), dict) else {}
            kind = data.get("kind") or ("pod" if "containers" in spec else "object")
            self.learn(str(kind), meta.get("name"))
            self.learn("node", spec.get("nodeName"))
        for key, kind in _LABEL_KINDS.items():
            if isinstance(data.get(key), str):
                self.learn(kind, data[key])
        for value in data.values():
            if isinstance(value, (dict, list)):
                self.learn_data(value)
