"""Slack listeners, Block Kit builders, action ids and the message catalog."""
