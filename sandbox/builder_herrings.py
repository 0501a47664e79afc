"""Red herrings: true but irrelevant facts a real cluster is full of (an old restart, a
harmless Warning event, a failing CronJob, a mild traffic ramp, another team's rollout,
a chatty warning), so a diagnosis has to weigh evidence rather than grab the first oddity.
They are planned before the incident and never touch its culprit or paged service."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sandbox.builder_incidents import Incident, clamp
from sandbox.builder_logs_text import native
from sandbox.builder_rollout import controller_event, pick_node, roll_out
from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import Pod, Termination, World

HERRINGS = ("old-restarts", "warning-event", "cronjob-errors", "traffic-ramp", "deploy-other",
            "noisy-logs")
_JOB = {"store": "feed-export", "bank": "statement-export", "media": "thumbnail-gc"}


@dataclass
class JobRun:
    cronjob: str
    name: str
    scheduled: float
    pod: Pod
    schedule: str


def _bystanders(world: World) -> list[ServiceSpec]:
    """Deployments that are neither the culprit nor the paged service."""
    busy = {world.spec.incident.target, world.spec.paged_service}
    return [s for s in world.spec.services if s.kind == "Deployment" and s.name not in busy]


class Herrings:
    def __init__(self, world: World) -> None:
        self.world = world
        self.noisy: Pod | None = None
        self.ramp: tuple[str, float, float, float] | None = None  # service, start, span, gain

    def plan(self, incident: Incident) -> None:
        """Before the incident: herrings that shape the world it happens in."""
        w = self.world
        for name in w.spec.red_herrings:
            if name not in HERRINGS:
                raise ValueError(f"unknown red herring {name!r}; known: {HERRINGS}")
            if name != "cronjob-errors":
                getattr(self, "_" + name.replace("-", "_"))(w.rng("herring:" + name))
        if self.ramp is not None:
            incident.herring_ramps.append(self.traffic)

    def plan_late(self) -> None:
        """After the incident: scheduled jobs land on nodes that are still up."""
        if "cronjob-errors" in self.world.spec.red_herrings:
            self._cronjob_errors(self.world.rng("herring:cronjob-errors"))

    def _pick(self, r: Any) -> ServiceSpec | None:
        pool = _bystanders(self.world)
        return r.choice(pool) if pool else None

    def _old_restarts(self, r: Any) -> None:
        svc = self._pick(r)
        if svc is None:
            return
        pod = r.choice(self.world.pods_of(svc.name))
        reason, code = r.choice((("Error", 1), ("OOMKilled", 137), ("Error", 143)))
        t = pod.first_start + (self.world.start - pod.first_start) * r.uniform(0.3, 0.7)
        started = pod.first_start
        for k in range(r.randint(1, 3)):
            old = pod.container_id
            pod.container_id = self.world.hexid(f"cid:{pod.name}:old{k}")
            back = 10.0 * 2 ** k if k else 0.0
            pod.terminations.append(Termination(started, t, t + back + 1.2, reason, code, back,
                                                old))
            started, t = t + back + 1.2, t + back + r.uniform(40, 400)

    def _warning_event(self, r: Any) -> None:
        w = self.world
        svc = self._pick(r) or w.spec.services[0]
        pod = r.choice(w.pods_of(svc.name))
        if r.random() < 0.6:
            step = r.uniform(80, 130)
            times = [w.start - 86400 * 2 + step * k for k in range(int((86400 * 2 + w.end - w.start
                                                                        - 60) // step))]
            ns = r.choice(("10.96.0.10 169.254.169.254 10.20.0.2", "172.20.0.10 10.40.0.2 "
                                                                  "169.254.169.253"))
            w.controller_events.append({
                "pod": pod, "reason": "DNSConfigForming", "type": "Warning", "times": times,
                "message": "Nameserver limits were exceeded, some nameservers have been omitted, "
                           f"the applied nameserver line is: {ns}"})
        else:
            w.controller_events.append({
                "pod": pod, "reason": "Unhealthy", "type": "Warning",
                "times": [w.end - r.uniform(300, 3000)],
                "message": f'Liveness probe failed: Get "http://{pod.ip}:{svc.port}/healthz/live"'
                           ": context deadline exceeded (Client.Timeout exceeded while awaiting "
                           "headers)"})

    def _traffic_ramp(self, r: Any) -> None:
        edge = [s for s in self.world.spec.services if s.post_share and s.rps > 0]
        svc = edge[0] if edge else self._pick(r)
        if svc is None or svc.name == self.world.spec.incident.target:
            return
        self.ramp = (svc.name, self.world.end - r.uniform(4000, 6000), r.uniform(2400, 3600),
                     r.uniform(0.18, 0.32))

    def traffic(self, service: str, t: float) -> float:
        if self.ramp is None or service != self.ramp[0]:
            return 1.0
        name, start, span, gain = self.ramp
        return 1.0 + gain * clamp((t - start) / span)

    def _deploy_other(self, r: Any) -> None:
        svc = self._pick(r)
        if svc is None:
            return
        at = self.world.start + self.world.spec.incident.onset_s - r.uniform(900, 2100)
        head, _, last = svc.version.rpartition(".")
        version = f"{head}.{int(last) + 1}" if last.isdigit() else svc.version + ".1"
        image = svc.image_ref.rsplit(":", 1)[0] + ":" + version
        roll_out(self.world, svc.name, at, image=image)

    def _noisy_logs(self, r: Any) -> None:
        svc = self._pick(r)
        if svc is not None:
            self.noisy = r.choice(self.world.pods_of(svc.name))

    def _cronjob_errors(self, r: Any) -> None:
        w = self.world
        paged = w.spec.service(w.spec.paged_service)
        cj = _JOB.get(w.spec.topology, "nightly-export")
        repo = paged.image_ref.rsplit("/", 1)[0]
        version = f"v1.{r.randint(2, 9)}.{r.randint(0, 9)}"
        svc = ServiceSpec(name=cj, runtime="python", replicas=1, version=version,
                          image=f"{repo}/{cj}:{version}", cpu_request=0.1, mem_request_mib=128,
                          mem_limit_mib=256, mem_base_mib=95, cpu_base=0.3)
        sched = (w.start // 1200 + 1) * 1200
        prev: JobRun | None = None
        while sched < w.end - 60:
            job = f"{cj}-{int(sched // 60)}"
            created = sched + r.uniform(0.3, 1.5)
            node = pick_node(w, created, "job:" + job)
            pod = Pod(name=f"{job}-{w.suffix('job:' + job, 5)}", service=svc, node=node,
                      ip=node.pod_prefix + str(r.randint(2, 250)), uid=w.uid("pod:" + job),
                      created=created, first_start=created + r.uniform(1.5, 3.5),
                      owner_kind="Job", owner_name=job, owner_uid=w.uid("Job:" + job),
                      template_hash="", container_id=w.hexid("cid:" + job), exit_code=1,
                      owner_api="batch/v1")
            pod.stopped = pod.first_start + r.uniform(6, 25)
            w.pods.append(pod)
            run = JobRun(cj, job, sched, pod, "*/20 * * * *")
            w.jobs.append(run)
            self._job_events(run, prev)
            prev, sched = run, sched + 1200

    def _job_events(self, run: JobRun, prev: JobRun | None) -> None:
        w, pod = self.world, run.pod
        stop = pod.stopped or pod.first_start
        controller_event(w, run.scheduled, "CronJob", run.cronjob, "SuccessfulCreate",
                         f"Created job {run.name}", "cronjob-controller", api="batch/v1")
        controller_event(w, pod.created, "Job", run.name, "SuccessfulCreate",
                         f"Created pod: {pod.name}", "job-controller", api="batch/v1")
        controller_event(w, stop + 1.0, "Job", run.name, "BackoffLimitExceeded",
                         "Job has reached the specified backoff limit", "job-controller",
                         "Warning", api="batch/v1")
        controller_event(w, stop + 2.0, "CronJob", run.cronjob, "SawCompletedJob",
                         f"Saw completed job: {run.name}, status: Failed", "cronjob-controller",
                         api="batch/v1")
        if prev is not None:  # failedJobsHistoryLimit: 1
            controller_event(w, stop + 2.1, "CronJob", run.cronjob, "SuccessfulDelete",
                             f"Deleted job {prev.name}", "cronjob-controller", api="batch/v1")
            prev.pod.deleted = stop + 2.3

    def extra_logs(self, writer: Any) -> None:
        r = self.world.rng("herring-logs")
        for run in self.world.jobs:
            pod, lg = run.pod, run.cronjob.replace("-", "_")
            t, stop = pod.first_start + 0.6, (pod.stopped or pod.first_start) - 0.2
            bucket = f"{self.world.spec.namespace}-exports-{self.world.spec.topology}"
            for at, level, msg in (
                    (t, "INFO", f"{run.cronjob} starting (window=20m)"),
                    (t + 2.0, "INFO", f"collected {r.randint(200, 9000)} rows"),
                    (stop - 0.01, "ERROR", f"upload to s3://{bucket}/ failed: botocore.exceptions."
                                           "ClientError: An error occurred (AccessDenied) when "
                                           "calling the PutObject operation: Access Denied"),
                    (stop, "CRITICAL", "export aborted, exit status 1")):
                writer.emit(pod, at, native(pod, level if level != "CRITICAL" else "FATAL", msg,
                                            logger=lg), r)
        if self.noisy is not None:
            pod, t = self.noisy, self.world.start + r.uniform(0, 300)
            while t < self.world.end:
                writer.emit(pod, t, native(pod, "WARN", "feature flag refresh failed, serving "
                                           "cached flags", fields={"error": "context deadline "
                                                                   "exceeded", "flags": 41}), r)
                t += r.uniform(240, 420)

