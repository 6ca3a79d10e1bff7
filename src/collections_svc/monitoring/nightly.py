"""What the close-of-business sweep calls once per business date, after the DPD pass."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from collections_svc.config import Settings
from collections_svc.monitoring.classification import ClassificationResult, classify_book
from collections_svc.monitoring.reviews import ReviewRunResult, generate_due_reviews
from collections_svc.monitoring.warnings import raise_dpd_warnings


@dataclass
class MonitoringRun:
    business_date: dt.date
    dpd_warnings: int
    classification: ClassificationResult
    reviews: ReviewRunResult


def run_monitoring(session: Session, business_date: dt.date, settings: Settings) -> MonitoringRun:
    """DPD warnings (so their floors count), then the classification of the whole book, then the
    due reviews and overdue flags. Set-based throughout; only flushes, the sweep's edge commits.
    Idempotent for a business date: a re-run adds no warning, history row or task."""
    warnings = raise_dpd_warnings(session, business_date, settings)
    cls = classify_book(session, business_date, settings)
    reviews = generate_due_reviews(session, business_date, settings)
    return MonitoringRun(business_date, warnings, cls, reviews)
