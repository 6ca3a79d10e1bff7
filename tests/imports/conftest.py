"""A small, valid loan book as CSV files, the way a core banking export would deliver it."""

from __future__ import annotations

import pytest

from collections_svc.loans.validators import uscc_check_char


def uscc(n: int) -> str:
    body = f"91440300{n:09d}"
    return body + uscc_check_char(body)


BORROWERS = (
    "external_id,name,uscc,industry,region,group_id,timezone,language\n"
    f"CB001,深圳华信电子科技有限公司,{uscc(1)},制造业,华南,G01,Asia/Shanghai,zh_CN\n"
    f"CB002,广州鼎盛商贸有限公司,{uscc(2)},批发和零售业,华南,,Asia/Shanghai,zh_CN\n"
    f"CB003,Hong Kong Pearl Trading Ltd,{uscc(3)},批发和零售业,华南,G01,Asia/Hong_Kong,en\n"
)
CONTACTS = (
    "borrower_external_id,role,name,phone,email,address\n"
    "CB001,legal_representative,王伟,13800138000,,深圳市南山区科技园1号\n"
    "CB001,finance,李芳,+86 139 1234 5678,finance@huaxin.example.cn,\n"
    "CB002,guarantor,张强,021-6234 5678,,\n"
)
LOANS = (
    "external_id,borrower_external_id,contract_no,product,currency,principal,annual_rate,disbursed_on,maturity_on\n"
    "CL001,CB001,HT2025001,working_capital,CNY,1200000.00,0.0435,2025-12-15,2026-06-15\n"
    "CL002,CB002,HT2025002,trade_finance,CNY,500000.00,0.0385,2026-01-10,2026-07-10\n"
    "CL003,CB003,HT2025003,fixed_asset,CNY,3000000.00,0.0475,2025-10-01,2028-10-01\n"
)
INSTALLMENTS = (
    "loan_external_id,seq,due_on,principal_due,interest_due\n"
    "CL001,1,2026-01-15,200000.00,4350.00\n"
    "CL001,2,2026-02-15,200000.00,3625.00\n"
    "CL001,3,2026-03-15,200000.00,2900.00\n"
    "CL002,1,2026-02-10,0.00,1604.17\n"
    "CL002,2,2026-03-10,0.00,1604.17\n"
)
PAYMENTS = (
    "external_id,loan_external_id,paid_on,amount\n"
    "CP001,CL001,2026-01-15,204350.00\n"
    "CP002,CL001,2026-02-16,203625.00\n"
    "CP003,CL002,2026-02-10,1604.17\n"
)
FILES = {
    "borrowers": BORROWERS,
    "contacts": CONTACTS,
    "loans": LOANS,
    "installments": INSTALLMENTS,
    "payments": PAYMENTS,
}


def post_csv(client, headers, kind: str, content: str | bytes, filename: str = "data.csv"):
    data = content.encode("utf-8") if isinstance(content, str) else content
    return client.post(
        f"/api/v1/imports/{kind}/csv", headers=headers, files={"file": (filename, data, "text/csv")}
    )


@pytest.fixture
def imported_book(client, auth):
    """Import all five good files in order; returns the per-kind results."""
    out = {}
    for kind, content in FILES.items():
        r = post_csv(client, auth("integration"), kind, content)
        assert r.status_code == 200, f"{kind}: {r.text}"
        out[kind] = r.json()
    return out
