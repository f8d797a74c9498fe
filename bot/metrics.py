"""Prometheus metrics: one registry per running bot, so tests and replicas never share counters."""

from __future__ import annotations

from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


@dataclass
class Metrics:
    """The counters the bot exports on /metrics."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.events_received = Counter(
            "mqlbot_events_received", "Lead events received", ["source", "outcome"], registry=r
        )
        self.webhook_requests = Counter(
            "mqlbot_webhook_requests",
            "Webhook requests by answer",
            ["source", "status"],
            registry=r,
        )
        self.mqls_created = Counter("mqlbot_mqls_created", "MQLs created", ["kind"], registry=r)
        self.slack_calls = Counter(
            "mqlbot_slack_calls", "Slack Web API calls", ["method", "outcome"], registry=r
        )
        self.outbox_dead = Counter(
            "mqlbot_outbox_dead_letters",
            "Outbox messages given up after max attempts",
            ["kind"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "mqlbot_outbox_depth", "Outbox messages waiting to be sent", registry=r
        )
        # Read from the database, so a dead letter stays visible after the replica that gave it
        # up is gone (the counter above lives and dies with its process).
        self.outbox_dead_now = Gauge(
            "mqlbot_outbox_dead",
            "Outbox messages in the dead-letter state, across all replicas",
            ["kind"],
            registry=r,
        )
        self.job_runs = Counter(
            "mqlbot_job_runs", "Scheduled job runs", ["job", "outcome"], registry=r
        )
        self.send_latency = Histogram(
            "mqlbot_outbox_delivery_seconds",
            "From queueing to Slack's answer",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
            registry=r,
        )

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
