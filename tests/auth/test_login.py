"""Sign-in: bearer tokens for API clients, cookie sessions with CSRF for the browser, rate limit, logout."""

from __future__ import annotations

from sqlalchemy import func, select

from collections_svc.auth.deps import CSRF_COOKIE, CSRF_HEADER, SESSION_COOKIE
from collections_svc.auth.models import AuthToken, LoginAttempt
from tests.conftest import PASSWORD


def _token(client, username="admin1", password=PASSWORD):
    return client.post("/api/v1/auth/token", json={"username": username, "password": password})


def test_token_flow_signs_in_and_identifies_the_user(client, users):
    r = _token(client)
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["user"]["username"] == "admin1"
    assert "password_hash" not in body["user"]
    me = client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_tokens_are_stored_hashed(client, users, session):
    secret = _token(client).json()["access_token"]
    stored = session.scalars(select(AuthToken.token_hash)).all()
    assert stored and secret not in stored


def test_wrong_password_is_401_and_says_nothing_about_which_part_was_wrong(client, users):
    wrong = _token(client, password="not-the-password")
    unknown = _token(client, username="nobody")
    for r in (wrong, unknown):
        assert r.status_code == 401
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["detail"] == "Wrong user name or password."


def test_sixth_attempt_after_five_failures_is_refused_even_with_the_right_password(client, users, session):
    for _ in range(5):
        assert _token(client, password="guess-guess").status_code == 401
    r = _token(client)
    assert r.status_code == 429
    assert r.json()["type"].endswith("/too-many-requests")
    # The browser login shares the same limit.
    assert (
        client.post("/api/v1/auth/login", json={"username": "admin1", "password": PASSWORD}).status_code
        == 429
    )
    # Other users are not locked out by someone guessing admin1's password.
    assert _token(client, username="auditor1").status_code == 200


def test_failed_attempts_are_counted_in_the_database_and_cleared_by_a_good_login(client, users, session):
    for _ in range(3):
        _token(client, password="guess-guess")
    count = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.username == "admin1")
    assert session.scalar(count) == 3
    assert _token(client).status_code == 200
    assert session.scalar(count) == 0


def test_inactive_user_cannot_sign_in(client, users, session):
    users["collector"].active = False
    session.commit()
    assert _token(client, username="collector1").status_code == 401


def _browser_login(client, username="admin1"):
    r = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return r


def test_cookie_login_sets_http_only_session_and_readable_csrf_cookie(client, users):
    r = _browser_login(client)
    cookies = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookies if c.startswith(SESSION_COOKIE + "="))
    csrf_cookie = next(c for c in cookies if c.startswith(CSRF_COOKIE + "="))
    assert "httponly" in session_cookie.lower()
    assert "samesite=strict" in session_cookie.lower()
    assert "httponly" not in csrf_cookie.lower()  # the page's script must read it
    assert r.json()["csrf_token"] == client.cookies.get(CSRF_COOKIE)
    # A cookie session can read without the CSRF header.
    assert client.get("/api/v1/auth/me").json()["username"] == "admin1"


def test_cookie_session_write_without_csrf_header_is_403_and_with_it_passes(client, users):
    csrf = _browser_login(client).json()["csrf_token"]
    body = {"username": "newcollector", "password": "a-long-password-1", "role": "collector"}
    r = client.post("/api/v1/users", json=body)
    assert r.status_code == 403
    assert "CSRF" in r.json()["detail"]
    r = client.post("/api/v1/users", json=body, headers={CSRF_HEADER: "forged-value"})
    assert r.status_code == 403
    r = client.post("/api/v1/users", json=body, headers={CSRF_HEADER: csrf})
    assert r.status_code == 201, r.text
    assert r.json()["username"] == "newcollector"


def test_bearer_clients_need_no_csrf_token(client, auth):
    r = client.post(
        "/api/v1/users",
        headers=auth("admin"),
        json={"username": "apiuser", "password": "a-long-password-1", "role": "integration"},
    )
    assert r.status_code == 201


def test_logout_revokes_the_cookie_session(client, users):
    csrf = _browser_login(client).json()["csrf_token"]
    old_session = client.cookies.get(SESSION_COOKIE)
    r = client.post("/api/v1/auth/logout", headers={CSRF_HEADER: csrf})
    assert r.status_code == 204
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, old_session)
    assert client.get("/api/v1/auth/me").status_code == 401


def test_logout_revokes_the_bearer_token(client, users):
    headers = {"Authorization": f"Bearer {_token(client).json()['access_token']}"}
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 401
    assert r.headers["www-authenticate"] == "Bearer"


def test_a_session_cookie_is_not_accepted_as_a_bearer_token(client, users):
    _browser_login(client)
    secret = client.cookies.get(SESSION_COOKIE)
    client.cookies.clear()
    assert client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
