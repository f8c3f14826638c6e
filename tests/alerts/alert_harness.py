"""Real channels and real records for the alert sensors (plain code; the fixtures are in conftest.py).

- an aiosmtpd server on 127.0.0.1 that requires STARTTLS (its own self-signed certificate, trusted by
  the client through ``ca_file``) and a login, and keeps every message;
- a ``http.server`` on 127.0.0.1 that keeps every JSON body POSTed to it;
- an alert configuration pointing at both, the SMTP password read from the environment as in production;
- ``AbhStage``: the real abh ingest asset with its real checks (GX suite, reconciliation, freshness) as
  jobs on a temporary warehouse and Dagster instance, so that the sensors read real run and check records.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dagster as dg
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from pipelines.alerts.resources import AlertsResource
from pipelines.ingest.assets import ingest_assets, raw_asset_key
from pipelines.ingest.contract import all_contracts
from pipelines.ingest.partitions import delivery_months
from pipelines.quality.checks import gx_checks
from pipelines.quality.freshness import freshness_checks
from pipelines.quality.reconciliation import delivery_reconciliation_checks
from pipelines.quality.resources import QualitySettings
from pipelines.resources import PseudonymKeyResource, WarehouseResource

SMTP_USER = "pipeline"
SMTP_PASSWORD = "s3cret-from-the-environment"
UI_URL = "http://dagster.test:3000"
STEWARD = "stewards@stadt.test"
ABH_CONTACT = "abh-daten@stadt.test"
JOBCENTER_CONTACT = "jc-statistik@stadt.test"
TEST_KEY = "alert-test-key-" + "fedcba9876543210" * 3


# ---------------------------------------------------------------- SMTP on loopback, STARTTLS and login

@dataclass
class Received:
    sender: str
    recipients: list[str]
    message: Message
    tls: bool
    login: str | None

    @property
    def body(self) -> str:
        return self.message.get_payload(decode=True).decode("utf-8")


@dataclass
class SmtpServer:
    port: int
    ca_file: Path
    messages: list[Received] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


class _Keeper:
    def __init__(self, server: SmtpServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        self.server.messages.append(Received(envelope.mail_from, list(envelope.rcpt_tos),
                                             email.message_from_bytes(envelope.content),
                                             tls=session.ssl is not None, login=login))
        return "250 OK"


def _authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == SMTP_USER.encode()
          and auth_data.password == SMTP_PASSWORD.encode())
    return AuthResult(success=ok, handled=False, auth_data=auth_data)


@contextmanager
def running_smtp_server(folder: Path) -> Iterator[SmtpServer]:
    cert_file, key_file = _self_signed(folder)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert_file, key_file)
    server = SmtpServer(port=_free_port(), ca_file=cert_file)
    controller = Controller(_Keeper(server), hostname="127.0.0.1", port=server.port, tls_context=tls,
                            require_starttls=True, authenticator=_authenticate, auth_require_tls=True)
    controller.start()
    try:
        yield server
    finally:
        controller.stop()


# ---------------------------------------------------------------- webhook on loopback

@dataclass
class WebhookServer:
    url: str
    payloads: list[dict[str, Any]] = field(default_factory=list)


@contextmanager
def running_webhook_server() -> Iterator[WebhookServer]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server hook
            length = int(self.headers.get("Content-Length", 0))
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:  # keep the test output clean
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    server = WebhookServer(url=f"http://127.0.0.1:{httpd.server_address[1]}/alerts", payloads=received)
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()


# ---------------------------------------------------------------- the alert configuration

def write_alert_config(path: Path, smtp_port: int, ca_file: Path, webhook_url: str) -> Path:
    path.write_text(f"""
dagster_ui_url: {UI_URL}
smtp:
  host: 127.0.0.1
  port: {smtp_port}
  starttls: true
  username: {SMTP_USER}
  password: ${{TEST_ALERT_SMTP_PASSWORD}}
  ca_file: {ca_file}
  sender: monitoring@stadt.test
  timeout_seconds: 10
webhook:
  url: {webhook_url}
stewards: [{STEWARD}]
agencies:
  abh: {{recipients: [{ABH_CONTACT}]}}
  jobcenter: {{recipients: [{JOBCENTER_CONTACT}]}}
""", encoding="utf-8")
    return path


# ---------------------------------------------------------------- a small city, and the abh stage on it

@dataclass(frozen=True)
class AlertCity:
    data_dir: Path
    months: tuple[str, ...]


@dataclass
class AbhStage:
    """The real abh ingest asset and its real checks, as jobs on a temporary warehouse and instance.

    ``checks`` picks which of the asset's checks a run evaluates (by name; None: all of them, as the
    ingest and nightly quality jobs do), so that each scenario runs only what it is about.
    """

    instance: dg.DagsterInstance
    warehouse: Path

    def _definitions(self, now: str, checks: tuple[str, ...] | None, with_asset: bool) -> dg.Definitions:
        key = raw_asset_key(all_contracts()["abh"])
        asset = next(a for a in ingest_assets if a.key == key)
        check_defs = [c for c in [*gx_checks, *freshness_checks, *delivery_reconciliation_checks]
                      if next(iter(c.check_keys)).asset_key == key
                      and (checks is None or next(iter(c.check_keys)).name in checks)]
        selection = dg.AssetSelection.checks(*check_defs)
        if with_asset:
            selection = dg.AssetSelection.assets(asset).without_checks() | selection
        return dg.Definitions(
            assets=[asset], asset_checks=check_defs,
            jobs=[dg.define_asset_job("abh_ingest" if with_asset else "abh_checks", selection=selection)],
            resources={"warehouse": WarehouseResource(path=str(self.warehouse)),
                       "pseudonym_key": PseudonymKeyResource(), "quality_settings": QualitySettings(now=now)},
            executor=dg.in_process_executor,
        )

    def ingest(self, month: str, now: str = "2016-03-05",
               checks: tuple[str, ...] | None = ()) -> dg.ExecuteInProcessResult:
        """Ingest one month's abh files (the real asset), then evaluate ``checks`` (default: none)."""
        if not self.instance.has_dynamic_partition(delivery_months.name, month):
            self.instance.add_dynamic_partitions(delivery_months.name, [month])
        return self._definitions(now, checks, with_asset=True).resolve_job_def("abh_ingest").execute_in_process(
            instance=self.instance, partition_key=month, raise_on_error=False)

    def check(self, now: str = "2016-03-05", checks: tuple[str, ...] | None = None) -> dg.ExecuteInProcessResult:
        """Evaluate the asset's checks on the warehouse as it stands (as the nightly quality run does)."""
        return self._definitions(now, checks, with_asset=False).resolve_job_def("abh_checks").execute_in_process(
            instance=self.instance, raise_on_error=False)


def sensor_context(instance: dg.DagsterInstance, alerts: AlertsResource, cursor: str | None) -> Any:
    return dg.build_sensor_context(instance=instance, cursor=cursor, resources={"alerts": alerts})


def tick(sensor: Any, instance: dg.DagsterInstance, alerts: AlertsResource, cursor: str | None) -> dg.SensorResult:
    """Evaluate the real sensor once, as the daemon would, and return its result (with the new cursor)."""
    return sensor(sensor_context(instance, alerts, cursor))
