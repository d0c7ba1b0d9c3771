"""Webhook ingest benchmark: Shopify-signed deliveries POSTed to the real app under gunicorn on PostgreSQL.

Run: .venv/bin/python bench/webhook_ingest.py [--requests 6000] [--clients 8] [--workers 2] [--threads 4]
Creates a schema of its own (migrated with the real Alembic migration), serves the app from it, and drops it at
the end. Reports accepted deliveries per second (answered 200 and stored) and p50/p99 latency.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import http.client
import json
import multiprocessing
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.cli import upgrade_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://127.0.0.1:5432/test")
SECRET = "shpss_bench_0123456789abcdef0123456789abcdef"
SHOP = "bench-shop.myshopify.com"


def _body(i: int) -> bytes:
    """A realistic orders/updated body (about 2.5 KB, like a small order)."""
    return json.dumps({
        "id": 5_000_000 + i, "admin_graphql_api_id": f"gid://shopify/Order/{5_000_000 + i}", "name": f"#{1000 + i}",
        "email": f"shopper{i}@example.com", "created_at": "2026-11-20T10:00:00+01:00",
        "updated_at": f"2026-11-23T10:{i % 60:02d}:00+01:00", "currency": "EUR", "total_price": "59.90",
        "customer": {"id": 8_000_000 + i, "email": f"shopper{i}@example.com", "first_name": "Ada", "last_name": "L"},
        "shipping_address": {"first_name": "Ada", "last_name": "L", "address1": "Chausseestr. 1", "city": "Berlin",
                             "zip": "10115", "country_code": "DE"},
        "line_items": [{"id": 7_000_000 + i * 10 + j, "title": f"Trail Sock {j}", "sku": f"SOCK-{j}", "quantity": 1,
                        "price": "12.95", "variant_title": "M / Blue", "product_id": 632910392,
                        "properties": [], "grams": 200} for j in range(3)],
        "fulfillments": [{"id": 9_000_000 + i, "order_id": 5_000_000 + i, "status": "success",
                          "created_at": "2026-11-21T10:00:00+01:00", "tracking_company": "DHL Express",
                          "tracking_number": f"JD{i:018d}", "tracking_numbers": [f"JD{i:018d}"],
                          "tracking_url": "https://www.dhl.com/", "tracking_urls": ["https://www.dhl.com/"],
                          "line_items": [{"id": 7_000_000 + i * 10}]}],
    }).encode()


def _client(port: int, start: int, count: int, queue: multiprocessing.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies, statuses = [], {}
    for i in range(start, start + count):
        body = _body(i)
        signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": "orders/updated",
                   "X-Shopify-Shop-Domain": SHOP, "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-Webhook-Id": str(uuid.uuid4()), "X-Shopify-Hmac-Sha256": signature,
                   "X-Shopify-API-Version": "2026-10", "X-Shopify-Triggered-At": "2026-11-23T09:00:00Z"}
        began = time.perf_counter()
        conn.request("POST", "/webhooks/shopify", body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append(time.perf_counter() - began)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    conn.close()
    queue.put((latencies, statuses))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_ready(port: int, deadline: float) -> None:
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("the app did not come up")


def _run_load(port: int, *, requests: int, clients: int) -> tuple[list[float], dict[int, int], float]:
    queue: multiprocessing.Queue = multiprocessing.Queue()
    per = requests // clients
    procs = [multiprocessing.Process(target=_client, args=(port, 1_000_000 * (k + 1), per, queue)) for k in range(clients)]
    began = time.perf_counter()
    for p in procs:
        p.start()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    for _ in procs:
        lat, st = queue.get()
        latencies += lat
        for code, n in st.items():
            statuses[code] = statuses.get(code, 0) + n
    elapsed = time.perf_counter() - began
    for p in procs:
        p.join()
    return latencies, statuses, elapsed


_WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = %(body)s
local threads, counter = 0, 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
request = function()
  counter = counter + 1
  local h = {}
  h["Content-Type"] = "application/json"
  h["X-Shopify-Topic"] = "orders/updated"
  h["X-Shopify-Shop-Domain"] = "%(shop)s"
  h["X-Shopify-Hmac-Sha256"] = "%(signature)s"
  h["X-Shopify-Event-Id"] = "wrk-" .. tostring(tid) .. "-" .. counter
  return wrk.format(nil, "/webhooks/shopify", h)
end
"""


def _wrk_ms(text: str) -> float:
    value = float(text.rstrip("usm"))
    return value / 1000 if text.endswith("us") else value * 1000 if text.endswith("s") and not text.endswith("ms") else value


def _run_wrk(port: int, *, seconds: int, connections: int) -> tuple[float, float, float, dict[int, int]]:
    """The load from wrk (C, from Debian's `wrk` package): the client then costs the server's cores almost nothing.

    Every request carries a new X-Shopify-Event-Id, so every delivery is a new inbox row.
    """
    body = _body(1)
    signature = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest()).decode()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(_WRK_SCRIPT % {"body": json.dumps(body.decode()), "shop": SHOP, "signature": signature})
    try:
        out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name,
                              f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = _wrk_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = _wrk_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rate, p50, p99, {0: int(errors.group(1))} if errors else {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=6000)
    parser.add_argument("--clients", type=int, default=8, help="concurrent keep-alive connections (processes)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=400)
    parser.add_argument("--seconds", type=int, default=10, help="load duration with wrk")
    parser.add_argument("--python-client", action="store_true", help="use the Python client even when wrk exists")
    figures = run(parser.parse_args())
    print(f"statuses: {figures['statuses']}; stored in inbox: {figures['stored']} (incl. warm-up)")
    print(f"accepted/s: {figures['rate']:.0f}")
    print(f"latency ms: p50 {figures['p50_ms']:.1f}  p99 {figures['p99_ms']:.1f}; web peak RSS {figures['rss_mb']:.0f} MB")


def run(args: argparse.Namespace) -> dict:
    from bench.common import tree_peak_rss_mb

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(DATABASE_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    server = None
    try:
        engine = create_engine(DATABASE_URL, connect_args={"options": f"-csearch_path={schema}"})
        with engine.begin() as conn:
            upgrade_database(DATABASE_URL, conn)
            conn.execute(text("INSERT INTO stores (platform, domain, name, status, settings, currency, created_at) "
                              "VALUES ('shopify', :shop, 'bench', 'active', '{}', 'EUR', now())"), {"shop": SHOP})
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": f"{DATABASE_URL}?options=-csearch_path%3D{schema}",
               "SECRET_KEY": "bench", "ENCRYPTION_KEY": Fernet.generate_key().decode(), "SHOPIFY_API_SECRET": SECRET,
               "SHOPIFY_API_KEY": "bench", "LOG_LEVEL": "WARNING", "APP_URL": "https://bench.example"}
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/gunicorn"), "--reuse-port", "--workers", str(args.workers), "--threads", str(args.threads),
             "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "app:create_app()"],
            cwd=ROOT, env=env, start_new_session=True)
        _wait_ready(port, time.time() + 30)
        _run_load(port, requests=args.warmup, clients=min(args.clients, 4))  # warm pools and caches
        use_wrk = shutil.which("wrk") and not getattr(args, "python_client", False)
        if use_wrk:
            rate, p50, p99, errors = _run_wrk(port, seconds=getattr(args, "seconds", 10), connections=args.clients)
        else:
            latencies, statuses, elapsed = _run_load(port, requests=args.requests, clients=args.clients)
        rss = tree_peak_rss_mb(server.pid)
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM inbox")).scalar_one()
        engine.dispose()
        if use_wrk:
            return {"rate": rate, "p50_ms": p50, "p99_ms": p99, "statuses": errors or {200: "all"}, "stored": stored,
                    "rss_mb": rss, "client": "wrk"}
        accepted = statuses.get(200, 0)
        latencies.sort()
        p = lambda q: latencies[min(int(q * len(latencies)), len(latencies) - 1)] * 1000  # noqa: E731
        return {"rate": accepted / elapsed, "p50_ms": p(0.50), "p99_ms": p(0.99), "statuses": statuses,
                "stored": stored, "rss_mb": rss, "mean_ms": statistics.fmean(latencies) * 1000,
                "client": "python"}
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
