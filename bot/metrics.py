"""The bot's own Prometheus metrics, served on `/metrics`.

With the worker in a child process, both processes write to
PROMETHEUS_MULTIPROC_DIR (set by `oncall serve` before this module is
imported) and `/metrics` aggregates them.
"""

import os

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess

WEBHOOKS = Counter("oncall_webhooks_total", "Alertmanager webhooks received, by outcome", ["outcome"])
NOTIFICATIONS = Counter("oncall_notifications_processed_total", "Stored notifications processed",
                        ["outcome"])
QUEUE = Gauge("oncall_queue_notifications", "Notifications in the store by state", ["state"],
              multiprocess_mode="mostrecent")
INVESTIGATION_SECONDS = Histogram("oncall_investigation_seconds", "Duration of one investigation",
                                  buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
PAGE_TO_PARENT = Histogram("oncall_page_to_parent_seconds", "Webhook receipt to parent message",
                           buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
PAGE_TO_REPORT = Histogram("oncall_page_to_report_seconds", "Webhook receipt to report posted",
                           buckets=(0.5, 1, 2, 5, 10, 30, 60))


def exposition() -> bytes:
    """Text exposition of this process's metrics, or of all processes' in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest()
