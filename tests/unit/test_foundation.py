"""The foundation: app factory and config, first-run setup, login, CSRF, workspace isolation,
health endpoints, CLI commands."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD, make_product, make_workspace
from webapp import create_app
from webapp.config import Config, persistent_secret_key
from webapp.extensions import db
from webapp.models import ApiToken, Membership, Product, Template, User, Workspace


def test_config_defaults_work_on_a_fresh_machine(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "SECRET_KEY", "MEDIA_DIR", "VIDEO_PROVIDER", "PORT", "EMBEDDED_WORKER"):
        monkeypatch.delenv(name, raising=False)
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI.startswith("sqlite:///") and config.SQLALCHEMY_DATABASE_URI.endswith(
        "instance/reelboard.db"
    )
    assert config.VIDEO_PROVIDER == "local"
    assert config.PORT == 5000
    assert config.EMBEDDED_WORKER is False
    assert config.MEDIA_DIR.name == "media"
    assert config.PLAN_LIMITS == {"junior": 30, "senior": 100, "executive": 500}


def test_config_reads_the_environment(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://db/reelboard")
    monkeypatch.setenv("VIDEO_PROVIDER", "taskapi")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("EMBEDDED_WORKER", "1")
    monkeypatch.setenv("PLAN_LIMITS", "junior=3")
    config = Config()
    assert config.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://db/reelboard"
    assert (config.VIDEO_PROVIDER, config.PORT, config.EMBEDDED_WORKER) == ("taskapi", 8080, True)
    assert config.PLAN_LIMITS["junior"] == 3 and config.PLAN_LIMITS["senior"] == 100


def test_secret_key_is_generated_once_and_kept(tmp_path):
    first = persistent_secret_key(tmp_path)
    assert len(first) == 64
    assert persistent_secret_key(tmp_path) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_factory_applies_overrides(app):
    assert app.testing
    assert app.config["SECRET_KEY"] == "test-secret"


def test_session_cookie_is_httponly_and_samesite_lax(app, workspace):
    response = app.test_client().post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_healthz(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_needs_a_worker_heartbeat(app):
    client = app.test_client()
    response = client.get("/readyz")
    assert response.status_code == 503
    assert "worker" in response.json["reason"]
    from webapp.generation.worker import Worker

    with app.app_context():
        Worker(app).heartbeat()
    response = client.get("/readyz")
    assert response.status_code == 200 and response.json["checks"]["database"] == "ok"


def test_readyz_reports_an_unreachable_database(app_factory, tmp_path):
    app = app_factory()
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    broken = create_app({**app.config, "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert "database unreachable" in response.json["reason"]


def test_first_run_redirects_every_page_to_setup_then_login_works(app):
    client = app.test_client()
    for path in ("/", "/videos", "/products", "/settings"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].endswith("/setup"), path

    response = client.post(
        "/setup",
        data={
            "name": "Ada", "email": "Ada@Example.com", "password": "s3cret-pass", "confirm": "s3cret-pass",
            "workspace": "Ada's Shop", "plan": "senior", "demo": "y",
        },
    )
    assert response.status_code == 302 and response.headers["Location"].endswith("/products")
    page = client.get("/products").get_data(as_text=True)
    assert "Ada&#39;s Shop" in page and "Aurora Desk Lamp" in page  # the demo catalog was added
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.email == "ada@example.com" and user.password_hash != "s3cret-pass"
        workspace = db.session.scalar(select(Workspace))
        assert (workspace.plan, db.session.scalar(select(Membership.role))) == ("senior", "owner")
    # setup is closed once an owner exists
    assert client.get("/setup").status_code == 302

    client.post("/logout")
    assert client.get("/videos").headers["Location"].startswith("/login")
    response = client.post("/login", data={"email": "ada@example.com", "password": "s3cret-pass"})
    assert response.status_code == 302
    assert client.get("/videos").status_code == 200


def test_setup_form_shows_errors_beside_fields_and_creates_nothing(app):
    client = app.test_client()
    response = client.post(
        "/setup", data={"email": "not-an-email", "password": "short", "confirm": "other", "workspace": "", "plan": "junior"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert page.count('class="field-error"') >= 3
    assert 'aria-invalid="true"' in page
    assert "A password has at least 8 characters (and at most 128)." in page  # the account's rule, in its words
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0


def test_wrong_password_is_refused(app, workspace):
    client = app.test_client()
    response = client.post("/login", data={"email": "owner@example.com", "password": "wrong password"})
    assert response.status_code == 200
    assert "Wrong email or password." in response.get_data(as_text=True)
    assert client.get("/videos").status_code == 302


def test_login_is_rate_limited(app_factory):
    app = app_factory(RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    with app.app_context():
        make_workspace()
    client = app.test_client()
    codes = [client.post("/login", data={"email": "owner@example.com", "password": "nope"}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_post_without_csrf_token_is_refused_and_changes_nothing(app_factory):
    app = app_factory(WTF_CSRF_ENABLED=True)
    with app.app_context():
        make_workspace()
    client = app.test_client()
    login_page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login_page).group(1)
    assert client.post("/login", data={"email": "owner@example.com", "password": PASSWORD, "csrf_token": token}).status_code == 302

    response = client.post("/settings/tokens", data={"name": "sneaky"})
    assert response.status_code == 400
    response = client.post("/settings/tokens", data={"name": "sneaky"}, headers={"HX-Request": "true"})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 0
    # the header htmx sends is accepted
    response = client.post("/settings/tokens", data={"name": "ok"}, headers={"X-CSRFToken": token})
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(func.count(ApiToken.id))) == 1


def test_another_workspaces_product_is_not_found(app, client, workspace):
    other, _ = make_workspace("Rival", email="rival@example.com")
    theirs = make_product(other, "Rival Lamp")
    mine = make_product(workspace, "My Lamp")
    assert client.get(f"/products/{mine.id}").status_code == 200
    assert client.get(f"/products/{theirs.id}").status_code == 404
    assert client.get(f"/videos/new?product={theirs.id}").status_code == 200  # falls back to the chooser
    listing = client.get("/products").get_data(as_text=True)
    assert "My Lamp" in listing and "Rival Lamp" not in listing
    assert client.get(f"/media/images/{theirs.images[0].id}").status_code == 404
    assert client.get(f"/media/images/{mine.images[0].id}").status_code == 200


def test_workspace_switcher_changes_the_scope(app, client, workspace, owner):
    second = Workspace(name="Second Shop", plan="junior")
    db.session.add_all([second, Membership(user_id=owner.id, workspace=second, role="member")])
    db.session.commit()
    make_product(second, "Only In Second")
    assert "Only In Second" not in client.get("/products").get_data(as_text=True)
    assert client.post(f"/workspaces/{second.id}/switch").status_code == 302
    assert "Only In Second" in client.get("/products").get_data(as_text=True)
    stranger = Workspace(name="Not Mine")
    db.session.add(stranger)
    db.session.commit()
    assert client.post(f"/workspaces/{stranger.id}/switch").status_code == 404


def test_pages_send_a_strict_content_security_policy(client):
    response = client.get("/videos")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "HX-Request" in response.headers["Vary"]


def test_seed_demo_is_idempotent(app, runner):
    first = runner.invoke(args=["seed-demo", "--no-previews"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["seed-demo", "--no-previews"])
    assert second.exit_code == 0, second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(Template.id))) == 6
        keys = set(db.session.scalars(select(Template.key)))
        assert keys == {"product_showcase", "human_usage", "store_display", "lifestyle", "technical_demo", "unboxing"}
        products = db.session.scalars(select(Product)).all()
        assert len(products) >= 12
        assert len({p.external_key for p in products}) == len(products)
        for product in products:
            assert 2 <= len(product.images) <= 4
            from PIL import Image

            from webapp import media

            with media.open_reader(product.images[0].file_path) as reader, Image.open(reader) as image:
                assert image.format == "JPEG"


def test_create_user_and_create_token_cli(app, runner):
    result = runner.invoke(args=["create-user", "cli@example.com", "--password", "longenough", "--workspace", "CLI Shop", "--plan", "senior"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["create-token", "cli@example.com", "--name", "script"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("rb_")
    with app.app_context():
        stored = db.session.scalar(select(ApiToken))
        assert stored.token_hash != token and token not in stored.token_hash
        from webapp import accounts

        assert accounts.token_for(token).user.email == "cli@example.com"
        assert accounts.token_for(token + "x") is None
    bad = runner.invoke(args=["create-user", "cli@example.com", "--password", "longenough", "--workspace", "CLI Shop"])
    assert bad.exit_code != 0 and "already exists" in bad.output


@pytest.mark.parametrize("path", ["/videos", "/products", "/settings", "/videos/new"])
def test_main_pages_render_for_a_logged_in_user(client, path):
    response = client.get(path)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert 'href="/videos"' in page and 'href="/products"' in page and 'href="/settings"' in page
    assert 'id="usage-bar"' in page
