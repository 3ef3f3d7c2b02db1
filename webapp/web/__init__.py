"""Blueprints that render HTML, and what every page shares: login, workspace, security headers."""

from __future__ import annotations

from flask import (
    Flask,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user
from flask_wtf.csrf import CSRFError

from .. import accounts
from ..extensions import db, login_manager, sqlite_reads_only
from ..models import User
from ..numbers import parse_id
from ..storage import current_storage

# Endpoints that work before the first user exists, or without logging in.
PUBLIC_ENDPOINTS = {
    "auth.setup", "auth.login", "static", "media.signed", "share.page", "share.player", "share.media_file", "share.brand_css",
}
NON_HTML_BLUEPRINTS = {"api", "webhooks", "system", "storefront"}
JSON_PATHS = ("/api/", "/storefront/")
NO_WORKSPACE = "Your account is not a member of any workspace. Ask a workspace owner to add you."

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https://i.ytimg.com{media}; "
    "media-src 'self'{media}; frame-src https://www.youtube-nocookie.com; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
CSP_EXTENSION = "reelboard.content_security_policy"


def init_app(app: Flask) -> None:
    from . import (
        auth,
        brand,
        catalog,
        distribution,
        filters,
        media,
        products,
        settings,
        share,
        system,
        videos,
    )

    for module in (auth, brand, catalog, distribution, media, products, settings, share, system, videos):
        app.register_blueprint(module.bp)
    filters.init_app(app)

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"
    app.before_request(_reads_only_for_safe_methods)
    app.teardown_request(_end_reads_only)
    app.before_request(_first_run_and_login)
    app.before_request(_refuse_nul)  # after the workspace is known: an oversized body is said beside its field
    app.after_request(_security_headers)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(429, _too_many_requests)


@login_manager.user_loader
def _load_user(alternative_id: str) -> User | None:
    """The user of a session or remember cookie, unless its sessions were ended since."""
    user_id, _, version = alternative_id.partition(":")
    parsed = parse_id(user_id)
    user = db.session.get(User, parsed) if parsed is not None else None
    if user is None or str(user.session_version) != version:
        return None
    return user


NUL_REFUSED = "The request contains a NUL character, which no field accepts. Remove it and try again."


def _refuse_nul():
    """A NUL character is never part of a search, a name or a form field, and PostgreSQL cannot
    store or compare one: refused before any view sees it."""
    if request.path.startswith(JSON_PATHS):  # the API names the parameter at fault itself; a storefront finds nothing
        return None
    values = [*request.args.items(multi=True), *(request.form.items(multi=True) if request.form else ())]
    if any("\x00" in key or "\x00" in value for key, value in values):
        return render_template("error.html", title="Not accepted", message=NUL_REFUSED), 400
    return None


SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def _reads_only_for_safe_methods():
    if request.method in SAFE_METHODS:
        g.reads_only_token = sqlite_reads_only.set(True)


def _end_reads_only(error=None):
    token = g.pop("reads_only_token", None)
    if token is not None:
        sqlite_reads_only.reset(token)


def _first_run_and_login():
    """Send everyone to /setup until an owner exists; then require a login and a workspace."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or endpoint.split(".")[0] in NON_HTML_BLUEPRINTS:
        return None
    if request.path.startswith(JSON_PATHS):  # no route matched (404/405): the API answers in JSON
        return None
    if not _setup_done():
        return redirect(url_for("auth.setup"))
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    g.workspace, g.role, g.workspaces = accounts.workspace_for(current_user, session.get("workspace_id"))
    if g.workspace is None:
        return render_template("error.html", title="No workspace", message=NO_WORKSPACE), 403
    if session.get("workspace_id") != g.workspace.id:
        session["workspace_id"] = g.workspace.id
    return None


def _setup_done() -> bool:
    # Once a user exists there always is one, so each process remembers a yes.
    state = current_app.extensions.setdefault("reelboard_setup", {})
    if not state.get("done"):
        state["done"] = accounts.any_user_exists()
    return state["done"]


def content_security_policy() -> str:
    """The policy, allowing the object store's origin for images and video where media is
    redirected there (S3): the browser refuses a redirected image or video otherwise."""
    policy = current_app.extensions.get(CSP_EXTENSION)
    if policy is None:
        origin = current_storage().origin
        policy = current_app.extensions[CSP_EXTENSION] = CONTENT_SECURITY_POLICY.format(
            media=f" {origin}" if origin else ""
        )
    return policy


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", content_security_policy())
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype == "text/html":
        response.vary.add("HX-Request")
    return response


def _csrf_error(error: CSRFError):
    message = "Your form expired or was sent from elsewhere. Reload the page and try again."
    if request.headers.get("HX-Request"):
        return render_template("partials/error_banner.html", message=message), 400
    return render_template("error.html", title="Form expired", message=message), 400


def _not_found(error):
    if request.path.startswith(JSON_PATHS):
        return {"error": {"code": "not_found", "message": "Not found."}}, 404
    return render_template("error.html", title="Not found", message="There is nothing here."), 404


def _too_many_requests(error):
    message = "Too many attempts in a short time. Wait a minute, then try again."
    return render_template("error.html", title="Slow down", message=message), 429
