"""Read-only access to the data sources: Prometheus, Loki and the Kubernetes API.

Every call returns a :class:`adapters.envelope.SourceResult`, so callers never
special-case a source and failures arrive as data, not exceptions.
"""

from adapters.envelope import SourceResult, Status, TimeRange

__all__ = ["SourceResult", "Status", "TimeRange"]
