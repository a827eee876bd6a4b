"""Console accounts: users, passwords, login sessions and the throttle on guessing.

Passwords are stored as argon2 hashes. A login session is a random token in an HttpOnly cookie;
the store keeps only its SHA-256, so a copy of the database opens no session. Each session has its
own CSRF token, which every state-changing request must echo. Failed logins are counted per user
name in the store, so the throttle holds across console processes and restarts.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from campaigns.models import LoginFailure, Operator, UserAccount, WebSession, utcnow
from campaigns.store import session_scope
from dialer.core.clock import aware
from dialer.core.errors import InvalidInput, NotFound, UserError
from dialer.core.i18n import N_, _


class Role(StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"


LANGUAGES = ("ru", "en")
SESSION_LIFETIME = timedelta(hours=14)  # a long shift
THROTTLE_WINDOW = timedelta(minutes=10)
THROTTLE_FAILURES = 5  # failures within the window before a name is refused
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$")
_hasher = PasswordHasher()
# Checked against when the user does not exist, so a wrong name costs the time a wrong password does.
_DUMMY_HASH = _hasher.hash("no such user, no such password")


class LoginRefused(UserError):
    """Wrong name or password, a disabled account, or too many failures (one message for all)."""


class LoginThrottled(LoginRefused):
    pass


@dataclass(frozen=True)
class UserView:
    id: int
    name: str
    role: Role
    operator: str | None
    language: str
    disabled: bool


@dataclass(frozen=True)
class LoginSession:
    token: str  # goes in the cookie only; never logged, never stored
    csrf: str
    user: UserView


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(_("the password needs at least {count} characters").format(count=MIN_PASSWORD))
    if len(password) > MAX_PASSWORD:
        raise InvalidInput(_("the password is longer than {count} characters").format(count=MAX_PASSWORD))


def _view(session: Session, user: UserAccount) -> UserView:
    assert user.id is not None
    operator = session.get(Operator, user.operator_id) if user.operator_id is not None else None
    return UserView(
        user.id, user.name, Role(user.role), operator.name if operator else None, user.language, user.disabled
    )


def _user(session: Session, name: str) -> UserAccount:
    user = session.exec(select(UserAccount).where(UserAccount.name == name)).first()
    if user is None:
        raise NotFound(_("no user named {name}; add one with `dialer users add`").format(name=repr(name)))
    return user


def add_user(
    store: Engine, name: str, role: str, password: str, operator: str | None = None, language: str = "ru"
) -> UserView:
    """Create an account; an operator's account must name the operator it logs in as."""
    if not _NAME.match(name):
        raise InvalidInput(
            _("user name {name}: use letters, digits, '.', '_', '@' or '-'").format(name=repr(name[:100]))
        )
    try:
        role_value = Role(role)
    except ValueError:
        raise InvalidInput(
            _("role {role}: use one of {roles}").format(role=repr(role[:40]), roles=", ".join(Role))
        ) from None
    if language not in LANGUAGES:
        raise InvalidInput(
            _("language {language}: use one of {languages}").format(
                language=repr(language[:20]), languages=", ".join(LANGUAGES)
            )
        )
    if role_value is Role.OPERATOR and not operator:
        raise InvalidInput(_("an operator's account needs --operator: the operator it takes calls as"))
    _check_password(password)
    with session_scope(store) as session:
        if session.exec(select(UserAccount).where(UserAccount.name == name)).first() is not None:
            raise InvalidInput(_("user {name} already exists").format(name=repr(name)))
        operator_id = None
        if operator:
            found = session.exec(select(Operator).where(Operator.name == operator)).first()
            if found is None:
                raise NotFound(
                    _("no operator named {name}; add one with `dialer operators add`").format(
                        name=repr(operator)
                    )
                )
            operator_id = found.id
        user = UserAccount(
            name=name,
            password_hash=_hasher.hash(password),
            role=role_value.value,
            operator_id=operator_id,
            language=language,
        )
        session.add(user)
        session.flush()
        return _view(session, user)


def list_users(store: Engine) -> list[UserView]:
    with Session(store) as session:
        users = session.exec(select(UserAccount).order_by(col(UserAccount.name))).all()
        return [_view(session, u) for u in users]


def set_disabled(store: Engine, name: str, disabled: bool = True) -> UserView:
    """Disable (or enable) an account; disabling ends its sessions at once."""
    with session_scope(store) as session:
        user = _user(session, name)
        user.disabled = disabled
        if disabled:
            session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
        return _view(session, user)


def set_password(store: Engine, name: str, password: str) -> UserView:
    """Change the password; every session of the account ends."""
    _check_password(password)
    with session_scope(store) as session:
        user = _user(session, name)
        user.password_hash = _hasher.hash(password)
        session.execute(delete(WebSession).where(col(WebSession.user_id) == user.id))
        return _view(session, user)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _recent_failures(session: Session, name: str, now: datetime) -> int:
    count = session.exec(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.name == name, col(LoginFailure.at) > now - THROTTLE_WINDOW)
    ).one()
    return int(count)


def login(store: Engine, name: str, password: str) -> LoginSession:
    """Check the password and open a session, or raise ``LoginRefused``."""
    now = utcnow()
    name = name[:100]
    with session_scope(store) as session:
        if _recent_failures(session, name, now) >= THROTTLE_FAILURES:
            raise LoginThrottled(N_("too many failed logins: wait a few minutes"))
        user = session.exec(select(UserAccount).where(UserAccount.name == name)).first()
        verified = _verify(user.password_hash if user else _DUMMY_HASH, password)
        if user is None or user.disabled or not verified:
            session.add(LoginFailure(name=name, at=now))
            session.commit()
            raise LoginRefused(N_("wrong user name or password"))
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = _hasher.hash(password)
        assert user.id is not None
        session.execute(delete(LoginFailure).where(col(LoginFailure.name) == name))
        session.execute(delete(WebSession).where(col(WebSession.expires_at) < now))
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session.add(
            WebSession(
                token_hash=_token_hash(token), user_id=user.id, csrf=csrf, expires_at=now + SESSION_LIFETIME
            )
        )
        return LoginSession(token, csrf, _view(session, user))


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def resolve_session(store: Engine, token: str) -> LoginSession | None:
    """The live session behind a cookie's token, or None."""
    if not token or len(token) > 200:
        return None
    with Session(store) as session:
        row = session.get(WebSession, _token_hash(token))
        if row is None or aware(row.expires_at) < utcnow():
            return None
        user = session.get(UserAccount, row.user_id)
        if user is None or user.disabled:
            return None
        return LoginSession(token, row.csrf, _view(session, user))


def session_alive(store: Engine, token: str) -> bool:
    """Is the session behind ``token`` still live (not logged out, expired or disabled)? One query:
    what an open event stream re-checks now and then."""
    if not token or len(token) > 200:
        return False
    with Session(store) as session:
        expires = session.exec(
            select(WebSession.expires_at)
            .join(UserAccount, col(UserAccount.id) == WebSession.user_id)
            .where(WebSession.token_hash == _token_hash(token), col(UserAccount.disabled).is_(False))
        ).first()
    return expires is not None and aware(expires) >= utcnow()


def session_language(store: Engine, token: str) -> str | None:
    """The language of the user a session was opened for, live or not (an expired session, or one
    of a disabled user, is still stored; a logged-out one is not): what a refusal to it speaks."""
    if not token or len(token) > 200:
        return None
    with Session(store) as session:
        return session.exec(
            select(UserAccount.language)
            .join(WebSession, col(WebSession.user_id) == UserAccount.id)
            .where(WebSession.token_hash == _token_hash(token))
        ).first()


def csrf_ok(login_session: LoginSession, sent: str | None) -> bool:
    return sent is not None and hmac.compare_digest(login_session.csrf.encode(), sent.encode())


def logout(store: Engine, token: str) -> None:
    with session_scope(store) as session:
        session.execute(delete(WebSession).where(col(WebSession.token_hash) == _token_hash(token)))
