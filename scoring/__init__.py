"""Pure decisions: points, decay, triggers, the MQL decision, the business-hours clock, digest figures."""
