"""Report documents (issue 9): the post-loan management report, the risk-warning report and the
monthly portfolio report render as PDF (Chinese text extracted back with pypdf) and XLSX, show the
figures of the API and the service functions, escape user text, and are for managers only."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import settings as settings_
from hypothesis import strategies as st
from pypdf import PdfReader
from sqlalchemy import select

from collections_svc.auth.service import SYSTEM, actor_of
from collections_svc.cases import service as cases
from collections_svc.loans.dpd import run_dpd
from collections_svc.monitoring import reviews, warnings
from collections_svc.monitoring.classification import classify_book
from collections_svc.monitoring.models import ReviewTask
from collections_svc.reports import documents as docs
from collections_svc.reports.documents_render import fmt_money
from tests.factories import make_loan, pay

API = "/api/v1/reports/documents"
TODAY = dt.date(2026, 4, 1)  # the clock fixture's business date
XSS = "<script>alert(1)</script>"


def pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def flat(s: str) -> str:
    """Text without whitespace: pypdf breaks lines where the table cells wrap."""
    return "".join(s.split())


def month_ends(start: dt.date, end: dt.date) -> list[dt.date]:
    out, d = [], start
    while d <= end:
        nxt = (d.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        out.append(nxt - dt.timedelta(days=1))
        d = nxt
    return [x for x in out if x <= end]


def build_borrower(session, settings, users) -> dict:
    """A realistic borrower: two loans, a year of monthly history (payments on time, late and missing),
    DPD and classification run at every month-end, a collection case with a contact (note with markup),
    a promise and a visit, a litigation warning acknowledged with a note, a DPD warning with its review
    task and the review report filed on it."""
    officer = actor_of(users["risk_officer"])
    a = make_loan(session, disbursed_on="2025-04-01", schedule=[
        ((dt.date(2025, 5, 1) + dt.timedelta(days=31 * k)).replace(day=1).isoformat(), "100000.00", "2000.00")
        for k in range(15)])
    b = make_loan(session, borrower=a.borrower.external_id, disbursed_on="2025-04-01", product="fixed_asset",
                  schedule=[("2025-07-01", "300000.00", "9000.00"), ("2025-10-01", "300000.00", "9000.00"),
                            ("2026-01-01", "300000.00", "9000.00"), ("2026-04-01", "300000.00", "9000.00"),
                            ("2026-07-01", "300000.00", "9000.00")])
    borrower = a.borrower
    borrower.relationship_manager_id = users["collector"].id
    borrower.industry = "制造业"
    borrower.region = "上海"
    for inst in a.installments:  # on time, except two paid 10 days late, and Feb/Mar 2026 never paid
        if inst.due_on >= dt.date(2026, 2, 1):
            continue
        late = 10 if inst.due_on.month in (8, 11) else 0
        on = inst.due_on + dt.timedelta(days=late)
        pay(session, settings, a, "102000.00", on.isoformat())
    for inst in b.installments:
        if inst.due_on <= dt.date(2026, 1, 1):
            pay(session, settings, b, "309000.00", inst.due_on.isoformat())
    for d in month_ends(dt.date(2025, 4, 1), dt.date(2026, 3, 31)) + [TODAY]:
        run_dpd(session, d, settings.dpd)
        classify_book(session, d, settings)
    warnings.raise_dpd_warnings(session, TODAY, settings)
    session.flush()
    case = cases.open_case(session, a.id, business_date=dt.date(2026, 2, 2), actor=SYSTEM)
    cases.log_contact(session, case, channel="phone", outcome="promised", actor=actor_of(users["collector"]),
                      business_date=dt.date(2026, 2, 10), note=f"财务总监称月底还款 {XSS}",
                      promise=cases.PromiseIn(amount=Decimal("102000.00"), due_on=dt.date(2026, 2, 28)))
    cases.log_contact(session, case, channel="phone", outcome="reached", actor=actor_of(users["collector"]),
                      business_date=dt.date(2026, 3, 5), note="承诺未兑现，约定上门")
    cases.schedule_visit(session, case, scheduled_on=dt.date(2026, 3, 20), address="上海市浦东新区1号",
                         assignee_id=users["collector"].id, actor=officer, business_date=dt.date(2026, 3, 10))
    w, _ = warnings.record_signal(session, settings, officer, borrower.id, signal="litigation",
                                  observed_on=dt.date(2026, 3, 15), note="被供应商起诉 <b>500万</b>",
                                  business_date=dt.date(2026, 3, 16))
    warnings.set_status(session, officer, w.id, status="acknowledged", version=w.version,
                        note="已约谈法人代表", business_date=dt.date(2026, 3, 18))
    task = session.scalar(select(ReviewTask).where(ReviewTask.dedupe_key == f"warning:{w.id}"))
    if task is not None:  # asserted by the warning-report test
        reviews.submit_report(session, officer, borrower_id=borrower.id, review_type="ad_hoc",
                              review_date=dt.date(2026, 3, 25), on_site=True,
                              findings={"operations": "停产两周", "finances": "现金流紧张", "use_of_funds": "",
                                        "collateral": "厂房完好", "guarantors": ""},
                              conclusion="建议加强监控", recommended_category=None, task_id=task.id,
                              business_date=dt.date(2026, 3, 25), settings=settings)
    session.commit()
    return {"borrower": borrower, "a": a, "b": b, "warning": w, "case": case, "task": task}


@pytest.fixture
def book(session, settings, users):
    return build_borrower(session, settings, users)


# ------------------------------------------------------------------ post-loan management report


def test_post_loan_report_zh_shows_chinese_text_names_and_the_figures_of_the_service(client, auth, session,
                                                                                     settings, book):
    b = book["borrower"]
    r = client.get(f"{API}/borrowers/{b.id}/post-loan.pdf", params={"locale": "zh_CN",
                                                                      "conclusion": f"同意续作 {XSS}"},
                   headers=auth("risk_officer"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/pdf"
    text = flat(pdf_text(r.content))
    data = docs.post_loan_data(session, settings, b.id, TODAY)
    assert "贷后管理报告" in text
    assert flat(b.name) in text and b.name.startswith("测试企业")
    assert "制造业" in text and "上海" in text
    # Amounts formatted per locale, equal to the service figures; the total in 人民币大写.
    assert data["total_outstanding"] > 0
    assert flat(fmt_money(data["total_outstanding"], "zh_CN")) in text
    assert "¥" in fmt_money(data["total_outstanding"], "zh_CN")
    from collections_svc.notices.amounts import rmb_upper
    assert "人民币" + rmb_upper(data["total_outstanding"]) in text
    assert flat(fmt_money(data["total_overdue"], "zh_CN")) in text
    # The loans' outstanding balances are those of the loan API.
    for e in data["exposure"]:
        api = client.get(f"/api/v1/loans/{e['loan_id']}", headers=auth("admin"))
        assert Decimal(api.json()["outstanding_principal"]) == e["outstanding"]
        assert api.json()["dpd"] == e["dpd"]
        assert flat(fmt_money(e["outstanding"], "zh_CN")) in text
        assert e["contract_no"] in text
    # Repayment behaviour: 2 late, 2 unpaid on loan A; the counts shown are the service's.
    rep = data["repayment"]
    assert rep["late"] == 2 and rep["unpaid"] >= 2 and rep["max_dpd"] == 59
    assert "逾期后还款" in text and "最高逾期天数" in text
    # Classification history, warnings, reviews, collection history, conclusion.
    assert data["classification_history"] and "关注" in text and "风险分类变化" in text
    assert "涉诉" in text and "EW-SIG-litigation" in text and "已确认" in text
    assert "经营情况停产两周" in text and "建议加强监控" in text
    assert "催收记录" in text and "承诺还款" in text and "上门走访" in text
    assert data["conclusion"]["current_category"] == "special_mention"
    assert data["conclusion"]["trend"] == "trend_down"
    assert "恶化" in text and "同意续作" in text
    # User text is literal text, never markup: the note and the conclusion print the tags.
    assert text.count(flat(XSS)) >= 2
    assert flat("被供应商起诉<b>500万</b>") in text


def test_post_loan_report_in_english(client, auth, book, session, settings):
    b = book["borrower"]
    r = client.get(f"{API}/borrowers/{b.id}/post-loan.pdf", params={"locale": "en"}, headers=auth("auditor"))
    assert r.status_code == 200, r.text
    text = flat(pdf_text(r.content))
    data = docs.post_loan_data(session, settings, b.id, TODAY)
    assert flat("Post-loan Management Report") in text
    assert flat(b.name) in text  # the borrower's Chinese name stays Chinese
    assert flat(fmt_money(data["total_outstanding"], "en")) in text
    assert fmt_money(Decimal("1234.5"), "en") == "CN¥1,234.50"
    assert "Specialmention" in text and "deteriorating" in text


def test_user_text_is_escaped_in_the_html_not_executed(session, settings, book):
    from collections_svc.reports.documents_render import render_html
    data = docs.post_loan_data(session, settings, book["borrower"].id, TODAY, conclusion=XSS)
    html = render_html("post_loan.html.j2", "zh_CN", {"d": data})
    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# ------------------------------------------------------------------ risk-warning report


def test_warning_report_lists_warnings_of_the_period_with_evidence_and_actions(client, auth, book, session,
                                                                              settings):
    r = client.get(f"{API}/warnings.pdf", params={"from": "2026-03-01", "to": "2026-04-01"},
                   headers=auth("supervisor"))
    assert r.status_code == 200, r.text
    text = flat(pdf_text(r.content))
    data = docs.warning_report_data(session, settings, dt.date(2026, 3, 1), TODAY)
    assert "风险预警报告" in text
    assert flat(book["borrower"].name) in text
    # The figures equal the warning API's for the same period.
    api = client.get("/api/v1/monitoring/warnings", headers=auth("supervisor")).json()
    in_period = [w for w in api if "2026-03-01" <= w["raised_on"] <= "2026-04-01"]
    assert data["total"] == len(in_period) >= 2
    assert data["by_severity"]["high"] == sum(1 for w in in_period if w["severity"] == "high")
    # Evidence and the actions taken: status change with its note, the review task, the review report.
    assert "被供应商起诉" in text and flat("<b>500万</b>") in text
    assert flat("状态变更 未处理 → 已确认：已约谈法人代表") in text
    assert book["task"] is not None  # litigation is 'high': it creates a review task and a watchlist entry
    assert "检查任务" in text and "列入关注名单" in text and "检查报告" in text and "建议加强监控" in text
    sev = [g["severity"] for g in data["groups"]]
    assert sev == sorted(sev, key=lambda s: -["low", "medium", "high", "severe"].index(s))


def test_warning_report_english_and_empty_period(client, auth, book):
    r = client.get(f"{API}/warnings.pdf", params={"from": "2025-01-01", "to": "2025-01-31", "locale": "en"},
                   headers=auth("admin"))
    assert r.status_code == 200
    text = flat(pdf_text(r.content))
    assert flat("Risk-warning Report") in text and "none" in text


@pytest.mark.parametrize("params, field", [
    ({"from": "2026-04-02", "to": "2026-04-01"}, "from"),
    ({"from": "2024-01-01", "to": "2026-04-01"}, "to"),
    ({"from": "2026-13-01"}, "from"),
    ({"locale": "fr"}, "locale"),
])
def test_bad_params_are_problem_json_with_field_details(client, auth, users, params, field):
    r = client.get(f"{API}/warnings.pdf", params=params, headers=auth("admin"))
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert any(field in str(e.get("field", e.get("loc", ""))) for e in r.json()["errors"]), r.json()


def test_unknown_borrower_and_bad_month(client, auth, users):
    r = client.get(f"{API}/borrowers/999999/post-loan.pdf", headers=auth("admin"))
    assert r.status_code == 404
    r = client.get(f"{API}/portfolio/2026-13.pdf", headers=auth("admin"))
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["errors"][0]["field"].endswith("month") and "YYYY-MM" in r.json()["detail"]


# ------------------------------------------------------------------ roles


@pytest.mark.parametrize("path", ["/borrowers/{id}/post-loan.pdf", "/warnings.pdf", "/portfolio/2026-03.pdf",
                                  "/portfolio/2026-03.xlsx"])
def test_collectors_and_anonymous_callers_are_refused(client, auth, book, path):
    url = API + path.format(id=book["borrower"].id)
    assert client.get(url).status_code == 401
    r = client.get(url, headers=auth("collector"))
    assert r.status_code == 403
    assert r.headers["content-type"].startswith("application/problem+json")


# ------------------------------------------------------------------ escaping, for any text


@settings_(max_examples=60, deadline=None)
@given(note=st.text(min_size=1, max_size=60), evidence=st.text(min_size=1, max_size=40))
def test_any_user_text_renders_escaped_in_the_warning_report(note, evidence):
    """Whatever staff type into a note or evidence, the HTML given to WeasyPrint carries it as text:
    its escaped form is there and no raw '<' of it survives."""
    from markupsafe import escape

    from collections_svc.reports.documents_render import render_html
    d = dt.date(2026, 3, 1)
    row = {"id": 1, "raised_on": d, "code": "litigation", "rule_id": "EW-SIG-litigation", "kind": "signal",
           "severity": "high", "status": "open", "evidence": {"note": evidence}, "note": note, "closed_on": None,
           "contract_no": None, "borrower_id": 1,
           "actions": [{"kind": "action_status", "date": d, "actor": "risk_officer1", "values": ["open", "closed"],
                        "due_on": None, "note": note}]}
    data = {"from": d, "to": d, "bank_name": "示范商业银行", "bank_name_en": "Demo", "total": 1,
            "by_severity": {"severe": 0, "high": 1, "medium": 0, "low": 0},
            "by_status": {"open": 1, "acknowledged": 0, "closed": 0}, "borrowers": 1,
            "groups": [{"severity": "high", "count": 1,
                        "borrowers": [{"id": 1, "name": "测试企业有限公司", "uscc": "X", "warnings": [row]}]}]}
    html = render_html("warnings.html.j2", "zh_CN", {"d": data})
    assert str(escape(note)) in html and str(escape(evidence)) in html
    if "<" in note:
        assert note not in html
