"""One error shape: DomainError subclasses rendered as RFC 9457 problem+json.

``type`` is a stable URI per error kind that clients may switch on; ``detail`` is a sentence a bank
employee can act on; validation problems add ``errors``: a list of {field, message} entries.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_BASE = "https://collections-svc.dev/problems/"
_BUSY_SQLSTATES = {"55P03": "lock timeout", "57014": "statement timeout", "40P01": "deadlock",
                   "40001": "serialization failure"}
log = logging.getLogger(__name__)


class DomainError(Exception):
    status = 400
    code = "bad-request"
    title = "Bad request"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.extra = extra


class ValidationFailed(DomainError):
    status = 422
    code = "validation"
    title = "The request has invalid fields"


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    title = "Conflict with the current state"


class StaleVersion(Conflict):
    code = "stale-version"
    title = "Someone else changed this record first"


class InvalidTransition(Conflict):
    code = "invalid-transition"
    title = "This action is not allowed in the case's current stage"


class Unauthenticated(DomainError):
    status = 401
    code = "unauthenticated"
    title = "Sign in required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Not allowed for your role"


class TooManyRequests(DomainError):
    status = 429
    code = "too-many-requests"
    title = "Too many attempts"


def problem(
    status: int, code: str, title: str, detail: str, request: Request | None,
    errors: list[dict[str, Any]] | None = None, **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + code, "title": title, "status": status, "detail": detail,
    }
    if request is not None:
        body["instance"] = request.url.path
        rid = getattr(request.state, "request_id", None)
        if rid:
            body["request_id"] = rid
    if errors:
        body["errors"] = errors
    body.update(extra)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


def _field_path(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "cookie")]
    return ".".join(parts) or str(loc[0] if loc else "")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.title, exc.detail, request, exc.errors, **exc.extra)

    @app.exception_handler(StaleDataError)
    def _stale(request: Request, exc: StaleDataError) -> JSONResponse:
        return problem(409, StaleVersion.code, StaleVersion.title,
                       "The record was changed by someone else while you were editing it. Reload and try again.",
                       request)

    @app.exception_handler(RequestValidationError)
    def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": _field_path(tuple(e.get("loc", ()))), "message": e.get("msg", "invalid")}
                  for e in exc.errors()]
        return problem(422, ValidationFailed.code, ValidationFailed.title,
                       f"{len(errors)} field(s) are invalid; nothing was changed.", request, errors)

    @app.exception_handler(StarletteHTTPException)
    def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed", 401: "unauthenticated",
                403: "forbidden"}.get(exc.status_code, "http-error")
        return problem(exc.status_code, code, str(exc.detail), str(exc.detail), request)

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        busy = _BUSY_SQLSTATES.get(getattr(getattr(exc, "orig", None), "sqlstate", None) or "")
        if busy:
            # Lock or statement timeout, deadlock victim, serialization failure: nothing was changed
            # (the request's transaction rolled back) and the same request may simply be sent again.
            log.warning("database busy (%s) on %s", busy, request.url.path,
                        extra={"request_id": getattr(request.state, "request_id", None)})
            resp = problem(503, "database-busy", "The database is busy",
                           f"The database could not answer in time ({busy}); nothing was changed. "
                           "Try again in a moment.", request)
            resp.headers["Retry-After"] = "1"
            return resp
        # Called outside the except block (Starlette's outer middleware): pass the exception itself, and
        # the request id from the request (its context variable is already reset there).
        log.error("unhandled error", exc_info=exc, extra={
            "path": request.url.path, "request_id": getattr(request.state, "request_id", None),
            "actor": getattr(request.state, "actor", None)})
        return problem(500, "internal", "Internal error",
                       "An unexpected error occurred; nothing was changed. Quote the request id to support.",
                       request)
