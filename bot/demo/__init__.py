"""`mqlbot demo`: the bot driven against the local Slack stand-in (a tool, not composition)."""
