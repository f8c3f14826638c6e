"""Alerts: sensors that tell data stewards about failed blocking checks, failed runs and late deliveries,
by e-mail (SMTP) and optionally a JSON webhook. Configuration: ``alerts.yaml`` (secrets from the environment)."""
