"""A synthetic but realistic corporate loan book for the demo and the tests.

Borrowers get Chinese company names, valid USCCs and CN mobile numbers; loans get monthly schedules and
payments, and some loans are left overdue in every DPD bucket. Everything goes through the same models
and the same allocation code as real payments.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collections_svc.auth.models import Role
from collections_svc.auth.service import create_user
from collections_svc.common.dates import add_months
from collections_svc.config import Settings
from collections_svc.loans import allocation
from collections_svc.loans.models import (
    Borrower,
    Contact,
    ContactRole,
    Installment,
    Loan,
    Payment,
    PaymentAllocation,
    Product,
)
from collections_svc.loans.validators import USCC_ALPHABET, uscc_check_char

CITIES = ["上海", "北京", "深圳", "广州", "杭州", "南京", "苏州", "成都", "武汉", "重庆", "天津", "宁波", "青岛",
          "厦门", "西安", "长沙", "郑州", "合肥", "无锡", "佛山"]
REGION_OF = {"上海": "华东", "北京": "华北", "深圳": "华南", "广州": "华南", "杭州": "华东", "南京": "华东",
             "苏州": "华东", "成都": "西南", "武汉": "华中", "重庆": "西南", "天津": "华北", "宁波": "华东",
             "青岛": "华北", "厦门": "华南", "西安": "西北", "长沙": "华中", "郑州": "华中", "合肥": "华东",
             "无锡": "华东", "佛山": "华南"}
WORDS = ["华信", "鼎盛", "瑞丰", "金泰", "宏达", "恒通", "永昌", "嘉禾", "中科", "远航", "新锐", "盛世", "天成", "祥和",
         "博远", "汇通", "国泰", "东方", "明辉", "长城", "海纳", "启航", "银河", "富源"]
INDUSTRIES = [("制造业", "机械制造"), ("制造业", "电子科技"), ("批发和零售业", "商贸"), ("建筑业", "建设工程"),
              ("交通运输业", "物流"), ("信息技术", "信息技术"), ("房地产业", "置业"), ("农业", "农业发展"),
              ("化工", "化工"), ("纺织业", "纺织")]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ["伟", "芳", "娜", "敏", "静", "强", "磊", "军", "洋", "勇", "艳", "杰", "涛", "明", "超",
         "秀英", "建华", "国强"]
PRODUCTS = [Product.working_capital] * 5 + [Product.fixed_asset] * 2 + [Product.trade_finance] * 2 + [
    Product.project_finance]
# Target DPD spread: most loans current, some in every bucket (M1..M7+).
DPD_TARGETS = [0] * 70 + [3, 8, 12, 20, 27] * 2 + [35, 45, 55] + [65, 75, 85] + [100, 130, 170] + [200, 300, 400]
CENT = Decimal("0.01")


def make_uscc(rng: random.Random) -> str:
    body = "91" + "".join(rng.choice("0123456789") for _ in range(6)) + "".join(
        rng.choice(USCC_ALPHABET) for _ in range(9))
    return body + uscc_check_char(body)


def make_mobile(rng: random.Random) -> str:
    return "+86" + rng.choice(["138", "139", "186", "137", "150", "158", "188"]) + f"{rng.randrange(10**8):08d}"


def monthly_schedule(principal: Decimal, rate: Decimal, start: dt.date, months: int, amortising: bool
                     ) -> list[tuple[dt.date, Decimal, Decimal]]:
    """Monthly interest on the outstanding; principal equal per month or bullet at maturity.

    Rounding of principal is absorbed by the last installment so the schedule sums to the principal.
    """
    out = []
    outstanding = principal
    each = (principal / months).quantize(CENT, ROUND_HALF_UP) if amortising else Decimal(0)
    for k in range(1, months + 1):
        interest = (outstanding * rate / 12).quantize(CENT, ROUND_HALF_UP)
        p = (outstanding if k == months else each) if amortising else (principal if k == months else Decimal(0))
        out.append((add_months(start, k), p, interest))
        outstanding -= p
    return out


def seed_users(session: Session, password: str) -> None:
    users = [
        ("admin", "系统管理员", Role.admin, None, None),
        ("supervisor", "王主管", Role.supervisor, "华东一组", Decimal("50000000")),
        ("supervisor2", "李主管", Role.supervisor, "华南一组", Decimal("5000000")),
        ("collector", "张催收", Role.collector, "华东一组", None),
        ("collector2", "陈催收", Role.collector, "华南一组", None),
        ("risk", "赵风险", Role.risk_officer, None, None),
        ("auditor", "周审计", Role.auditor, None, None),
    ]
    for username, name, role, team, limit in users:
        create_user(session, username=username, password=password, role=role, display_name=name, team=team,
                    approval_limit=limit)
    # New cases go to the team of their region, then to its least-loaded collector.
    from collections_svc.auth.service import SYSTEM
    from collections_svc.cases.service import add_rule
    add_rule(session, SYSTEM, priority=10, region="华南", team="华南一组")
    add_rule(session, SYSTEM, priority=100, team="华东一组")


def seed_portfolio(session: Session, settings: Settings, today: dt.date, borrowers: int = 300, seed: int = 7,
                   progress=None) -> dict[str, int]:
    rng = random.Random(seed)
    order = settings.payments.allocation_order
    counts = {"borrowers": 0, "loans": 0, "installments": 0, "payments": 0}
    used_names: set[str] = set()
    for n in range(1, borrowers + 1):
        city = rng.choice(CITIES)
        ind, suffix = rng.choice(INDUSTRIES)
        while True:
            name = f"{city}{rng.choice(WORDS)}{rng.choice(WORDS)}{suffix}有限公司"
            if name not in used_names:
                used_names.add(name)
                break
        b = Borrower(external_id=f"B{n:06d}", name=name, uscc=make_uscc(rng), industry=ind, region=REGION_OF[city],
                     segment=rng.choice(["large", "medium", "small", "small"]),
                     group_id=f"G{rng.randrange(1, 40):03d}" if rng.random() < 0.2 else None)
        session.add(b)
        session.flush()
        counts["borrowers"] += 1
        legal = rng.choice(SURNAMES) + rng.choice(GIVEN)
        session.add_all([
            Contact(borrower_id=b.id, role=ContactRole.legal_representative, name=legal, phone=make_mobile(rng),
                    address=f"{city}市{rng.choice(['高新区', '经济开发区', '工业园区'])}{rng.randrange(1, 300)}号"),
            Contact(borrower_id=b.id, role=ContactRole.finance,
                    name=rng.choice(SURNAMES) + rng.choice(GIVEN) + "（财务）",
                    phone=make_mobile(rng), email=f"finance{n}@example.cn"),
        ])
        if rng.random() < 0.4:
            session.add(Contact(borrower_id=b.id, role=ContactRole.guarantor,
                                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                                phone=make_mobile(rng)))
        for k in range(rng.choice([1, 1, 1, 2, 2, 3])):
            _seed_loan(session, rng, b, n, k, today, order, counts)
        if progress:
            progress(n)
    return counts


def _seed_loan(session, rng, b, n, k, today, order, counts) -> None:
    product = rng.choice(PRODUCTS)
    months = rng.choice([12, 12, 24, 36]) if product != Product.trade_finance else rng.choice([6, 12])
    principal = Decimal(rng.choice([50, 80, 100, 150, 200, 300, 500, 800, 1000, 2000, 5000])) * 10000
    rate = Decimal(rng.choice(["0.0345", "0.0385", "0.0420", "0.0435", "0.0475", "0.0520"]))
    target_dpd = rng.choice(DPD_TARGETS)
    # Disbursed so that enough installments have fallen due to reach the target DPD.
    min_age_months = max(2, target_dpd // 30 + 2)
    age_days = rng.randrange(min_age_months * 31, max(min_age_months * 31 + 1, months * 30 - 20))
    disbursed = today - dt.timedelta(days=age_days)
    amortising = product in (Product.fixed_asset, Product.project_finance) or rng.random() < 0.4
    sched = monthly_schedule(principal, rate, disbursed, months, amortising)
    loan = Loan(external_id=f"L{n:06d}-{k + 1}", borrower_id=b.id, contract_no=f"HT{today.year}{n:05d}{k + 1}",
                product=product, currency="CNY", principal=principal, annual_rate=rate, disbursed_on=disbursed,
                maturity_on=sched[-1][0], scheduled_principal=principal)
    session.add(loan)
    session.flush()
    insts = [Installment(loan_id=loan.id, seq=i + 1, due_on=d, principal_due=p, interest_due=it,
                         penalty_due=Decimal(0), principal_paid=Decimal(0), interest_paid=Decimal(0),
                         penalty_paid=Decimal(0)) for i, (d, p, it) in enumerate(sched)]
    session.add_all(insts)
    session.flush()
    counts["loans"] += 1
    counts["installments"] += len(insts)
    cutoff = today - dt.timedelta(days=target_dpd) if target_dpd else today + dt.timedelta(days=1)
    payments = []
    for inst in insts:
        if inst.due_on >= cutoff or inst.due_on > today:
            break
        amount = inst.principal_due + inst.interest_due
        paid_on = inst.due_on - dt.timedelta(days=rng.choice([0, 0, 1, 2]))
        if target_dpd and inst.due_on >= cutoff - dt.timedelta(days=40) and rng.random() < 0.3:
            amount = (amount * Decimal("0.5")).quantize(CENT)  # a partial payment shortly before arrears
        payments.append((paid_on, amount))
    for j, (paid_on, amount) in enumerate(payments):
        pay = Payment(external_id=f"P-{loan.external_id}-{j + 1}", loan_id=loan.id, paid_on=paid_on, amount=amount)
        session.add(pay)
        allocs, rest = allocation.allocate(insts, amount, order, paid_on)
        session.flush()
        for a in allocs:
            session.add(PaymentAllocation(payment_id=pay.id, installment_id=a.installment.id, component=a.component,
                                          amount=a.amount))
            if a.component == "principal":
                loan.principal_paid += a.amount
        pay.unapplied = rest
        counts["payments"] += 1
    session.flush()


# --- collectors at work between the demo's past nights ------------------------------------------------------

# What a demo collector's call ends with: no answer most often, a promise to pay on about a quarter of calls.
CALL_OUTCOMES = ["no_answer"] * 4 + ["reached"] * 3 + ["promised"] * 3
DEMO_PAY_AT_HOUR = 10  # local time the demo's collectors work and its notices go out


def simulate_day(session_factory, settings: Settings, day: dt.date, rng: random.Random) -> dict[str, int]:
    """One working day of the demo's collectors, before that night's sweep, through the real services only.

    The assigned collector of a due case calls the borrower's own people (CN-COL-01), logs the outcome and
    sometimes takes a promise; promises falling due today are paid in full (~60 %), in part or not at all,
    so the sweep's promise evaluation marks them kept or broken; then the queued notices are dispatched
    through the configured channel (console in the demo) as the scheduler would. Deterministic given ``rng``.
    """
    from sqlalchemy import select

    from collections_svc.auth.models import User
    from collections_svc.auth.service import SYSTEM, actor_of
    from collections_svc.cases.models import Case, CaseHold, Promise
    from collections_svc.cases.service import PromiseIn, log_contact
    from collections_svc.common.clock import FixedClock
    from collections_svc.db import session_scope
    from collections_svc.loans.schemas import PaymentIn
    from collections_svc.loans.service import record_payment
    from collections_svc.notices.channels.twilio_sms import make_sms_sender
    from collections_svc.notices.compliance import is_closed_day
    from collections_svc.notices.dispatcher import dispatch_batch

    counts = {"contacts": 0, "promises": 0, "payments": 0, "notices_sent": 0}
    # Quiet weekends and holidays apply to collectors' calls as to automated contact (CN-COL-03 spirit).
    if is_closed_day(day, settings.notices):
        return counts
    with session_scope(session_factory) as s:
        # Promises due today: the borrower pays in full, in part or not at all.
        for pr in s.scalars(select(Promise).where(Promise.status == "open", Promise.due_on == day)
                            .order_by(Promise.id)).all():
            roll = rng.random()
            share = Decimal(1) if roll < 0.6 else Decimal("0.5") if roll < 0.8 else Decimal(0)
            amount = (pr.amount * share).quantize(CENT)
            if amount <= 0:
                continue
            loan = s.get(Loan, pr.loan_id)
            record_payment(s, settings, PaymentIn(external_id=f"DEMO-PTP-{pr.id}", loan_external_id=loan.external_id,
                                                  paid_on=day, amount=amount, note="demo: promised payment"),
                           SYSTEM, day)  # the bank's payment feed, not the collector
            counts["payments"] += 1
        held = select(CaseHold.case_id).where(CaseHold.starts_on <= day,
                                              (CaseHold.ends_on.is_(None)) | (CaseHold.ends_on > day))
        due = s.scalars(select(Case).where(Case.is_open.is_(True), Case.assignee_id.is_not(None),
                                           Case.id.not_in(held),
                                           (Case.next_action_on.is_(None)) | (Case.next_action_on <= day))
                        .order_by(Case.id)).all()
        users: dict[int, User] = {}
        for case in due:
            if rng.random() >= 0.3:  # a collector gets through about a third of the due queue a day
                continue
            user = users.get(case.assignee_id) or users.setdefault(case.assignee_id, s.get(User, case.assignee_id))
            if user is None or not user.active:
                continue
            people = [c for c in s.scalars(select(Contact).where(Contact.borrower_id == case.borrower_id)
                                           .order_by(Contact.id)) if c.phone and c.role != ContactRole.other]
            if not people:
                continue
            loan = s.get(Loan, case.loan_id)
            outcome = rng.choice(CALL_OUTCOMES)
            promise = None
            if outcome == "promised":
                owed = loan.overdue_amount or Decimal(0)
                if owed <= 0:
                    outcome = "reached"
                else:
                    # A part of the arrears, as corporate borrowers usually promise: paying it all would cure
                    # most of the demo's late buckets and leave the aging and roll-rate reports flat.
                    part = (owed * Decimal(rng.choice(["0.05", "0.1", "0.2"]))).quantize(CENT)
                    promise = PromiseIn(amount=max(part, CENT), due_on=day + dt.timedelta(days=rng.randint(2, 7)))
            next_on = None if promise else day + dt.timedelta(days=rng.randint(1, 3) if outcome == "no_answer" else 7)
            log_contact(s, case, channel="phone", outcome=outcome, actor=actor_of(user), business_date=day,
                        contact_id=rng.choice(people).id, next_action_on=next_on, promise=promise)
            counts["contacts"] += 1
            counts["promises"] += promise is not None
    # The scheduler's dispatch job, at the collectors' working hour of that day.
    clock = FixedClock(dt.datetime.combine(day, dt.time(DEMO_PAY_AT_HOUR), ZoneInfo(settings.bank.timezone)))
    sender = make_sms_sender(settings)
    if hasattr(sender, "now"):
        sender.now = clock.now  # the console outbox stamps the demo day, not the wall clock
    for _ in range(50):  # a deferred notice waits for a later day, so this ends once nothing due is left
        batch = dispatch_batch(session_factory, sender, clock, settings, limit=200, rng=random.Random(rng.random()))
        counts["notices_sent"] += batch.sent
        if not batch.claimed:
            break
    return counts
