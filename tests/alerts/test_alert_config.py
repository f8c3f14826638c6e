"""The alert configuration: secrets from the environment, recipients per agency, the shipped file loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.alerts.config import DEFAULT_FILE, AlertConfigError, load_alert_config


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_smtp_password_comes_from_the_environment_and_a_missing_variable_is_named(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    config_file = _write(tmp_path / "alerts.yaml", """
smtp:
  host: relay.stadt.test
  port: "2525"
  starttls: "false"
  username: monitor
  password: ${RELAY_PASSWORD}
stewards: [a@stadt.test]
""")
    monkeypatch.delenv("RELAY_PASSWORD", raising=False)
    with pytest.raises(AlertConfigError, match="RELAY_PASSWORD"):
        load_alert_config(config_file)

    monkeypatch.setenv("RELAY_PASSWORD", "from-the-environment")
    config = load_alert_config(config_file)
    assert config.smtp.password == "from-the-environment"
    assert (config.smtp.host, config.smtp.port, config.smtp.starttls) == ("relay.stadt.test", 2525, False)
    assert "from-the-environment" not in repr(config), "the password is not shown in logs of the config"


def test_an_agency_alert_reaches_the_stewards_and_that_agency_through_its_own_relay(tmp_path: Path):
    config = load_alert_config(_write(tmp_path / "alerts.yaml", """
smtp: {host: relay.stadt.test, port: 587}
stewards: ["a@stadt.test, b@stadt.test"]
agencies:
  abh: {recipients: [abh@stadt.test]}
  jobcenter: {recipients: [jc@jobcenter.test], smtp: {host: mail.jobcenter.test, port: 25, starttls: false}}
"""))
    assert [(r.smtp.host, r.recipients) for r in config.routes("abh")] == [
        ("relay.stadt.test", ("a@stadt.test", "b@stadt.test", "abh@stadt.test"))]
    jobcenter = {r.smtp.host: r.recipients for r in config.routes("jobcenter")}
    assert jobcenter == {"relay.stadt.test": ("a@stadt.test", "b@stadt.test"),
                         "mail.jobcenter.test": ("jc@jobcenter.test",)}
    assert [r.recipients for r in config.routes(None)] == [("a@stadt.test", "b@stadt.test")]


def test_the_shipped_configuration_loads_with_its_defaults(monkeypatch: pytest.MonkeyPatch):
    for name in ("INTEGRATION_SMTP_HOST", "INTEGRATION_SMTP_PORT", "INTEGRATION_ALERT_WEBHOOK_URL", "DAGSTER_UI_URL"):
        monkeypatch.delenv(name, raising=False)
    config = load_alert_config(DEFAULT_FILE)
    assert config.smtp.port == 587 and config.smtp.starttls
    assert config.webhook_url == "" and config.stewards
    assert set(config.agency_recipients) == {"abh", "jobcenter", "jugendamt"}
    monkeypatch.setenv("INTEGRATION_ALERT_WEBHOOK_URL", "https://chat.stadt.test/hooks/quality")
    assert load_alert_config(DEFAULT_FILE).webhook_url == "https://chat.stadt.test/hooks/quality"
