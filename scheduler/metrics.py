"""Prometheus metrics, in a registry owned by the running process (``Runtime.metrics``).

Nothing is registered in prometheus-client's global registry: two servers in one test process
(or a benchmark running several workers) each count their own. Counters are updated where the
event happens (the delivery worker, the scheduler, the webhooks); gauges that describe the
database (outbox rows by status and platform, open dialogs) are read when ``/metrics`` is
scraped, so every replica reports the same shared truth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]

SEND_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
JOB_BUCKETS = (0.01, 0.1, 0.5, 1.0, 5.0, 15.0, 60.0, 300.0, 900.0)


@dataclass
class Metrics:
    """Every Learnbot metric, registered in ``registry``."""

    registry: CollectorRegistry = field(default_factory=lambda: CollectorRegistry(auto_describe=True))

    def __post_init__(self) -> None:
        r = self.registry
        self.outbox = Gauge(
            "learnbot_outbox_messages",
            "Outbox rows by status and platform (read from the database at scrape time)",
            ["status", "platform"],
            registry=r,
        )
        self.sends = Counter(
            "learnbot_sends",
            "Send attempts by platform and outcome (sent, retry, throttled, failed, error)",
            ["platform", "outcome"],
            registry=r,
        )
        self.send_seconds = Histogram(
            "learnbot_send_seconds",
            "Time one send took at the platform (excluding rate-limit waits)",
            ["platform"],
            buckets=SEND_BUCKETS,
            registry=r,
        )
        self.throttled = Counter(
            "learnbot_platform_throttled",
            "429 (rate limited) answers from a platform",
            ["platform"],
            registry=r,
        )
        self.retries = Counter(
            "learnbot_send_retries", "Sends put back to be tried again later", ["platform"], registry=r
        )
        self.ambiguous = Counter(
            "learnbot_sends_ambiguous",
            "Sends interrupted where the platform may or may not have received the message",
            ["platform", "resolution"],
            registry=r,
        )
        self.inbox_lag = Histogram(
            "learnbot_inbox_lag_seconds",
            "From acknowledging an inbound request to starting its work",
            ["platform"],
            buckets=SEND_BUCKETS,
            registry=r,
        )
        self.inbox_waiting = Gauge(
            "learnbot_inbox_waiting",
            "Inbound requests acknowledged and not yet handled",
            ["platform"],
            registry=r,
        )
        self.job_runs = Counter(
            "learnbot_job_runs", "Scheduled job runs by job and outcome", ["job", "outcome"], registry=r
        )
        self.job_seconds = Histogram(
            "learnbot_job_seconds", "How long a job run took", ["job"], buckets=JOB_BUCKETS, registry=r
        )
        self.dialogs_open = Gauge(
            "learnbot_dialogs_open", "Conversations (dialogs) in progress (read at scrape time)", registry=r
        )
        self.rejected = Counter(
            "learnbot_http_rejected",
            "Inbound webhook requests refused (malformed, unsigned, too large)",
            ["route", "status"],
            registry=r,
        )

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)
