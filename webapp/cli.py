"""``flask --app wsgi …`` commands: accounts, tokens, demo data, previews, imports and the worker."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import with_appcontext
from sqlalchemy import select

from . import accounts
from .extensions import db
from .models import User, Workspace


def init_app(app: Flask) -> None:
    for command in (create_user, create_token, seed_demo, render_previews, import_products):
        app.cli.add_command(command)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--workspace", "workspace_name", required=True, help="Created if it does not exist.")
@click.option("--plan", default="junior", show_default=True, help="junior, senior or executive.")
@click.option("--name", default="", help="The user's display name.")
def create_user(email: str, password: str, workspace_name: str, plan: str, name: str) -> None:
    """Create a user who owns WORKSPACE."""
    try:
        user = accounts.create_user(email, password, workspace_name, plan, name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {user.email} in workspace {workspace_name!r}.")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", default="cli", show_default=True, help="What the token is for.")
@click.option("--workspace", "workspace_name", default=None, help="Defaults to the user's first workspace.")
def create_token(email: str, name: str, workspace_name: str | None) -> None:
    """Print a new API token for EMAIL (shown once; only its hash is stored)."""
    user = db.session.scalar(select(User).filter_by(email=accounts.normalize_email(email)))
    if user is None:
        raise click.ClickException(f"No user {email}.")
    workspaces = accounts.workspaces_of(user)
    if workspace_name:
        workspaces = [w for w in workspaces if w.name == workspace_name]
    if not workspaces:
        raise click.ClickException("The user is not a member of that workspace.")
    try:
        _, plain = accounts.create_token(user, workspaces[0], name)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from error
    click.echo(plain)


@click.command("seed-demo")
@with_appcontext
@click.option("--workspace", "workspace_name", default="Demo Store", show_default=True)
@click.option("--previews/--no-previews", default=True, help="Also render the template preview clips.")
@click.option("--if-empty", is_flag=True, help="Add the demo workspace only when there is no workspace yet.")
def seed_demo(workspace_name: str, previews: bool, if_empty: bool) -> None:
    """Create the six templates and a demo workspace with products and photos (idempotent)."""
    from .catalog.demo import seed_demo_catalog
    from .generation.templates import ensure_templates

    created_templates = ensure_templates()
    if if_empty and db.session.scalar(select(Workspace.id).limit(1)) is not None:
        click.echo(f"Templates created: {created_templates}. Workspaces exist: demo catalog not added.")
        if previews:
            _render_previews(force=False)
        return
    workspace = db.session.scalar(select(Workspace).filter_by(name=workspace_name))
    if workspace is None:
        workspace = Workspace(name=workspace_name, plan="senior")
        db.session.add(workspace)
        db.session.commit()
    added = seed_demo_catalog(workspace)
    click.echo(f"Templates created: {created_templates}. Demo products added to {workspace.name!r}: {added}.")
    if previews:
        _render_previews(force=False)


@click.command("render-previews")
@with_appcontext
@click.option("--force", is_flag=True, help="Render again even where a preview exists.")
def render_previews(force: bool) -> None:
    """Render a short preview clip of every template from the demo images."""
    _render_previews(force)


def _render_previews(force: bool) -> None:
    from .generation.previews import render_template_previews

    failed = 0
    for key, outcome in render_template_previews(force=force):
        click.echo(f"  preview {key}: {outcome}")
        failed += outcome.startswith("failed")
    if failed:
        raise click.ClickException(f"{failed} template preview(s) could not be rendered.")


@click.command("import-products")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--workspace", "workspace_name", required=True)
@click.option("--store-url", default="", help="A Shopify export's store address: each product's page is "
                                               "<store-url>/products/<handle>.")
def import_products(file: Path, workspace_name: str, store_url: str) -> None:
    """Import products from a CSV file (Reelboard columns or a Shopify product export)."""
    from .catalog import importer
    from .catalog.products import CatalogError

    workspace = db.session.scalar(select(Workspace).filter_by(name=workspace_name))
    if workspace is None:
        raise click.ClickException(f"No workspace {workspace_name!r}.")
    try:
        report = importer.import_file(workspace, file.read_bytes(), importer.store_address(store_url))
    except (importer.ImportRefused, CatalogError) as error:
        raise click.ClickException(str(error)) from error
    click.echo(report.summary())
    for rejected in report.rejected:
        click.echo(f"  line {rejected.line}: {rejected.reason}")

