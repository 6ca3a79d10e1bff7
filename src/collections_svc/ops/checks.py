"""`collections-svc check-config`: every check a bank operator should pass before starting a process.

Each check returns a ``Check`` with a plain message; ``run_checks`` never raises, so the command can
print one line per check and exit non-zero if any failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlparse

from pydantic import ValidationError

from collections_svc.config import PLACEHOLDER_SECRET, Settings


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    message: str


def load_settings() -> tuple[Settings | None, list[Check]]:
    """Read the settings; a validation error becomes one failed check per problem (no traceback)."""
    try:
        return Settings(), [Check("settings", True, "Settings read from the environment and .env.")]
    except ValidationError as exc:
        out = []
        for e in exc.errors():
            where = "COLLECTIONS_" + "__".join(str(p) for p in e["loc"]).upper() + ": " if e["loc"] else ""
            out.append(Check("settings", False, f"{where}{e['msg'].removeprefix('Value error, ')}"))
        return None, out


def check_database(settings: Settings) -> list[Check]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from collections_svc.migrate import current_is_head
    # One plain connection with a connect timeout, so an unreachable host fails in seconds, not minutes.
    args = {"connect_timeout": 10} if settings.database.url.startswith("postgresql") else {}
    try:
        engine = create_engine(settings.database.url, poolclass=NullPool, connect_args=args)
    except Exception as exc:  # noqa: BLE001 - a malformed URL or a missing driver
        return [Check("database", False, f"The database URL cannot be used: {exc}")]
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            at_head = current_is_head(conn)
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the operator's message
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return [Check("database", False, f"Cannot reach the database ({_redact(settings.database.url)}): "
                                         f"{reason[:200]}")]
    finally:
        engine.dispose()
    out = [Check("database", True, f"Database reachable ({_redact(settings.database.url)}).")]
    if at_head:
        out.append(Check("migrations", True, "Database schema is at the latest migration."))
    else:
        out.append(Check("migrations", False, "The database schema is not at the latest migration: "
                                              "run `collections-svc migrate` before starting the new version."))
    return out


def _redact(url: str) -> str:
    """The database URL without its password."""
    try:
        from sqlalchemy.engine import make_url
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "<unparseable URL>"


def check_twilio(settings: Settings) -> Check:
    t = settings.twilio
    if not (t.account_sid or t.from_number or t.messaging_service_sid):
        return Check("twilio", True, "SMS through Twilio is not configured; SMS notices use the console channel.")
    missing = []
    if not t.account_sid:
        missing.append("COLLECTIONS_TWILIO__ACCOUNT_SID")
    if not t.auth_token.get_secret_value():
        missing.append("COLLECTIONS_TWILIO__AUTH_TOKEN")
    if not (t.from_number or t.messaging_service_sid):
        missing.append("COLLECTIONS_TWILIO__FROM_NUMBER or COLLECTIONS_TWILIO__MESSAGING_SERVICE_SID")
    if missing:
        return Check("twilio", False, "SMS through Twilio is partly configured; also set: " + ", ".join(missing))
    return Check("twilio", True, "Twilio credentials are complete.")


def check_public_base_url(settings: Settings) -> Check:
    u = urlparse(settings.public_base_url)
    if u.scheme not in ("http", "https") or not u.netloc:
        return Check("public_base_url", False,
                     f"COLLECTIONS_PUBLIC_BASE_URL must be an absolute http(s) address such as "
                     f"https://collections.example.com (got {settings.public_base_url!r}); "
                     "Twilio delivery callbacks are sent there.")
    if settings.env == "production" and u.scheme != "https":
        return Check("public_base_url", False,
                     "COLLECTIONS_PUBLIC_BASE_URL must use https in production (Twilio callbacks carry "
                     "message status).")
    return Check("public_base_url", True, f"Public base URL {settings.public_base_url}.")


def check_secrets(settings: Settings) -> Check:
    placeholder = settings.security.secret_key.get_secret_value() in ("", PLACEHOLDER_SECRET)
    if placeholder and settings.env == "production":  # Settings refuses this already; kept explicit
        return Check("secrets", False, "COLLECTIONS_SECURITY__SECRET_KEY is a placeholder; set a real secret.")
    if placeholder:
        return Check("secrets", True, f"Secret key is the placeholder (allowed only outside production; "
                                      f"environment is {settings.env}).")
    return Check("secrets", True, "Secret key is set.")


def check_templates(settings: Settings) -> Check:
    from collections_svc.errors import DomainError
    from collections_svc.notices.templates import validate_templates
    try:
        checked = validate_templates(settings)
    except DomainError as exc:
        return Check("templates", False, exc.detail)
    except Exception as exc:  # noqa: BLE001 - e.g. a missing templates directory
        return Check("templates", False, f"Notice templates could not be read: {exc}")
    return Check("templates", True, f"{len(checked)} notice templates render with sample data.")


def check_strategy(settings: Settings, database_ok: bool) -> Check:
    """The strategy the sweep would apply: the activated version (when the database is usable), else the
    shipped default; checked against the templates that exist now."""
    from collections_svc.errors import DomainError
    from collections_svc.strategy import service
    from collections_svc.strategy.rules import parse_strategy
    try:
        if database_ok:
            from collections_svc.db import make_engine, make_sessionmaker
            engine = make_engine(settings.database.url)
            try:
                with make_sessionmaker(engine)() as s:
                    row = service.active_version(s)
                    label, doc = (f"active strategy {row.version}", row.document) if row else (None, None)
            finally:
                engine.dispose()
        else:
            label, doc = None, None
        if doc is None:
            label, doc = "shipped default strategy", service.shipped_document(settings)
        parse_strategy(doc, service.known_templates(settings))
    except DomainError as exc:
        errors = getattr(exc, "errors", None) or []
        extra = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in errors[:10])
        return Check("strategy", False, f"The {label or 'strategy'} does not validate: {exc.detail}"
                                        + (f" {extra}" if extra else ""))
    except Exception as exc:  # noqa: BLE001
        return Check("strategy", False, f"The strategy could not be read: {exc}")
    return Check("strategy", True, f"The {label} validates.")


def run_checks(settings: Settings) -> list[Check]:
    out = check_database(settings)
    database_ok = all(c.ok for c in out)
    steps: list[Callable[[], Check]] = [
        lambda: check_twilio(settings), lambda: check_public_base_url(settings), lambda: check_secrets(settings),
        lambda: check_templates(settings), lambda: check_strategy(settings, database_ok),
    ]
    out.extend(step() for step in steps)
    return out
