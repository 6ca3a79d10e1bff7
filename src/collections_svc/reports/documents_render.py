"""Rendering of the report documents: the sandboxed Jinja environment, labels per locale, number and
date formatting, inline SVG charts, PDF (WeasyPrint) and XLSX (openpyxl).

Templates live in ``reports/templates/`` next to this module (not in ``notice_templates/``): they
are internal documents whose structure is tied to the data this package builds, not borrower
communications a bank edits, so they are versioned and shipped with the code. They render in a
``SandboxedEnvironment`` with autoescape on and ``StrictUndefined``: user text (notes, findings,
warning evidence, the free-text conclusion) is always escaped, and a missing field raises instead of
printing nothing. Both locales share one template; the words come from ``LABELS``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from collections_svc.notices.amounts import rmb_upper
from collections_svc.notices.channels.letters import LETTER_FONT

Locale = Literal["zh_CN", "en"]
LOCALES: tuple[str, ...] = ("zh_CN", "en")
TEMPLATES_DIR = Path(__file__).parent / "templates"

# Words shown in the documents. Enum values (categories, stages, ...) are looked up in the same table.
LABELS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "post_loan_title": "贷后管理报告",
        "warnings_title": "风险预警报告",
        "portfolio_title": "月度资产组合报告",
        "as_of": "报告基准日", "generated": "生成日期", "page": "页", "bank": "报告机构",
        "borrower_facts": "借款人基本情况", "name": "借款人名称", "uscc": "统一社会信用代码",
        "industry": "行业", "region": "地区", "segment": "客户类型", "group": "所属集团",
        "rm": "客户经理", "watchlist": "关注名单", "yes": "是", "no": "否",
        "exposure": "授信及贷款余额", "contract_no": "合同编号", "product": "产品", "principal": "发放金额",
        "outstanding": "贷款余额", "disbursed_on": "发放日", "maturity_on": "到期日", "status": "状态",
        "dpd": "逾期天数", "overdue_amount": "逾期金额", "bucket": "逾期档位", "category": "五级分类",
        "stage": "IFRS 9 阶段", "total": "合计", "in_words": "大写", "currency_word": "人民币",
        "repayment": "还款情况", "installments_due": "已到期期数", "on_time": "按时还款", "late": "逾期后还款",
        "unpaid": "尚未还清", "max_dpd": "最高逾期天数", "dpd_history": "逾期档位变化",
        "entered_on": "进入日", "left_on": "离开日",
        "classification_history": "风险分类变化", "date": "日期", "from": "由", "to": "至",
        "rules": "依据规则", "source": "来源",
        "reviews": "贷后检查及发现", "review_type": "检查类型", "on_site": "现场", "off_site": "非现场",
        "findings": "检查发现", "conclusion_text": "检查结论", "recommended": "建议分类", "author": "检查人",
        "warnings": "预警信号", "raised_on": "预警日", "code": "预警代码", "severity": "严重程度",
        "evidence": "证据", "note": "备注", "closed_on": "关闭日",
        "collection": "催收记录", "case": "案件", "opened_on": "立案日", "stage_changes": "阶段变化",
        "contacts": "联系记录", "channel": "方式", "outcome": "结果", "actor": "经办人",
        "promises": "还款承诺", "amount": "金额", "due_on": "承诺日", "paid_amount": "已还金额",
        "visits": "上门走访", "scheduled_on": "计划日", "visited_on": "走访日", "notices": "通知",
        "template": "模板",
        "conclusion": "结论", "current_category": "当前五级分类（最差）", "trend": "分类趋势",
        "open_warnings": "未关闭预警", "total_outstanding": "贷款余额合计", "total_overdue": "逾期金额合计",
        "user_conclusion": "经办人意见", "none": "无",
        "trend_up": "改善", "trend_down": "恶化", "trend_flat": "稳定",
        "period": "报告期间", "summary": "预警概况", "count": "笔数", "borrower": "借款人",
        "actions": "已采取措施", "no_actions": "尚未采取措施", "action_status": "状态变更",
        "action_task": "检查任务", "action_review": "检查报告", "action_watch": "列入关注名单",
        "by_severity": "按严重程度", "loan": "贷款",
        "aging": "账龄分布（按逾期档位）", "by_category": "按五级分类", "balance": "余额", "share": "占比",
        "par": "风险资产率", "roll_rate": "滚动率矩阵", "migration": "五级分类迁徙率（IND-08）",
        "rates": "回收指标", "cure_rate": "治愈率", "ptp_kept_rate": "承诺兑现率", "recovery_rate": "回收率",
        "rpc_rate": "有效联系率", "collectors": "催收人员绩效", "collector": "催收员", "team": "团队",
        "cases_worked": "处理案件", "promises_taken": "承诺笔数", "promises_kept": "兑现笔数",
        "collected": "回收金额", "cures": "治愈", "rolls_forward": "恶化", "compliance_blocks": "合规拦截",
        "notice_stats": "通知统计", "queued": "待发送", "sent": "已发送", "delivered": "已送达",
        "failed": "失败", "deferred": "延后", "reason": "原因", "paid_off": "结清", "written_off": "核销",
        "ranking_note": "注：不单以回收金额考核催收人员（CN-COL-01）。",
        "figures_source": "数据来源",
        "score": "综合得分", "snapshot_date": "快照日期", "opening_balance": "期初余额",
        "migrated_balance": "迁徙余额", "denominator": "分母（期初余额－期间减少）", "rate": "迁徙率",
        "failures": "发送失败（按原因）", "deferrals": "延后发送（按合规闸门）", "gate": "闸门", "events": "次数",
        "error_code": "错误代码", "unclassified": "未分类", "matrix_balances": "迁徙矩阵（期初余额）",
        "no_snapshot": "该月末尚无每日快照，无法出具组合数据。",
        "source_text": "每日贷款快照（reports.analytics），与 /api/v1/reports 接口同源",
        # enum values
        "normal": "正常", "special_mention": "关注", "substandard": "次级", "doubtful": "可疑", "loss": "损失",
        "low": "低", "medium": "中", "high": "高", "severe": "严重",
        "open": "未处理", "acknowledged": "已确认", "closed": "已关闭", "done": "已完成",
        "cancelled": "已取消", "active": "正常", "kept": "已兑现", "broken": "未兑现",
        "working_capital": "流动资金贷款", "fixed_asset": "固定资产贷款", "project_finance": "项目融资",
        "trade_finance": "贸易融资", "other": "其他",
        "classified": "已分类", "phone_reminder": "电话催收", "letter": "催收函", "visit": "上门催收",
        "restructuring": "重组协商", "legal": "法律诉讼", "resolved": "已结清", "restructured": "已重组",
        "phone": "电话", "sms": "短信", "email": "电子邮件",
        "reached": "已联系上", "no_answer": "无人接听", "wrong_number": "号码错误", "refused": "拒绝",
        "promised": "承诺还款", "disputed": "有异议", "paid_claimed": "称已还款", "left_message": "已留言",
        "scheduled": "已安排", "reported": "已报告",
        "first_check": "首次跟踪检查", "routine": "例行检查", "pre_maturity": "还款资金落实检查",
        "ad_hoc": "重点检查", "group_npl": "集团成员检查", "info_update": "信息更新",
        "engine": "系统", "override": "人工调整",
        "operations": "经营情况", "finances": "财务状况", "use_of_funds": "资金用途", "collateral": "抵质押物",
        "guarantors": "保证人",
        "management_change": "管理层变动", "litigation": "涉诉", "adverse_news": "负面舆情",
        "industry_downturn": "行业下行", "collateral_value_drop": "押品价值下降", "key_customer_loss": "主要客户流失",
    },
    "en": {
        "post_loan_title": "Post-loan Management Report",
        "warnings_title": "Risk-warning Report",
        "portfolio_title": "Monthly Portfolio Report",
        "as_of": "As of", "generated": "Generated", "page": "Page", "bank": "Bank",
        "borrower_facts": "Borrower", "name": "Name", "uscc": "Unified social credit code",
        "industry": "Industry", "region": "Region", "segment": "Segment", "group": "Group",
        "rm": "Relationship manager", "watchlist": "On the watchlist", "yes": "yes", "no": "no",
        "exposure": "Exposure", "contract_no": "Contract", "product": "Product", "principal": "Principal",
        "outstanding": "Outstanding", "disbursed_on": "Disbursed", "maturity_on": "Maturity", "status": "Status",
        "dpd": "DPD", "overdue_amount": "Overdue", "bucket": "Bucket", "category": "Category",
        "stage": "IFRS 9 stage", "total": "Total", "in_words": "In words", "currency_word": "RMB",
        "repayment": "Repayment behaviour", "installments_due": "Installments due", "on_time": "Paid on time",
        "late": "Paid late", "unpaid": "Not yet paid", "max_dpd": "Highest DPD", "dpd_history": "Bucket history",
        "entered_on": "Entered", "left_on": "Left",
        "classification_history": "Classification history", "date": "Date", "from": "From", "to": "To",
        "rules": "Rules", "source": "Source",
        "reviews": "Reviews and findings", "review_type": "Type", "on_site": "on site", "off_site": "off site",
        "findings": "Findings", "conclusion_text": "Conclusion", "recommended": "Recommended", "author": "Author",
        "warnings": "Warnings", "raised_on": "Raised", "code": "Code", "severity": "Severity",
        "evidence": "Evidence", "note": "Note", "closed_on": "Closed",
        "collection": "Collection history", "case": "Case", "opened_on": "Opened", "stage_changes": "Stage changes",
        "contacts": "Contacts", "channel": "Channel", "outcome": "Outcome", "actor": "By",
        "promises": "Promises to pay", "amount": "Amount", "due_on": "Due", "paid_amount": "Paid",
        "visits": "Visits", "scheduled_on": "Scheduled", "visited_on": "Visited", "notices": "Notices",
        "template": "Template",
        "conclusion": "Conclusion", "current_category": "Current category (worst)", "trend": "Trend",
        "open_warnings": "Open warnings", "total_outstanding": "Total outstanding", "total_overdue": "Total overdue",
        "user_conclusion": "Officer's conclusion", "none": "none",
        "trend_up": "improving", "trend_down": "deteriorating", "trend_flat": "stable",
        "period": "Period", "summary": "Summary", "count": "Count", "borrower": "Borrower",
        "actions": "Actions taken", "no_actions": "No action taken yet", "action_status": "Status change",
        "action_task": "Review task", "action_review": "Review report", "action_watch": "Put on the watchlist",
        "by_severity": "By severity", "loan": "Loan",
        "aging": "Aging by bucket", "by_category": "By classification", "balance": "Balance", "share": "Share",
        "par": "Portfolio at risk", "roll_rate": "Roll-rate matrix", "migration": "Category migration (IND-08)",
        "rates": "Recovery indicators", "cure_rate": "Cure rate", "ptp_kept_rate": "Promise-kept rate",
        "recovery_rate": "Recovery rate", "rpc_rate": "Right-party-contact rate", "collectors": "Collector performance",
        "collector": "Collector", "team": "Team", "cases_worked": "Cases worked", "promises_taken": "Promises",
        "promises_kept": "Kept", "collected": "Collected", "cures": "Cures", "rolls_forward": "Rolled forward",
        "compliance_blocks": "Compliance blocks", "notice_stats": "Notice statistics", "queued": "Queued",
        "sent": "Sent", "delivered": "Delivered", "failed": "Failed", "deferred": "Deferred", "reason": "Reason",
        "paid_off": "Paid off", "written_off": "Written off",
        "ranking_note": "Collectors are never appraised on the amount collected alone (CN-COL-01).",
        "figures_source": "Figures from",
        "score": "Balanced score", "snapshot_date": "Snapshot", "opening_balance": "Opening balance",
        "migrated_balance": "Migrated", "denominator": "Denominator (opening - reductions)", "rate": "Rate",
        "failures": "Failed, by reason", "deferrals": "Deferred, by compliance gate", "gate": "Gate",
        "events": "Events", "error_code": "Error code", "unclassified": "Unclassified",
        "matrix_balances": "Migration matrix (opening balance)",
        "no_snapshot": "No daily snapshot exists for this month-end yet: no portfolio figures.",
        "source_text": "the daily loan snapshot (reports.analytics), the same as the /api/v1/reports API",
        "normal": "Normal", "special_mention": "Special mention", "substandard": "Substandard",
        "doubtful": "Doubtful", "loss": "Loss",
        "low": "low", "medium": "medium", "high": "high", "severe": "severe",
        "open": "open", "acknowledged": "acknowledged", "closed": "closed", "done": "done",
        "cancelled": "cancelled", "active": "active", "kept": "kept", "broken": "broken",
        "working_capital": "Working capital", "fixed_asset": "Fixed asset", "project_finance": "Project finance",
        "trade_finance": "Trade finance", "other": "Other",
        "classified": "classified", "phone_reminder": "phone reminder", "letter": "letter", "visit": "visit",
        "restructuring": "restructuring", "legal": "legal", "resolved": "resolved", "restructured": "restructured",
        "phone": "phone", "sms": "SMS", "email": "email",
        "reached": "reached", "no_answer": "no answer", "wrong_number": "wrong number", "refused": "refused",
        "promised": "promised", "disputed": "disputed", "paid_claimed": "claims paid",
        "left_message": "left message", "scheduled": "scheduled", "reported": "reported",
        "first_check": "first check", "routine": "routine", "pre_maturity": "pre-maturity",
        "ad_hoc": "ad hoc", "group_npl": "group NPL", "info_update": "info update",
        "engine": "engine", "override": "override",
        "operations": "Operations", "finances": "Finances", "use_of_funds": "Use of funds",
        "collateral": "Collateral", "guarantors": "Guarantors",
        "management_change": "Management change", "litigation": "Litigation", "adverse_news": "Adverse news",
        "industry_downturn": "Industry downturn", "collateral_value_drop": "Collateral value drop",
        "key_customer_loss": "Key customer lost",
    },
}


def label(locale: str, key: Any) -> str:
    if key is None:
        return ""
    return LABELS[locale].get(str(key), str(key))


def fmt_money(amount: Decimal | None, locale: str, currency: str = "CNY") -> str:
    if amount is None:
        return "—"
    return format_currency(amount, currency, locale=locale)


def fmt_number(value: Decimal | int | None, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, int):
        return format_decimal(value, locale=locale)
    return format_decimal(value, format="#,##0.00", locale=locale)


def fmt_pct(value: Decimal | float | None, locale: str) -> str:
    """A share (0.1234) as a percentage with one decimal ("12.3%"); None -> a dash (no denominator)."""
    if value is None:
        return "—"
    return format_percent(Decimal(str(value)), format="#,##0.0%", locale=locale)


def fmt_date(d: dt.date | None, locale: str, long: bool = False) -> str:
    if d is None:
        return "—"
    return format_date(d, format="long", locale=locale) if long else d.isoformat()


def fmt_evidence(evidence: Any) -> str:
    """Evidence JSON as one readable line; escaped by the template like any other user text."""
    if not evidence:
        return ""
    if isinstance(evidence, dict):
        return "; ".join(
            f"{k}: {v if isinstance(v, str | int | float) else json.dumps(v, ensure_ascii=False)}"
            for k, v in evidence.items()
        )
    return json.dumps(evidence, ensure_ascii=False)


@lru_cache(maxsize=4)
def environment(templates_dir: str = str(TEMPLATES_DIR)) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        loader=FileSystemLoader(templates_dir),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["evidence"] = fmt_evidence
    env.filters["rmb_upper"] = rmb_upper
    return env


def render_html(template: str, locale: str, context: dict[str, Any]) -> str:
    t = LABELS[locale]

    def lab(key: Any) -> str:
        return label(locale, key)

    ctx = {
        "t": t, "lab": lab, "locale": locale, "font": LETTER_FONT,
        "money": lambda a, c="CNY": fmt_money(a, locale, c),
        "num": lambda v: fmt_number(v, locale),
        "pct": lambda v: fmt_pct(v, locale),
        "date": lambda d, long=False: fmt_date(d, locale, long),
        **context,
    }
    return environment().get_template(template).render(ctx)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # imported lazily: it loads Pango

    return HTML(string=html).write_pdf()


# ------------------------------------------------------------------ charts (inline SVG, no JS)

PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#9c755f")


def bar_chart_svg(items: list[tuple[str, Decimal | int]], *, title: str, value_text: list[str],
                  width: int = 480, height: int = 200) -> Markup:
    """A vertical bar chart as an inline SVG element. Labels are escaped here (the result is Markup)."""
    n = max(len(items), 1)
    top, bottom, left = 14, 20, 10
    plot_h = height - top - bottom
    slot = (width - 2 * left) / n
    bar_w = slot * 0.6
    peak = max((Decimal(v) for _, v in items), default=Decimal(0)) or Decimal(1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - left}" y2="{top + plot_h}" stroke="#555" '
        'stroke-width="0.8"/>',
    ]
    for i, ((name, value), vt) in enumerate(zip(items, value_text, strict=True)):
        h = float(Decimal(value) / peak) * plot_h
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        colour = PALETTE[i % len(PALETTE)]
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="{colour}"/>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{max(y - 3, top - 2):.1f}" text-anchor="middle" '
                     f'font-size="8">{escape(vt)}</text>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{top + plot_h + 14:.1f}" text-anchor="middle" '
                     f'font-size="9">{escape(name)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 -- every text node above went through escape()


# ------------------------------------------------------------------ XLSX


def workbook_bytes(sheets: list[tuple[str, list[str], list[list[Any]]]]) -> bytes:
    """One sheet per table: (title, header, rows). Decimals go in as numbers (openpyxl writes them exactly
    as their decimal text), never as strings, so a spreadsheet sums them."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for title, header, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.append(header)
        for c in ws[1]:
            c.font = Font(bold=True)
        for row in rows:
            ws.append(list(row))
        for i, h in enumerate(header, start=1):
            ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, min(40, len(str(h)) * 2 + 2))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
