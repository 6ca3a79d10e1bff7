"""Render time of the report documents on a realistic borrower (two loans, a year of monthly history,
a collection case, warnings, a review; the portfolio report over that book's snapshot), as ratios
against a floor measured in the same run.

    .venv/bin/python bench/bench_documents.py [--repeat 5]

Floor: WeasyPrint rendering a one-page A4 HTML with a Chinese heading and a 10-row table in the
report font (the fixed cost of any PDF here). Each figure is the median of ``--repeat`` runs and
includes reading the data from SQLite, rendering the template and writing the PDF (or XLSX).
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("COLLECTIONS_ENV", "test")

from pypdf import PdfReader  # noqa: E402
from tests.reports.test_documents import TODAY, build_borrower  # noqa: E402

from collections_svc.auth.models import Role  # noqa: E402
from collections_svc.auth.service import create_user  # noqa: E402
from collections_svc.config import Settings  # noqa: E402
from collections_svc.db import make_engine, make_sessionmaker  # noqa: E402
from collections_svc.migrate import upgrade  # noqa: E402
from collections_svc.notices.channels.letters import LETTER_FONT  # noqa: E402
from collections_svc.reports import documents as docs  # noqa: E402
from collections_svc.reports.documents_render import html_to_pdf  # noqa: E402
from collections_svc.reports.snapshot import write_snapshot  # noqa: E402

FLOOR_HTML = (
    "<html><head><meta charset='utf-8'><style>@page{{size:A4}} body{{font-family:'{}'}}</style></head><body>"
    "<h1>贷后管理报告</h1><table>{}</table></body></html>"
).format(LETTER_FONT, "".join(f"<tr><td>合同{i}</td><td>¥1,000,000.00</td></tr>" for i in range(10)))


def timed(fn, repeat: int) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        upgrade(url)
        settings = Settings(env="test", database={"url": url})
        factory = make_sessionmaker(make_engine(url))
        with factory() as s:
            users = {r.value: create_user(s, username=f"{r.value}1", password="x" * 12, role=r)
                     for r in (Role.risk_officer, Role.collector)}
            s.commit()
            book = build_borrower(s, settings, users)
            bid = book["borrower"].id
            # The portfolio report reads the daily snapshot the sweep writes; write February's and March's
            # month-ends (keyframes) so the report has figures.
            write_snapshot(s, TODAY.replace(month=2, day=27))
            write_snapshot(s, TODAY.replace(month=3, day=31))
            s.commit()
            html_to_pdf(FLOOR_HTML)  # warm up fonts and Pango
            floor, _ = timed(lambda: html_to_pdf(FLOOR_HTML), args.repeat)
            cases = {
                "post-loan zh_CN": lambda: docs.render_post_loan_pdf(
                    docs.post_loan_data(s, settings, bid, TODAY, "结论"), "zh_CN"),
                "post-loan en": lambda: docs.render_post_loan_pdf(docs.post_loan_data(s, settings, bid, TODAY), "en"),
                "risk-warning zh_CN": lambda: docs.render_warnings_pdf(
                    docs.warning_report_data(s, settings, TODAY.replace(day=1, month=1), TODAY), "zh_CN"),
                "portfolio zh_CN pdf": lambda: docs.render_portfolio_pdf(
                    docs.portfolio_figures(s, settings, "2026-03"), "zh_CN", settings.bank.name),
                "portfolio xlsx": lambda: docs.render_portfolio_xlsx(docs.portfolio_figures(s, settings, "2026-03")),
            }
            print(f"floor (one-page WeasyPrint PDF): {floor * 1000:.0f} ms")
            print(f"{'document':<22}{'ms':>8}{'x floor':>9}{'pages':>7}{'KB':>7}")
            for name, fn in cases.items():
                t, out = timed(fn, args.repeat)
                pages = len(PdfReader(io.BytesIO(out)).pages) if out[:4] == b"%PDF" else "-"
                print(f"{name:<22}{t * 1000:>8.0f}{t / floor:>9.1f}{pages!s:>7}{len(out) / 1024:>7.0f}")


if __name__ == "__main__":
    main()
