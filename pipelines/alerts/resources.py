"""The alert channels as a resource: configured once in the definitions, passed to the sensors."""

from pathlib import Path

import dagster as dg
from pydantic import Field

from pipelines.alerts.channels import deliver
from pipelines.alerts.config import AlertConfig, load_alert_config
from pipelines.alerts.messages import Alert


class AlertsResource(dg.ConfigurableResource):
    """SMTP relay, recipients and webhook from the alert configuration file (secrets from the environment)."""

    config_file: str = Field(
        default="", description="Alert configuration (YAML); empty: $INTEGRATION_ALERTS_CONFIG, else "
        "pipelines/alerts/alerts.yaml.")

    def load(self) -> AlertConfig:
        return load_alert_config(Path(self.config_file) if self.config_file else None)

    def send(self, alert: Alert, config: AlertConfig, only: set[str] | None = None) -> dict[str, str]:
        """Deliver ``alert``; the channels that failed, with the reason."""
        return deliver(alert, config, only)
