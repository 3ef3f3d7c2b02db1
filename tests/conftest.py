"""Fixtures: ``app``, ``client`` and ``runner`` as in Flask's tutorial, plus a workspace with an
owner and products with real JPEG images.

Tests run on SQLite (a file, so threads share it) and, when TEST_DATABASE_URL names a
PostgreSQL database, on it instead.
"""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import create_engine, make_url, text

from webapp import create_app
from webapp.extensions import db
from webapp.generation.templates import ensure_templates
from webapp.models import (
    ImageStatus,
    Membership,
    Product,
    ProductImage,
    User,
    Video,
    Workspace,
)

PASSWORD = "correct horse battery"


@pytest.fixture(scope="session")
def postgres_url():
    """A private database for this pytest process on the TEST_DATABASE_URL server, so runs that
    share the server do not drop each other's tables; None when testing on SQLite."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield None
        return
    server = make_url(url)
    name = f"reelboard_test_{os.getpid()}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def database_url(tmp_path, postgres_url=None) -> str:
    return postgres_url or f"sqlite:///{tmp_path / 'test.db'}"


def reset_database() -> None:
    """Drops every table, including Alembic's, so each test starts from nothing."""
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def make_config(tmp_path, postgres_url=None, **overrides) -> dict:
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url(tmp_path, postgres_url),
        "MEDIA_DIR": tmp_path / "media",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "EMBEDDED_WORKER": False,
        "TEMPLATE_PREVIEWS": False,
        "VIDEO_PROVIDER": "local",
        "RENDER_SLOTS": 1,
        "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
        "ALLOW_PRIVATE_MEDIA_HOSTS": True,
        "WEBHOOK_SECRET": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
        "PLAN_LIMITS": {"junior": 30, "senior": 100, "executive": 500},
    }
    config.update(overrides)
    return config


@pytest.fixture
def app_factory(tmp_path, postgres_url) -> Callable:
    """Builds an app on a fresh database; the tables are dropped afterwards."""
    apps = []

    def build(**overrides):
        app = create_app(make_config(tmp_path, postgres_url, **overrides))
        with app.app_context():
            reset_database()
            db.create_all()
            ensure_templates()
        apps.append(app)
        return app

    yield build
    for app in apps:
        from webapp.jobs import stop_scheduler

        stop_scheduler(app)
        with app.app_context():
            db.session.remove()
            reset_database()
            db.engine.dispose()


@pytest.fixture
def app(app_factory, request):
    """The app; a test that also uses ``media_backend`` runs once with each media storage."""
    uses_backend = "media_backend" in request.fixturenames
    return app_factory(**(request.getfixturevalue("media_backend") if uses_backend else {}))


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def jpeg_bytes(colour=(200, 80, 60), size=(640, 480)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def make_workspace(name="Acme", plan="junior", email="owner@example.com") -> tuple[Workspace, User]:
    user = User(email=email, name="Owner")
    user.set_password(PASSWORD)
    workspace = Workspace(name=name, plan=plan)
    db.session.add_all([user, workspace, Membership(user=user, workspace=workspace, role="owner")])
    db.session.commit()
    return workspace, user


def make_product(workspace: Workspace, title="Trail Mug", images=2, key=None, price="19.00") -> Product:
    from webapp import media

    product = Product(
        workspace_id=workspace.id, external_key=key or f"key-{title.lower().replace(' ', '-')}-{time.time_ns()}",
        title=title, sku="SKU-1", description="Sturdy enamel mug. Holds 350 ml. Dishwasher safe.",
        price=Decimal(price) if price else None,
    )
    for position in range(images):
        relative = media.new_path(f"products/{workspace.id}", ".jpg")
        media.write_atomically(relative, jpeg_bytes((40 * position + 60, 120, 200)))
        product.images.append(ProductImage(position=position, file_path=relative, status=ImageStatus.OK.value))
    db.session.add(product)
    db.session.commit()
    return product


@pytest.fixture
def workspace(app):
    with app.app_context():
        workspace, _ = make_workspace()
        yield workspace


@pytest.fixture
def owner(app, workspace):
    return db.session.scalar(db.select(User).filter_by(email="owner@example.com"))


@pytest.fixture
def client(app, workspace):
    """A client logged in as the workspace owner."""
    client = app.test_client()
    response = client.post("/login", data={"email": "owner@example.com", "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def wait_for(predicate: Callable[[], bool], timeout: float = 60, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def video_status(video_id: int) -> str:
    db.session.expire_all()
    db.session.commit()
    return db.session.get(Video, video_id).status


# ---------------------------------------------- media storage on both backends (webapp/storage) ----


@pytest.fixture(scope="session")
def seaweedfs():
    """A real S3 server (SeaweedFS on loopback), started on first use and stopped at the end;
    the standard AWS variables name its credentials meanwhile. Skips where it cannot start."""
    from tests.storage_support import SeaweedUnavailable, start_seaweedfs

    try:
        server = start_seaweedfs()
    except SeaweedUnavailable as error:
        pytest.skip(f"SeaweedFS (S3) could not be started: {error}")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in server.environ.items():
            patch.setenv(name, value)
        yield server
    server.stop()


@pytest.fixture(params=["file", "s3"])
def media_backend(request, tmp_path) -> dict:
    """App settings that keep the app's media on each backend: in MEDIA_DIR (nothing to add),
    or under a fresh prefix of the S3 test bucket with the scratch copies in the test's folder."""
    import uuid

    if request.param == "file":
        return {}
    server = request.getfixturevalue("seaweedfs")
    return {**server.app_config(f"app-{uuid.uuid4().hex[:12]}"), "STORAGE_SCRATCH_DIR": str(tmp_path / "scratch")}


@pytest.fixture
def files_server():
    """Serves ``Served`` files over HTTP on loopback: ``files_server(path, served)`` → URL."""
    from tests.storage_support import serve_files

    server, serve = serve_files()
    yield serve
    server.shutdown()
    server.server_close()


@pytest.fixture(params=["file", "s3"])
def storage(request, tmp_path):
    """An empty storage on each backend: a directory, or a fresh prefix of the S3 test bucket."""
    import uuid

    from webapp.storage import FileStorage, S3Storage

    if request.param == "file":
        return FileStorage(tmp_path / "storage")
    server = request.getfixturevalue("seaweedfs")
    return S3Storage(server.bucket, f"test-{uuid.uuid4().hex[:12]}", server.client, scratch_dir=tmp_path / "scratch")


def video_request(**fields):
    """What a form or an API client asks for one video, through the input contract (snake_case)."""
    from webapp.generation.contract import CreateVideo, parse

    return parse(CreateVideo, fields)


def bulk_request(**fields):
    """What a form or an API client asks for many products, through the input contract."""
    from webapp.generation.contract import BulkCreate, parse

    return parse(BulkCreate, fields)
