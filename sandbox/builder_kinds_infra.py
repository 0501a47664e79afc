"""Incidents of the cluster under the workloads: no room to schedule, a lost node,
a full data volume."""

from __future__ import annotations

import random
from typing import Any

from sandbox.builder_incidents import Incident, clamp
from sandbox.builder_kube import ts
from sandbox.builder_kinds_common import java_wrap, node_err, refused
from sandbox.builder_logs_text import native
from sandbox.builder_rollout import RolloutInfo, new_pod, pick_node, retire, scale
from sandbox.builder_world import NODE_GRACE_S, Node, Pod

EVICT_S = NODE_GRACE_S + 300.0  # NoExecute taint, then the pods' 300 s toleration


class SchedulingCapacity(Incident):
    """``scheduling-capacity``: the Deployment is scaled out, one new pod fits, the rest stay
    Pending: every node lacks the cpu (or memory) they request; the autoscaler is at its max."""

    kind = "scheduling-capacity"
    alert = "replicas-mismatch"

    def plan(self) -> None:
        svc = self.world.spec.service(self.spec.target or "")
        r = self.world.rng("scheduling")
        self.resource = r.choice(("cpu", "cpu", "memory"))
        n = len(self.world.nodes)
        self.message = (f"0/{n} nodes are available: {n} Insufficient {self.resource}. "
                        f"preemption: 0/{n} nodes are available: {n} No preemption victims "
                        "found for incoming pod.")
        want = svc.replicas + r.randint(3, 4)
        pods = scale(self.world, svc.name, self.onset, want, fits=1)
        for pod in pods[1:]:
            self.world.notes["unschedulable:" + pod.name] = self.message
        ready = pods[0].first_start + 20.0
        self.world.rollouts[svc.name] = RolloutInfo(started=ready)
        self.pending = pods[1:]

    def extra_events(self) -> list[dict[str, Any]]:
        out = []
        for pod in self.pending:
            times = [pod.created + 10.5 + 10.0 * k for k in range(int(
                (self.world.end - pod.created - 11) // 10))]
            out.append({"pod": pod, "reason": "NotTriggerScaleUp", "type": "Normal",
                        "times": times, "component": "cluster-autoscaler",
                        "message": "pod didn't trigger scale-up: 1 max node group size "
                                   "reached"})
        return out

    def evidence(self) -> list[str]:
        return [f"Insufficient {self.resource}", "Pending"]

    def description(self) -> str:
        ns, svc = self.world.spec.namespace, self.spec.target
        return (f"KubeDeploymentReplicasMismatch fired in {ns}: the {svc} deployment has not "
                "matched its expected number of replicas.")


class NodeFailure(Incident):
    """``node-failure``: the node hosting the database stops responding; its pods are
    marked not ready, evicted after the toleration, ReplicaSets replace theirs elsewhere,
    but the StatefulSet pod stays Terminating, so the database callers fail."""

    kind = "node-failure"

    def plan(self) -> None:
        w = self.world
        db = next(p for p in w.pods if p.service.kind == "StatefulSet")
        self.node: Node = w.node_named(self.spec.target) if self.spec.target else db.node
        self.node.failed_at = self.onset
        evict = self.onset + EVICT_S
        self.lost = [p for p in w.pods if p.node is self.node and p.exists(self.onset)]
        for pod in self.lost:
            retire(pod, evict + w.rng("evict:" + pod.name).uniform(0.1, 0.9), gone=False)
            if pod.owner_kind == "ReplicaSet":
                new_pod(w, pod.service, pod.deleting + 0.2, template_hash=pod.template_hash,
                        node=pick_node(w, pod.deleting + 0.2, "repl:" + pod.name, self.node),
                        pull_s=w.rng("pull:" + pod.name).uniform(1.5, 6.0))
        self.down = {p.service.name for p in self.lost if p.owner_kind == "StatefulSet"}

    def _dep_down(self, pod: Pod, t: float) -> str | None:
        if t < self.onset:
            return None
        for dep in pod.service.upstreams:
            if dep in self.down and self.world.ready_count(dep, t) == 0:
                return dep
        return None

    def error_ratio(self, pod: Pod, t: float) -> float:
        return 0.55 if self._dep_down(pod, t) else 0.0

    def error_latency_s(self, service: str) -> float:
        return 3.0

    def error_message_at(self, pod: Pod, t: float) -> str:
        dep = self._dep_down(pod, t)
        if dep is None:
            return super().error_message(pod)
        return java_wrap(refused(self.world, pod.service, self.world.spec.service(dep)))

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        dep = self._dep_down(pod, t)
        if dep is None:
            return super().error_text(pod, t, r)
        return refused(self.world, pod.service, self.world.spec.service(dep))

    def node_error(self, pod: Pod, t: float) -> dict[str, str] | None:
        dep = self._dep_down(pod, t)
        return node_err(refused(self.world, pod.service, self.world.spec.service(dep)), dep) \
            if dep else None

    def extra_events(self) -> list[dict[str, Any]]:
        w, node, at = self.world, self.node, self.onset + NODE_GRACE_S
        ns = w.spec.namespace
        out: list[dict[str, Any]] = [{
            "involved": {"apiVersion": "v1", "kind": "Node", "name": node.name, "uid": node.uid},
            "reason": "NodeNotReady", "type": "Normal", "times": [at],
            "component": "node-controller",
            "message": f"Node {node.name} status is now: NodeNotReady"}]
        for pod in self.lost:
            ref = {"apiVersion": "v1", "kind": "Pod", "name": pod.name, "namespace": ns,
                   "uid": pod.uid}
            out.append({"involved": ref, "reason": "NodeNotReady", "type": "Warning",
                        "times": [at + 0.3], "component": "node-controller",
                        "message": "Node is not ready"})
            out.append({"involved": ref, "reason": "TaintManagerEviction", "type": "Normal",
                        "times": [pod.deleting or at], "component": "taint-eviction-controller",
                        "message": f"Marking for deletion Pod {ns}/{pod.name}"})
        return out

    def patch_kube(self, kube: dict[str, Any]) -> None:
        """The lost node: status Unknown since the last heartbeat, unreachable taints."""
        node, at = self.node, self.onset + NODE_GRACE_S
        for item in kube["nodes"]["items"]:
            if item["metadata"]["name"] != node.name:
                continue
            # (the API also sets timeAdded on the NoExecute taint; left out because the
            # scenario loader only shifts fields ending in Time/Timestamp/At)
            item["spec"]["taints"] = [
                {"effect": "NoSchedule", "key": "node.kubernetes.io/unreachable"},
                {"effect": "NoExecute", "key": "node.kubernetes.io/unreachable"}]
            for cond in item["status"]["conditions"]:
                cond.update({"lastHeartbeatTime": ts(self.onset - 7),
                             "lastTransitionTime": ts(at),
                             "message": "Kubelet stopped posting node status.",
                             "reason": "NodeStatusUnknown", "status": "Unknown"})

    def culprit(self) -> dict[str, Any] | None:
        return {"namespace": None, "kind": "Node", "name": self.node.name}

    def evidence(self) -> list[str]:
        return ["NotReady", self.node.name]


class DiskFull(Incident):
    """``disk-full``: the database volume fills up (a bulk load and WAL it keeps), writes
    fail with ENOSPC and the callers' write requests return 5xx."""

    kind = "disk-full"

    def plan(self) -> None:
        r = self.world.rng("disk-full")
        self.ramp = r.uniform(1800, 3000)
        self.db = self.world.spec.service(self.spec.target or "")
        self.relfile = f"base/16384/{r.randint(16400, 99000)}"

    def volume_used(self, pod: Pod, t: float, base: float, size: float) -> float:
        if pod.service is not self.db or t < self.onset - self.ramp:
            return base
        if t >= self.onset:
            jitter = self.world.rng(f"df:{int(t)}").uniform(0.0, 48.0) * 2 ** 20
            return size - 2 ** 20 * 3 - jitter * 0.3
        x = clamp((t - self.onset + self.ramp) / self.ramp)
        return base + (size - base) * x ** 1.3

    def _writer(self, pod: Pod, t: float) -> bool:
        return t >= self.onset and self.db.name in pod.service.upstreams

    def error_ratio(self, pod: Pod, t: float) -> float:
        if not self._writer(pod, t):
            return 0.0
        return 0.45 if pod.service.method == "POST" else 0.06

    def _enospc(self, pod: Pod) -> str:
        msg = f'could not extend file "{self.relfile}": No space left on device'
        return {"java": "org.springframework.dao.DataAccessResourceFailureException: "
                        f"PreparedStatementCallback; ERROR: {msg}",
                "python": f"psycopg.errors.DiskFull: {msg}",
                "go": f"ERROR: {msg} (SQLSTATE 53100)"}.get(pod.service.runtime, msg)

    def error_message_at(self, pod: Pod, t: float) -> str:
        if not self._writer(pod, t):
            return super().error_message(pod)
        return java_wrap(self._enospc(pod))

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        return self._enospc(pod) if self._writer(pod, t) else super().error_text(pod, t, r)

    def node_error(self, pod: Pod, t: float) -> dict[str, str] | None:
        return node_err(self._enospc(pod), self.db.name) if self._writer(pod, t) else None

    def extra_logs(self, writer: Any) -> None:
        r = self.world.rng("disk-full-logs")
        for pod in self.world.pods_of(self.db.name):
            t = self.onset + r.uniform(1, 20)
            while t < self.world.end:
                pid = r.randint(3000, 40000)
                for dt, level, msg in (
                        (0.0, "ERROR", f'could not extend file "{self.relfile}": No space left '
                                       "on device"),
                        (0.0001, "HINT", "Check free disk space."),
                        (0.0002, "STATEMENT", "INSERT INTO events (id, kind, payload, "
                                              "created_at) VALUES ($1, $2, $3, $4)")):
                    writer.emit(pod, t + dt, native(pod, level, msg, pid=pid), r)
                t += r.expovariate(1 / 25.0)

    def evidence(self) -> list[str]:
        return ["No space left on device", f"data-{self.db.name}-0"]
