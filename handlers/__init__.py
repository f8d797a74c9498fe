"""Use cases: one module per trigger (webhook, Slack listener, scheduled job): load, decide, apply."""
