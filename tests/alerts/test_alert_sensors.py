"""The alert sensors against real runs, a real SMTP server (STARTTLS, login) and a real webhook on loopback.

Each scenario runs the real abh ingest asset and its real checks on a small city in a temporary Dagster
instance, evaluates the real sensor as the daemon would (``build_sensor_context`` with the instance),
and reads what arrived at the SMTP server and the webhook.
"""

from __future__ import annotations

import socket
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from alert_harness import ABH_CONTACT, JOBCENTER_CONTACT, SMTP_USER, STEWARD, UI_URL, tick

from pipelines.alerts.sensors import check_failure_alerts, late_delivery_alerts, run_failure_alerts
from pipelines.ingest.keys import KEY_ENV, KEY_FILE_ENV

GX = "gx_abh__residence_status"
GX_CHECK = f"raw/abh__residence_status:{GX}"
FRESHNESS = "delivery_freshness"


def _break_status_codes(warehouse, rows: int = 3) -> list[tuple[str, str]]:
    """Give a few rows of the Wuppertal January delivery a status code outside the code list."""
    with duckdb.connect(str(warehouse)) as con:
        before = con.execute("""
            select event_ref, status_code from raw.abh__residence_status
            where delivery_id like 'abh-wuppertal-2016-01-%' order by source_row limit ?""", [rows]).fetchall()
        con.execute("update raw.abh__residence_status set status_code = 'XXX' where event_ref in "
                    "(select unnest(?::varchar[]))", [[ref for ref, _ in before]])
    return before


def _restore_status_codes(warehouse, before: list[tuple[str, str]]) -> None:
    with duckdb.connect(str(warehouse)) as con:
        for ref, code in before:
            con.execute("update raw.abh__residence_status set status_code = ? where event_ref = ?", [code, ref])


def _clear_text_names(alert_city) -> set[str]:
    """Family names as delivered: none of them may appear in an alert."""
    names: set[str] = set()
    for path in (alert_city.data_dir / "landing" / "abh").rglob("*.csv"):
        frame = pd.read_csv(path, sep=";", encoding="cp1252", dtype=str)
        names |= {n for n in frame["Familienname"].dropna() if len(n) >= 4}
    return names


def test_a_failed_blocking_check_is_mailed_and_posted_once_and_its_recovery_once(
        abh_stage, alerts, smtp_server, webhook_server, alert_city):
    result = tick(check_failure_alerts, abh_stage.instance, alerts, None)
    assert smtp_server.messages == [] and webhook_server.payloads == [], "green checks raise no alert"

    before = _break_status_codes(abh_stage.warehouse)
    failed_run = abh_stage.check(checks=(GX,))
    assert not failed_run.success  # a blocking check with severity ERROR fails its step
    result = tick(check_failure_alerts, abh_stage.instance, alerts, result.cursor)

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail.tls and mail.login == SMTP_USER, "sent after STARTTLS, logged in"
    assert set(mail.recipients) == {STEWARD, ABH_CONTACT}, "the stewards and the abh contact, not the jobcenter"
    assert "FAILED CHECK" in mail.message["Subject"] and GX_CHECK in mail.message["Subject"]
    body = mail.body
    assert "expect_column_values_to_be_in_set(status_code) (3 rows)" in body
    assert "failing_rows = 3" in body
    assert "ABH_Wuppertal_201601.csv (abh, 2016-01)" in body, "names the delivery the failing rows came from"
    assert f"{UI_URL}/runs/{failed_run.run_id}" in body
    assert len(webhook_server.payloads) == 1
    payload = webhook_server.payloads[0]
    assert payload["kind"] == "check_failed" and payload["check"] == GX_CHECK
    assert payload["counts"]["failing_rows"] == 3 and payload["run_url"] == f"{UI_URL}/runs/{failed_run.run_id}"
    assert any("ABH_Wuppertal_201601.csv" in d for d in payload["deliveries"])

    # the same failure, on the next tick and in the next failing run: nothing new
    result = tick(check_failure_alerts, abh_stage.instance, alerts, result.cursor)
    assert not abh_stage.check(checks=(GX,)).success
    result = tick(check_failure_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 1 and len(webhook_server.payloads) == 1

    _restore_status_codes(abh_stage.warehouse, before)
    assert abh_stage.check(checks=(GX,)).success
    result = tick(check_failure_alerts, abh_stage.instance, alerts, result.cursor)
    result = tick(check_failure_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 2 and len(webhook_server.payloads) == 2, "one recovery, announced once"
    assert "RESOLVED CHECK" in smtp_server.messages[1].message["Subject"]
    assert "1 more failing runs since the first alert" in smtp_server.messages[1].body
    assert webhook_server.payloads[1]["kind"] == "check_recovered"

    sent = " ".join(m.body + str(m.message["Subject"]) for m in smtp_server.messages) + str(webhook_server.payloads)
    leaked = {name for name in _clear_text_names(alert_city) if name in sent}
    assert not leaked, f"clear-text names in alerts: {sorted(leaked)[:5]}"


def test_a_late_delivery_is_mailed_to_the_agency_once_and_its_arrival_once(
        abh_stage, alerts, smtp_server, webhook_server):
    # January and February are in; on 20 April the March file (due 10 April, 5 days' grace) is late.
    late_run = abh_stage.check(now="2016-04-20", checks=(FRESHNESS,))
    assert late_run.success, "a late delivery is a warning: it fails the check, not the run"
    result = tick(late_delivery_alerts, abh_stage.instance, alerts, None)

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert set(mail.recipients) == {STEWARD, ABH_CONTACT} and JOBCENTER_CONTACT not in mail.recipients
    assert "LATE DELIVERY" in mail.message["Subject"] and "abh: 3 deliveries late" in mail.message["Subject"]
    for city in ("wuppertal", "solingen", "muelheim"):
        assert f"abh {city} 2016-03: due 2016-04-10, 10 days overdue (missing)" in mail.body
    assert f"{UI_URL}/runs/{late_run.run_id}" in mail.body
    payload = webhook_server.payloads[0]
    assert payload["kind"] == "delivery_late" and payload["agency"] == "abh"
    assert payload["counts"]["late_deliveries"] == 3

    assert abh_stage.check(now="2016-04-21", checks=(FRESHNESS,)).success  # still late a day later: no repeat
    result = tick(late_delivery_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 1 and len(webhook_server.payloads) == 1

    arrived = abh_stage.ingest("2016-03", now="2016-04-21", checks=(FRESHNESS,))  # as ingest_job does
    assert arrived.success
    result = tick(late_delivery_alerts, abh_stage.instance, alerts, result.cursor)
    result = tick(late_delivery_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 2 and len(webhook_server.payloads) == 2
    assert "RESOLVED LATE DELIVERY" in smtp_server.messages[1].message["Subject"]
    assert "abh wuppertal 2016-03" in smtp_server.messages[1].body
    assert webhook_server.payloads[1]["kind"] == "delivery_arrived"


def test_a_failed_run_is_mailed_once_and_its_recovery_once(
        abh_stage, alerts, smtp_server, webhook_server, monkeypatch: pytest.MonkeyPatch):
    assert abh_stage.check(checks=(FRESHNESS,)).success
    result = tick(run_failure_alerts, abh_stage.instance, alerts, None)
    assert smtp_server.messages == [], "a successful run raises no alert"

    with monkeypatch.context() as without_key:
        without_key.delenv(KEY_ENV)
        without_key.delenv(KEY_FILE_ENV, raising=False)
        failed = abh_stage.ingest("2016-03")  # no pseudonymisation key: the ingest refuses to run
        assert not failed.success
        result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)
        assert not abh_stage.ingest("2016-03").success
        result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)

    assert len(smtp_server.messages) == 1 and len(webhook_server.payloads) == 1, "the repeat is not announced"
    mail = smtp_server.messages[0]
    assert "FAILED RUN" in mail.message["Subject"] and "abh_ingest" in mail.message["Subject"]
    assert "(2016-03)" in mail.message["Subject"]
    assert "raw__abh__residence_status:" in mail.body, "names the failed step and its error"
    assert "failed_steps = 1" in mail.body
    assert f"{UI_URL}/runs/{failed.run_id}" in mail.body
    assert webhook_server.payloads[0]["kind"] == "run_failed"
    assert webhook_server.payloads[0]["counts"] == {"failed_steps": 1}

    assert abh_stage.ingest("2016-03").success
    result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)
    result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 2 and len(webhook_server.payloads) == 2
    assert "RESOLVED RUN" in smtp_server.messages[1].message["Subject"]
    assert "1 more failed runs since the first alert" in smtp_server.messages[1].body
    assert webhook_server.payloads[1]["kind"] == "run_recovered"


def test_an_alert_the_relay_refuses_is_retried_next_tick_on_that_channel_only(
        abh_stage, alerts, smtp_server, webhook_server, monkeypatch: pytest.MonkeyPatch):
    config_file = Path(alerts.config_file)
    working = config_file.read_text()
    config_file.write_text(working.replace(f"port: {smtp_server.port}", f"port: {_closed_port()}"))
    with monkeypatch.context() as without_key:
        without_key.delenv(KEY_ENV)
        without_key.delenv(KEY_FILE_ENV, raising=False)
        assert not abh_stage.ingest("2016-03").success
    result = tick(run_failure_alerts, abh_stage.instance, alerts, None)
    assert smtp_server.messages == [] and len(webhook_server.payloads) == 1, "the webhook got it, the mail did not"

    config_file.write_text(working)  # the relay is back
    result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)
    result = tick(run_failure_alerts, abh_stage.instance, alerts, result.cursor)
    assert len(smtp_server.messages) == 1 and "FAILED RUN" in smtp_server.messages[0].message["Subject"]
    assert len(webhook_server.payloads) == 1, "the channel that had it is not sent to again"


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # closed again when the block ends: connections are refused
