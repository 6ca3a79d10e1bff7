"""The floor for the queue benchmark: a bare FastAPI endpoint doing one indexed read, same engine setup."""

from __future__ import annotations

import os

from fastapi import FastAPI
from sqlalchemy import text

from collections_svc.db import make_engine

engine = make_engine(os.environ["COLLECTIONS_DATABASE__URL"], pool_size=20)
app = FastAPI()


@app.get("/bare/{loan_id}")
def bare(loan_id: int):
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, dpd, overdue_amount FROM loan WHERE id = :id"), {"id": loan_id}
        ).one()
    return {"id": row[0], "dpd": row[1], "overdue_amount": row[2]}
