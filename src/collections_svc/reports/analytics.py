# ruff: noqa: S608 - SQL is composed from fixed column names, bucket codes from settings and integers
"""Portfolio analytics computed from the daily loan snapshot (reports.snapshot), never the live book.

Portfolio figures (aging, PAR, roll rates, migration, cure, stages, trend, collectors' portfolios) read
only ``loan_snapshot``. Event-based rates read their event tables for the period: promises (IND-05),
contact log (right-party contact), payments (amounts collected, recoveries) and notices.

Money is summed in cents by SQL and returned as Decimal yuan; rates are floats rounded to 6 places
(a ratio, not money), computed from exact integer sums. Every function returns plain dicts; the
shapes are documented in reports/README.md.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from collections_svc.common.dates import add_months, month_end
from collections_svc.config import Settings
from collections_svc.loans.dpd import bucket_case
from collections_svc.monitoring.settings import CATEGORIES
from collections_svc.reports.snapshot import AsOf, _p, resolve, state_sql

DIMENSIONS = ("product", "region", "industry", "team")
PAID_OFF, WRITTEN_OFF = "paid_off", "written_off"
# Contact outcomes that mean a conversation took place (for right-party contact).
LIVE_OUTCOMES = ("reached", "promised", "refused", "disputed", "paid_claimed")
CONVERSATION_CHANNELS = ("phone", "visit")
EVALUATED_PROMISES = ("kept", "broken", "partially_paid")


def money(cents: Any) -> Decimal:
    return (Decimal(int(cents or 0)) / 100).quantize(Decimal("0.01"))


def rate(num: Any, den: Any) -> float | None:
    num, den = int(num or 0), int(den or 0)
    return round(num / den, 6) if den else None


def _snap(at: AsOf) -> dict:
    return {"requested": at.requested.isoformat(),
            "snapshot_date": at.snapshot_date.isoformat() if at.snapshot_date else None}


def _buckets(settings: Settings) -> list[tuple[str, str]]:
    return [(b.code, b.label) for b in settings.dpd.buckets]


def _filters(filters: dict[str, str] | None, alias: str) -> tuple[str, dict]:
    sql, params = "", {}
    for dim, value in (filters or {}).items():
        if dim in DIMENSIONS and value is not None:
            sql += f" AND {alias}.{dim} = :f_{dim}"
            params[f"f_{dim}"] = value
    return sql, params


# ------------------------------------------------------------------------------------------- aging


def aging(session: Session, settings: Settings, as_of: dt.date, by: str | None = None,
          filters: dict[str, str] | None = None) -> dict:
    """Counts and balances per bucket and per category as of a date, PAR30 / PAR90, optionally per
    dimension (``by``: product, region, industry or team)."""
    at = resolve(session, as_of)
    out: dict[str, Any] = {**_snap(at), "by": by, "groups": [], "total": _aging_group(settings, None, [])}
    if at.empty:
        return out
    st, params = state_sql(session, at, "a")
    fsql, fparams = _filters(filters, "a")
    g = f"a.{by}" if by else "NULL"
    rows = session.execute(text(f"""
        SELECT {g} AS g, {bucket_case('a.dpd', settings.dpd.buckets)} AS bucket, a.category_rank AS cat,
               COUNT(*) AS n, SUM(a.outstanding) AS bal, SUM(a.overdue_amount) AS ovd,
               SUM(CASE WHEN a.dpd > 30 THEN a.outstanding ELSE 0 END) AS par30,
               SUM(CASE WHEN a.dpd > 90 THEN a.outstanding ELSE 0 END) AS par90
        FROM {st} a WHERE a.status = 0{fsql}
        GROUP BY {g + ', ' if by else ''}{bucket_case('a.dpd', settings.dpd.buckets)}, a.category_rank
    """), {**params, **fparams}).all()
    groups: dict[Any, list] = defaultdict(list)
    for r in rows:
        groups[r.g].append(r)
    if by:
        out["groups"] = [_aging_group(settings, k, v) for k, v in sorted(groups.items(), key=lambda kv: str(kv[0]))]
    out["total"] = _aging_group(settings, None, list(rows))
    return out


def _aging_group(settings: Settings, key: Any, rows: list) -> dict:
    buckets = {code: [0, 0, 0] for code, _ in _buckets(settings)}
    cats = {c: [0, 0, 0] for c in (*CATEGORIES, "unclassified")}
    tot = [0, 0, 0, 0, 0]
    for r in rows:
        n, bal, ovd = int(r.n), int(r.bal or 0), int(r.ovd or 0)
        for acc in (buckets[r.bucket], cats[CATEGORIES[int(r.cat)] if r.cat is not None else "unclassified"]):
            acc[0] += n
            acc[1] += bal
            acc[2] += ovd
        tot[0] += n
        tot[1] += bal
        tot[2] += ovd
        tot[3] += int(r.par30 or 0)
        tot[4] += int(r.par90 or 0)
    return {
        "key": key, "loans": tot[0], "outstanding": money(tot[1]), "overdue": money(tot[2]),
        "par30_balance": money(tot[3]), "par90_balance": money(tot[4]),
        "par30": rate(tot[3], tot[1]), "par90": rate(tot[4], tot[1]),
        "buckets": [{"bucket": code, "label": label, "loans": buckets[code][0],
                     "outstanding": money(buckets[code][1]), "overdue": money(buckets[code][2]),
                     "share": rate(buckets[code][1], tot[1])} for code, label in _buckets(settings)],
        "categories": [{"category": c, "loans": v[0], "outstanding": money(v[1]), "overdue": money(v[2]),
                        "share": rate(v[1], tot[1])} for c, v in cats.items()],
    }


# -------------------------------------------------------------------------------------- roll rates


def month_snapshot(session: Session, month: dt.date) -> AsOf:
    """The snapshot of a month-end: the last business date with a snapshot on or before it."""
    return resolve(session, month_end(month))


def _dest_expr(settings: Settings, gone: str) -> str:
    return (f"CASE WHEN b.loan_id IS NULL THEN (CASE {gone} WHEN 1 THEN '{PAID_OFF}' WHEN 2 THEN '{WRITTEN_OFF}' "
            f"ELSE 'unknown' END) WHEN b.status = 1 THEN '{PAID_OFF}' WHEN b.status = 2 THEN '{WRITTEN_OFF}' "
            f"ELSE {bucket_case('b.dpd', settings.dpd.buckets)} END")


_GONE = ("(SELECT z.status FROM loan_snapshot z WHERE z.loan_id = a.loan_id AND z.valid_from <= :s_b "
         "ORDER BY z.valid_from DESC LIMIT 1)")


def _transitions(session: Session, settings: Settings, a_at: AsOf, b_at: AsOf, categories: bool = True) -> list:
    sa, pa = state_sql(session, a_at, "a")
    sb, pb = state_sql(session, b_at, "b")
    dest = _dest_expr(settings, _GONE)
    frm = bucket_case("a.dpd", settings.dpd.buckets)
    cats = "a.category_rank" if categories else "NULL"
    tcats = "b.category_rank" if categories else "NULL"
    group_cats = ", a.category_rank, b.category_rank" if categories else ""
    return session.execute(text(f"""
        SELECT {frm} AS frm, {cats} AS fcat, {dest} AS dest, {tcats} AS tcat,
               COUNT(*) AS n, SUM(a.outstanding) AS bal,
               SUM(CASE WHEN b.status = 0 THEN b.outstanding ELSE 0 END) AS closing
        FROM {sa} a LEFT JOIN {sb} b ON b.loan_id = a.loan_id
        WHERE a.status = 0
        GROUP BY {frm}, {dest}{group_cats}
    """), {**pa, **pb}).all()


def roll_rates(session: Session, settings: Settings, from_month: dt.date, to_month: dt.date) -> dict:
    """IND-03 roll-rate matrix between two month-ends, by opening balance and by count.

    Rows: the bucket at the first month-end (active loans). Columns: the bucket at the second
    month-end, then paid off and written off. Each cell is a share of its row, so every row sums to
    100%. Loans whose destination cannot be told (no snapshot row at all) are left out of the matrix
    and counted in ``unmatched``.
    """
    a_at, b_at = month_snapshot(session, from_month), month_snapshot(session, to_month)
    rows = [] if a_at.empty or b_at.empty else _transitions(session, settings, a_at, b_at, categories=False)
    return _matrix(settings, from_month, to_month, a_at, b_at, rows)


def _matrix(settings: Settings, from_month: dt.date, to_month: dt.date, a_at: AsOf, b_at: AsOf,
            transitions: list) -> dict:
    codes = [c for c, _ in _buckets(settings)]
    cols = [*codes, PAID_OFF, WRITTEN_OFF]
    cells = {f: {t: [0, 0] for t in cols} for f in codes}
    unmatched = [0, 0]
    for r in transitions:
        if r.dest not in cols:
            unmatched[0] += int(r.n)
            unmatched[1] += int(r.bal or 0)
            continue
        c = cells[r.frm][r.dest]
        c[0] += int(r.n)
        c[1] += int(r.bal or 0)
    rows = []
    for i, (code, label) in enumerate(_buckets(settings)):
        n = sum(v[0] for v in cells[code].values())
        bal = sum(v[1] for v in cells[code].values())
        worse = [*codes[i + 1:], WRITTEN_OFF]
        better = [*codes[:i], PAID_OFF]
        rows.append({
            "bucket": code, "label": label, "loans": n, "balance": money(bal),
            "counts": {t: cells[code][t][0] for t in cols},
            "balances": {t: money(cells[code][t][1]) for t in cols},
            "rates_balance": {t: rate(cells[code][t][1], bal) for t in cols},
            "rates_count": {t: rate(cells[code][t][0], n) for t in cols},
            "stay_rate": rate(cells[code][code][1], bal),
            "roll_forward_rate": rate(sum(cells[code][t][1] for t in worse), bal),
            "roll_back_rate": rate(sum(cells[code][t][1] for t in better), bal),
        })
    return {"from": {"month": from_month.strftime("%Y-%m"), **_snap(a_at)},
            "to": {"month": to_month.strftime("%Y-%m"), **_snap(b_at)},
            "columns": cols, "rows": rows,
            "opening_loans": sum(r["loans"] for r in rows),
            "opening_balance": money(sum(sum(v[1] for v in cells[c].values()) for c in codes)),
            "unmatched": {"loans": unmatched[0], "balance": money(unmatched[1])}}


def roll_rate_trend(session: Session, settings: Settings, to_month: dt.date, months: int) -> dict:
    """Month by month for ``months`` months ending at ``to_month``: stay (matrix diagonal) and
    roll-forward rate per bucket, by balance, plus the book's overall roll-forward rate."""
    first = add_months(to_month.replace(day=1), -months)
    month_list = [add_months(first, j) for j in range(months + 1)]
    ats = [month_snapshot(session, m) for m in month_list]
    # One two-scan join per month. (Tried: all month-ends in one CTE joined to itself; 2x slower in the
    # bench, the 1.2M-row sorts spill to disk.)
    series = []
    for j in range(months):
        a_at, b_at = ats[j], ats[j + 1]
        rows = [] if a_at.empty or b_at.empty else _transitions(session, settings, a_at, b_at, categories=False)
        m = _matrix(settings, month_list[j], month_list[j + 1], a_at, b_at, rows)
        fwd = sum(r["roll_forward_rate"] * float(r["balance"]) for r in m["rows"] if r["roll_forward_rate"])
        total = float(m["opening_balance"])
        series.append({
            "month": month_list[j + 1].strftime("%Y-%m"), "from_snapshot": m["from"]["snapshot_date"],
            "to_snapshot": m["to"]["snapshot_date"], "opening_balance": m["opening_balance"],
            "stay": {r["bucket"]: r["stay_rate"] for r in m["rows"]},
            "roll_forward": {r["bucket"]: r["roll_forward_rate"] for r in m["rows"]},
            "roll_forward_total": round(fwd / total, 6) if total else None,
        })
    return {"to_month": to_month.strftime("%Y-%m"), "months": months, "series": series}


# ------------------------------------------------------------------------------- IND-08 migration

# IND-08: which end categories count as "migrated" for each opening category (by rank).
MIGRATION_TARGETS = {0: (1, 2, 3, 4), 1: (2, 3, 4), 2: (3, 4), 3: (4,)}
MIGRATION_NAMES = {0: "正常类迁徙率 normal", 1: "关注类迁徙率 special mention", 2: "次级类迁徙率 substandard",
                   3: "可疑类迁徙率 doubtful"}


def migration(session: Session, settings: Settings, from_day: dt.date, to_day: dt.date) -> dict:
    """IND-08 five-category migration rates between two dates, by balance.

    rate = opening balance of the loans that migrated ÷ (opening balance - reductions in period), where
    reductions = the drop of each opening loan's outstanding principal over the period (repayments;
    the whole opening balance of loans paid off or written off). A loan written off counts as a
    reduction, not a migration. Also returns the category matrix (balances and counts).
    """
    a_at, b_at = resolve(session, from_day), resolve(session, to_day)
    cols = [*CATEGORIES, PAID_OFF, WRITTEN_OFF]
    matrix = {c: {t: [0, 0] for t in cols} for c in CATEGORIES}
    opening = defaultdict(int)
    reductions = defaultdict(int)
    migrated = defaultdict(int)
    if not a_at.empty and not b_at.empty:
        for r in _transitions(session, settings, a_at, b_at):
            if r.fcat is None:
                continue
            f = int(r.fcat)
            bal, closing = int(r.bal or 0), int(r.closing or 0)
            opening[f] += bal
            if r.dest in (PAID_OFF, WRITTEN_OFF, "unknown"):
                reductions[f] += bal
                dest = r.dest if r.dest != "unknown" else PAID_OFF
            else:
                reductions[f] += max(0, bal - closing)
                t = int(r.tcat) if r.tcat is not None else f
                dest = CATEGORIES[t]
                if t in MIGRATION_TARGETS.get(f, ()):
                    migrated[f] += bal
            cell = matrix[CATEGORIES[f]][dest]
            cell[0] += int(r.n)
            cell[1] += bal
    rates = []
    for f, name in MIGRATION_NAMES.items():
        den = opening[f] - reductions[f]
        rates.append({"category": CATEGORIES[f], "name": name, "opening_balance": money(opening[f]),
                      "reductions": money(reductions[f]), "migrated_balance": money(migrated[f]),
                      "denominator": money(den), "rate": rate(migrated[f], den)})
    return {"from": _snap(a_at), "to": _snap(b_at), "rates": rates, "columns": cols,
            "matrix": [{"category": c, "counts": {t: matrix[c][t][0] for t in cols},
                        "balances": {t: money(matrix[c][t][1]) for t in cols}} for c in CATEGORIES]}


# -------------------------------------------------------------------------- cure, PTP, recovery, RPC


def cure(session: Session, a_at: AsOf, b_at: AsOf) -> dict:
    """IND-04: loans delinquent (DPD > 0) at the start that are back at DPD 0 (or paid off) at the end."""
    out = {"delinquent_loans": 0, "delinquent_balance": money(0), "cured_loans": 0, "cured_balance": money(0),
           "paid_off_loans": 0, "rate_count": None, "rate_balance": None}
    if a_at.empty or b_at.empty:
        return out
    sa, pa = state_sql(session, a_at, "a")
    sb, pb = state_sql(session, b_at, "b")
    r = session.execute(text(f"""
        SELECT COUNT(*) AS n, SUM(a.outstanding) AS bal,
               SUM(CASE WHEN (b.status = 0 AND b.dpd = 0) OR b.status = 1 THEN 1 ELSE 0 END) AS cn,
               SUM(CASE WHEN (b.status = 0 AND b.dpd = 0) OR b.status = 1 THEN a.outstanding ELSE 0 END) AS cb,
               SUM(CASE WHEN b.status = 1 THEN 1 ELSE 0 END) AS po
        FROM {sa} a LEFT JOIN {sb} b ON b.loan_id = a.loan_id
        WHERE a.status = 0 AND a.dpd > 0
    """), {**pa, **pb}).one()
    out.update(delinquent_loans=int(r.n or 0), delinquent_balance=money(r.bal), cured_loans=int(r.cn or 0),
               cured_balance=money(r.cb), paid_off_loans=int(r.po or 0), rate_count=rate(r.cn, r.n),
               rate_balance=rate(r.cb, r.bal))
    return out


def promise_kept(session: Session, start: dt.date, end: dt.date, where: str = "", params: dict | None = None
                 ) -> dict:
    """IND-05: promises falling due in the period (due date in [start, end]) kept ÷ evaluated.

    Kept = paid in full by the due date plus grace days (the promise evaluator's ``kept``); broken and
    partially paid count as not kept; promises still open (grace not over) and cancelled ones are
    reported but left out of the rate.
    """
    rows = session.execute(text(f"""
        SELECT status, COUNT(*), SUM(amount), SUM(paid_amount) FROM promise
        WHERE due_on >= :ps AND due_on <= :pe{where} GROUP BY status
    """), {"ps": _p(session, start), "pe": _p(session, end), **(params or {})}).all()
    by = {s: (int(n), int(a or 0), int(p or 0)) for s, n, a, p in rows}
    kept = by.get("kept", (0, 0, 0))[0]
    due = sum(by.get(s, (0, 0, 0))[0] for s in EVALUATED_PROMISES)
    return {"due": due, "kept": kept, "broken": by.get("broken", (0, 0, 0))[0],
            "partially_paid": by.get("partially_paid", (0, 0, 0))[0], "open": by.get("open", (0, 0, 0))[0],
            "cancelled": by.get("cancelled", (0, 0, 0))[0], "rate": rate(kept, due),
            "promised_amount": money(sum(by.get(s, (0, 0, 0))[1] for s in EVALUATED_PROMISES)),
            "paid_amount": money(sum(by.get(s, (0, 0, 0))[2] for s in EVALUATED_PROMISES))}


def recovery(session: Session, start: dt.date, end: dt.date, b_at: AsOf) -> dict:
    """IND-06: recoveries on loans written off by the end ÷ their charged-off amount.

    The charged-off amount is the outstanding principal on the loan's first written-off snapshot row;
    recoveries are payments flagged ``recovery``: cumulative up to the end, and within the period.
    """
    out = {"written_off_loans": 0, "charged_off": money(0), "recovered_to_date": money(0),
           "recovered_in_period": money(0), "rate": None}
    if b_at.empty:
        return out
    params = {"e": _p(session, end), "s": _p(session, start), "sb": _p(session, b_at.snapshot_date)}
    r = session.execute(text("""
        SELECT COUNT(*) AS n, SUM(w.charged) AS charged,
               SUM(COALESCE(rp.total, 0)) AS rec, SUM(COALESCE(rp.period, 0)) AS rec_p
        FROM (SELECT x.loan_id, x.outstanding AS charged FROM loan_snapshot x
              JOIN (SELECT loan_id, MIN(valid_from) AS vf FROM loan_snapshot
                    WHERE status = 2 AND valid_from <= :sb GROUP BY loan_id) f
                ON f.loan_id = x.loan_id AND f.vf = x.valid_from) w
        LEFT JOIN (SELECT loan_id, SUM(amount) AS total,
                          SUM(CASE WHEN paid_on >= :s THEN amount ELSE 0 END) AS period
                   FROM payment WHERE recovery = :t AND paid_on <= :e GROUP BY loan_id) rp
          ON rp.loan_id = w.loan_id
    """), {**params, "t": True}).one()
    out.update(written_off_loans=int(r.n or 0), charged_off=money(r.charged), recovered_to_date=money(r.rec),
               recovered_in_period=money(r.rec_p), rate=rate(r.rec, r.charged))
    return out


def _rpc_case() -> str:
    live = ", ".join(f"'{o}'" for o in LIVE_OUTCOMES)
    # Right party: a live conversation with the debtor's own people (or the borrower, no contact on
    # file); an 'other' contact is not the right party (CN-COL-01: never unrelated third parties).
    return (f"CASE WHEN cl.outcome IN ({live}) AND (ct.id IS NULL OR ct.role <> 'other') THEN 1 ELSE 0 END")


def rpc(session: Session, start: dt.date, end: dt.date) -> dict:
    chans = ", ".join(f"'{c}'" for c in CONVERSATION_CHANNELS)
    r = session.execute(text(f"""
        SELECT COUNT(*) AS n, SUM({_rpc_case()}) AS rpc
        FROM contact_log cl LEFT JOIN contact ct ON ct.id = cl.contact_id
        WHERE cl.business_date >= :s AND cl.business_date <= :e AND cl.channel IN ({chans})
    """), {"s": _p(session, start), "e": _p(session, end)}).one()
    return {"attempts": int(r.n or 0), "right_party_contacts": int(r.rpc or 0), "rate": rate(r.rpc, r.n)}


def rates(session: Session, settings: Settings, start: dt.date, end: dt.date) -> dict:
    a_at, b_at = resolve(session, start), resolve(session, end)
    return {"from": start.isoformat(), "to": end.isoformat(),
            "start_snapshot": a_at.snapshot_date.isoformat() if a_at.snapshot_date else None,
            "end_snapshot": b_at.snapshot_date.isoformat() if b_at.snapshot_date else None,
            "cure": cure(session, a_at, b_at), "promise_kept": promise_kept(session, start, end),
            "recovery": recovery(session, start, end, b_at), "right_party_contact": rpc(session, start, end)}


# ------------------------------------------------------------------------ collector performance


def collectors(session: Session, settings: Settings, start: dt.date, end: dt.date,
               only_user_id: int | None = None, team: str | None = None) -> dict:
    """IND-07 collector and team KPIs over a period (CN-COL-01: never ranked on amount alone).

    Activity (contacts, RPC, promises) is attributed to the user who logged it; portfolio results
    (amount collected, cures, rolls forward) to the assignee of the loan's case in the snapshot at the
    start of the period; compliance blocks are gate deferrals of notices of the collector's cases.
    """
    a_at, b_at = resolve(session, start), resolve(session, end)
    users = {r.id: r for r in session.execute(text(
        "SELECT id, username, display_name, team, role FROM app_user")).all()}
    by_name = {u.username: uid for uid, u in users.items()}
    stats: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    p = {"s": _p(session, start), "e": _p(session, end)}
    chans = ", ".join(f"'{c}'" for c in CONVERSATION_CHANNELS)
    for r in session.execute(text(f"""
        SELECT cl.actor, COUNT(*) AS n, COUNT(DISTINCT cl.case_id) AS cases,
               SUM(CASE WHEN cl.channel IN ({chans}) THEN 1 ELSE 0 END) AS conv,
               SUM(CASE WHEN cl.channel IN ({chans}) THEN {_rpc_case()} ELSE 0 END) AS rpc
        FROM contact_log cl LEFT JOIN contact ct ON ct.id = cl.contact_id
        WHERE cl.business_date >= :s AND cl.business_date <= :e GROUP BY cl.actor
    """), p):
        uid = by_name.get(r.actor)
        if uid is not None:
            s = stats[uid]
            s["contacts"] += int(r.n)
            s["cases_worked"] += int(r.cases)
            s["conversations"] += int(r.conv or 0)
            s["rpc"] += int(r.rpc or 0)
    evaluated = ", ".join(f"'{x}'" for x in EVALUATED_PROMISES)
    for r in session.execute(text(f"""
        SELECT created_by,
               SUM(CASE WHEN promised_on >= :s AND promised_on <= :e THEN 1 ELSE 0 END) AS taken,
               SUM(CASE WHEN due_on >= :s AND due_on <= :e AND status IN ({evaluated}) THEN 1 ELSE 0 END) AS due,
               SUM(CASE WHEN due_on >= :s AND due_on <= :e AND status = 'kept' THEN 1 ELSE 0 END) AS kept
        FROM promise GROUP BY created_by
    """), p):
        uid = by_name.get(r.created_by)
        if uid is not None:
            s = stats[uid]
            s["promises_taken"] += int(r.taken or 0)
            s["promises_due"] += int(r.due or 0)
            s["promises_kept"] += int(r.kept or 0)
    if not a_at.empty and not b_at.empty:
        sa, pa = state_sql(session, a_at, "a")
        sb, pb = state_sql(session, b_at, "b")
        codes = [c for c, _ in _buckets(settings)]
        idx = "CASE " + " ".join(f"WHEN {{b}} = '{c}' THEN {i}" for i, c in enumerate(codes)) + " END"
        fa = idx.format(b=bucket_case("a.dpd", settings.dpd.buckets))
        fb = idx.format(b=bucket_case("b.dpd", settings.dpd.buckets))
        for r in session.execute(text(f"""
            SELECT a.assignee_id AS uid, COUNT(*) AS loans, SUM(a.overdue_amount) AS ovd,
                   SUM(CASE WHEN a.dpd > 0 THEN 1 ELSE 0 END) AS delinquent,
                   SUM(CASE WHEN a.dpd > 0 AND ((b.status = 0 AND b.dpd = 0) OR b.status = 1) THEN 1 ELSE 0 END)
                       AS cures,
                   SUM(CASE WHEN b.status = 2 OR (b.status = 0 AND {fb} > {fa}) THEN 1 ELSE 0 END) AS rolls
            FROM {sa} a LEFT JOIN {sb} b ON b.loan_id = a.loan_id
            WHERE a.status = 0 AND a.assignee_id IS NOT NULL GROUP BY a.assignee_id
        """), {**pa, **pb}):
            s = stats[int(r.uid)]
            s["loans"] += int(r.loans)
            s["opening_overdue_cents"] += int(r.ovd or 0)
            s["delinquent"] += int(r.delinquent or 0)
            s["cures"] += int(r.cures or 0)
            s["rolls_forward"] += int(r.rolls or 0)
        for r in session.execute(text(f"""
            SELECT a.assignee_id AS uid, SUM(pm.amount) AS amt
            FROM {sa} a JOIN payment pm ON pm.loan_id = a.loan_id
            WHERE a.status = 0 AND a.assignee_id IS NOT NULL AND pm.paid_on > :s_a AND pm.paid_on <= :e
            GROUP BY a.assignee_id
        """), {**pa, "e": p["e"]}):
            stats[int(r.uid)]["collected_cents"] += int(r.amt or 0)
    for r in session.execute(text("""
        SELECT c.assignee_id AS uid, COUNT(*) AS n FROM notice_status_event ev
        JOIN notice nt ON nt.id = ev.notice_id JOIN collection_case c ON c.id = nt.case_id
        WHERE ev.status = 'deferred' AND nt.business_date >= :s AND nt.business_date <= :e
          AND c.assignee_id IS NOT NULL
        GROUP BY c.assignee_id
    """), p):
        stats[int(r.uid)]["compliance_blocks"] += int(r.n)

    def row(key: dict, s: dict) -> dict:
        out = {**key, "cases_worked": s["cases_worked"], "contacts": s["contacts"],
               "conversations": s["conversations"], "right_party_contacts": s["rpc"],
               "rpc_rate": rate(s["rpc"], s["conversations"]), "promises_taken": s["promises_taken"],
               "promises_due": s["promises_due"], "promises_kept": s["promises_kept"],
               "promise_kept_rate": rate(s["promises_kept"], s["promises_due"]),
               "loans": s["loans"], "delinquent_loans": s["delinquent"],
               "amount_collected": money(s["collected_cents"]), "opening_overdue": money(s["opening_overdue_cents"]),
               "collected_vs_overdue": rate(min(s["collected_cents"], s["opening_overdue_cents"]),
                                            s["opening_overdue_cents"]),
               "cures": s["cures"], "cure_rate": rate(s["cures"], s["delinquent"]),
               "rolls_forward": s["rolls_forward"], "roll_forward_rate": rate(s["rolls_forward"], s["loans"]),
               "compliance_blocks": s["compliance_blocks"]}
        out["score"] = balanced_score(out)
        return out

    collector_rows, teams = [], defaultdict(lambda: defaultdict(int))
    for uid, s in stats.items():
        u = users.get(uid)
        if u is None or (team and u.team != team) or (only_user_id is not None and uid != only_user_id):
            continue
        collector_rows.append(row({"user_id": uid, "username": u.username, "name": u.display_name,
                                   "team": u.team}, s))
        for k, v in s.items():
            teams[u.team][k] += v
    # CN-COL-01 / IND-07: ordered by a balanced score of rates (never by amount collected alone),
    # then by name so equal scores read alphabetically.
    collector_rows.sort(key=_order)
    team_rows = [] if only_user_id is not None else sorted(
        (row({"team": t}, s) for t, s in teams.items()), key=lambda r: (-(r["score"] or 0), str(r["team"])))
    return {"from": start.isoformat(), "to": end.isoformat(),
            "start_snapshot": a_at.snapshot_date.isoformat() if a_at.snapshot_date else None,
            "end_snapshot": b_at.snapshot_date.isoformat() if b_at.snapshot_date else None,
            "score": SCORE_DOC, "collectors": collector_rows, "teams": team_rows}


SCORE_DOC = ("score = mean of the available rates among right-party-contact rate, promise-kept rate, cure rate, "
             "1 - roll-forward rate and collected ÷ opening overdue (capped at 1); amount collected is one "
             "fifth of it at most (CN-COL-01: never appraised on the amount recovered alone).")


def balanced_score(r: dict) -> float | None:
    parts = [r["rpc_rate"], r["promise_kept_rate"], r["cure_rate"],
             None if r["roll_forward_rate"] is None else 1 - r["roll_forward_rate"], r["collected_vs_overdue"]]
    vals = [v for v in parts if v is not None]
    return round(sum(vals) / len(vals), 6) if vals else None


def _order(r: dict) -> tuple:
    return (-(r["score"] if r["score"] is not None else -1), r["name"] or r["username"])


# ---------------------------------------------------------------------------------------- notices


def notices(session: Session, start: dt.date, end: dt.date, channel: str | None = None) -> dict:
    """Notices queued in the period (by business date): sent, delivered, failed by error code, deferred
    by gate, per channel and template."""
    p: dict = {"s": _p(session, start), "e": _p(session, end)}
    where = "n.business_date >= :s AND n.business_date <= :e"
    if channel:
        where += " AND n.channel = :ch"
        p["ch"] = channel
    rows = session.execute(text(f"""
        SELECT n.channel, n.template, COUNT(*) AS queued,
               SUM(CASE WHEN n.sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent,
               SUM(CASE WHEN n.status = 'delivered' THEN 1 ELSE 0 END) AS delivered,
               SUM(CASE WHEN n.status IN ('failed', 'undelivered') THEN 1 ELSE 0 END) AS failed,
               SUM(CASE WHEN n.status = 'deferred' THEN 1 ELSE 0 END) AS deferred_now,
               SUM(CASE WHEN n.status = 'cancelled' THEN 1 ELSE 0 END) AS cancelled,
               SUM(CASE WHEN EXISTS (SELECT 1 FROM notice_status_event ev WHERE ev.notice_id = n.id
                                     AND ev.status = 'deferred') THEN 1 ELSE 0 END) AS ever_deferred
        FROM notice n WHERE {where} GROUP BY n.channel, n.template ORDER BY n.channel, n.template
    """), p).all()
    keys = ("queued", "sent", "delivered", "failed", "deferred_now", "cancelled", "ever_deferred")
    by_template = [{"channel": r.channel, "template": r.template, **{k: int(getattr(r, k) or 0) for k in keys}}
                   for r in rows]
    totals = {k: sum(t[k] for t in by_template) for k in keys}
    failures = [{"channel": r[0], "error_code": r[1], "count": int(r[2])} for r in session.execute(text(f"""
        SELECT n.channel, COALESCE(n.error_code, 'unknown'), COUNT(*) FROM notice n
        WHERE {where} AND n.status IN ('failed', 'undelivered')
        GROUP BY n.channel, COALESCE(n.error_code, 'unknown') ORDER BY 3 DESC
    """), p)]
    gates: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    seen: set[tuple[str, str, int]] = set()
    for ch, nid, detail in session.execute(text(f"""
        SELECT n.channel, n.id, ev.detail FROM notice_status_event ev JOIN notice n ON n.id = ev.notice_id
        WHERE {where} AND ev.status = 'deferred'
    """), p):
        # The dispatcher writes "<gate reason>; next try <time>": the gate is the part before ';'.
        reason = (detail or "unknown").split("; next try")[0].strip() or "unknown"
        g = gates[(ch, reason)]
        g[0] += 1
        if (ch, reason, nid) not in seen:
            seen.add((ch, reason, nid))
            g[1] += 1
    deferrals = sorted(({"channel": ch, "gate": reason, "events": v[0], "notices": v[1]}
                        for (ch, reason), v in gates.items()), key=lambda d: (-d["events"], d["gate"]))
    return {"from": start.isoformat(), "to": end.isoformat(), "channel": channel, "totals": totals,
            "delivery_rate": rate(totals["delivered"], totals["sent"]), "by_template": by_template,
            "failures": failures, "deferrals": deferrals}


# ----------------------------------------------------------------------------- stages and trend


def stages(session: Session, settings: Settings, as_of: dt.date, by: str | None = None) -> dict:
    """Open cases by stage as of a date (from the snapshot), optionally per team/product/region/industry."""
    at = resolve(session, as_of)
    out: dict[str, Any] = {**_snap(at), "by": by, "stages": []}
    if at.empty:
        return out
    st, params = state_sql(session, at, "a")
    g = f"a.{by}" if by else "NULL"
    rows = session.execute(text(f"""
        SELECT a.case_stage AS stage, {g} AS g, COUNT(*) AS n, SUM(a.outstanding) AS bal,
               SUM(a.overdue_amount) AS ovd, MAX(a.dpd) AS max_dpd, SUM(a.dpd) AS sum_dpd
        FROM {st} a WHERE a.status = 0 AND a.case_stage IS NOT NULL
        GROUP BY a.case_stage{', ' + g if by else ''} ORDER BY a.case_stage
    """), params).all()
    out["stages"] = [{"stage": r.stage, "key": r.g, "cases": int(r.n), "outstanding": money(r.bal),
                      "overdue": money(r.ovd), "max_dpd": int(r.max_dpd or 0),
                      "avg_dpd": round(int(r.sum_dpd or 0) / int(r.n), 1)} for r in rows]
    out["total_cases"] = sum(s["cases"] for s in out["stages"])
    return out


def trend(session: Session, settings: Settings, start: dt.date, end: dt.date, interval: str = "month") -> dict:
    """The book over time: one point per month-end (or per snapshot day) with loans, outstanding,
    overdue, PAR30/90 and the balance per bucket."""
    if interval == "day":
        from collections_svc.reports.snapshot import snapshot_dates
        points = snapshot_dates(session, start, end)
    else:
        points, m = [], start.replace(day=1)
        while m <= end:
            points.append(min(month_end(m), end))
            m = add_months(m, 1)
    series, seen = [], set()
    for d in points:
        a = aging(session, settings, d)
        if a["snapshot_date"] is None or a["snapshot_date"] in seen:
            continue
        seen.add(a["snapshot_date"])
        t = a["total"]
        series.append({"date": d.isoformat(), "snapshot_date": a["snapshot_date"], "loans": t["loans"],
                       "outstanding": t["outstanding"], "overdue": t["overdue"], "par30": t["par30"],
                       "par90": t["par90"], "buckets": {b["bucket"]: b["outstanding"] for b in t["buckets"]}})
    return {"from": start.isoformat(), "to": end.isoformat(), "interval": interval, "series": series}
