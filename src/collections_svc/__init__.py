"""collections_svc: post-loan management and collections for corporate lending."""

__version__ = "0.1.0"
