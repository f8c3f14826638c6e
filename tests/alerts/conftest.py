"""Fixtures of the alert tests: loopback SMTP and webhook servers, the alert resource, a small city.

The servers and the abh stage are plain code in ``alert_harness.py``; these fixtures start and stop them.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from alert_harness import (
    SMTP_PASSWORD,
    TEST_KEY,
    AbhStage,
    AlertCity,
    SmtpServer,
    WebhookServer,
    running_smtp_server,
    running_webhook_server,
    write_alert_config,
)

from pipelines.alerts.resources import AlertsResource
from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV


@pytest.fixture
def smtp_server(tmp_path: Path) -> Iterator[SmtpServer]:
    with running_smtp_server(tmp_path) as server:
        yield server


@pytest.fixture
def webhook_server() -> Iterator[WebhookServer]:
    with running_webhook_server() as server:
        yield server


@pytest.fixture
def alerts(tmp_path: Path, smtp_server: SmtpServer, webhook_server: WebhookServer,
           monkeypatch: pytest.MonkeyPatch) -> AlertsResource:
    """The real alert resource, configured for the loopback servers; the password comes from the environment."""
    monkeypatch.setenv("TEST_ALERT_SMTP_PASSWORD", SMTP_PASSWORD)
    config = write_alert_config(tmp_path / "alerts.yaml", smtp_server.port, smtp_server.ca_file, webhook_server.url)
    return AlertsResource(config_file=str(config))


@pytest.fixture(scope="module")
def alert_city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AlertCity]:
    """Landing files of a small synthetic city (three months); the data folder of the module's tests."""
    from pipelines.synthetic import generate

    data_dir = tmp_path_factory.mktemp("alert_city")
    generate(data_dir, persons=120, start="2016-01", months=3, seed=11)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("INTEGRATION_DATA_DIR", str(data_dir))
        patch.setenv(KEY_ENV, TEST_KEY)
        patch.delenv(KEY_FILE_ENV, raising=False)
        yield AlertCity(data_dir, ("2016-01", "2016-02", "2016-03"))


@pytest.fixture(scope="module")
def ingested_warehouse(alert_city: AlertCity, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse with January and February ingested by the real ingest job (all checks green)."""
    folder = tmp_path_factory.mktemp("abh_base")
    (folder / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(folder / "dagster")) as instance:
        stage = AbhStage(instance, folder / "warehouse.duckdb")
        for month in alert_city.months[:2]:
            assert stage.ingest(month).success
    return stage.warehouse


@pytest.fixture
def abh_stage(ingested_warehouse: Path, tmp_path: Path) -> Iterator[AbhStage]:
    """The abh stage on a copy of that warehouse, with a Dagster instance of its own (no runs yet);
    March is still waiting in the landing zone."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(ingested_warehouse, warehouse)
    (tmp_path / "dagster").mkdir()
    with dg.instance_for_test(temp_dir=str(tmp_path / "dagster")) as instance:
        yield AbhStage(instance, warehouse)
