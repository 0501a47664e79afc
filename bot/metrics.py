"""The bot's own Prometheus metrics, served on `/metrics`."""

from prometheus_client import Counter, Gauge, Histogram

WEBHOOKS = Counter("oncall_webhooks_total", "Alertmanager webhooks received, by outcome", ["outcome"])
NOTIFICATIONS = Counter("oncall_notifications_processed_total", "Stored notifications processed",
                        ["outcome"])
QUEUE = Gauge("oncall_queue_notifications", "Notifications in the store by state", ["state"])
INVESTIGATION_SECONDS = Histogram("oncall_investigation_seconds", "Duration of one investigation",
                                  buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30))
PAGE_TO_PARENT = Histogram("oncall_page_to_parent_seconds", "Webhook receipt to parent message",
                           buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10))
PAGE_TO_REPORT = Histogram("oncall_page_to_report_seconds", "Webhook receipt to report posted",
                           buckets=(0.5, 1, 2, 5, 10, 30, 60))
