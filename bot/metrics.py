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
QUEUE_OLDEST = Gauge("oncall_queue_oldest_pending_seconds",
                     "Age of the oldest notification not yet done (0 when drained)",
                     multiprocess_mode="mostrecent")
INTAKE_BATCH = Histogram("oncall_intake_batch_size", "Webhooks persisted per group commit",
                         buckets=(1, 2, 5, 10, 20, 50, 100, 200))
INVESTIGATION_SECONDS = Histogram("oncall_investigation_seconds", "Duration of one investigation",
                                  buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
STAGE_SECONDS = Histogram("oncall_stage_seconds",
                          "Time spent per stage of handling a notification", ["stage"],
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60))
SOURCE_ERRORS = Counter("oncall_source_errors_total",
                        "Data source failures met while investigating", ["source"])
LEASES_LOST = Counter("oncall_leases_lost_total",
                      "Claims that expired under a worker (another worker took the work over)")
CHAT_CALLS = Counter("oncall_chat_api_calls_total", "Chat API calls by method", ["method"])
CHAT_ERRORS = Counter("oncall_chat_api_errors_total", "Chat API errors by method and error",
                      ["method", "error"])
CHAT_WAIT = Histogram("oncall_chat_send_wait_seconds",
                      "Wait for the channel's send slot (rate limit and Retry-After)",
                      buckets=(0, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120))
CHAT_DEDUPED = Counter("oncall_chat_posts_deduplicated_total",
                       "Posts skipped because the outbox (or a lookup) showed them done", ["how"])
ROLLUP_GROUPS = Counter("oncall_rollup_groups_total",
                        "New groups summarised in a storm roll-up instead of their own thread")
LLM_TOKENS = Counter("oncall_llm_tokens_total", "LLM tokens used by investigations, by kind (input/output)",
                     ["kind"])
LLM_COST = Counter("oncall_llm_cost_usd_total", "Estimated LLM spend in US dollars")
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
