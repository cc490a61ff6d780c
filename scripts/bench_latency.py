#!/usr/bin/env python3
"""Latency of reads through the real server, printed as p50/p99.

Starts the release `server` binary three times against a scratch MariaDB
database: with the local Redis, with a "Redis" that accepts connections and
never answers (the 50 ms command budget must keep requests fast), and
without a cache. Each run creates expenses, then times GETs of single
expenses and list pages over keep-alive connections.

    python3 scripts/bench_latency.py [--requests N]

Needs MariaDB and Redis (scripts/services.sh) and builds the release binary
if missing. It prints numbers; nothing here asserts on time.
"""
import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
SERVER = os.path.join(TARGET, "release", "server")
SECRET = "bench-secret-" + uuid.uuid4().hex


def sh(*args):
    subprocess.run(args, check=True)


def silent_listener():
    """A TCP server that accepts and never answers; returns its port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    held = []

    def accept():
        while True:
            conn, _ = sock.accept()
            held.append(conn)

    threading.Thread(target=accept, daemon=True).start()
    return sock.getsockname()[1]


def token():
    return subprocess.run(
        [SERVER, "token", "--user", "bench-user", "--hours", "1"],
        env={"JWT_SECRET": SECRET}, check=True, capture_output=True, text=True,
    ).stdout.strip()


def start_server(database_url, redis_url):
    env = {
        "PATH": os.environ["PATH"], "HOST": "127.0.0.1", "PORT": "0",
        "JWT_SECRET": SECRET, "DATABASE_URL": database_url, "RUST_LOG": "error",
        "CACHE_KEY_PREFIX": f"et_bench_{os.getpid()}:",
    }
    if redis_url:
        env["REDIS_URL"] = redis_url
    proc = subprocess.Popen([SERVER], env=env, stdout=subprocess.PIPE, text=True)
    for line in proc.stdout:
        if line.startswith("listening on http://"):
            port = int(line.strip().rsplit(":", 1)[1])
            threading.Thread(target=proc.stdout.read, daemon=True).start()
            return proc, port
    raise SystemExit("server did not start")


def timed(conn, method, path, headers, body=None):
    started = time.perf_counter()
    conn.request(method, path, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - started) * 1000
    if response.status >= 300:
        raise SystemExit(f"{method} {path}: {response.status} {data[:200]!r}")
    return elapsed, data


def run(label, database_url, redis_url, requests):
    proc, port = start_server(database_url, redis_url)
    try:
        time.sleep(1.5)  # let the cache connection come up (or time out)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Authorization": f"Bearer {token()}", "Content-Type": "application/json"}
        ids = []
        for i in range(20):
            body = json.dumps({"amount": f"{i + 1}.50", "currency": "EUR", "date": "2026-11-28",
                               "merchant": f"Shop {i}"})
            _, data = timed(conn, "POST", "/v1/expenses", headers, body)
            ids.append(json.loads(data)["id"])
        gets, lists = [], []
        for i in range(requests):
            gets.append(timed(conn, "GET", f"/v1/expenses/{ids[i % len(ids)]}", headers)[0])
            lists.append(timed(conn, "GET", "/v1/expenses?limit=20", headers)[0])
        for name, samples in (("get", gets), ("list", lists)):
            q = statistics.quantiles(samples, n=100)
            print(f"{label:<28} {name:<5} n={len(samples):<5} p50={q[49]:7.2f} ms  "
                  f"p99={q[98]:7.2f} ms  max={max(samples):7.2f} ms")
    finally:
        proc.terminate()
        proc.wait()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    args = parser.parse_args()
    sh("bash", os.path.join(ROOT, "scripts", "services.sh"))
    if not os.path.exists(SERVER):
        sh("cargo", "build", "--release", "-p", "server")
    db = f"et_bench_{os.getpid()}"
    sh("mariadb", "-uroot", "-h127.0.0.1", "-e", f"CREATE DATABASE `{db}`")
    try:
        url = f"mysql://root@127.0.0.1:3306/{db}"
        run("mariadb + redis", url, "redis://127.0.0.1:6379", args.requests)
        run("mariadb + silent redis", url, f"redis://127.0.0.1:{silent_listener()}", args.requests)
        run("mariadb, no cache", url, None, args.requests)
    finally:
        sh("mariadb", "-uroot", "-h127.0.0.1", "-e", f"DROP DATABASE IF EXISTS `{db}`")
        keys = subprocess.run(["redis-cli", "--scan", "--pattern", f"et_bench_{os.getpid()}:*"],
                              capture_output=True, text=True).stdout.split()
        for i in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "DEL", *keys[i:i + 500]], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
