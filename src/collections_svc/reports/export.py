"""CSV and XLSX downloads of the reports: each report is flattened to one long table.

One flat table per report (header row + one row per figure) keeps the CSV loadable by any tool and
makes the XLSX sheet the same table; the XLSX adds a "parameters" sheet (as-of dates, filters).
Money is written as exact decimal text in CSV and as a number with two places in XLSX.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from openpyxl import Workbook

Table = tuple[list[str], list[list[Any]]]


def _aging(r: dict) -> Table:
    head = ["group", "kind", "key", "loans", "outstanding", "overdue", "share"]
    rows: list[list[Any]] = []
    groups = [("total", r["total"])] + [(str(g["key"]), g) for g in r["groups"]]
    for name, g in groups:
        rows.append([name, "total", "", g["loans"], g["outstanding"], g["overdue"], None])
        rows.append([name, "par30", "", None, g["par30_balance"], None, g["par30"]])
        rows.append([name, "par90", "", None, g["par90_balance"], None, g["par90"]])
        for b in g["buckets"]:
            rows.append([name, "bucket", b["bucket"], b["loans"], b["outstanding"], b["overdue"], b["share"]])
        for c in g["categories"]:
            rows.append([name, "category", c["category"], c["loans"], c["outstanding"], c["overdue"], c["share"]])
    return head, rows


def _roll(r: dict) -> Table:
    head = ["from_bucket", "to", "loans", "opening_balance", "rate_balance", "rate_count"]
    rows = [[row["bucket"], col, row["counts"][col], row["balances"][col], row["rates_balance"][col],
             row["rates_count"][col]] for row in r["rows"] for col in r["columns"]]
    return head, rows


def _trend_roll(r: dict) -> Table:
    head = ["month", "bucket", "stay_rate", "roll_forward_rate", "roll_forward_total", "opening_balance"]
    rows = [[s["month"], b, s["stay"][b], s["roll_forward"][b], s["roll_forward_total"], s["opening_balance"]]
            for s in r["series"] for b in s["stay"]]
    return head, rows


def _migration(r: dict) -> Table:
    head = ["kind", "category", "to", "loans", "balance", "reductions", "denominator", "rate"]
    rows: list[list[Any]] = [["rate", x["category"], "", None, x["migrated_balance"], x["reductions"],
                              x["denominator"], x["rate"]] for x in r["rates"]]
    for m in r["matrix"]:
        for col in r["columns"]:
            rows.append(["matrix", m["category"], col, m["counts"][col], m["balances"][col], None, None, None])
    return head, rows


def _rates(r: dict) -> Table:
    head = ["measure", "figure", "value"]
    rows = [[section, k, v] for section in ("cure", "promise_kept", "recovery", "right_party_contact")
            for k, v in r[section].items()]
    return head, rows


def _collectors(r: dict) -> Table:
    if not r["collectors"] and not r["teams"]:
        return ["level", "name"], []
    keys = [k for k in (r["collectors"] or r["teams"])[0] if k not in ("user_id", "username", "name", "team")]
    head = ["level", "username", "name", "team", *keys]
    rows = [["collector", c["username"], c["name"], c["team"], *[c[k] for k in keys]] for c in r["collectors"]]
    rows += [["team", "", "", t["team"], *[t[k] for k in keys]] for t in r["teams"]]
    return head, rows


def _notices(r: dict) -> Table:
    head = ["kind", "channel", "template_or_reason", "queued", "sent", "delivered", "failed", "deferred", "count"]
    rows: list[list[Any]] = [["template", t["channel"], t["template"], t["queued"], t["sent"], t["delivered"],
                              t["failed"], t["ever_deferred"], None] for t in r["by_template"]]
    rows += [["failure", f["channel"], f["error_code"], None, None, None, None, None, f["count"]]
             for f in r["failures"]]
    rows += [["deferral", d["channel"], d["gate"], None, None, None, None, d["notices"], d["events"]]
             for d in r["deferrals"]]
    return head, rows


def _stages(r: dict) -> Table:
    head = ["stage", "key", "cases", "outstanding", "overdue", "max_dpd", "avg_dpd"]
    return head, [[s["stage"], s["key"], s["cases"], s["outstanding"], s["overdue"], s["max_dpd"], s["avg_dpd"]]
                  for s in r["stages"]]


def _trend(r: dict) -> Table:
    codes = list(r["series"][0]["buckets"]) if r["series"] else []
    head = ["date", "snapshot_date", "loans", "outstanding", "overdue", "par30", "par90", *codes]
    return head, [[s["date"], s["snapshot_date"], s["loans"], s["outstanding"], s["overdue"], s["par30"],
                   s["par90"], *[s["buckets"][c] for c in codes]] for s in r["series"]]


FLATTEN: dict[str, Callable[[dict], Table]] = {
    "aging": _aging, "roll-rates": _roll, "roll-rates-trend": _trend_roll, "migration": _migration,
    "rates": _rates, "collectors": _collectors, "notices": _notices, "stages": _stages, "trend": _trend,
}


def _cell(v: Any) -> Any:
    return "" if v is None else v


def to_csv(report: str, result: dict) -> bytes:
    head, rows = FLATTEN[report](result)
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(head)
    for row in rows:
        w.writerow([_cell(v) for v in row])
    return buf.getvalue().encode("utf-8-sig")   # the BOM makes Excel read the Chinese names right


def to_xlsx(report: str, result: dict, params: dict[str, Any]) -> bytes:
    head, rows = FLATTEN[report](result)
    wb = Workbook()
    ws = wb.active
    ws.title = report[:31]
    ws.append(head)
    for row in rows:
        ws.append([float(v) if isinstance(v, Decimal) else v for v in row])
    for cell_row in ws.iter_rows(min_row=2):
        for c, v in zip(cell_row, rows[cell_row[0].row - 2], strict=False):
            if isinstance(v, Decimal):
                c.number_format = "#,##0.00"
    meta = wb.create_sheet("parameters")
    for k, v in params.items():
        meta.append([k, "" if v is None else str(v)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
