"""The `collections-svc` command: serve, scheduler, dispatch, sweep, migrate, create-user, import, dpd, demo,
check-config."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import random
import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from collections_svc.config import get_settings

app = typer.Typer(help="collections_svc: post-loan management and collections (贷后管理与催收).",
                  no_args_is_help=True, pretty_exceptions_show_locals=False)
console = Console()
err = Console(stderr=True)


@app.callback()
def _settings_must_be_valid(ctx: typer.Context) -> None:
    # Runs before every command: a bad configuration stops here with a plain message, not a traceback.
    if ctx.invoked_subcommand == "check-config":
        return  # it reports settings problems itself, one line each, with the other checks
    from pydantic import ValidationError
    try:
        get_settings()
    except ValidationError as exc:
        err.print("[red]The configuration is not valid, so collections-svc will not start:[/]")
        for e in exc.errors():
            where = "COLLECTIONS_" + "__".join(str(p) for p in e["loc"]).upper() + ": " if e["loc"] else ""
            err.print(f"  {where}{e['msg'].removeprefix('Value error, ')}")
        raise typer.Exit(2) from None


def _factory():
    from collections_svc.db import make_engine, make_sessionmaker
    s = get_settings()
    return make_sessionmaker(make_engine(s.database.url))


def _today() -> dt.date:
    from collections_svc.common.clock import SystemClock, business_date
    return business_date(SystemClock().now(), get_settings().bank.timezone)


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=err)


@app.command()
def migrate(revision: str = "head") -> None:
    """Bring the database schema to REVISION (default: the latest)."""
    from collections_svc.migrate import upgrade
    upgrade(get_settings().database.url, revision)
    console.print(f"Database migrated to {revision}.")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000, workers: int = 1) -> None:
    """Run the API and web UI."""
    import uvicorn

    from collections_svc.logging_setup import configure_logging
    configure_logging(get_settings().log_level)
    uvicorn.run("collections_svc.main:create_app", factory=True, host=host, port=port, workers=workers,
                log_config=None)


@app.command("create-user")
def create_user_cmd(
    username: str,
    role: Annotated[str, typer.Option(help="collector, supervisor, risk_officer, admin, auditor or integration")],
    display_name: str | None = None,
    team: str | None = None,
    password: Annotated[str | None, typer.Option(help="omit to be prompted (hidden)")] = None,
) -> None:
    """Create a user (use it for the first admin)."""
    from collections_svc.audit.service import record
    from collections_svc.auth.models import Role
    from collections_svc.auth.service import SYSTEM, create_user
    from collections_svc.db import session_scope
    from collections_svc.errors import DomainError
    try:
        r = Role(role)
    except ValueError:
        err.print(f"[red]Unknown role {role!r}.[/] Use one of: {', '.join(x.value for x in Role)}")
        raise typer.Exit(2) from None
    pw = password or typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with session_scope(_factory()) as s:
            u = create_user(s, username=username, password=pw, role=r, display_name=display_name, team=team)
            record(s, SYSTEM, "user.create", "user", u.id, after={"username": username, "role": r.value, "via": "cli"})
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(1) from None
    console.print(f"User {username} ({r.value}) created.")


@app.command("import")
def import_cmd(kind: Annotated[str, typer.Argument(help="borrowers, contacts, loans, installments or payments")],
               file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import a UTF-8 CSV file. All or nothing: one bad row and nothing is imported."""
    from collections_svc.auth.service import SYSTEM
    from collections_svc.db import session_scope
    from collections_svc.imports import service
    from collections_svc.imports.service import ImportRejected
    settings = get_settings()
    size = file.stat().st_size
    try:
        with _progress() as prog, file.open("rb") as raw, session_scope(_factory()) as s:
            task = prog.add_task(f"Importing {kind}", total=size)
            stream = codecs.iterdecode(_tracked(raw, lambda: prog.update(task, completed=raw.tell())), "utf-8-sig")
            result = service.run_import(s, settings, kind, service.read_csv(stream, kind), SYSTEM, _today())
            prog.update(task, completed=size)
    except ImportRejected as exc:
        err.print(f"[red]{exc.detail}[/]")
        t = Table("row", "column", "problem")
        for e in exc.errors[:200]:
            t.add_row(str(e["row"]), str(e["column"]), str(e["message"]))
        err.print(t)
        if len(exc.errors) > 200:
            err.print(f"... and {len(exc.errors) - 200} more.")
        raise typer.Exit(1) from None
    except UnicodeDecodeError:
        err.print("[red]The file is not UTF-8 text. Save it as 'CSV UTF-8' and try again.[/]")
        raise typer.Exit(1) from None
    console.print(f"{result.rows} rows: {result.created} created, {result.updated} updated, "
                  f"{result.unchanged} unchanged.")


def _tracked(raw, tick):
    for n, line in enumerate(raw):
        if n % 2000 == 0:
            tick()
        yield line


@app.command()
def dpd(as_of: Annotated[str | None, typer.Option("--as-of", help="business date YYYY-MM-DD (default today)")] = None
        ) -> None:
    """Recompute DPD and buckets for the whole book and print the bucket summary."""
    from collections_svc.db import session_scope
    from collections_svc.loans import dpd as engine
    settings = get_settings()
    day = dt.date.fromisoformat(as_of) if as_of else _today()
    with session_scope(_factory()) as s:
        res = engine.run_dpd(s, day, settings.dpd)
        lines = engine.bucket_summary(s, settings.dpd)
    t = Table(title=f"DPD as of {day}: {res.loans_changed} loans changed, {res.loans_reset} cured")
    for col in ("bucket", "DPD", "loans", "overdue", "outstanding principal"):
        t.add_column(col, justify="right")
    for ln in lines:
        t.add_row(ln.bucket, ln.label, str(ln.loans), f"{ln.overdue_amount:,.2f}", f"{ln.outstanding_principal:,.2f}")
    console.print(t)


@app.command()
def sweep(
    as_of: Annotated[str | None, typer.Option("--as-of", help="business date YYYY-MM-DD (default: yesterday)")
                     ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="show what would change; write nothing")] = False,
    partition: Annotated[str | None, typer.Option("--partition", help="K/N: loans with id % N == K")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the full report as JSON")] = False,
) -> None:
    """Run (or preview) the close-of-business sweep for one business date. A rerun changes nothing."""
    from collections_svc.errors import DomainError
    from collections_svc.sweep.cli import run_from_cli
    day = dt.date.fromisoformat(as_of) if as_of else _today() - dt.timedelta(days=1)
    if day > _today() and not dry_run:
        err.print(f"[red]{day} has not begun yet (today is {_today()}); only --dry-run may look ahead.[/]")
        raise typer.Exit(2)
    try:
        rep = run_from_cli(get_settings(), day, dry_run=dry_run, partition=partition, as_json=as_json,
                           console=console)
    except DomainError as exc:
        err.print(f"[red]{exc.detail}[/]")
        raise typer.Exit(2) from None
    if rep.status == "failed":
        raise typer.Exit(1)


@app.command("check-config")
def check_config() -> None:
    """Check the configuration before starting: database, migrations, Twilio, URLs, secrets, templates, strategy."""
    from collections_svc.ops.checks import load_settings, run_checks
    settings, checks = load_settings()
    if settings is not None:
        checks += run_checks(settings)
    for c in checks:
        typer.echo(f"{'OK     ' if c.ok else 'PROBLEM'}  {c.name}: {c.message}")
    failed = sum(not c.ok for c in checks)
    if failed:
        typer.echo(f"{failed} problem(s) found; fix them before starting collections-svc.")
        raise typer.Exit(1)
    typer.echo("All checks passed.")


@app.command()
def scheduler() -> None:
    """Run the scheduler process (sweep, notice dispatch, promise and review checks); one leader at a time."""
    from collections_svc.scheduler.runner import main
    main(get_settings())


@app.command()
def dispatch(
    limit: Annotated[int, typer.Option(help="notices claimed per batch")] = 50,
    interval: Annotated[float, typer.Option(help="seconds to wait when nothing is due")] = 1.0,
    concurrency: Annotated[int, typer.Option(help="parallel provider calls per batch")] = 8,
    once: Annotated[bool, typer.Option("--once", help="one batch, then exit")] = False,
    idle_exit: Annotated[bool, typer.Option("--idle-exit", help="exit when nothing is left to send")] = False,
) -> None:
    """Run a notice dispatch worker (any number may run). SIGTERM: finish the sends under way, release the rest."""
    from collections_svc.notices.worker import serve_forever
    serve_forever(get_settings(), limit=limit, interval=interval, once=once, idle_exit=idle_exit,
                  concurrency=concurrency)


@app.command()
def demo(host: str = "127.0.0.1", port: int = 8000, borrowers: int = 300, reset: bool = False,
         history_days: Annotated[int, typer.Option(
             "--history-days", min=0, max=366,
             help="past nights to sweep first, so trends and roll rates have a history")] = 62,
         serve_after: Annotated[bool, typer.Option("--serve/--no-serve")] = True) -> None:
    """Migrate the embedded database, seed a demo corporate portfolio (once) and serve it."""
    from sqlalchemy import func, select

    from collections_svc.db import session_scope
    from collections_svc.demo import seed_portfolio, seed_users, simulate_day
    from collections_svc.loans import dpd as engine
    from collections_svc.loans.models import Borrower
    from collections_svc.migrate import upgrade
    settings = get_settings()
    if reset and settings.is_sqlite:
        path = Path(settings.database.url.split("///", 1)[-1])
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    upgrade(settings.database.url)
    factory = _factory()
    with session_scope(factory) as s:
        seeded = (s.scalar(select(func.count()).select_from(Borrower)) or 0) > 0
    if not seeded:
        password = os.environ.get("COLLECTIONS_DEMO_PASSWORD") or secrets.token_urlsafe(9)
        today = _today()
        with _progress() as prog, session_scope(factory) as s:
            task = prog.add_task("Seeding demo portfolio", total=borrowers)
            seed_users(s, password)
            counts = seed_portfolio(s, settings, today, borrowers=borrowers,
                                    progress=lambda n: prog.update(task, completed=n))
            engine.run_dpd(s, today, settings.dpd)
        console.print(f"Seeded {counts['borrowers']} borrowers, {counts['loans']} loans, "
                      f"{counts['payments']} payments as of {today}.")
        from collections_svc.sweep.service import run_sweep_job
        # Past nights first, in order, so the daily snapshots behind the dashboard's trends and the roll-rate
        # matrix have a history (an approximation: the seeded payments are not replayed day by day).
        if history_days:
            with _progress() as prog:
                task = prog.add_task("Sweeping past nights", total=history_days)
                rng = random.Random(11)
                for back in range(history_days, 0, -1):
                    day = today - dt.timedelta(days=back)
                    # Collectors call, take promises and get paid; notices go out; then that night's sweep.
                    simulate_day(factory, settings, day, rng)
                    run_sweep_job(factory, day, settings)
                    prog.advance(task)
        # Tonight's close-of-business run, so the queue has cases and the outbox has notices.
        run_sweep_job(factory, today, settings)
        from collections_svc.cases.models import Case
        from collections_svc.notices.models import Notice
        with session_scope(factory) as s:
            open_cases = s.scalar(select(func.count()).select_from(Case).where(Case.is_open.is_(True)))
            notices = s.scalar(select(func.count()).select_from(Notice))
        console.print(f"Swept {history_days + 1} nights up to {today}: {open_cases} open collection cases, "
                      f"{notices} notices in the outbox.")
        console.print(f"Demo users: admin, supervisor, supervisor2, collector, collector2, risk, auditor; "
                      f"password: [bold]{password}[/] (shown once)")
    else:
        console.print("Demo database already seeded; use --reset to start over.")
    if serve_after:
        # Single-machine demo: the scheduler (sweep, notice dispatch to the console channel, promise and
        # review checks) runs in this process; production runs `collections-svc scheduler` on its own.
        from collections_svc.scheduler.runner import start_in_background
        start_in_background(settings)
        console.print(f"Serving on http://{host}:{port}/  (API docs: http://{host}:{port}/docs)")
        serve(host=host, port=port, workers=1)


if __name__ == "__main__":
    app()
