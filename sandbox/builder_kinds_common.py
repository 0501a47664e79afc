"""What a caller logs when a downstream fails, in each runtime's own words (JDBC/Hikari,
pgx, psycopg, node net errors, go-redis), shared by the kinds whose page is a caller's
symptom (dependency-down, node-failure, disk-full, cert-expiry)."""

from __future__ import annotations

from sandbox.builder_spec import ServiceSpec
from sandbox.builder_world import World


def cluster_ip(world: World, service: str) -> str:
    r = world.rng("clusterip:" + service)
    return f"10.100.{r.randint(0, 254)}.{r.randint(2, 254)}"


def host(world: World, service: str) -> str:
    return f"{service}.{world.spec.namespace}.svc.cluster.local"


def callers(world: World, service: str) -> list[str]:
    """Services that call ``service`` directly."""
    return [s.name for s in world.spec.services if service in s.upstreams]


def refused(world: World, caller: ServiceSpec, dep: ServiceSpec) -> str:
    """The error a request of ``caller`` ends with when ``dep`` has no ready endpoints."""
    ip, port = cluster_ip(world, dep.name), dep.port
    if dep.runtime == "redis":
        return {"java": "org.springframework.data.redis.RedisConnectionFailureException: Unable "
                        f"to connect to Redis; nested exception is io.lettuce.core."
                        f"RedisConnectionException: Unable to connect to {dep.name}:{port}",
                "python": f"redis.exceptions.ConnectionError: Error 111 connecting to "
                          f"{dep.name}:{port}. Connection refused.",
                }.get(caller.runtime, f"dial tcp {ip}:{port}: connect: connection refused")
    if dep.runtime == "postgres":
        return {"java": "org.springframework.jdbc.CannotGetJdbcConnectionException: Failed to "
                        "obtain JDBC Connection; nested exception is org.postgresql.util."
                        f"PSQLException: Connection to {dep.name}:{port} refused. Check that the "
                        "hostname and port are correct and that the postmaster is accepting "
                        "TCP/IP connections.",
                "python": f'psycopg.OperationalError: connection failed: connection to server at '
                          f'"{host(world, dep.name)}" ({ip}), port {port} failed: Connection '
                          "refused",
                "go": f"failed to connect to `host={host(world, dep.name)} user={caller.name} "
                      f"database={dep.name.split('-')[0]}`: dial error (dial tcp {ip}:{port}: "
                      "connect: connection refused)",
                }.get(caller.runtime, f"connect ECONNREFUSED {ip}:{port}")
    url = f"http://{dep.name}:{dep.port}"
    return {"java": f"org.springframework.web.client.ResourceAccessException: I/O error on GET "
                    f"request for \"{url}/v1/{dep.name}\": Connection refused",
            "python": f"httpx.ConnectError: [Errno 111] Connection refused ({url})",
            "go": f'Get "{url}/v1/{dep.name}": dial tcp {ip}:{dep.port}: connect: '
                  "connection refused"}.get(caller.runtime, f"connect ECONNREFUSED {ip}:{dep.port}")


def java_wrap(text: str) -> str:
    """A Spring MVC dispatcherServlet error message around a root cause."""
    return ("Servlet.service() for servlet [dispatcherServlet] in context with path [] threw "
            f"exception [Request processing failed: {text}] with root cause")


def node_err(text: str, upstream: str = "") -> dict[str, str]:
    """The pino ``err`` object for a node.js error message (``upstream``: the service the
    failed call went to, logged beside it)."""
    code = ("ECONNREFUSED" if "ECONNREFUSED" in text else "CERT_HAS_EXPIRED" if "expired" in text
            else "ETIMEDOUT" if "timed out" in text.lower() else "")
    out = {"type": "Error", "message": text}
    if code:
        out["code"] = code
    if upstream:
        out["upstream"] = upstream
    return out
