from __future__ import annotations

import codecs
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, UploadFile
from pydantic import BaseModel, Field

from collections_svc.auth.deps import DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.common.clock import request_business_date as _today
from collections_svc.errors import ValidationFailed
from collections_svc.imports import service

router = APIRouter(prefix="/api/v1/imports", tags=["imports"])
Importer = Annotated[User, Depends(allow(Role.admin, Role.integration))]


class ImportOut(BaseModel):
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int


class RowsIn(BaseModel):
    rows: list[dict[str, Any]] = Field(max_length=50_000)


@router.post("/{kind}/csv", response_model=ImportOut, summary="Import a UTF-8 CSV file (all or nothing)")
def import_csv(kind: str, file: UploadFile, request: Request, session: DbSession, user: Importer):
    if kind not in service.KINDS:
        raise ValidationFailed(f"Unknown import kind {kind!r}.",
                               errors=[{"field": "kind", "message": f"one of {', '.join(service.KINDS)}"}])
    text = codecs.iterdecode(file.file, "utf-8-sig")
    try:
        result = service.run_import(session, request.app.state.settings, kind, service.read_csv(text, kind),
                                    actor_of(user), _today(request))
    except UnicodeDecodeError:
        raise ValidationFailed("The file is not UTF-8 text. Save it as CSV UTF-8 and try again.") from None
    return ImportOut(**result.__dict__)


@router.post("/{kind}", response_model=ImportOut, summary="Upsert rows given as JSON (all or nothing)")
def import_rows(kind: str, body: RowsIn, request: Request, session: DbSession, user: Importer):
    rows = ((n, r) for n, r in enumerate(body.rows, start=1))
    result = service.run_import(session, request.app.state.settings, kind, rows, actor_of(user), _today(request))
    return ImportOut(**result.__dict__)
