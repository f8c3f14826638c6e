"""Send an alert: e-mail over SMTP (STARTTLS and login when configured), and a JSON POST to a webhook.

Errors are returned, not raised: a sensor that raised would not save its cursor and would send the
alerts that did go out a second time; instead an undelivered alert is kept and retried on the next tick.
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request

from pipelines.alerts.config import AlertConfig, Route, SmtpSettings
from pipelines.alerts.messages import Alert


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if settings.ca_file:
        context.load_verify_locations(cafile=settings.ca_file)
    return context


def send_email(alert: Alert, route: Route) -> None:
    """Deliver the alert to the route's recipients; raises ``smtplib.SMTPException`` or ``OSError``."""
    settings = route.smtp
    with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_seconds) as client:
        client.ehlo()
        if settings.starttls:
            client.starttls(context=_tls_context(settings))
            client.ehlo()
        if settings.username:
            client.login(settings.username, settings.password)
        client.send_message(alert.email(settings.sender, route.recipients))


def post_webhook(alert: Alert, url: str, timeout_seconds: float) -> None:
    """POST the alert as JSON; raises ``urllib.error.URLError`` or ``OSError`` on failure or a non-2xx answer."""
    body = json.dumps(alert.payload(), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": "application/json; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=timeout_seconds) as response:  # noqa: S310 - configured URL
        if not 200 <= response.status < 300:
            raise urllib.error.HTTPError(url, response.status, "webhook refused the alert", response.headers, None)


def deliver(alert: Alert, config: AlertConfig, only: set[str] | None = None) -> dict[str, str]:
    """Send by every channel (or only the channels named in ``only``, on a retry).

    Returns the channels that failed, with the reason: a channel is ``email:<recipients>`` or ``webhook``,
    so that a retry does not send a second e-mail to recipients who got the first.
    """
    failed: dict[str, str] = {}
    for route in config.routes(alert.agency):
        channel = "email:" + ",".join(route.recipients)
        if only is not None and channel not in only:
            continue
        try:
            send_email(alert, route)
        except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
            failed[channel] = (f"e-mail via {route.smtp.host}:{route.smtp.port} to {len(route.recipients)} "
                               f"recipients: {type(error).__name__}: {error}")
    if config.webhook_url and (only is None or "webhook" in only):
        try:
            post_webhook(alert, config.webhook_url, config.webhook_timeout_seconds)
        except (urllib.error.URLError, OSError, ValueError) as error:
            failed["webhook"] = f"webhook: {type(error).__name__}: {error}"
    return failed
