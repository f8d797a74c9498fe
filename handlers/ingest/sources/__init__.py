"""Adapters that translate marketing tools' own webhook formats into native events."""
