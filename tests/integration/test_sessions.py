"""Sessions end when they should: logout, a password change and removal from a workspace end
every session and remember cookie of the user, replayed or not; a login costs the same work
whether or not the email exists."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import PASSWORD, make_workspace
from webapp import accounts
from webapp.extensions import db
from webapp.models import Membership, User, Workspace


def _log_in(app, email="owner@example.com", remember=True):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD, "remember": "y" if remember else ""})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _replay(app, **cookies):
    client = app.test_client()
    for name, value in cookies.items():
        client.set_cookie(name, value)
    return client


def _logged_in(client) -> bool:
    response = client.get("/videos")
    return response.status_code == 200


def test_logout_ends_the_session_cookie_and_the_remember_cookie(app, workspace):
    client = _log_in(app)
    session_cookie = client.get_cookie("session").value
    remember_cookie = client.get_cookie("remember_token").value
    assert _logged_in(_replay(app, session=session_cookie))
    assert _logged_in(_replay(app, remember_token=remember_cookie))

    assert client.post("/logout").status_code == 302
    assert not _logged_in(_replay(app, session=session_cookie))
    assert not _logged_in(_replay(app, remember_token=remember_cookie))
    assert not _logged_in(_replay(app, session=session_cookie, remember_token=remember_cookie))


def test_logout_ends_the_other_devices_too(app, workspace):
    laptop, phone = _log_in(app), _log_in(app, remember=False)
    laptop.post("/logout")
    assert not _logged_in(phone)


def test_a_password_change_ends_every_session_and_the_new_password_works(app, workspace):
    laptop, phone = _log_in(app), _log_in(app)
    response = phone.post("/settings/password", data={"current": PASSWORD, "password": "a new long secret",
                                                      "confirm": "a new long secret"})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert not _logged_in(laptop) and not _logged_in(phone)
    fresh = app.test_client()
    assert fresh.post("/login", data={"email": "owner@example.com", "password": PASSWORD}).status_code == 200
    assert fresh.post("/login", data={"email": "owner@example.com", "password": "a new long secret"}).status_code == 302


def test_a_wrong_current_password_changes_nothing(app, workspace):
    client = _log_in(app)
    response = client.post("/settings/password", data={"current": "not it at all", "password": "another secret",
                                                       "confirm": "another secret"})
    assert response.status_code == 422
    assert "The current password is wrong." in response.get_data(as_text=True)
    assert _logged_in(client)


def test_a_short_new_password_is_refused_beside_its_field_in_the_accounts_words(app, workspace):
    client = _log_in(app)
    response = client.post("/settings/password", data={"current": PASSWORD, "password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert "A password has at least 8 characters (and at most 128)." in response.get_data(as_text=True)
    assert _logged_in(client)
    with pytest.raises(accounts.AccountError, match="at least 8 characters"):
        accounts.change_password(db.session.get(User, workspace.memberships[0].user_id), PASSWORD, "short")


def test_removal_from_a_workspace_ends_the_members_sessions(app, workspace):
    member = User(email="member@example.com", name="Member")
    member.set_password(PASSWORD)
    db.session.add_all([member, Membership(user=member, workspace=workspace, role="member")])
    db.session.commit()
    client = _log_in(app, "member@example.com")
    assert _logged_in(client)
    accounts.remove_member(db.session.get(Workspace, workspace.id), member.id)
    assert not _logged_in(client)


def test_the_only_owner_cannot_be_removed(app, workspace, owner):
    with pytest.raises(accounts.AccountError, match="only owner"):
        accounts.remove_member(workspace, owner.id)
    assert db.session.scalar(select(Membership).filter_by(user_id=owner.id)) is not None


def test_the_remember_cookie_is_secure_behind_https_and_lasts_30_days(app_factory):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        make_workspace()
    client = app.test_client()
    response = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "remember": "y"},
                           base_url="https://localhost")
    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("remember_token="))
    assert "Secure" in cookie and "HttpOnly" in cookie
    expires = datetime.strptime(cookie.split("Expires=")[1].split(";")[0], "%a, %d %b %Y %H:%M:%S GMT")
    assert timedelta(days=29) < expires.replace(tzinfo=UTC) - datetime.now(UTC) <= timedelta(days=30)


def test_a_login_does_the_same_hashing_work_whether_the_email_exists_or_not(app, workspace, monkeypatch):
    calls: list[tuple] = []
    real = hashlib.scrypt

    def counting(password, *, salt, n, r, p, maxmem=0, dklen=64):
        calls.append((n, r, p, dklen))
        return real(password, salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)

    monkeypatch.setattr(hashlib, "scrypt", counting)
    client = app.test_client()
    client.post("/login", data={"email": "owner@example.com", "password": "wrong password"})
    known = list(calls)
    calls.clear()
    client.post("/login", data={"email": "nobody@example.com", "password": "wrong password"})
    assert known and calls == known  # one scrypt with the same cost for both


@pytest.mark.parametrize("email", ["user@localhost", "no-at-sign", "two@@example.com", "a@b", "x" * 250 + "@example.com"])
def test_create_user_refuses_what_the_login_form_refuses(app, runner, email):
    result = runner.invoke(args=["create-user", email, "--password", PASSWORD, "--workspace", "Shop"])
    assert result.exit_code != 0 and "valid email" in result.output
    response = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
    assert "valid email" in response.get_data(as_text=True)
