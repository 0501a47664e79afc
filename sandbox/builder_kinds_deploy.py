"""Incidents that start with a rollout of the culprit Deployment: a bad new version,
a config change that makes the new pod exit at start, and an image that cannot be pulled."""

from __future__ import annotations

import random
from typing import Any

from sandbox.builder_incidents import Incident
from sandbox.builder_logs_text import native
from sandbox.builder_rollout import roll_out
from sandbox.builder_world import Pod, Termination, kubelet_backoff

# runtime -> [(error text, evidence keyword)]; a new version's signature
_SIGNATURES = {
    "java": [("java.lang.NullPointerException: Cannot invoke \"java.math.BigDecimal.scale()\" "
              "because the return value of \"c.e.fees.FeeSchedule.rateFor(String)\" is null",
              "NullPointerException"),
             ("java.lang.ClassCastException: class java.lang.String cannot be cast to class "
              "java.lang.Long", "ClassCastException")],
    "go": [("runtime error: invalid memory address or nil pointer dereference", "nil pointer"),
           ("runtime error: index out of range [2] with length 2", "index out of range")],
    "python": [("AttributeError: 'NoneType' object has no attribute 'get'", "AttributeError"),
               ("KeyError: 'region_code'", "KeyError")],
    "node": [("Cannot read properties of undefined (reading 'priceCents')",
              "Cannot read properties of undefined")],
}
# runtime -> (missing setting, start-up failure lines)
_MISSING = {"java": "LEDGER_API_TOKEN", "go": "CACHE_ADDR", "python": "DATABASE_URL",
            "node": "SESSION_SECRET"}
_RUN_S = {"java": (5.5, 8.5), "go": (0.05, 0.3), "python": (1.2, 2.4), "node": (0.4, 0.9)}


def bump(version: str) -> str:
    """The next minor version: v2.8.1 -> v2.9.0."""
    parts = version.lstrip("v").split(".")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        return f"v{parts[0]}.{int(parts[1]) + 1}.0"
    return version + "-1"


class _Rollout(Incident):
    def _svc_image(self, version: str) -> str:
        svc = self.world.spec.service(self.spec.target or "")
        return svc.image_ref.rsplit(":", 1)[0] + ":" + version


class BadDeploy(_Rollout):
    """``bad-deploy``: a new image tag rolls out; its pods answer a share of requests
    with 5xx and log an error signature the previous version never logged."""

    kind = "bad-deploy"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        r = self.world.rng("bad-deploy")
        self.version = bump(svc.version)
        self.signature, self.keyword = r.choice(_SIGNATURES[svc.runtime])
        self.share = r.uniform(0.07, 0.16)
        info = roll_out(self.world, svc.name, self.onset, image=self._svc_image(self.version))
        self.new_hash = info.pods[0].template_hash

    def _new(self, pod: Pod) -> bool:
        return pod.template_hash == getattr(self, "new_hash", None)

    def error_ratio(self, pod: Pod, t: float) -> float:
        return self.share if self._new(pod) else 0.0

    def error_latency_s(self, service: str) -> float:
        return 0.03

    def error_message(self, pod: Pod) -> str:
        if not self._new(pod):
            return super().error_message(pod)
        return ("Servlet.service() for servlet [dispatcherServlet] in context with path [] threw "
                f"exception [Request processing failed: {self.signature}] with root cause")

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        if self._new(pod):
            return ("panic recovered: " + self.signature if pod.service.runtime == "go"
                    else self.signature)
        return super().error_text(pod, t, r)

    def node_error(self, pod: Pod, t: float) -> dict[str, str] | None:
        if not self._new(pod):
            return None
        return {"type": "TypeError", "message": self.signature,
                "stack": f"TypeError: {self.signature}\n    at formatPrice (/app/dist/"
                         "lib/price.js:41:27)\n    at renderCart (/app/dist/pages/cart.js:88:19)"}

    def evidence(self) -> list[str]:
        return [self.version, self.keyword]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.world.spec.paged_service
        return (f"ErrorBudgetBurn paged for the {ns} {svc} service: some requests fail with "
                "HTTP 500 while others succeed.")


class CrashloopConfig(_Rollout):
    """``crashloop-config``: a config-only rollout (same image, a new env ConfigMap that
    lacks a required key); the new pod exits 1 at start, kubelet backs off, the rollout
    stalls while the old pods keep serving."""

    kind = "crashloop-config"
    alert = "crashloop"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        self.key = _MISSING.get(svc.runtime, "APP_CONFIG")
        cm = f"{svc.name}-env-{self.world.suffix('cm:' + svc.name, 10)}"
        info = roll_out(self.world, svc.name, self.onset, env_from=cm, starts=False)
        pod = self.pod = info.pods[0]
        pod.never_ready = True
        r = self.world.rng("crashloop")
        lo, hi = _RUN_S.get(svc.runtime, (0.5, 1.5))
        t, runs = pod.first_start, []
        while True:
            died = t + r.uniform(lo, hi)
            if died >= self.world.end:
                break
            runs.append(died - t)
            backoff = kubelet_backoff(runs)
            old = pod.container_id
            pod.container_id = self.world.hexid(f"cid:{pod.name}:{len(runs)}")
            restarted = died + backoff + r.uniform(0.6, 1.9)
            pod.terminations.append(Termination(started=t, finished=died, restarted=restarted,
                                                reason="Error", exit_code=1, backoff_s=backoff,
                                                old_container_id=old))
            t = restarted

    def extra_logs(self, writer: Any) -> None:
        pod, r = self.pod, self.world.rng("crashloop-logs")
        starts = [pod.first_start] + [x.restarted for x in pod.terminations]
        ends = [x.finished for x in pod.terminations] + [self.world.end + 60]
        for start, died in zip(starts, ends):
            for dt, text in self._lines(pod, died - start):
                if start + dt < died:
                    writer.emit(pod, start + dt, text, r)

    def _lines(self, pod: Pod, run: float) -> list[tuple[float, Any]]:
        svc, key = pod.service, self.key
        fail = max(0.0, run - 0.05)
        if svc.runtime == "java":
            app = svc.name.capitalize() + "Application"
            lg = f"c.e.{self.world.spec.topology}.{svc.name}.{app}"
            return [(0.3, native(pod, "INFO", f"Starting {app} {svc.version} using Java 21.0.2 "
                                 f"with PID 1 (/app/{svc.name}.jar started by app in /app)",
                                 logger=lg)),
                    (0.4, native(pod, "INFO", 'The following 1 profile is active: "prod"',
                                 logger=lg)),
                    (fail - 0.2, native(pod, "ERROR", "Application run failed",
                                        logger="o.s.boot.SpringApplication")),
                    (fail - 0.19, "org.springframework.beans.factory.BeanCreationException: Error "
                                  f"creating bean with name '{svc.name}Client': Injection of "
                                  "autowired dependencies failed"),
                    (fail - 0.18, "Caused by: java.lang.IllegalArgumentException: Could not "
                                  f"resolve placeholder '{key}' in value \"${{{key}}}\"")]
        if svc.runtime == "go":
            return [(0.01, native(pod, "INFO", "starting", fields={"version": svc.version})),
                    (fail, native(pod, "ERROR", "invalid configuration",
                                  fields={"error": f"required key {key} missing value"}))]
        if svc.runtime == "python":
            return [(0.2, "Traceback (most recent call last):"),
                    (0.21, '  File "/app/main.py", line 14, in <module>'),
                    (0.22, "    settings = Settings()"),
                    (fail - 0.01, "pydantic_core._pydantic_core.ValidationError: 1 validation "
                                  "error for Settings"),
                    (fail - 0.005, key.lower()),
                    (fail, "  Field required [type=missing, input_value={...}, "
                           "input_type=dict]")]
        return [(fail - 0.01, f"Error: Missing required environment variable {key}"),
                (fail, "    at requireEnv (/app/dist/config.js:12:11)")]

    def evidence(self) -> list[str]:
        return ["CrashLoopBackOff", self.key]

    def description(self) -> str:
        ns = self.world.spec.namespace
        return f"KubePodCrashLooping fired in {ns}: a pod of {self.spec.target} keeps restarting."


class ImagePull(_Rollout):
    """``image-pull``: the new revision's image cannot be pulled (tag never pushed, or
    the registry refuses the node); the new pod waits in ImagePullBackOff and the rollout
    exceeds its progress deadline."""

    kind = "image-pull"
    alert = "rollout-stuck"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        r = self.world.rng("image-pull")
        self.version = bump(svc.version) + r.choice(("", "-rc.1"))
        self.image = self._svc_image(self.version)
        info = roll_out(self.world, svc.name, self.onset, image=self.image, starts=False)
        pod = self.pod = info.pods[0]
        pod.first_start, pod.waiting = float("inf"), "ImagePullBackOff"
        img = self.image
        cause = (f"{img}: not found" if r.random() < 0.6 else
                 "pull access denied, repository does not exist or may require authorization: "
                 "authorization failed: no basic auth credentials")
        code = "NotFound" if cause.endswith("not found") else "Unknown"
        self.error = (f'rpc error: code = {code} desc = failed to pull and unpack image "{img}": '
                      f'failed to resolve reference "{img}": {cause}')
        self.fails, t, n = [], pod.created + 1.2, 0
        while t < self.world.end:
            self.fails.append(t + r.uniform(0.3, 1.4))
            n += 1
            t = self.fails[-1] + min(300.0, 10.0 * 2 ** (n - 1)) + r.uniform(0.1, 2.0)
        last = self.fails[-1]
        state = ("ErrImagePull|" + self.error if self.world.end - last < 12
                 else f'ImagePullBackOff|Back-off pulling image "{img}"')
        self.world.notes["waiting:" + pod.name] = state

    def waiting_reason(self, pod: Pod, t: float) -> str | None:
        if pod is getattr(self, "pod", None):
            done = [f for f in self.fails if f <= t]
            if not done or t < pod.created + 1:
                return "ContainerCreating" if pod.exists(t) else None
            return "ErrImagePull" if t - done[-1] < 12 else "ImagePullBackOff"
        return super().waiting_reason(pod, t)

    def extra_events(self) -> list[dict[str, Any]]:
        pod, img = self.pod, self.image
        backoff = [f + 8 + 15 * k for i, f in enumerate(self.fails)
                   for k in range(int(min(300.0, 10.0 * 2 ** i) // 15) or 1)]
        return [{"pod": pod, "reason": "Pulling", "type": "Normal",
                 "times": [f - 0.8 for f in self.fails], "message": f'Pulling image "{img}"'},
                {"pod": pod, "reason": "Failed", "type": "Warning", "times": self.fails,
                 "message": f'Failed to pull image "{img}": {self.error}'},
                {"pod": pod, "reason": "Failed", "type": "Warning",
                 "times": [f + 0.01 for f in self.fails], "message": "Error: ErrImagePull"},
                {"pod": pod, "reason": "BackOff", "type": "Normal", "times": backoff,
                 "message": f'Back-off pulling image "{img}"'},
                {"pod": pod, "reason": "Failed", "type": "Warning", "times": backoff,
                 "message": "Error: ImagePullBackOff"}]

    def evidence(self) -> list[str]:
        return ["ImagePullBackOff", self.version]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.spec.target
        return f"KubeDeploymentRolloutStuck fired in {ns}: the {svc} rollout is not progressing."
