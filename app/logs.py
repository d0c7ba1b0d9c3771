"""Logging: plain text or JSON lines (LOG_FORMAT=json), with store/shipment/carrier context and secrets masked."""
from __future__ import annotations

import json
import logging
import re
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timezone
from typing import Any, Iterator

CONTEXT_FIELDS = ("job", "store", "shipment", "carrier", "provider", "inbox_item")
_context: ContextVar[dict[str, Any]] = ContextVar("log_context", default={})

# Defence in depth: messages should never carry these, but an exception text from a library might.
_MASKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "<email>"),
    (re.compile(r"\+\d{8,15}\b"), "<phone>"),
    (re.compile(r"\b(pk|sk|shpat|shpca|shppa|shpua|shpss|ck|cs)_[A-Za-z0-9_]{8,}"), r"\1_<hidden>"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), r"\1 <hidden>"),
    (re.compile(r"gAAAAA[A-Za-z0-9_=-]{20,}"), "<encrypted>"),
    (re.compile(r"(?i)((?:api[_-]?key|secret|password|token)[\"']?\s*[:=]\s*[\"']?)[^\s\"',}]{4,}"), r"\1<hidden>"),
)


def mask(text: str) -> str:
    for pattern, replacement in _MASKS:
        text = pattern.sub(replacement, text)
    return text


@contextmanager
def log_context(**fields: Any) -> Iterator[None]:
    """Every record logged inside carries these fields (per thread and task, via a context variable)."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, context fields, and the masked traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname, "logger": record.name, "message": mask(record.getMessage()),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exc"] = mask(self.formatException(record.exc_info))
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = " ".join(f"{n}={getattr(record, n)}" for n in CONTEXT_FIELDS if getattr(record, n, None) is not None)
        line = super().format(record)
        return mask(f"{line} [{context}]" if context else line)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is at the time (test runners swap it), not the one seen at start-up."""

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


_installed: dict[str, logging.Handler] = {}


def _record_factory(base: Any) -> Any:
    def build(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = base(*args, **kwargs)
        for key, value in _context.get().items():
            setattr(record, key, value)
        return record
    build._parcelwise = True  # type: ignore[attr-defined]
    return build


def configure_logging(*, level: str, fmt: str) -> None:
    """Idempotent: one handler on the root logger, replaced when the format changes (tests build many apps)."""
    factory = logging.getLogRecordFactory()
    if not getattr(factory, "_parcelwise", False):
        logging.setLogRecordFactory(_record_factory(factory))
    root = logging.getLogger()
    previous = _installed.pop("root", None)
    if previous is not None:
        root.removeHandler(previous)
    handler = _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else
                         TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    _installed["root"] = handler
    root.setLevel(level)
