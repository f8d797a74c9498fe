"""Scheduled jobs: reminders and escalation, recycle returns, score decay, weekly digest."""
