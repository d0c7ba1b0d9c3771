"""Merchant accounts: sign up, sign in with lockout after repeated failures, and which stores an account owns."""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Account, AccountStore

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 10
MAX_FAILED_LOGINS = 5  # consecutive failures before the account is locked
LOCKOUT = timedelta(minutes=15)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters


@cache
def _dummy_hash() -> str:
    """Verified when the email is unknown, so a missing account takes as long to refuse as a wrong password.
    Made on first use, not at import: hashing costs ~120 ms and 64 MiB, and worker processes never sign anyone in."""
    return _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    """A sign-up or sign-in the merchant must correct; the message is safe to show."""


@dataclass(frozen=True)
class SignIn:
    account: Account | None
    error: str | None = None


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def create_account(session: Session, *, email: str, password: str, now: datetime) -> Account:
    address = normalize_email(email)
    if not _EMAIL.match(address) or len(address) > 320:
        raise AccountError("Enter a valid email address.")
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"Choose a password of at least {MIN_PASSWORD_LENGTH} characters.")
    if session.scalar(select(Account.id).where(Account.email == address)) is not None:
        raise AccountError("An account with this email exists already: sign in instead.")
    account = Account(email=address, password_hash=_hasher.hash(password), created_at=now)
    try:
        with session.begin_nested():
            session.add(account)
    except IntegrityError as exc:  # the same email signing up twice at once
        raise AccountError("An account with this email exists already: sign in instead.") from exc
    return account


def authenticate(session: Session, *, email: str, password: str, now: datetime) -> SignIn:
    """Check a password; the caller commits (failure counts must persist even when sign-in fails)."""
    generic = "Wrong email or password."
    _dummy_hash()  # made before the lookup: a process's first unknown email takes no longer than a known one
    account = session.scalar(select(Account).where(Account.email == normalize_email(email)))
    if account is None:
        try:
            _hasher.verify(_dummy_hash(), password or "")
        except VerificationError:
            pass
        return SignIn(None, generic)
    if account.locked_until is not None and account.locked_until > now:
        minutes = max(1, int((account.locked_until - now).total_seconds() // 60) + 1)
        return SignIn(None, f"Too many failed sign-ins: try again in {minutes} minutes.")
    try:
        _hasher.verify(account.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until = now + LOCKOUT
            account.failed_logins = 0
            log.warning("account %s locked after %d failed sign-ins", account.id, MAX_FAILED_LOGINS)
            return SignIn(None, f"Too many failed sign-ins: try again in {int(LOCKOUT.total_seconds() // 60)} minutes.")
        return SignIn(None, generic)
    account.failed_logins = 0
    account.locked_until = None
    account.last_login_at = now
    if _hasher.check_needs_rehash(account.password_hash):
        account.password_hash = _hasher.hash(password)
    return SignIn(account)


def link_store(session: Session, *, account_id: int, store_id: int) -> None:
    if session.scalar(select(AccountStore.id).where(AccountStore.account_id == account_id,
                                                    AccountStore.store_id == store_id)) is None:
        session.add(AccountStore(account_id=account_id, store_id=store_id))


def account_store_ids(session: Session, account_id: int) -> list[int]:
    return list(session.scalars(select(AccountStore.store_id).where(AccountStore.account_id == account_id)))
