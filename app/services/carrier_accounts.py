"""A merchant's carrier credentials: verified with one real tracking call before they are stored (encrypted)."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import CarrierAccount, Store
from integrations.carriers import CARRIERS
from integrations.carriers.base import TrackingErrorCode

# A number in each carrier's format that the API answers "not found" for: enough to prove the credentials work.
PROBE_NUMBERS: dict[str, str] = {
    "dhl": "00340434161094042557", "dhl_parcel_de": "00340434161094042557", "ups": "1Z999AA10123456784",
    "fedex": "123456789012", "usps": "9400100000000000000000",
    "dpd": "01234567890123", "gls": "12345678901", "hermes": "H1000000000000000000", "laposte": "6A00000000000",
    "royalmail": "AA000000000GB", "canadapost": "1000000000000000",
}


class CredentialsRejected(Exception):
    """The carrier refused the credentials (or they are incomplete); the message says what to fix."""


def verify_carrier_credentials(*, runtime, carrier_code: str, credentials: dict[str, str], test_number: str | None = None) -> None:
    cls = CARRIERS.get(carrier_code)
    if cls is None:
        raise CredentialsRejected(f"unknown carrier {carrier_code!r}")
    missing = [name for name in cls.credential_fields if not credentials.get(name)]
    if missing:
        raise CredentialsRejected(f"{cls.name} needs: {', '.join(missing)}")
    account = CarrierAccount(carrier_code=carrier_code, credentials_encrypted=runtime.vault.encrypt(credentials))
    carrier = runtime.carrier(carrier_code, account=account)
    check = getattr(carrier, "check_credentials", None)
    if check is not None and test_number is None:
        error = check()  # carriers where a probe number would have side effects (an aggregator registers it)
    else:
        number = test_number or PROBE_NUMBERS.get(carrier_code, "TEST")
        [result] = carrier.track(numbers=[number])
        error = result.error
    if error is not None and error.code == TrackingErrorCode.AUTH:
        raise CredentialsRejected(f"{cls.name} rejected the credentials: {error.message}")
    if error is not None and error.is_transient:
        raise CredentialsRejected(f"{cls.name} could not be reached to verify the credentials ({error.message}); try again")


def save_carrier_credentials(session: Session, *, runtime, store: Store, carrier_code: str, credentials: dict[str, str],
                             test_number: str | None = None) -> CarrierAccount:
    verify_carrier_credentials(runtime=runtime, carrier_code=carrier_code, credentials=credentials, test_number=test_number)
    account = session.scalar(select(CarrierAccount).where(CarrierAccount.store_id == store.id,
                                                           CarrierAccount.carrier_code == carrier_code))
    if account is None:
        account = CarrierAccount(store_id=store.id, carrier_code=carrier_code)
        session.add(account)
    account.credentials_encrypted = runtime.vault.encrypt(credentials)
    account.verified_at = runtime.clock()
    if carrier_code == "aftership":
        from app.services.aftership import adopt_untracked

        session.flush()
        adopt_untracked(session, now=runtime.clock(), store_id=store.id)  # parcels waiting for an aggregator
    return account
