"""All-or-nothing imports of the loan book from CSV or JSON rows, streamed in chunks.

Rows are validated and written chunk by chunk inside one transaction, so memory stays bounded. After
the first bad row nothing more is written but every remaining row is still checked, so the caller
gets the full list of problems; the transaction edge then rolls everything back.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from collections_svc.auth.service import Actor
from collections_svc.config import Settings
from collections_svc.errors import DomainError, ValidationFailed
from collections_svc.loans import service as book
from collections_svc.loans.schemas import BorrowerIn, ContactIn, InstallmentIn, LoanIn, PaymentIn

KINDS: dict[str, type[BaseModel]] = {
    "borrowers": BorrowerIn, "contacts": ContactIn, "loans": LoanIn,
    "installments": InstallmentIn, "payments": PaymentIn,
}
REQUIRED_COLUMNS = {
    "borrowers": ["external_id", "name", "uscc"],
    "contacts": ["borrower_external_id", "role", "name"],
    "loans": ["external_id", "borrower_external_id", "contract_no", "product", "principal", "annual_rate",
              "disbursed_on", "maturity_on"],
    "installments": ["loan_external_id", "seq", "due_on", "principal_due", "interest_due"],
    "payments": ["external_id", "loan_external_id", "paid_on", "amount"],
}
CHUNK = 1000
MAX_REPORTED_ERRORS = 1000


class ImportRejected(ValidationFailed):
    code = "import-rejected"
    title = "The file has bad rows; nothing was imported"


@dataclass
class ImportResult:
    kind: str
    rows: int
    created: int
    updated: int
    unchanged: int


def read_csv(stream: io.TextIOBase | Iterable[str], kind: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield (row number, raw dict) from a UTF-8 CSV with a header; row 1 is the header."""
    reader = csv.DictReader(stream)
    header = [h.strip().lstrip("\ufeff") for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED_COLUMNS[kind] if c not in header]
    if missing:
        raise ImportRejected(
            f"The file has no column(s) {', '.join(missing)}; nothing was imported.",
            errors=[{"row": 1, "column": c, "message": "required column is missing"} for c in missing])
    reader.fieldnames = header
    for n, raw in enumerate(reader, start=2):
        if None in raw:
            raise ImportRejected(
                f"Row {n} has more values than the header has columns; nothing was imported.",
                errors=[{"row": n, "column": "", "message": "too many values"}])
        # Empty cells mean "not given", so optional fields take their defaults.
        yield n, {k: v for k, v in raw.items() if v is not None and v.strip() != ""}


def _upsert(session: Session, settings: Settings, kind: str, chunk: list[tuple[int, Any]], actor: Actor,
            business_date) -> book.UpsertStats:
    if kind == "borrowers":
        return book.upsert_borrowers(session, chunk, actor)
    if kind == "contacts":
        return book.upsert_contacts(session, chunk, actor)
    if kind == "loans":
        return book.upsert_loans(session, chunk, actor)
    if kind == "installments":
        return book.upsert_installments(session, chunk, actor)
    st = book.UpsertStats()
    for n, p in chunk:
        try:
            with session.begin_nested():
                _, created = book.record_payment(session, settings, p, actor, business_date)
        except DomainError as exc:
            field = exc.errors[0]["field"] if exc.errors else "external_id"
            st.errors.append({"row": n, "column": field, "message": exc.detail})
            continue
        if created:
            st.created += 1
        else:
            st.unchanged += 1
    return st


def run_import(session: Session, settings: Settings, kind: str, rows: Iterable[tuple[int, dict[str, Any]]],
               actor: Actor, business_date, progress: Callable[[int], None] | None = None) -> ImportResult:
    if kind not in KINDS:
        raise ValidationFailed(f"Unknown import kind {kind!r}.",
                               errors=[{"field": "kind", "message": f"one of {', '.join(KINDS)}"}])
    model = KINDS[kind]
    total = book.UpsertStats()
    errors: list[dict[str, Any]] = []
    chunk: list[tuple[int, Any]] = []
    count = 0
    seen_keys: set[Any] = set()

    def flush_chunk() -> None:
        if not chunk:
            return
        if errors:
            # Nothing will be kept, but references (unknown loan, borrower, ...) are still checked so the
            # caller gets every bad row at once; the savepoint undoes whatever the check wrote.
            savepoint = session.begin_nested()
            try:
                st = _upsert(session, settings, kind, chunk, actor, business_date)
            finally:
                savepoint.rollback()
            errors.extend(st.errors)
        else:
            st = _upsert(session, settings, kind, chunk, actor, business_date)
            total.add(st)
            errors.extend(st.errors)
        chunk.clear()

    for n, raw in rows:
        count += 1
        try:
            item = model.model_validate(raw)
        except ValidationError as exc:
            for e in exc.errors():
                col = ".".join(str(p) for p in e["loc"]) or "row"
                errors.append({"row": n, "column": col, "message": e["msg"].removeprefix("Value error, ")})
        else:
            key = _key(kind, item)
            if key in seen_keys:
                errors.append({"row": n, "column": "external_id", "message": "appears twice in this file"})
            seen_keys.add(key)
            chunk.append((n, item))
        if len(chunk) >= CHUNK:
            flush_chunk()
        if progress and count % 500 == 0:
            progress(count)
        if len(errors) >= MAX_REPORTED_ERRORS:
            break
    flush_chunk()
    if progress:
        progress(count)
    if errors:
        errors.sort(key=lambda e: e["row"])
        raise ImportRejected(f"{len({e['row'] for e in errors})} row(s) of the {kind} file are invalid; "
                             "nothing was imported. Fix them and import the whole file again.",
                             errors=errors[:MAX_REPORTED_ERRORS])
    return ImportResult(kind=kind, rows=count, created=total.created, updated=total.updated,
                        unchanged=total.unchanged)


def _key(kind: str, item: Any) -> Any:
    if kind == "contacts":
        return (item.borrower_external_id, item.role, item.name)
    if kind == "installments":
        return (item.loan_external_id, item.seq)
    return item.external_id
