"""Publish: an immutable release of aggregates with small cells suppressed, and its manifest."""
