"""Templates: every one validated against the manifest; typos fail loudly; SMS carry the opt-out hint."""

from __future__ import annotations

import shutil

import pytest

from collections_svc.config import Settings
from collections_svc.main import create_app
from collections_svc.notices.templates import (
    LOCALES,
    MANIFEST,
    TemplateProblem,
    render,
    sample_context,
    templates_dir,
    validate_templates,
)


def test_all_templates_exist_and_validate():
    s = Settings()
    checked = validate_templates(s)
    assert len(checked) == len(MANIFEST) * len(LOCALES)
    assert {m.channel for m in MANIFEST.values()} == {"sms", "letter"}


def _copy(tmp_path) -> Settings:
    shutil.copytree(templates_dir(Settings()), tmp_path / "tpl")
    return Settings(notices={"templates_dir": str(tmp_path / "tpl")})


def test_a_variable_typo_fails_loudly_and_stops_the_app(tmp_path):
    s = _copy(tmp_path)
    p = tmp_path / "tpl" / "sms" / "first_reminder.zh_CN.txt.j2"
    p.write_text(
        p.read_text(encoding="utf-8").replace("{{ overdue_amount }}", "{{ overdue_amout }}"), encoding="utf-8"
    )
    with pytest.raises(TemplateProblem) as e:
        validate_templates(s)
    assert "overdue_amout" in e.value.detail and "first_reminder.zh_CN" in e.value.detail
    with pytest.raises(TemplateProblem):
        create_app(s)


def test_a_missing_locale_file_and_a_missing_opt_out_hint_fail(tmp_path):
    s = _copy(tmp_path)
    (tmp_path / "tpl" / "letters" / "final_demand.en.html.j2").unlink()
    p = tmp_path / "tpl" / "sms" / "letter_sent.en.txt.j2"
    p.write_text(p.read_text(encoding="utf-8").replace("{{ opt_out_hint }}", ""), encoding="utf-8")
    with pytest.raises(TemplateProblem) as e:
        validate_templates(s)
    assert "final_demand.en" in e.value.detail and "opt_out_hint" in e.value.detail


def test_missing_value_never_renders_an_empty_field():
    s = Settings()
    ctx = sample_context(s, "zh_CN")
    del ctx["promise_date"]
    with pytest.raises(TemplateProblem):
        render(s, "promise_reminder", "zh_CN", ctx)


def test_letters_autoescape_and_the_sandbox_blocks_attribute_tricks(tmp_path):
    s = Settings()
    ctx = sample_context(s, "zh_CN") | {"borrower_name": "<script>alert(1)</script>"}
    html = render(s, "first_demand", "zh_CN", ctx).body
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert 'font-family: "WenQuanYi Micro Hei"' in html
    from jinja2.exceptions import SecurityError

    from collections_svc.notices.templates import environment

    with pytest.raises(SecurityError):
        environment(s).from_string("{{ x.__class__.__mro__[1].__subclasses__() }}").render(x=1)


def test_opt_out_hint_follows_the_jurisdiction_setting():
    assert Settings().notices.wants_opt_out_hint is False
    assert Settings(notices={"jurisdiction": "US"}).notices.wants_opt_out_hint is True
    assert Settings(notices={"opt_out_hint": True}).notices.wants_opt_out_hint is True


def test_letters_state_balance_overdue_reason_dispute_and_contact():
    s = Settings()
    for name, spec in MANIFEST.items():
        if spec.channel != "letter":
            continue
        zh = render(s, name, "zh_CN", sample_context(s, "zh_CN")).body
        for phrase in ("贷款余额", "逾期合计", "催收原因", "异议方式", "联系方式", "捌万叁仟陆佰贰拾伍元整"):
            assert phrase in zh, (name, phrase)
        en = render(s, name, "en", sample_context(s, "en")).body
        for phrase in (
            "Outstanding principal",
            "Total overdue",
            "Why you receive",
            "How to dispute",
            "Contact:",
        ):
            assert phrase in en, (name, phrase)


def test_template_list_for_the_admin_preview(client, auth):
    r = client.get("/api/v1/notice-templates", headers=auth("admin"))
    assert r.status_code == 200, r.text
    by_name = {t["name"]: t for t in r.json()}
    assert by_name["first_demand"]["channel"] == "letter"
    assert "overdue_amount_upper" in by_name["first_demand"]["variables"]
    assert by_name["promise_broken"]["trigger_values"] == {"promise_amount": "50000.00", "promise_date": "2026-04-10"}
    assert by_name["promise_broken"]["locales"] == ["zh_CN", "en"]
