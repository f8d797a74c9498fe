"""Slack output shared by every handler: cards, card changes, views, Block Kit builders, catalogs, digest text and chart."""
