"""Strategies as data: validation a policy editor understands, and first-match, forward-only evaluation."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collections_svc.config import Settings
from collections_svc.strategy import service
from collections_svc.strategy.rules import (
    AUTOMATIC_TARGETS,
    STAGE_RANK,
    CaseFacts,
    StrategyInvalid,
    evaluate,
    forward_target,
    matches,
    parse_strategy,
)

TEMPLATES = {"sms/first_reminder", "sms/letter_sent", "letter/first_demand"}


def doc(*rules, version="t-1"):
    return {"version": version, "rules": list(rules)}


def problems(document, templates=TEMPLATES) -> list[dict]:
    with pytest.raises(StrategyInvalid) as exc:
        parse_strategy(document, templates)
    return exc.value.errors


def test_shipped_default_ladder_is_valid_and_ordered():
    s = service.shipped_strategy(Settings())
    assert [r.id for r in s.rules][-1] == "phone_reminder"
    f = lambda dpd, **kw: evaluate(s, CaseFacts(case_id=1, stage="classified", dpd=dpd, **kw))  # noqa: E731
    assert f(0) is None
    assert (f(1).target, f(1).notices, f(1).tasks) == ("phone_reminder", (("sms", "first_reminder"),),
                                                       ("call",))
    assert f(14).target == "phone_reminder"
    assert f(15).target == "letter" and ("letter", "first_demand") in f(15).notices
    assert f(30).target == "visit" and f(30).tasks == ("visit",)
    assert f(60, days_since_contact=3).proposal is None            # promises kept, recently reached
    assert f(60, broken_promises=1).proposal == "restructuring"
    assert f(60).rule_id == "negotiation_no_contact"                # never reached counts as no contact
    assert f(60, days_since_contact=3).rule_id == "onsite_visit"
    assert f(90, days_since_contact=3).proposal is None
    assert f(91).proposal == "legal_referral"


def test_unknown_stage_is_reported():
    errs = problems(doc({"id": "a", "when": {"dpd_min": 1}, "target": "jail"}))
    assert errs[0]["field"] == "rules[0].target" and "unknown stage 'jail'" in errs[0]["message"]


def test_closed_stage_cannot_be_an_automatic_target():
    errs = problems(doc({"id": "a", "when": {"dpd_min": 1}, "target": "written_off"}))
    assert "unknown stage 'written_off'" in errs[0]["message"]


def test_unknown_template_is_reported():
    errs = problems(doc({"id": "a", "when": {"dpd_min": 1}, "target": "letter", "notices": ["letter/nope"]}))
    assert errs == [{"field": "rules[0].notices[0]", "message": "unknown template 'letter/nope'"}]
    errs = problems(doc({"id": "a", "when": {"dpd_min": 1}, "target": "letter", "notices": ["fax/x"]}))
    assert "channel/template" in errs[0]["message"]


def test_bad_ranges_are_reported():
    errs = problems(doc({"id": "a", "when": {"dpd_min": 30, "dpd_max": 10}, "target": "visit"},
                        {"id": "b", "when": {"exposure_min": "500", "exposure_max": "100"},
                         "target": "visit"}))
    fields = {e["field"] for e in errs}
    assert {"rules[0].when.dpd_max", "rules[1].when.exposure_max"} <= fields
    assert any("DPD range is empty" in e["message"] for e in errs)
    errs = problems(doc({"id": "a", "when": {"dpd_min": -1}, "target": "visit"}))
    assert errs[0]["field"] == "rules[0].when.dpd_min"


def test_unreachable_rule_is_reported():
    errs = problems(doc({"id": "wide", "when": {"dpd_min": 1}, "target": "phone_reminder"},
                        {"id": "narrow", "when": {"dpd_min": 30}, "target": "visit"}))
    assert errs[0]["field"] == "rules[1]"
    assert "'narrow' can never match" in errs[0]["message"] and "'wide'" in errs[0]["message"]


def test_product_subset_is_unreachable_but_disjoint_products_are_fine():
    wc = {"id": "wc", "when": {"dpd_min": 1, "product": ["working_capital", "trade_finance"]},
          "target": "letter"}
    tf = {"id": "tf", "when": {"dpd_min": 5, "product": "trade_finance"}, "target": "visit"}
    errs = problems(doc(wc, tf))
    assert "'tf' can never match" in errs[0]["message"]
    fa = {"id": "fa", "when": {"dpd_min": 1, "product": "fixed_asset"}, "target": "visit"}
    s = parse_strategy(doc(wc, fa), TEMPLATES)
    assert len(s.rules) == 2 and s.warnings == ()


def test_overlap_with_less_severe_rule_first_is_a_warning():
    small = {"id": "small", "when": {"dpd_min": 1, "exposure_max": "1000000"}, "target": "letter"}
    big = {"id": "big", "when": {"dpd_min": 1, "exposure_min": "500000"}, "target": "visit"}
    s = parse_strategy(doc(small, big), TEMPLATES)
    assert len(s.warnings) == 1 and "'small' and 'big' overlap" in s.warnings[0]


def test_other_problems_listed_together():
    errs = problems(doc({"id": "a", "when": {"dpd_min": 1}},
                        {"id": "a", "when": {"dpd_min": 2}, "target": "visit", "tasks": ["email"],
                         "proposal": "prison"},
                        {"id": "c", "when": {"region": []}, "target": "visit"}))
    text = " | ".join(e["message"] for e in errs)
    for expected in ("does nothing", "used twice", "unknown task 'email'", "unknown proposal 'prison'",
                     "empty list matches nothing"):
        assert expected in text


def test_unknown_condition_is_rejected():
    errs = problems(doc({"id": "a", "when": {"dpd_minimum": 1}, "target": "visit"}))
    assert errs[0]["field"] == "rules[0].when.dpd_minimum"


# ---------------------------------------------------------------- properties

conditions = st.fixed_dictionaries({}, optional={
    "dpd_min": st.integers(0, 200), "dpd_max": st.integers(0, 200),
    "exposure_min": st.integers(0, 10).map(lambda x: Decimal(x * 100000)),
    "broken_promises_min": st.integers(0, 3), "days_in_stage_min": st.integers(0, 30),
    "product": st.sampled_from([("working_capital",), ("fixed_asset",), ("working_capital", "fixed_asset")]),
    "restructured_redefault": st.booleans(),
})
rules = st.lists(st.tuples(conditions, st.sampled_from(AUTOMATIC_TARGETS)), min_size=1, max_size=6)
facts = st.builds(CaseFacts, case_id=st.just(1), stage=st.sampled_from(list(STAGE_RANK)),
                  dpd=st.integers(0, 250), exposure=st.integers(0, 12).map(lambda x: Decimal(x * 100000)),
                  product=st.sampled_from(["working_capital", "fixed_asset"]),
                  broken_promises=st.integers(0, 4), days_in_stage=st.integers(0, 40),
                  restructured=st.booleans())


def _build(rule_list):
    d = doc(*[{"id": f"r{i}", "when": {k: (str(v) if isinstance(v, Decimal) else v) for k, v in c.items()},
               "target": t} for i, (c, t) in enumerate(rule_list)])
    try:
        return parse_strategy(d, TEMPLATES)
    except StrategyInvalid:
        return None


@settings(max_examples=300, deadline=None)
@given(rules, facts)
def test_first_match_wins(rule_list, f):
    s = _build(rule_list)
    if s is None:
        return
    decision = evaluate(s, f)
    matching = [r for r in s.rules if matches(r.when, f)]
    if not matching:
        assert decision is None
    else:
        assert decision.rule_id == matching[0].id and decision.target == matching[0].target


@settings(max_examples=300, deadline=None)
@given(rules, facts)
def test_automatic_moves_only_go_forward(rule_list, f):
    s = _build(rule_list)
    if s is None:
        return
    target = forward_target(f.stage, evaluate(s, f))
    assert target is None or STAGE_RANK[target] > STAGE_RANK[f.stage]


@settings(max_examples=200, deadline=None)
@given(rules)
def test_every_accepted_rule_is_reachable(rule_list):
    """No rule that validation accepts is fully shadowed by an earlier one."""
    from collections_svc.strategy.rules import covers
    s = _build(rule_list)
    if s is None:
        return
    for j, later in enumerate(s.rules):
        assert not any(covers(earlier.when, later.when) for earlier in s.rules[:j])


def test_to_doc_round_trips():
    s = service.shipped_strategy(Settings())
    again = parse_strategy(copy.deepcopy(s.to_doc()), None)
    assert again.rules == s.rules
