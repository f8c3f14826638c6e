"""Cross-agency integration pipeline: Dagster code location and the stages it runs."""
