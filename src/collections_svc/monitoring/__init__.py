"""Post-loan monitoring: five-category classification, IFRS 9 stage, financial statements, early
warnings, watchlist and periodic reviews (贷后管理). Public entry points live in the submodules:

- ``monitoring.classification``: ``classify_book``, ``classify_loans``, ``migration_matrix``
- ``monitoring.overrides``: classification overrides, an approvals kind (``classification_override``)
- ``monitoring.warnings``: statements intake, ratios, warning rules, watchlist
- ``monitoring.reviews``: review plans, ``generate_due_reviews``, review reports
- ``monitoring.nightly``: ``run_monitoring`` (what the sweep calls once per business date)
"""
