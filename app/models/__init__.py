"""The data model; import from here so Alembic and services see every table."""
from __future__ import annotations

from app.models.store import CarrierAccount, EspConnection, Store
from app.models.order import Order
from app.models.shipment import Shipment, TrackingEventRecord
from app.models.inbox import InboxItem
from app.models.outbox import OutboxItem
from app.models.privacy import DataExport
from app.models.shopify import ShopifySync
from app.models.ratelimit import RateLimitWindow
from app.models.account import Account, AccountStore
from app.models.woocommerce import WooAuthGrant, WooSync
from app.models.metrics import MetricCounter

__all__ = ["Account", "AccountStore", "WooAuthGrant", "WooSync", "CarrierAccount", "DataExport", "ShopifySync", "EspConnection", "InboxItem", "MetricCounter", "Order", "OutboxItem", "RateLimitWindow", "Shipment", "Store", "TrackingEventRecord"]
