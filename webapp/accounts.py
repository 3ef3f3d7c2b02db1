"""Users, workspaces, memberships and API tokens: the rules for creating and finding them."""

from __future__ import annotations

import hashlib
import re
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import func, select, update
from werkzeug.security import check_password_hash

from .errors import AppError
from .extensions import db, writing
from .models import ApiToken, Membership, Role, User, Workspace, utcnow

TOKEN_PREFIX = "rb_"


class AccountError(AppError):
    """Bad input for an account operation; ``field`` names the form field at fault."""


def plan_choices() -> list[tuple[str, str]]:
    return [
        (name, f"{name.capitalize()} — {limit} videos a month")
        for name, limit in sorted(current_app.config["PLAN_LIMITS"].items(), key=lambda kv: kv[1])
    ]


def any_user_exists() -> bool:
    return db.session.scalar(select(func.count(User.id))) > 0


def normalize_email(email: str) -> str:
    return email.strip().lower()


def checked_email(email: str) -> str:
    """The one rule for an email address, in every form and command: a syntactically valid
    address (no DNS lookup), at most 254 characters; returned normalized."""
    normalized = normalize_email(email)
    if len(normalized) > 254:
        raise AccountError("Enter a valid email address.", "email")
    try:
        validate_email(normalized, check_deliverability=False)
    except EmailNotValidError as error:
        # "An email address must have an @-sign." said once: "... address: it must have an @-sign."
        reason = re.sub(r"^(?:An|The) email address ", "it ", str(error))
        raise AccountError(f"Enter a valid email address: {reason[:1].lower()}{reason[1:]}", "email") from error
    return normalized


PASSWORD_LENGTHS = (8, 128)  # characters


def checked_password(password: str) -> str:
    """A new password as an account takes it (the forms check it with this too)."""
    shortest, longest = PASSWORD_LENGTHS
    if not shortest <= len(password) <= longest:
        raise AccountError(f"A password has at least {shortest} characters (and at most {longest}).", "password")
    return password


def create_user(email: str, password: str, workspace_name: str, plan: str = "junior", name: str = "") -> User:
    """A user who owns a workspace (created if it does not exist; joined as owner otherwise)."""
    email = checked_email(email)
    checked_password(password)
    if not workspace_name.strip():
        raise AccountError("Name the workspace.", "workspace")
    if plan not in current_app.config["PLAN_LIMITS"]:
        raise AccountError(f"Unknown plan {plan!r}.", "plan")
    if db.session.scalar(select(User).filter_by(email=email)):
        raise AccountError("A user with this email already exists.", "email")
    user = User(email=email, name=name.strip())
    user.set_password(password)
    workspace = db.session.scalar(select(Workspace).filter_by(name=workspace_name.strip()))
    if workspace is None:
        workspace = Workspace(name=workspace_name.strip(), plan=plan)
    db.session.add_all([user, Membership(user=user, workspace=workspace, role=Role.OWNER.value)])
    db.session.commit()
    return user


def change_plan(user: User, workspace: Workspace, plan: str) -> None:
    """Moves the workspace to another plan; only one of its owners may. The new monthly limit
    holds from the next request on; the videos used this month stay used."""
    limits = current_app.config["PLAN_LIMITS"]
    if plan not in limits:
        raise AccountError(f"Choose one of the plans: {', '.join(sorted(limits, key=limits.get))}.", "plan")
    role = db.session.scalar(select(Membership.role).filter_by(user_id=user.id, workspace_id=workspace.id))
    if role != Role.OWNER.value:
        raise AccountError("Only an owner of the workspace can change its plan.", "plan")
    db.session.execute(update(Workspace).where(Workspace.id == workspace.id).values(plan=plan))
    db.session.commit()
    db.session.refresh(workspace)


def unclaimed_workspace_name() -> str:
    """The name of a workspace nobody belongs to yet (the seeded demo store), or ''."""
    name = db.session.scalar(
        select(Workspace.name).where(~Workspace.memberships.any()).order_by(Workspace.id).limit(1)
    )
    return name or ""


# A hash of a password nobody has, made like every stored one (werkzeug's scrypt default): an
# unknown email is checked against it, so a login costs the same whether the email exists or
# not and its time tells nothing about which accounts exist.
_ABSENT_USER_HASH = (
    "scrypt:32768:8:1$QPSNo3tuSzLtgun0$"
    "b0b345b5e45d8fc4b9951ba866e31d449291f6ce4c48a4899ac39c8097bd29c5"
    "3c8f4ad1764efcee3304ad18ec0343091b240e12e21bb3aac6dc0a955140accb"
)


def authenticate(email: str, password: str) -> User | None:
    user = db.session.scalar(select(User).filter_by(email=normalize_email(email)))
    if user is None:
        check_password_hash(_ABSENT_USER_HASH, password)
        return None
    return user if user.check_password(password) else None


def end_sessions(user: User) -> None:
    """Ends every session and remember cookie of ``user``, on every device: the next request
    with one of them is a logged-out request."""
    db.session.execute(update(User).where(User.id == user.id).values(session_version=User.session_version + 1))
    db.session.commit()
    db.session.refresh(user)


def change_password(user: User, current: str, new: str) -> None:
    """Sets a new password after checking the current one; ends the user's other sessions."""
    if not user.check_password(current):
        raise AccountError("The current password is wrong.", "current")
    user.set_password(checked_password(new))
    db.session.commit()
    end_sessions(user)


def remove_member(workspace: Workspace, user_id: int) -> None:
    """Takes a user out of a workspace; their sessions end, so an open tab loses access at once.
    The last owner cannot be removed (the workspace would have no one to manage it)."""
    member = db.session.scalar(select(Membership).filter_by(workspace_id=workspace.id, user_id=user_id))
    if member is None:
        raise AccountError("This person is not a member of the workspace.", "user")
    owners = db.session.scalar(
        select(func.count(Membership.id)).filter_by(workspace_id=workspace.id, role=Role.OWNER.value)
    )
    if member.role == Role.OWNER.value and owners <= 1:
        raise AccountError("The workspace's only owner cannot be removed.", "user")
    user = member.user
    db.session.delete(member)
    db.session.commit()
    end_sessions(user)


def workspaces_of(user: User) -> list[Workspace]:
    return list(
        db.session.scalars(
            select(Workspace).join(Membership).where(Membership.user_id == user.id).order_by(Workspace.name)
        )
    )


def membership(user: User, workspace_id: int) -> Membership | None:
    return db.session.scalar(select(Membership).filter_by(user_id=user.id, workspace_id=workspace_id))


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_token(user: User, workspace: Workspace, name: str) -> tuple[ApiToken, str]:
    """Returns the token row and the plain token, which is shown once and never stored."""
    name = name.strip()
    if not name:
        raise AccountError("Name the token, e.g. after the script that will use it.", "name")
    if len(name) > 80:
        raise AccountError("Token names are at most 80 characters.", "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id, workspace_id=workspace.id, name=name, token_hash=hash_token(plain), prefix=plain[:10]
    )
    db.session.add(token)
    db.session.commit()
    return token, plain


def token_for(plain: str) -> ApiToken | None:
    """The live token for a plain token string, with its last use recorded."""
    token = db.session.scalar(select(ApiToken).filter_by(token_hash=hash_token(plain)))
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    # Write the last-used time at most once a minute: API calls stay read-only otherwise.
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        token_id = token.id
        with writing():
            db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=now))
            db.session.commit()
    return token


def tokens_of(workspace: Workspace) -> list[ApiToken]:
    return list(
        db.session.scalars(select(ApiToken).filter_by(workspace_id=workspace.id).order_by(ApiToken.created_at.desc()))
    )


def revoke_token(workspace: Workspace, token_id: int) -> bool:
    token = db.session.scalar(select(ApiToken).filter_by(id=token_id, workspace_id=workspace.id))
    if token is None:
        return False
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.commit()
    return True


def workspace_for(user: User, wanted_id: int | None) -> tuple[Workspace | None, str | None, list[Workspace]]:
    """The workspace the user works in (the wanted one if they belong to it, else their first),
    their role there, and all their workspaces — one query."""
    rows = db.session.execute(
        select(Workspace, Membership.role)
        .join(Membership)
        .where(Membership.user_id == user.id)
        .order_by(Workspace.name)
    ).all()
    workspaces = [workspace for workspace, _ in rows]
    for workspace, role in rows:
        if workspace.id == wanted_id:
            return workspace, role, workspaces
    return (rows[0][0], rows[0][1], workspaces) if rows else (None, None, [])
