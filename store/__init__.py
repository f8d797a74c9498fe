"""Persistence: SQLModel tables, keyword-only queries, the outbox and migrations; never commits on its own."""
