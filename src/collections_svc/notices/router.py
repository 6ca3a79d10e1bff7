"""Notices API (previews, outbox, letters, print batches) and the two public Twilio webhooks.

The webhooks carry no user authentication: Twilio signs them (X-Twilio-Signature), and we verify the
signature against ``settings.public_base_url`` + path, so they work behind a TLS-terminating proxy.
They are marked ``openapi_extra={"x-public": "twilio-signature"}`` for the route-table auth test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from twilio.request_validator import RequestValidator

from collections_svc.auth.deps import READERS, STAFF, DbSession, allow
from collections_svc.auth.models import Role, User
from collections_svc.auth.service import actor_of
from collections_svc.cases.models import Case
from collections_svc.common.clock import request_business_date as _today
from collections_svc.errors import Forbidden, NotFound, ValidationFailed
from collections_svc.loans.models import Borrower
from collections_svc.notices import service
from collections_svc.notices.context import case_context
from collections_svc.notices.schemas import (
    CancelIn,
    NoticeDetail,
    NoticeOut,
    PreviewIn,
    PreviewOut,
    PrintBatchOut,
)
from collections_svc.notices.templates import LOCALES, MANIFEST, render, spec_of

router = APIRouter(prefix="/api/v1", tags=["notices"])
webhooks = APIRouter(prefix="/api/v1/webhooks/twilio", tags=["webhooks"])
Reader = Annotated[User, Depends(allow(*READERS))]
Staff = Annotated[User, Depends(allow(*STAFF))]
Batcher = Annotated[User, Depends(allow(Role.admin, Role.supervisor))]
PUBLIC = {"x-public": "twilio-signature"}


def _out(n, cls=NoticeOut):
    o = cls.model_validate(n)
    o.has_document = bool(n.document_path)
    return o


def _preview(
    request: Request,
    session,
    case_id: int,
    template: str,
    locale: str | None,
    on: dt.date | None,
    extra: dict,
) -> PreviewOut:
    settings = request.app.state.settings
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound(f"Case {case_id} does not exist.")
    spec = spec_of(template)
    borrower = session.get(Borrower, case.borrower_id)
    loc = locale or (borrower.language if borrower.language in LOCALES else settings.notices.default_locale)
    if loc not in LOCALES:
        raise ValidationFailed(
            f"Locale {loc!r} is not supported; use one of {', '.join(LOCALES)}.",
            errors=[{"field": "locale", "message": "unsupported"}],
        )
    contact = service.pick_contact(borrower, spec.channel, settings)
    samples = [k for k in spec.extra if k not in extra]
    values = {**{k: spec.extra[k] for k in samples}, **extra}
    day = on or _today(request)
    ctx = case_context(session, settings, case, contact, template, loc, day, values)
    r = render(settings, template, loc, ctx)
    return PreviewOut(
        case_id=case.id,
        template=template,
        channel=r.channel,
        locale=loc,
        business_date=day,
        contact_id=contact.id if contact else None,
        body=r.body,
        variables=sorted(spec.all_variables),
        sample_values_used=samples,
    )


@router.get(
    "/cases/{case_id}/notices/preview",
    response_model=PreviewOut,
    summary="Render a notice template for a case without sending it",
)
def preview_get(
    case_id: int,
    request: Request,
    session: DbSession,
    _: Reader,
    template: str = Query(..., max_length=64),
    locale: str | None = Query(None, max_length=8),
    business_date: dt.date | None = None,
):
    return _preview(request, session, case_id, template, locale, business_date, {})


@router.post(
    "/cases/{case_id}/notices/preview",
    response_model=PreviewOut,
    summary="Render a notice template for a case with trigger values, without sending it",
)
def preview_post(
    case_id: int,
    request: Request,
    session: DbSession,
    _: Reader,
    body: PreviewIn | None = None,
    template: str = Query(..., max_length=64),
    locale: str | None = Query(None, max_length=8),
    business_date: dt.date | None = None,
    format: Literal["json", "pdf"] = "json",
):
    p = _preview(request, session, case_id, template, locale, business_date, (body or PreviewIn()).extra)
    if format == "pdf":
        if p.channel != "letter":
            raise ValidationFailed(
                "Only letters have a PDF preview.",
                errors=[{"field": "format", "message": "pdf is for letters"}],
            )
        from collections_svc.notices.channels.letters import WeasyPrintRenderer

        return Response(WeasyPrintRenderer().render_pdf(p.body), media_type="application/pdf")
    return p


class TemplateOut(BaseModel):
    name: str
    channel: str
    description: str
    variables: list[str]
    trigger_values: dict[str, str]   # supplied by the trigger; previews use these samples
    locales: list[str]


@router.get("/notice-templates", response_model=list[TemplateOut],
            summary="The notice templates of the manifest with their variables (preview one per case)")
def list_templates(_: Reader):
    return [TemplateOut(name=name, channel=spec.channel, description=spec.description,
                        variables=sorted(spec.all_variables), trigger_values=dict(spec.extra),
                        locales=list(LOCALES))
            for name, spec in MANIFEST.items()]


@router.get(
    "/cases/{case_id}/notices",
    response_model=list[NoticeOut],
    summary="A case's notices with their status history (for the timeline)",
)
def list_case_notices(case_id: int, session: DbSession, _: Reader):
    if session.get(Case, case_id) is None:
        raise NotFound(f"Case {case_id} does not exist.")
    return [_out(n) for n in service.notices_for_case(session, case_id)]


@router.get(
    "/notices/{notice_id}", response_model=NoticeDetail, summary="One notice: text, attempts, history"
)
def get_notice(notice_id: int, session: DbSession, _: Reader):
    return _out(service.get_notice(session, notice_id), NoticeDetail)


@router.get(
    "/notices/{notice_id}/pdf",
    summary="Download a letter's PDF",
    responses={200: {"content": {"application/pdf": {}}}},
)
def notice_pdf(notice_id: int, session: DbSession, _: Reader):
    n = service.get_notice(session, notice_id)
    if n.channel != "letter" or not n.document_path or not Path(n.document_path).is_file():
        raise NotFound(f"Notice {notice_id} has no generated letter yet.")
    return FileResponse(
        n.document_path, media_type="application/pdf", filename=f"notice-{n.id}-{n.template}.pdf"
    )


@router.post("/notices/{notice_id}/cancel", response_model=NoticeOut, summary="Cancel a notice not yet sent")
def cancel_notice(
    notice_id: int,
    body: CancelIn,
    request: Request,
    session: DbSession,
    user: Annotated[User, Depends(allow(Role.admin, Role.supervisor))],
):
    n = service.get_notice(session, notice_id)
    service.cancel(
        session,
        n,
        reason=body.reason,
        at=request.app.state.clock.now(),
        actor=actor_of(user),
        settings=request.app.state.settings,
    )
    return _out(n)


@router.post(
    "/notices/print-batches",
    response_model=PrintBatchOut,
    summary="Merge one day's letters into a print PDF with a CSV manifest for the mail room",
)
def make_print_batch(request: Request, session: DbSession, _: Batcher, day: dt.date | None = None):
    d = day or _today(request)
    b = service.build_print_batch(session, request.app.state.settings, d)
    return PrintBatchOut(
        day=d,
        letters=b.letters,
        pages=b.pages,
        pdf_url=f"/api/v1/notices/print-batches/{d}/pdf",
        manifest_url=f"/api/v1/notices/print-batches/{d}/manifest",
    )


@router.get("/notices/print-batches/{day}/{kind}", summary="Download a print batch (pdf or manifest CSV)")
def get_print_batch(day: dt.date, kind: Literal["pdf", "manifest"], request: Request, _: Batcher):
    base = Path(request.app.state.settings.notices.letters_dir) / "batches" / f"print-batch-{day}"
    path = base.with_suffix(".pdf" if kind == "pdf" else ".csv")
    if not path.is_file():
        raise NotFound(f"No print batch was built for {day}.")
    return FileResponse(
        path, media_type="application/pdf" if kind == "pdf" else "text/csv", filename=path.name
    )


# -- Twilio webhooks (public, signature-checked) --------------------------------------------------------


async def twilio_form(request: Request) -> dict[str, str]:
    """Read the form and verify X-Twilio-Signature against the configured public URL; 403 otherwise."""
    settings = request.app.state.settings
    token = settings.twilio.auth_token.get_secret_value()
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    url = settings.public_base_url.rstrip("/") + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    sig = request.headers.get("x-twilio-signature", "")
    if not token or not sig or not RequestValidator(token).validate(url, form, sig):
        raise Forbidden("The Twilio signature is missing or invalid; nothing was changed.")
    return form


TwilioForm = Annotated[dict, Depends(twilio_form)]


@webhooks.post(
    "/status",
    status_code=204,
    openapi_extra=PUBLIC,
    summary="Twilio message status callback (signed by Twilio; no user authentication)",
)
def twilio_status(form: TwilioForm, request: Request, session: DbSession):
    sid = form.get("MessageSid") or form.get("SmsSid")
    status = form.get("MessageStatus") or form.get("SmsStatus")
    if not sid or not status:
        raise ValidationFailed("MessageSid and MessageStatus are required.")
    service.record_callback(
        session,
        message_sid=sid,
        status=status,
        at=request.app.state.clock.now(),
        settings=request.app.state.settings,
        error_code=form.get("ErrorCode") or None,
    )
    return Response(status_code=204)


@webhooks.post(
    "/inbound",
    openapi_extra=PUBLIC,
    summary="Inbound SMS: STOP/START/HELP keywords (signed by Twilio; no user authentication)",
)
def twilio_inbound(form: TwilioForm, request: Request, session: DbSession):
    sid = form.get("MessageSid") or form.get("SmsSid")
    sender = form.get("From")
    if not sid or not sender:
        raise ValidationFailed("MessageSid and From are required.")
    service.handle_inbound(
        session,
        message_sid=sid,
        from_number=sender,
        to_number=form.get("To"),
        body=form.get("Body", ""),
        at=request.app.state.clock.now(),
        settings=request.app.state.settings,
    )
    # Empty TwiML: Twilio answers its default keywords itself; we send nothing more.
    return Response('<?xml version="1.0" encoding="UTF-8"?><Response></Response>', media_type="text/xml")
