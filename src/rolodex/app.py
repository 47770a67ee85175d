"""create_app(): the ASGI application with its routers, middleware and error handlers."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from rolodex import __version__, apidocs, demo, errors, middleware, subscriptions, web
from rolodex.attributes import api as attributes_api
from rolodex.attributes import pages as attributes_pages
from rolodex.audit import api as audit_api
from rolodex.auth import api as auth_api
from rolodex.auth import pages as auth_pages
from rolodex.bots import api as bots_api
from rolodex.bots import pages as bots_pages
from rolodex.channels import api as channels_api
from rolodex.channels import pages as channels_pages
from rolodex.channels import smtp_listener
from rolodex.compat import api as compat_api
from rolodex.config import Settings, get_settings
from rolodex.conversations import api as conversations_api
from rolodex.crm import api as crm_api
from rolodex.crm import pages as crm_pages
from rolodex.db import open_database
from rolodex.exports import api as exports_api
from rolodex.exports import pages as exports_pages
from rolodex.groups import api as groups_api
from rolodex.inbox import api as inbox_api
from rolodex.inbox import pages as inbox_pages
from rolodex.jobs import api as jobs_api
from rolodex.jobs.registry import load_job_modules
from rolodex.linking import api as linking_api
from rolodex.privacy import api as privacy_api
from rolodex.privacy import pages as privacy_pages
from rolodex.routing import api as routing_api
from rolodex.routing import pages as routing_pages
from rolodex.stream import api as stream_api
from rolodex.stream.broker import Broker
from rolodex.users import api as users_api
from rolodex.users import pages as users_pages
from rolodex.web import PACKAGE_DIR
from rolodex.webchat import api as webchat_api
from rolodex.webchat import pages as webchat_pages
from rolodex.webhooks import api as webhooks_api
from rolodex.webhooks import pages as webhooks_pages
from rolodex.worker import Worker, run_elected
from rolodex.workspaces import api as workspaces_api
from rolodex.workspaces import pages as workspace_pages

log = logging.getLogger(__name__)

API_ROUTERS = (
    # First: platforms post bursts to it, and FastAPI tries routes in order (nothing else
    # matches POST /webhooks/{channel_id}, so its place changes no behaviour).
    channels_api.intake_router,
    auth_api.router,
    workspaces_api.router,
    users_api.router,
    jobs_api.router,
    audit_api.router,
    channels_api.router,
    channels_api.public,
    inbox_api.router,
    conversations_api.router,
    attributes_api.router,
    linking_api.router,
    groups_api.router,
    routing_api.router,
    privacy_api.router,
    exports_api.router,
    crm_api.router,
    webhooks_api.router,
    compat_api.router,
    stream_api.router,
    webchat_api.router,
    bots_api.router,
    bots_api.conversation_router,
)
PAGE_ROUTERS = (
    web.router,
    auth_pages.router,
    users_pages.router,
    workspace_pages.router,
    channels_pages.router,
    inbox_pages.router,
    attributes_pages.router,
    routing_pages.router,
    privacy_pages.router,
    exports_pages.router,
    crm_pages.router,
    webhooks_pages.router,
    webchat_pages.router,
    demo.router,
    bots_pages.router,
)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; the embedded worker runs unless settings.run_worker is off."""
    settings = settings or get_settings()
    settings.resolved_secret_key()
    load_job_modules(settings.job_modules)
    subscriptions.register_all()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        database = open_database(settings.resolved_database_url(), pool_size=settings.db_pool_size)
        app.state.database = database
        # The login page links the demo's shop page ("play a website visitor") when it exists.
        app.state.demo_site = await demo.demo_site_channel_id(database) is not None
        broker = Broker(
            database,
            queue_size=settings.stream_queue_size,
            ring_size=settings.stream_ring_size,
            ring_seconds=settings.stream_ring_seconds,
        )
        await broker.start()
        app.state.stream = broker
        stop = asyncio.Event()
        worker_task = None
        if settings.run_worker and settings.worker_election and not database.sqlite:
            worker_task = asyncio.create_task(run_elected(database, settings, stop))
        elif settings.run_worker:
            worker_task = asyncio.create_task(Worker(database, settings).run_forever(stop))
        mail = None
        if settings.smtp_port is not None:
            mail = await smtp_listener.start(database, settings)
        # Everything loaded so far lives as long as the process: out of the collector's sight,
        # so that no request pays for a full collection over the import-time heap.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if mail is not None:
                mail.close()
            stop.set()
            if worker_task is not None:
                await worker_task
            await broker.stop()
            await database.dispose()

    app = FastAPI(
        title="Rolodex",
        version=__version__,
        description="Contacts for multi-channel customer-service inboxes.",
        lifespan=lifespan,
        # The docs pages are rolodex.apidocs's: served from the package, not from a CDN.
        docs_url=None,
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.state.settings = settings
    errors.install(app)
    middleware.install(
        app,
        max_body_bytes=settings.max_body_bytes,
        max_attachment_bytes=settings.max_attachment_bytes,
    )
    for router in (*API_ROUTERS, *PAGE_ROUTERS, apidocs.router):
        app.include_router(router)
    app.mount(apidocs.ASSETS_URL, apidocs.assets(), name="docs-assets")
    app.mount("/static", StaticFiles(directory=str(PACKAGE_DIR / "static")), name="static")

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> FileResponse:
        """The icon browsers ask for on their own (pages link /static/favicon.svg)."""
        return FileResponse(
            PACKAGE_DIR / "static" / "favicon.ico",
            media_type="image/vnd.microsoft.icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/healthz", tags=["health"])
    async def healthz() -> JSONResponse:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    return app
