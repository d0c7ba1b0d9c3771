"""A tiny loopback HTTP server for fakes of remote services (carriers, ESPs, stores), never patched clients."""
from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Callable, Iterator
from urllib.parse import parse_qs, urlsplit

__all__ = ["FakeService", "Request", "Response", "route", "serve"]


@dataclass(frozen=True)
class Request:
    """One request as the fake saw it (recorded in `FakeService.requests`)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def arg(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class Response:
    """What a route (or a scripted fault) answers. `delay` sleeps before answering (for client timeouts);
    `drop` closes the connection without any answer (for connection errors)."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def json(cls, payload: Any, *, status: int = 200, headers: dict[str, str] | None = None,
             delay: float = 0.0) -> Response:
        return cls(status=status, body=json.dumps(payload), delay=delay,
                   headers={"Content-Type": "application/json", **(headers or {})})

    @classmethod
    def text(cls, body: str, *, status: int = 200, content_type: str = "text/plain",
             headers: dict[str, str] | None = None, delay: float = 0.0) -> Response:
        return cls(status=status, body=body, delay=delay,
                   headers={"Content-Type": f"{content_type}; charset=utf-8", **(headers or {})})

    @classmethod
    def html(cls, *, status: int = 503, title: str = "Service Unavailable", delay: float = 0.0) -> Response:
        """The kind of page a load balancer or WAF answers instead of the API's JSON."""
        page = f"<!DOCTYPE html><html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>"
        return cls.text(page, status=status, content_type="text/html", delay=delay)


Handler = Callable[[Request], Response]


def route(method: str, pattern: str) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Mark a method of a `FakeService` subclass as the handler of `METHOD pattern`.

    `pattern` is a path with optional `{name}` segments, e.g. "/tracking/v3/tracking/{number}"; the values are
    in `request.path_params`.
    """

    def mark(fn: Callable[..., Response]) -> Callable[..., Response]:
        fn.__dict__.setdefault("_fake_routes", []).append((method.upper(), pattern))
        return fn

    return mark


def _compile(pattern: str) -> re.Pattern[str]:
    regex = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(pattern))
    return re.compile(f"^{regex}$")


@dataclass
class _Fault:
    response: Response
    method: str | None
    path: re.Pattern[str] | None
    times: int


class FakeService:
    """Base class for a fake remote service on 127.0.0.1 (random port, daemon thread).

    Subclass it and decorate handler methods with `@route("GET", "/path")`, or call `add_route`. Use it as a
    context manager (or `serve(fake)`): `with MyFake() as fake: client(base_url=fake.base_url)`.
    Every request is recorded in `requests`; `fail_next(...)` scripts faults answered before the routes.
    Unknown routes answer 404 with a JSON body.
    """

    protocol_version = "HTTP/1.1"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._faults: deque[_Fault] = deque()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        for name in dir(type(self)):
            fn = getattr(type(self), name, None)
            for method, pattern in getattr(fn, "_fake_routes", ()):
                self.add_route(method, pattern, getattr(self, name))

    # -- configuration -------------------------------------------------------------------------------------

    def add_route(self, method: str, pattern: str, handler: Handler) -> None:
        self._routes.append((method.upper(), _compile(pattern), handler))

    def fail_next(self, response: Response, *, times: int = 1, method: str | None = None,
                  path: str | None = None) -> None:
        """Answer the next `times` matching requests with `response` instead of the route."""
        with self._lock:
            self._faults.append(_Fault(response, method.upper() if method else None,
                                       _compile(path) if path else None, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def requests_to(self, path: str, *, method: str | None = None) -> list[Request]:
        matcher = _compile(path)
        with self._lock:
            return [r for r in self.requests
                    if matcher.match(r.path) and (method is None or r.method == method.upper())]

    # -- lifecycle -----------------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("fake service is not running")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeService:
        handler = type("_Handler", (_RequestHandler,), {"fake": self, "protocol_version": self.protocol_version})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True  # a slow handler must never block the test run's exit
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"{type(self).__name__}-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeService:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    # -- dispatch ------------------------------------------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        with self._lock:
            self.requests.append(request)
            for fault in self._faults:
                if (fault.method is None or fault.method == request.method) and (
                        fault.path is None or fault.path.match(request.path)):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault.response
        for method, pattern, handler in self._routes:
            match = pattern.match(request.path)
            if match and method == request.method:
                return handler(Request(request.method, request.path, request.query, request.headers,
                                       request.body, match.groupdict()))
        return Response.json({"error": "no such route", "path": request.path}, status=404)


class _RequestHandler(BaseHTTPRequestHandler):
    fake: FakeService

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, url.path, parse_qs(url.query, keep_blank_values=True),
                          {k.lower(): v for k, v in self.headers.items()}, body)
        try:
            response = self.fake.dispatch(request)
        except Exception as exc:  # a bug in a fake must show up as a 500, not a hung client
            response = Response.text(f"fake handler error: {exc!r}", status=500)
        if response.delay:
            time.sleep(response.delay)
        if response.drop:
            self.close_connection = True
            return
        payload = response.body.encode("utf-8") if isinstance(response.body, str) else response.body
        try:
            self.send_response(response.status)
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (its read timeout was shorter than `delay`): that is the point of the test.
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - signature of the base class
        return None  # keep test output clean; requests are recorded on the fake instead


def serve(fake: FakeService) -> Iterator[FakeService]:
    """Generator for a pytest fixture: `yield from serve(MyFake())`."""
    with fake:
        yield fake
