"""The carrier registry: code -> adapter class (importing it performs no I/O and reads no configuration)."""
from __future__ import annotations

from integrations.carriers.aftership import AfterShip
from integrations.carriers.canadapost import CanadaPost
from integrations.carriers.dhl import Dhl
from integrations.carriers.dhl_parcel_de import DhlParcelDe
from integrations.carriers.dpd import Dpd
from integrations.carriers.fedex import Fedex
from integrations.carriers.gls import Gls
from integrations.carriers.hermes import Hermes
from integrations.carriers.laposte import LaPoste
from integrations.carriers.royalmail import RoyalMail
from integrations.carriers.sandbox import SandboxCarrier
from integrations.carriers.ups import Ups
from integrations.carriers.usps import Usps

CARRIERS: dict[str, type] = {
    "sandbox": SandboxCarrier,
    "dhl": Dhl,
    "dhl_parcel_de": DhlParcelDe,
    "ups": Ups,
    "fedex": Fedex,
    "usps": Usps,
    "dpd": Dpd,
    "gls": Gls,
    "hermes": Hermes,
    "laposte": LaPoste,
    "royalmail": RoyalMail,
    "canadapost": CanadaPost,
    # The aggregator for every carrier without an adapter of its own (never chosen by number detection).
    "aftership": AfterShip,
}

__all__ = ["CARRIERS", "AfterShip", "CanadaPost", "Dhl", "DhlParcelDe", "Dpd", "Fedex", "Gls", "Hermes", "LaPoste",
           "RoyalMail", "SandboxCarrier", "Ups", "Usps"]
