"""The scheduler writes last month's portfolio report once the first business day of a month has been
swept, once per month (a repeat run writes nothing and leaves the stored files untouched)."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from pypdf import PdfReader

from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.reports.documents import month_due
from collections_svc.scheduler import jobs
from collections_svc.scheduler.leader import FileLock
from collections_svc.scheduler.runner import SchedulerService
from tests.factories import make_loan


def test_month_due_is_the_month_before_the_latest_sweep():
    d = dt.date.fromisoformat
    assert month_due(None, None) is None
    assert month_due(d("2026-01-02"), d("2026-04-01")) == "2026-03"
    assert month_due(d("2025-06-30"), d("2026-01-05")) == "2025-12"
    assert month_due(d("2026-03-31"), d("2026-04-01")) == "2026-03"
    assert month_due(d("2026-04-01"), d("2026-04-20")) is None  # installed in April: no March figures


def test_monthly_report_is_written_after_the_first_sweep_of_the_month_and_only_once(
        session, session_factory, db_url, tmp_path):
    settings = Settings(env="test", database={"url": db_url}, report_documents={"output_dir": str(tmp_path)})
    make_loan(session, schedule=[("2026-03-15", "500000.00", "5000.00"), ("2026-09-15", "500000.00", "5000.00")])
    session.commit()
    assert jobs.monthly_report_job(session_factory, settings) is None  # nothing swept yet: nothing due
    assert not any(tmp_path.iterdir())

    # 2026-03-31 17:05 UTC = 04-01 01:05 Shanghai: the sweep closes March 31 (and writes its snapshot).
    clock = FixedClock(dt.datetime(2026, 3, 31, 17, 5, tzinfo=dt.UTC))
    jobs.sweep_job(session_factory, settings, clock)
    # Not due: the month-end is not the next month's first business day, and February was never swept.
    assert jobs.monthly_report_job(session_factory, settings) is None
    assert not any(tmp_path.iterdir())
    # The next night closes 2026-04-01, the first business day of April: March's report is due.
    clock.advance(days=1)
    jobs.sweep_job(session_factory, settings, clock)
    stored = jobs.monthly_report_job(session_factory, settings)
    assert stored.month == "2026-03"
    names = sorted(p.name for p in stored.written)
    assert names == ["portfolio-2026-03.en.pdf", "portfolio-2026-03.xlsx", "portfolio-2026-03.zh_CN.pdf"]
    zh = (tmp_path / "portfolio" / "portfolio-2026-03.zh_CN.pdf").read_bytes()
    text = "".join("".join(p.extract_text() for p in PdfReader(io.BytesIO(zh)).pages).split())
    assert "月度资产组合报告2026-03" in text and "¥1,000,000.00" in text
    wb = load_workbook(tmp_path / "portfolio" / "portfolio-2026-03.xlsx")
    par = {r[0]: r[1] for r in wb["par"].iter_rows(min_row=2, values_only=True)}
    assert par["total_count"] == 1 and par["total_balance"] == 1_000_000
    before = {p: p.stat().st_mtime_ns for p in stored.paths}

    again = jobs.monthly_report_job(session_factory, settings)       # same day, repeated: nothing written
    assert again.month == "2026-03" and again.written == []
    clock.advance(days=1)
    jobs.sweep_job(session_factory, settings, clock)                 # the next night: still March's, kept
    assert jobs.monthly_report_job(session_factory, settings).written == []
    assert {p: p.stat().st_mtime_ns for p in stored.paths} == before
    assert not list((tmp_path / "portfolio").glob("*.part"))

    (tmp_path / "portfolio" / "portfolio-2026-03.en.pdf").unlink()  # a lost file is written again, alone
    assert [p.name for p in jobs.monthly_report_job(session_factory, settings).written] == [
        "portfolio-2026-03.en.pdf"]


def test_scheduler_registers_the_monthly_report_job_after_the_sweep(tmp_path):
    s = Settings()
    job = SchedulerService(s, lock=FileLock(tmp_path / "x.lock")).build_scheduler().get_job("monthly_report")
    assert job is not None and job.misfire_grace_time == 12 * 3600
    fire = jobs.monthly_report_trigger(s).get_next_fire_time(None, dt.datetime(2026, 4, 1, 16, 0, tzinfo=dt.UTC))
    assert fire.astimezone(dt.UTC) == dt.datetime(2026, 4, 1, 19, 0, tzinfo=dt.UTC)  # 03:00 Shanghai
    off = Settings(report_documents={"monthly_enabled": False})
    assert SchedulerService(off, lock=FileLock(tmp_path / "y.lock")).build_scheduler().get_job("monthly_report") is None
