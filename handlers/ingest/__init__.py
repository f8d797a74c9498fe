"""Lead ingest: the native event format, webhook authentication and the ingest use case."""
