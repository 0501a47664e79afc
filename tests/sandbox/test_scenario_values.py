"""Time-valued metrics move with the timeline when a scenario is replayed."""

from __future__ import annotations

import io

from sandbox.scenario import _shift_metrics


def test_epoch_valued_metrics_shift_but_counters_do_not():
    src = io.StringIO(
        'probe_ssl_earliest_cert_expiry{instance="shop.example"} 1767225600 1767200000\n'
        'certmanager_certificate_expiration_timestamp_seconds{name="tls"} 1767225600.5 1767200000\n'
        'http_requests_total{code="200"} 1767225600 1767200000\n'
        'kube_pod_created{pod="p"} 12 1767200000\n'
        "# EOF\n")
    out = io.StringIO()
    _shift_metrics(src, out, 100)
    lines = out.getvalue().splitlines()
    assert lines[0] == 'probe_ssl_earliest_cert_expiry{instance="shop.example"} 1767225700 1767200100'
    assert lines[1].startswith("certmanager_certificate_expiration_timestamp_seconds") and " 1767225700.5 " in lines[1]
    assert lines[2] == 'http_requests_total{code="200"} 1767225600 1767200100'  # a count, not a time
    assert lines[3] == 'kube_pod_created{pod="p"} 12 1767200100'  # not an epoch: left alone
    assert lines[4] == "# EOF"
