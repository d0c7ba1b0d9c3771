"""The merchant-editable keys of Store.settings: their types, bounds and defaults, and validation of a submitted form."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from app.models import Store
from app.services.cross_sell import SETTING as CROSS_SELL
from app.services.cross_sell import PickError, parse_picks
from app.services.delays import SETTINGS_KEYS as DELAY_KEYS
from app.services.woocommerce_connect import COMPLETE_SETTING, NOTES_SETTING
from app.services.writeback import SETTING as SHOPIFY_WRITEBACK

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
TRACKING_LANGUAGES = ("auto", "en", "de", "fr")

# Branding and retention keys (the delay and write-back keys belong to their services and are imported above).
BRAND_LOGO_URL = "brand_logo_url"
BRAND_COLOUR = "brand_color"
BRAND_ACCENT = "brand_accent_color"
TRACKING_LANGUAGE = "tracking_language"
RETENTION_DAYS = "retention_days"
BACKFILL_WINDOW = "backfill_window_hours"

DEFAULT_BRAND_COLOUR = "#1f3a5f"
DEFAULT_ACCENT = "#e8590c"
DEFAULT_RETENTION_DAYS = 180


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str  # int | float | bool | colour | url | choice | products
    group: str
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""
    platforms: tuple[str, ...] = ()  # empty: every platform


FIELDS: tuple[Field, ...] = (
    # Fractions of a day are allowed (half a day for an express service; the sandbox counts in minutes).
    Field(DELAY_KEYS["stalled_domestic"], "Stalled after (business days, domestic)", "float", "delays", 3.0, 0.001, 30,
          help="No new carrier scan for this long opens a Shipment Delayed episode."),
    Field(DELAY_KEYS["stalled_international"], "Stalled after (business days, international)", "float", "delays", 5.0,
          0.001, 30),
    Field(DELAY_KEYS["eta_slip_days"], "Estimate slipped by at least (days)", "int", "delays", 1, 1, 14),
    Field(DELAY_KEYS["fulfillment_days"], "Fulfillment delayed after (business days)", "float", "delays", 2.0, 0.001, 30),
    Field(DELAY_KEYS["saturdays"], "Saturdays are business days", "bool", "delays", True),
    Field(BACKFILL_WINDOW, "Backfill window (hours)", "int", "events", None, 1, 720,
          help="News older than this is sent with backfill: true, so it lands on the timeline without firing flows."),
    Field(SHOPIFY_WRITEBACK, "Write fulfillment events back to Shopify", "bool", "writeback", True, platforms=("shopify",)),
    Field(NOTES_SETTING, "Add order notes in WooCommerce", "bool", "writeback", True, platforms=("woocommerce",)),
    Field(COMPLETE_SETTING, "Mark WooCommerce orders completed on delivery", "bool", "writeback", False,
          platforms=("woocommerce",)),
    Field(BRAND_LOGO_URL, "Logo URL (https)", "url", "branding", "", help="Shown at the top of the tracking page."),
    Field(BRAND_COLOUR, "Brand colour", "colour", "branding", DEFAULT_BRAND_COLOUR),
    Field(BRAND_ACCENT, "Accent colour", "colour", "branding", DEFAULT_ACCENT),
    Field(TRACKING_LANGUAGE, "Tracking page language", "choice", "branding", "auto", choices=TRACKING_LANGUAGES,
          help="auto: the order's language (English, German or French), else English."),
    Field(CROSS_SELL, "Products to recommend on the tracking page", "products", "branding", [],
          help="One a line: Title | https://product-url | https://image-url | price. Empty: the store's best sellers."),
    Field(RETENTION_DAYS, "Keep carrier events and event payloads of delivered parcels (days)", "int", "retention",
          DEFAULT_RETENTION_DAYS, 7, 3650, help="Older data is deleted by the nightly retention job."),
)


def fields_for(store: Store) -> list[Field]:
    return [f for f in FIELDS if not f.platforms or store.platform in f.platforms]


def current_values(store: Store, *, backfill_default: int) -> dict[str, Any]:
    defaults = {BACKFILL_WINDOW: backfill_default}
    return {f.key: store.setting(f.key, defaults.get(f.key, f.default)) for f in fields_for(store)}


def _number(field: Field, raw: str) -> tuple[Any, str | None]:
    try:
        value: Any = int(raw) if field.kind == "int" else float(raw)
    except ValueError:
        return None, "enter a whole number" if field.kind == "int" else "enter a number"
    if (field.minimum is not None and value < field.minimum) or (field.maximum is not None and value > field.maximum):
        return None, f"between {field.minimum:g} and {field.maximum:g}"
    return value, None


def _url(raw: str) -> tuple[Any, str | None]:
    if not raw:
        return "", None
    parts = urlsplit(raw)
    # Only https: the tracking page is served over https and a plain-http logo would be blocked or leak the visit.
    if parts.scheme != "https" or not parts.netloc or len(raw) > 500 or any(c in raw for c in "\"'<> "):
        return None, "an https:// address of an image"
    return raw, None


def validate(store: Store, form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """The settings a submitted form asks for, and an error per field that is not acceptable (nothing is saved then)."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for field in fields_for(store):
        raw = (form.get(field.key) or "").strip()
        error: str | None = None
        if field.kind == "bool":
            value: Any = raw in ("on", "1", "true")  # an unticked checkbox is simply absent
        elif field.kind in ("int", "float"):
            value, error = _number(field, raw)
        elif field.kind == "colour":
            value, error = (raw.lower(), None) if HEX_COLOUR.match(raw) else (None, "a colour like #1f3a5f")
        elif field.kind == "url":
            value, error = _url(raw)
        elif field.kind == "products":
            try:
                value = parse_picks(raw)
            except PickError as exc:
                value, error = None, str(exc)
        else:
            value, error = (raw, None) if raw in field.choices else (None, f"one of {', '.join(field.choices)}")
        if error:
            errors[field.key] = error
        else:
            values[field.key] = value
    return values, errors


def save(store: Store, values: dict[str, Any]) -> None:
    # A new dict, so the JSON column sees the change (in-place mutation is not tracked).
    store.settings = {**(store.settings or {}), **values}


def text_on(colour: str) -> str:
    """Black or white text, whichever reads better on `colour` (WCAG relative luminance)."""
    channels = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    luminance = 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    return "#111827" if luminance > 0.4 else "#ffffff"


def branding(store: Store) -> dict[str, str]:
    colour = store.setting(BRAND_COLOUR, DEFAULT_BRAND_COLOUR)
    accent = store.setting(BRAND_ACCENT, DEFAULT_ACCENT)
    colour = colour if HEX_COLOUR.match(str(colour)) else DEFAULT_BRAND_COLOUR
    accent = accent if HEX_COLOUR.match(str(accent)) else DEFAULT_ACCENT
    logo, _ = _url(str(store.setting(BRAND_LOGO_URL, "") or ""))
    return {"colour": colour, "on_colour": text_on(colour), "accent": accent, "on_accent": text_on(accent),
            "logo_url": logo or "", "name": store.name}
