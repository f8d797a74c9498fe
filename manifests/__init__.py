"""The Slack app manifests (HTTP and Socket Mode)."""
