"""Slack listeners only: each module registers one group; what they post lives in handlers.present."""
