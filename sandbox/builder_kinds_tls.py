"""``cert-expiry``: a service's serving certificate expired and its callers' TLS
handshakes fail; the callers page, the culprit's own request rate collapses."""

from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Any

from sandbox.builder_kinds_service import _CallerSymptoms
from sandbox.builder_kube import ts
from sandbox.builder_world import Pod


class CertExpiry(_CallerSymptoms):
    """``cert-expiry``: the culprit's serving certificate expired (cert-manager could not
    renew it); callers' TLS handshakes fail, so its request rate collapses."""

    kind = "cert-expiry"
    share = 0.7

    def plan(self) -> None:
        self.dep = self.spec.target or ""
        self.not_after = self.onset

    def cert_not_after(self, service: str) -> float:
        return self.not_after if service == self.dep else super().cert_not_after(service)

    def traffic_factor(self, service: str, t: float) -> float:
        return 0.04 if service == self.dep and t >= self.not_after else 1.0

    def cause(self, pod: Pod) -> str:
        svc = self.world.spec.service(self.dep)
        url = f"https://{self.dep}.{self.world.spec.namespace}.svc:{svc.port}"
        expired = ts(self.not_after)
        java_time = datetime.fromtimestamp(self.not_after, timezone.utc).strftime(
            "%a %b %d %H:%M:%S UTC %Y")
        return {"java": f"org.springframework.web.client.ResourceAccessException: I/O error on "
                        f'GET request for "{url}/v1/{self.dep}": PKIX path validation failed: '
                        "java.security.cert.CertPathValidatorException: validity check failed; "
                        "nested exception is java.security.cert.CertificateExpiredException: "
                        f"NotAfter: {java_time}",
                "python": f"httpx.ConnectError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
                          "verify failed: certificate has expired (_ssl.c:1006)",
                "node": "certificate has expired",
                }.get(pod.service.runtime,
                      f'Get "{url}/v1/{self.dep}": tls: failed to verify certificate: x509: '
                      f"certificate has expired or is not yet valid: current time {{now}} is "
                      f"after {expired}")

    def error_text(self, pod: Pod, t: float, r: random.Random) -> str:
        return super().error_text(pod, t, r).replace("{now}", ts(t))

    def extra_logs(self, writer: Any) -> None:
        r = self.world.rng("cert-logs")
        peers = [p for p in self.world.pods if self.dep in p.service.upstreams]
        for pod in self.world.pods_of(self.dep):
            t = self.not_after + r.uniform(0.5, 5)
            while t < self.world.end and peers:
                peer = r.choice(peers)
                stamp = _go_log_time(t)
                writer.emit(pod, t, f"{stamp} http: TLS handshake error from {peer.ip}:"
                                    f"{r.randint(32768, 60999)}: remote error: tls: bad "
                                    "certificate", r)
                t += r.expovariate(1 / 4.0)

    def extra_events(self) -> list[dict[str, Any]]:
        ns = self.world.spec.namespace
        ref = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate",
               "name": f"{self.dep}-tls", "namespace": ns,
               "uid": self.world.uid("cert:" + self.dep)}
        return [{"involved": ref, "reason": "Failed", "type": "Warning", "component":
                 "cert-manager-certificates-issuing",
                 "times": [self.world.end - 3600 * 7.9, self.world.end - 1500],
                 "message": "The certificate request has failed to complete and will be "
                            f"retried: Vault failed to sign certificate: Error making API "
                            f"request. URL: PUT https://vault.security.svc:8200/v1/pki_int/"
                            f"sign/{ns} Code: 403. Errors: * permission denied"}]

    def evidence(self) -> list[str]:
        return ["expired", self.dep]


def _go_log_time(t: float) -> str:
    """Go's standard log package prefix (http.Server.ErrorLog)."""
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y/%m/%d %H:%M:%S")
