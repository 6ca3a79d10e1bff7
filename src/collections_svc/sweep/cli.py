"""Body of ``collections-svc sweep`` (cli.py keeps only the thin command)."""

from __future__ import annotations

import datetime as dt
import json

from rich.console import Console
from rich.table import Table

from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker
from collections_svc.sweep.service import Partition, SweepReport, run_sweep_job


def run_from_cli(settings: Settings, as_of: dt.date, *, dry_run: bool, partition: str | None, as_json: bool,
                 console: Console) -> SweepReport:
    factory = make_sessionmaker(make_engine(settings.database.url))
    report = run_sweep_job(factory, as_of, settings, partition=Partition.parse(partition), dry_run=dry_run)
    if as_json:
        console.print_json(json.dumps(report.as_dict(), default=str))
        return report
    console.print(report.message)
    t = Table(title=f"Sweep {report.business_date} ({'dry run' if dry_run else report.status})")
    t.add_column("figure")
    t.add_column("count", justify="right")
    for k, v in report.counts.items():
        t.add_row(k.replace("_", " "), str(v))
    t.add_row("errors", str(report.error_count))
    console.print(t)
    if dry_run and report.escalations:
        e = Table(title="Escalations that would happen (first ones)")
        for col in ("case", "loan", "DPD", "from", "to", "rule"):
            e.add_column(col)
        for x in report.escalations[:50]:
            e.add_row(str(x["case_id"]), str(x["loan_id"]), str(x["dpd"]), x["from"], x["to"], x["rule"])
        console.print(e)
    for err in report.errors[:20]:
        console.print(f"[red]{err.get('step')}[/] case {err.get('case_id', '-')} "
                      f"loan {err.get('loan_id', '-')}: {err.get('error')}")
    return report
