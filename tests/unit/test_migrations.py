"""The Alembic revisions, applied to an empty database, give exactly the models' schema."""

from __future__ import annotations

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from tests.conftest import reset_database
from webapp.extensions import db


def test_migrations_applied_to_an_empty_database_match_the_models(app):
    with app.app_context():
        reset_database()
        assert inspect(db.engine).get_table_names() == []
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        assert differences == [], differences
        assert {"videos", "usage_periods", "webhook_deliveries", "video_events"} <= set(inspect(db.engine).get_table_names())
        flask_migrate.downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
