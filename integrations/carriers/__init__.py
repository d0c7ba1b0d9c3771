"""The carrier registry: code -> adapter class (importing it performs no I/O and reads no configuration)."""
from __future__ import annotations

from integrations.carriers.dhl import Dhl
from integrations.carriers.dhl_parcel_de import DhlParcelDe
from integrations.carriers.fedex import Fedex
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
}

__all__ = ["CARRIERS", "Dhl", "DhlParcelDe", "Fedex", "SandboxCarrier", "Ups", "Usps"]
