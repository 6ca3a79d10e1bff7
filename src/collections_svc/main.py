"""The application factory. Starts no scheduler (that is its own process)."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from collections_svc import __version__
from collections_svc.approvals.router import router as approvals_router
from collections_svc.audit.router import router as audit_router
from collections_svc.auth.router import router as auth_router
from collections_svc.cases.router import router as cases_router
from collections_svc.common.clock import Clock, clock_for
from collections_svc.common.context import actor_var, request_id_var
from collections_svc.config import Settings, get_settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.errors import install_error_handlers
from collections_svc.imports.router import router as imports_router
from collections_svc.legal.router import router as legal_router
from collections_svc.loans.router import router as loans_router
from collections_svc.monitoring.router import router as monitoring_router
from collections_svc.notices.router import router as notices_router
from collections_svc.notices.router import webhooks as twilio_webhooks
from collections_svc.notices.templates import validate_templates
from collections_svc.ops import metrics as ops_metrics
from collections_svc.reports.documents_router import router as report_documents_router
from collections_svc.reports.router import router as reports_router
from collections_svc.restructuring.router import router as restructuring_router
from collections_svc.scheduler.router import router as scheduler_router
from collections_svc.strategy.router import router as strategy_router
from collections_svc.sweep.router import router as sweep_router

log = logging.getLogger("collections_svc.http")
ROUTERS = [
    auth_router, audit_router, loans_router, imports_router, cases_router, approvals_router,
    restructuring_router, legal_router, monitoring_router, strategy_router, sweep_router, notices_router,
    report_documents_router, reports_router, twilio_webhooks, scheduler_router,
]


def create_app(settings: Settings | None = None, *, clock: Clock | None = None,
               session_factory: sessionmaker[Session] | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(
        title="collections_svc API",
        version=__version__,
        description="Post-loan management and collections for corporate lending (对公业务贷后管理). "
                    "Errors are RFC 9457 problem+json. Authenticate with a bearer token from "
                    "`POST /api/v1/auth/token`.",
    )
    app.state.settings = settings
    validate_templates(settings)  # a notice template typo stops the start, never sends an empty field
    app.state.clock = clock or clock_for(settings)
    if session_factory is None:
        engine = make_engine(settings.database.url, echo=settings.database.echo,
                             pool_size=settings.database.pool_size,
                             statement_timeout_ms=settings.database.statement_timeout_ms,
                             lock_timeout_ms=settings.database.lock_timeout_ms)
        session_factory = make_sessionmaker(engine)
    app.state.sessionmaker = session_factory
    install_error_handlers(app)

    @app.middleware("http")
    async def request_context(request: Request, call_next):
        rid = request.headers.get("x-request-id") or uuid.uuid4().hex
        rid = rid[:64]
        request.state.request_id = rid
        token = request_id_var.set(rid)
        actor_var.set(None)
        start = time.perf_counter()
        try:
            response = await call_next(request)
            response.headers["X-Request-ID"] = rid
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "same-origin")
            # The access line carries the request id, the signed-in user (set by the auth dependency,
            # which may run in another thread, so read from request.state) and the case in the path.
            extra = {"path": request.url.path, "method": request.method, "status": response.status_code,
                     "duration_ms": round((time.perf_counter() - start) * 1000, 1),
                     "actor": getattr(request.state, "actor", None)}
            case_id = (request.scope.get("path_params") or {}).get("case_id")
            if case_id is not None:
                extra["case_id"] = case_id
            log.info("request", extra=extra)
        finally:
            request_id_var.reset(token)
        return response

    @app.get("/health", tags=["ops"], summary="Process is up (no authentication)")
    def health():
        return {"status": "ok", "version": __version__}

    @app.get("/ready", tags=["ops"], summary="Database reachable and migrations at head (no authentication)")
    def ready():
        from collections_svc.migrate import current_is_head
        try:
            with app.state.sessionmaker() as s:
                s.execute(text("SELECT 1"))
                at_head = current_is_head(s.connection())
        except Exception:
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        if not at_head:
            return JSONResponse({"status": "unavailable", "database": "migrations pending"}, status_code=503)
        return {"status": "ready"}

    for r in ROUTERS:
        app.include_router(r)
    ops_metrics.install(app)  # GET /metrics (admin, integration) and the request latency middleware

    ui_dir = Path(__file__).parent / "ui" / "static"
    if ui_dir.is_dir():
        from collections_svc.ui import mount_ui
        mount_ui(app, ui_dir)
    return app
