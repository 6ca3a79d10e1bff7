"""Two people acting on one case at the same moment: one wins, the other gets 409 with the current state.

Runs against a fresh database per backend with real commits and real threads (no rolled-back outer
transaction), so the database's own locking decides.
"""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.exc import StaleDataError

from collections_svc import states
from collections_svc.auth.models import Role
from collections_svc.auth.service import SYSTEM, create_user
from collections_svc.cases import service
from collections_svc.cases.models import Case, CaseEvent
from collections_svc.common.clock import FixedClock
from collections_svc.config import Settings
from collections_svc.db import make_engine, make_sessionmaker, session_scope
from collections_svc.main import create_app
from collections_svc.migrate import upgrade
from tests.cases.helpers import TODAY, overdue_loan
from tests.conftest import BACKENDS, PASSWORD, create_database, token_for


@pytest.fixture(params=BACKENDS)
def fresh(request, tmp_path_factory):
    url, drop = create_database(request.param, tmp_path_factory)
    upgrade(url)
    engine = make_engine(url)
    yield url, engine, make_sessionmaker(engine)
    engine.dispose()
    drop()


def _events(factory, case_id):
    with factory() as s:
        return s.scalar(
            select(func.count())
            .select_from(CaseEvent)
            .where(CaseEvent.case_id == case_id, CaseEvent.kind == "stage_change")
        )


def test_two_sessions_one_wins(fresh):
    url, engine, factory = fresh
    settings = Settings(env="test", database={"url": url})
    with session_scope(factory) as s:
        loan = overdue_loan(s, settings)
        case_id = service.open_case(s, loan.id, business_date=TODAY, actor=SYSTEM).id
    a, b = factory(), factory()
    try:
        ca, cb = a.get(Case, case_id), b.get(Case, case_id)
        assert ca.version == cb.version
        states.fire(a, ca, "escalate", actor=SYSTEM, business_date=TODAY, target="letter")
        a.commit()
        with pytest.raises((StaleDataError, OperationalError)):
            states.fire(b, cb, "escalate", actor=SYSTEM, business_date=TODAY, target="visit")
        b.rollback()
    finally:
        a.close()
        b.close()
    with factory() as s:
        assert s.get(Case, case_id).stage == "letter"
    assert _events(factory, case_id) == 1


def test_two_requests_at_once_one_gets_409(fresh):
    url, engine, factory = fresh
    settings = Settings(env="test", database={"url": url})
    with session_scope(factory) as s:
        for name in ("sup_a", "sup_b"):
            create_user(s, username=name, password=PASSWORD, role=Role.supervisor, team="east")
        loan = overdue_loan(s, settings)
        case = service.open_case(s, loan.id, business_date=TODAY, actor=SYSTEM)
        case_id, version = case.id, case.version
    app = create_app(
        settings,
        clock=FixedClock(__import__("datetime").datetime(2026, 4, 1, 2, tzinfo=__import__("datetime").UTC)),
        session_factory=factory,
    )
    clients = [TestClient(app), TestClient(app)]
    headers = [token_for(clients[0], "sup_a"), token_for(clients[1], "sup_b")]
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def act(i: int, target: str) -> None:
        barrier.wait()
        results[i] = clients[i].post(
            f"/api/v1/cases/{case_id}/transitions",
            headers=headers[i],
            json={"trigger": "escalate", "target": target, "version": version},
        )

    threads = [
        threading.Thread(target=act, args=(0, "letter")),
        threading.Thread(target=act, args=(1, "visit")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(r.status_code for r in results)
    assert codes == [200, 409], [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()["case"]
    loser = next(r for r in results if r.status_code == 409).json()
    assert loser["current"]["stage"] == winner["stage"] and loser["current"]["version"] == winner["version"]
    assert _events(factory, case_id) == 1
