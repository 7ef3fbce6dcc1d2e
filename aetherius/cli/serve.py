"""``aeth serve``: the Slack app (HTTP with signed requests, or Socket Mode) and the Alertmanager webhook.

Both only receive and hand over: Slack listeners ack and enqueue ids, alerts become occurrences in the store
through the pipeline's intake, which enqueues the work. The heavy parts run in ``aeth worker``.
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Annotated

import typer
from slack_bolt.adapter.socket_mode import SocketModeHandler

from aetherius.cli.pipeline_wiring import build_intake, celery_enqueuer, open_store
from aetherius.cli.slack_wiring import bot_context, web_client
from aetherius.errors import AetheriusError, ConfigurationError
from aetherius.settings import Settings
from bot.app import build_app
from bot.context import BotContext
from bot.deciding import expire_overdue
from bot.serving import SlackHTTPServer
from collectors.alerts.receiving import AlertReceiver

log = logging.getLogger("aetherius.serve")


def serve(
    ctx: typer.Context,
    alerts: Annotated[bool, typer.Option(help="Also receive Alertmanager webhooks.")] = True,
) -> None:
    """Run the Slack app (AETH_SLACK_MODE=http|socket) and the Alertmanager webhook receiver."""
    settings: Settings = ctx.obj
    if settings.slack_mode == "http" and not settings.slack_signing_secret:
        raise ConfigurationError("AETH_SLACK_SIGNING_SECRET is required in http mode (it verifies every request)")
    if settings.slack_mode == "socket" and not settings.slack_app_token:
        raise ConfigurationError("AETH_SLACK_APP_TOKEN (xapp-...) is required in socket mode")
    client = web_client(settings)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    store = open_store(settings)
    _, enqueue = celery_enqueuer(settings)
    ctx_ = bot_context(settings, store, enqueue, client)
    app = build_app(ctx_, client=client, signing_secret=settings.slack_signing_secret or "")
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threading.Thread(target=_expire_every_minute, args=(ctx_, stop), name="approvals", daemon=True).start()
    receiver = None
    if alerts:
        receiver = AlertReceiver(
            (settings.webhook_host, settings.webhook_port),
            build_intake(settings, store, enqueue).receive_alerts,
            token=settings.webhook_token,
            cluster=settings.cluster_name,
        )
        threading.Thread(target=receiver.serve_forever, name="alerts", daemon=True).start()
        typer.echo(f"Alertmanager webhook on {receiver.url}/alertmanager")
    try:
        if settings.slack_mode == "socket":
            handler = SocketModeHandler(app, settings.slack_app_token)
            handler.connect()  # type: ignore[no-untyped-call]  # slack_bolt leaves it unannotated
            typer.echo("Slack app connected over Socket Mode")
        else:
            http = SlackHTTPServer((settings.slack_host, settings.slack_port), app)
            http.start()
            typer.echo(f"Slack app listening on {http.url}")
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        if receiver is not None:
            receiver.shutdown()


def _expire_every_minute(ctx: BotContext, stop: threading.Event) -> None:
    """Expired approvals get their note even when nobody clicks; a failed round is logged and tried again."""
    while not stop.wait(60):
        try:
            expire_overdue(ctx)
        except AetheriusError as err:
            log.warning("could not expire overdue approvals: %s", err)
