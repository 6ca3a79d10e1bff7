"""Settings of the report documents (``settings.report_documents``; config.py only gains one field)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReportDocumentSettings(BaseModel):
    # Where the scheduler stores the monthly portfolio report: <output_dir>/portfolio/portfolio-YYYY-MM.*
    output_dir: str = "./var/reports"
    # The monthly report is written in each of these languages (PDF) plus one XLSX.
    locales: list[Literal["zh_CN", "en"]] = Field(default_factory=lambda: ["zh_CN", "en"])
    monthly_enabled: bool = True
    # Daily check in the bank's timezone, after the sweep (default 01:00): once the first business day
    # of a month has been swept, last month's report is written (once; existing files are kept).
    monthly_hour: int = Field(3, ge=0, le=23)
    monthly_minute: int = Field(0, ge=0, le=59)
