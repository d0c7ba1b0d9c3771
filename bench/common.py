"""Shared benchmark plumbing: a throwaway PostgreSQL schema migrated with the real migration, and an app on it."""
from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Callable, Iterator

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from app import create_app
from app.cli import upgrade_database

BENCH_DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")


@contextmanager
def bench_app(**config: Any) -> Iterator[Any]:
    """An app on its own PostgreSQL schema, dropped afterwards; nothing is left behind."""
    with migrated_schema(BENCH_DATABASE_URL) as target:
        app = schema_app({**target, "engine_options": {**target["engine_options"], "pool_size": 40}}, **config)
        try:
            yield app
        finally:
            app.extensions["runtime"].db.dispose()


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(pct / 100 * (len(ordered) - 1))))]


def median(values: list[float]) -> float:
    return statistics.median(values)


# -- processes: workers and web servers as real subprocesses on a schema of their own ------------------------------

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def migrated_schema(url: str = BENCH_DATABASE_URL, *, prefix: str = "bench") -> Iterator[dict[str, Any]]:
    """A schema migrated with the real migration, dropped afterwards. Yields what apps and subprocesses need."""
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = {"connect_args": {"options": f"-csearch_path={schema}"}, "pool_size": 20}
    try:
        engine = create_engine(url, **options)
        with engine.begin() as conn:
            upgrade_database(url, conn)
        engine.dispose()
        yield {"schema": schema, "url": url, "engine_options": options, "key": Fernet.generate_key().decode(),
               "env_url": f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}"}
    finally:
        admin.dispose()
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        for _ in range(30):  # a restarting database (fault tests) may refuse for a moment
            try:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
                break
            except Exception:
                time.sleep(0.5)
        admin.dispose()


def schema_app(target: dict[str, Any], **config: Any) -> Any:
    """An in-process app on a `migrated_schema` (to seed rows and read results)."""
    return create_app({"DATABASE_URL": target["url"], "ENGINE_OPTIONS": target["engine_options"], "SECRET_KEY": "bench",
                       "ENCRYPTION_KEY": target["key"], "LOG_LEVEL": "WARNING", "APP_URL": "https://bench.example",
                       "KLAVIYO_RATE_LIMIT": False, **config})


def process_env(target: dict[str, Any], **settings: Any) -> dict[str, str]:
    """The environment of a worker or web process on the schema: settings are the app's config keys."""
    env = {**os.environ, "DATABASE_URL": target["env_url"], "SECRET_KEY": "bench", "ENCRYPTION_KEY": target["key"],
           "LOG_LEVEL": "WARNING", "APP_URL": "https://bench.example", "KLAVIYO_RATE_LIMIT": "0", "PYTHONUNBUFFERED": "1"}
    env.pop("TEST_DATABASE", None)
    from app.config import VENDOR_URL_DEFAULTS

    # Loopback only: every vendor the run does not fake points at a closed local port.
    env.update({name: "http://127.0.0.1:9" for name in VENDOR_URL_DEFAULTS if name != "SHOPIFY_ADMIN_URL_TEMPLATE"})
    env.update({k: str(v) for k, v in settings.items()})
    return env


def start_worker(env: dict[str, str], *, log_path: Path | None = None) -> subprocess.Popen:
    """`flask --app app worker`, exactly as the Procfile runs it."""
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "app", "worker"], cwd=ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def start_web(env: dict[str, str], *, port: int, workers: int = 2, threads: int = 4) -> subprocess.Popen:
    """The Procfile's web process (gunicorn), answering once /healthz does."""
    proc = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "--workers", str(workers), "--threads", str(threads),
                             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
                            cwd=ROOT, env=env, start_new_session=True)
    wait_http(port, "/healthz", deadline=time.time() + 30)
    return proc


def wait_http(port: int, path: str, *, deadline: float) -> None:
    import http.client

    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered on port {port}")


def stop(proc: subprocess.Popen, *, timeout: float = 10.0) -> None:
    """SIGTERM the process group, then SIGKILL what is left."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=timeout)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=timeout)


def kill9(proc: subprocess.Popen) -> None:
    """The crash under test: no clean-up, no signal handler, mid-batch."""
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a live process, in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def tree_peak_rss_mb(pid: int) -> float:
    """The largest VmHWM in a process and its children (a gunicorn master and its workers)."""
    pids = [pid]
    with suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            pids += [int(c) for c in (task / "children").read_text().split()]
    return max((peak_rss_mb(p) for p in pids if Path(f"/proc/{p}").exists()), default=0.0)


def wait_until(predicate: Callable[[], bool], *, timeout: float, interval: float = 0.2, what: str = "condition") -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
