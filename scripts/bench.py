#!/usr/bin/env python3
"""Benchmarks through the real release `server` binary, printed as p50/p99.

    python3 scripts/bench.py latency [--requests N]
    python3 scripts/bench.py summary [--expenses N] [--requests N]
    python3 scripts/bench.py cold-start [--runs N]

latency: the server runs three times against a scratch MariaDB database:
with the local Redis, with a "Redis" that accepts connections and never
answers (the 50 ms command budget must keep requests fast), and without a
cache; each run times GETs of single expenses and of list pages.

summary: one user with N expenses (default 100000, bulk-loaded), no cache,
timing GET /v1/reports/summary for each group_by (read from the rollups,
which `server backfill` computes after the bulk load).

cold-start: the release `bootstrap` (the one Lambda binary) and a
hello-world `lambda_http` binary that the script builds with the same
release profile and the same locked crate versions, each started many
times against a Lambda Runtime API of the script's own (scripts/
lambda_emulator.py), alternating, with MariaDB and Redis; prints the median
time from exec to the first response posted, for the `health` and
`get-expense` functions, and the ratios to hello-world. Then the resident
memory of a warm `get-expense` after 1,000 invocations.

load: the release `server` on MariaDB with Redis under wrk (Debian's
`wrk`), --connections (default 32) for --seconds each: creates for one user
and for 64 users, patches of 64 expenses, imports of 50 rows naming the same
five categories, and cached GETs of one expense; for each, req/s, p50/p99
and the count of 5xx (which must be 0) and of other non-2xx answers; then
the same in one ledger shared by the 64 users (creates by all of them, a
member's cached GET, whose membership comes in the same Redis round trip).
Then `redis-benchmark GET` with as many connections, and the cached GETs'
rates as a share of it. --runs N repeats everything and prints each run (this
machine is noisy: quote the median).

scale: one user with 10,000 expenses, one with 1,000,000 and a shared
ledger with 1,000,000 read by a member under /v1/ledgers/{id} (seeded in
SQL, MariaDB's sequence engine: 2,500 days, 10 categories and none, three
currencies, a third tagged, 50 merchants, three budgets; then `server
backfill`, timed, for their rollups), the release `server` without a cache; for each list filter the first page and a page
whose cursor is halfway down, each summary `group_by` over one year, and
the month's budgets: the median time for each and the ratios 1M / 10k and
shared / 1M (or the status when it is not 200).

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
sys.path.insert(0, os.path.join(ROOT, "scripts"))


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


def percentiles(label, samples):
    q = statistics.quantiles(samples, n=100)
    print(f"{label:<34} n={len(samples):<5} p50={q[49]:8.2f} ms  "
          f"p99={q[98]:8.2f} ms  max={max(samples):8.2f} ms")


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
        percentiles(f"{label}: get", gets)
        percentiles(f"{label}: list", lists)
    finally:
        proc.terminate()
        proc.wait()


def user_token(user):
    return subprocess.run(
        [SERVER, "token", "--user", user, "--hours", "2"],
        env={"JWT_SECRET": SECRET}, check=True, capture_output=True, text=True,
    ).stdout.strip()


def lua_string(text):
    return "[==[" + text + "]==]"


# wrk's summary line, with the 5xx and other non-2xx counts taken from
# `{e5}` and `{other}` (Lua expressions).
WRK_DONE = """
function done(summary, latency, requests)
  {totals}
  local failed = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %d %.1f %.3f %.3f %d %d %d\\n", summary.requests,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, {e5}, {other}, failed))
end
"""

# Statuses counted in Lua, by a response() hook on every answer.
WRK_COUNTERS = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) server_errors = 0; other = 0 end
function response(status, headers, body)
  if status >= 500 then server_errors = server_errors + 1
  elseif status >= 300 then other = other + 1 end
end
""" + WRK_DONE.format(
    totals='local e5, o = 0, 0\n  for _, t in ipairs(threads) do e5 = e5 + t:get("server_errors"); o = o + t:get("other") end',
    e5="e5", other="o")

# wrk's own count of answers with a status of 400 or more: with no Lua
# response() hook, wrk does not hand each answer to Lua.
WRK_STATUS_ERRORS = WRK_DONE.format(totals="", e5="summary.errors.status", other="0")


def wrk(label, port, requests, connections, seconds, workdir, lean=False):
    """Runs wrk cycling through `requests` (method, path, headers, body);
    prints and returns (req/s, p50, p99, 5xx).

    lean (one request only): wrk sends one prepared request and counts
    statuses itself, with no Lua per request or per response; its 5xx
    figure is then every answer of 400 or more (an upper bound). On these
    two cores the Lua hooks cost the load generator more CPU than the
    server spends on a cached read, so the comparison with redis-benchmark
    is run both ways."""
    if lean:
        [(method, path, headers, body)] = requests
        lines = [f"wrk.method = {lua_string(method)}", f"wrk.path = {lua_string(path)}"]
        lines += [f"wrk.headers[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items()]
        if body is not None:
            lines.append(f"wrk.body = {lua_string(body)}")
        counters = WRK_STATUS_ERRORS
    else:
        lines = ["local requests = {"]
        for method, path, headers, body in requests:
            heads = ", ".join(f"[ {lua_string(k)} ] = {lua_string(v)}" for k, v in headers.items())
            lines.append(f"  wrk.format({lua_string(method)}, {lua_string(path)}, {{{heads}}}, "
                         f"{lua_string(body) if body is not None else 'nil'}),")
        lines.append("}")
        lines.append("local i = 0")
        lines.append("function request() i = i + 1; return requests[(i % #requests) + 1] end")
        counters = WRK_COUNTERS
    script = os.path.join(workdir, "bench.lua")
    with open(script, "w") as f:
        f.write("\n".join(lines) + counters)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", script, f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True)
    result = next((line for line in out.stdout.splitlines() if line.startswith("RESULT ")), None)
    if out.returncode or result is None:
        raise SystemExit(f"wrk failed ({out.returncode}): {out.stdout}{out.stderr}")
    n, rate, p50, p99, e5, other, failed = result.split()[1:]
    print(f"{label:<34} c={connections:<3} n={n:<7} {float(rate):8.1f} req/s  p50={float(p50):7.2f} ms  "
          f"p99={float(p99):8.2f} ms  p99/p50={float(p99) / max(float(p50), 0.001):5.1f}  "
          f"5xx={e5}  other non-2xx={other}  socket errors={failed}")
    return float(rate), float(p50), float(p99), int(e5)


# The cached reads compared with redis-benchmark GET.
SHARED_WITH_REDIS = ("cached get", "cached get, lean wrk", "cached get in a shared ledger",
                     "shared-ledger get, lean wrk")


def load_run(database_url, connections, seconds, workdir):
    import random
    rng = random.Random(11)
    proc, port = start_server(database_url, "redis://127.0.0.1:6379")
    try:
        time.sleep(1.0)
        users = [f"load-{uuid.uuid4().hex[:8]}-{i}" for i in range(64)]
        tokens = [user_token(u) for u in users]
        json_headers = lambda t: {"Authorization": f"Bearer {t}", "Content-Type": "application/json"}

        def new_expense():
            return json.dumps({"amount": f"{rng.randint(1, 99999)}.{rng.randint(0, 99):02d}",
                               "currency": rng.choice(["EUR", "USD"]),
                               "date": f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                               "merchant": f"Shop {rng.randint(1, 50)}",
                               "tags": rng.sample(["food", "team", "travel", "home"], rng.randint(0, 2))})

        one = [("POST", "/v1/expenses", json_headers(tokens[0]), new_expense()) for _ in range(500)]
        many = [("POST", "/v1/expenses", json_headers(tokens[i % 64]), new_expense()) for i in range(512)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        ids = [json.loads(timed(conn, "POST", "/v1/expenses", json_headers(tokens[1]), new_expense())[1])["id"]
               for _ in range(64)]
        patches = [("PATCH", f"/v1/expenses/{ids[i % 64]}",
                    {"Authorization": f"Bearer {tokens[1]}", "Content-Type": "application/merge-patch+json"},
                    json.dumps({"amount": f"{i % 1000 + 1}.00", "tags": [f"p{i % 5}"]})) for i in range(512)]
        names = ["Food", "Rent", "Travel", "Books", "Games"]
        csv_body = lambda k: "date,amount,currency,category\n" + "".join(
            f"2026-08-{1 + r % 28:02d},1.00,EUR,{names[(k + r) % 5]}\n" for r in range(50))
        imports = [("POST", "/v1/expenses/import",
                    {"Authorization": f"Bearer {tokens[2 + i % 62]}", "Content-Type": "text/csv"},
                    csv_body(i)) for i in range(128)]
        cached_id = ids[0]
        timed(conn, "GET", f"/v1/expenses/{cached_id}", json_headers(tokens[1]))
        gets = [("GET", f"/v1/expenses/{cached_id}", {"Authorization": f"Bearer {tokens[1]}"}, None)]
        # One shared ledger of all 64 users (user 0 owns it, the others
        # are editors): the same operations under /v1/ledgers/{id}.
        ledger = json.loads(timed(conn, "POST", "/v1/ledgers", json_headers(tokens[0]),
                                  json.dumps({"name": "Bench household"}))[1])["id"]
        for t in tokens[1:]:
            code = json.loads(timed(conn, "POST", f"/v1/ledgers/{ledger}/invitations", json_headers(tokens[0]),
                                    json.dumps({"role": "editor"}))[1])["code"]
            timed(conn, "POST", "/v1/invitations/accept", json_headers(t), json.dumps({"code": code}))
        base = f"/v1/ledgers/{ledger}"
        shared_creates = [("POST", f"{base}/expenses", json_headers(tokens[i % 64]), new_expense())
                          for i in range(512)]
        shared_id = json.loads(timed(conn, "POST", f"{base}/expenses", json_headers(tokens[0]),
                                     new_expense())[1])["id"]
        timed(conn, "GET", f"{base}/expenses/{shared_id}", json_headers(tokens[1]))
        shared_gets = [("GET", f"{base}/expenses/{shared_id}", {"Authorization": f"Bearer {tokens[1]}"}, None)]
        results = {}
        for label, requests in (("create, one user", one), ("create, 64 users", many),
                                ("patch, one user's 64 expenses", patches),
                                ("import 50 rows, 62 users", imports), ("cached get", gets),
                                ("create, 64 members of one ledger", shared_creates),
                                ("cached get in a shared ledger", shared_gets)):
            results[label] = wrk(label, port, requests, connections, seconds, workdir)
        for label, requests in (("cached get, lean wrk", gets),
                                ("shared-ledger get, lean wrk", shared_gets)):
            results[label] = wrk(label, port, requests, connections, seconds, workdir, lean=True)
        out = subprocess.run(["redis-benchmark", "-t", "get", "-n", "200000", "-c", str(connections),
                              "-q", "--csv"], check=True, capture_output=True, text=True).stdout
        row = [line for line in out.splitlines() if line.startswith('"GET"')][0]
        redis_rate = float(row.split(",")[1].strip('"'))
        shares = ", ".join(f"{label} {results[label][0] / redis_rate * 100:.0f}%" for label in SHARED_WITH_REDIS)
        print(f"{'redis-benchmark GET':<34} c={connections:<3} {redis_rate:8.1f} req/s; as a share of it: {shares}")
        return results, redis_rate
    finally:
        proc.terminate()
        proc.wait()


def load(database_url, connections, seconds, runs):
    import tempfile
    with tempfile.TemporaryDirectory() as workdir:
        runs_done = []
        for run_number in range(1, runs + 1):
            print(f"-- load run {run_number} of {runs}")
            runs_done.append(load_run(database_url, connections, seconds, workdir))
    if runs > 1:
        print(f"-- median of {runs} runs (5xx: the sum)")
        for label in runs_done[0][0]:
            rows = [results[label] for results, _ in runs_done]
            print(f"{label:<34} {statistics.median(r[0] for r in rows):8.1f} req/s  "
                  f"p99/p50={statistics.median(r[2] / max(r[1], 0.001) for r in rows):5.1f}  "
                  f"5xx={sum(r[3] for r in rows)}")
        for label in SHARED_WITH_REDIS:
            share = statistics.median(results[label][0] / rate for results, rate in runs_done)
            print(f"{label} / redis-benchmark GET: {share * 100:.0f}%")


def seed_scale(db, user, number, count):
    """`count` expenses of `user` in SQL; answers the category ids."""
    categories = [str(uuid.uuid4()) for _ in range(10)]
    budgets = ",".join(f"('{user}','{c}',100000,'EUR',0,0)" for c in categories[:3])
    sql = f"""
SET SESSION foreign_key_checks = 0, unique_checks = 0;
INSERT INTO categories (id, user_id, name, name_folded, color, created_at, updated_at) VALUES
  {",".join(f"('{c}','{user}','Cat {i}','cat {i}',NULL,0,0)" for i, c in enumerate(categories))};
INSERT INTO budgets (user_id, category_id, amount_minor, currency, created_at, updated_at) VALUES {budgets};
INSERT INTO expenses (id, user_id, amount_minor, amount_scaled, currency, expense_date, category_id,
  merchant, merchant_folded, description, description_folded, tags, version, created_at, updated_at)
SELECT CONCAT('01a00000-000{number}-7000-8000-', LOWER(LPAD(HEX(seq), 12, '0'))), '{user}',
  1 + seq % 9999, (1 + seq % 9999) * 100, ELT(1 + seq % 3, 'EUR', 'USD', 'GBP'),
  DATE_ADD('2020-01-01', INTERVAL seq % 2500 DAY),
  IF(seq % 11 = 10, NULL, ELT(1 + seq % 11, {",".join(f"'{c}'" for c in categories)})),
  CONCAT('Shop ', seq % 50), CONCAT('shop ', seq % 50), NULL, NULL,
  IF(seq % 3 = 0, '["team"]', '[]'), 1, 0, 0
FROM seq_1_to_{count};
INSERT INTO expense_tags (expense_id, user_id, tag, expense_date)
  SELECT id, user_id, 'team', expense_date FROM expenses WHERE user_id = '{user}' AND tags = '["team"]';
"""
    subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", db], input=sql, text=True, check=True)
    return categories


def backfill(database_url):
    """Runs `server backfill`: rows seeded in SQL have no rollups yet."""
    started = time.perf_counter()
    out = subprocess.run([SERVER, "backfill"], env={"PATH": os.environ["PATH"], "DATABASE_URL": database_url,
                                                    "RUST_LOG": "error"},
                         check=True, capture_output=True, text=True).stdout.strip()
    print(f"server backfill: {out} in {time.perf_counter() - started:.1f} s")


def scale(database_url, db, requests):
    import base64
    proc, port = start_server(database_url, None)
    try:
        # The third: a shared ledger of 1M expenses (filed under its id),
        # read by a member through /v1/ledgers/{id}/...
        sizes = [("10k", 10_000), ("1M", 1_000_000), ("1M shared", 1_000_000)]
        users = {}
        for number, (name, count) in enumerate(sizes, start=1):
            started = time.perf_counter()
            if name.endswith("shared"):
                key, reader = str(uuid.uuid4()), "scale-member"
                subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", db], text=True, check=True, input=f"""
INSERT INTO ledgers (id, ledger_key, name, home_currency, personal, created_at, updated_at)
  VALUES ('{key}', '{key}', 'Scale', NULL, 0, 0, 0);
INSERT INTO ledger_members (ledger_id, user_id, role, joined_at) VALUES ('{key}', '{reader}', 'editor', 0);
""")
                base = f"/v1/ledgers/{key}"
            else:
                key = reader = f"scale-{name}"
                base = "/v1"
            users[name] = (key, seed_scale(db, key, number, count), reader, base)
            print(f"seeded {count} expenses for {key} in {time.perf_counter() - started:.1f} s")
        backfill(database_url)
        subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", db, "-e",
                        "ANALYZE TABLE expenses, expense_tags, expense_rollups, categories, budgets"],
                       check=True, stdout=subprocess.DEVNULL)

        def sql(query):
            return subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", "-N", db, "-e", query],
                                  check=True, capture_output=True, text=True).stdout.split()

        def halfway(user, where):
            count = int(sql(f"SELECT COUNT(*) FROM expenses WHERE user_id = '{user}' {where}")[0])
            out = sql(f"SELECT DATE_FORMAT(expense_date, '%Y-%m-%d'), id FROM expenses "
                      f"WHERE user_id = '{user}' {where} ORDER BY expense_date DESC, id DESC "
                      f"LIMIT 1 OFFSET {count // 2}")
            return base64.urlsafe_b64encode(f"e1|{out[0]}|{out[1]}".encode()).decode().rstrip("=")

        def cases(user, categories, base):
            filters = [("no filter", "", ""), ("category", f"category_id={categories[0]}",
                        f"AND category_id = '{categories[0]}'"),
                       ("uncategorised", "category_id=none", "AND category_id IS NULL"),
                       ("currency", "currency=USD", "AND currency = 'USD'"),
                       ("tag", "tag=team", "AND tags = '[\"team\"]'"),
                       ("q (a scan)", "q=shop%207", "AND merchant_folded LIKE '%shop 7%'")]
            for label, query, where in filters:
                yield f"list {label}, page 1", f"{base}/expenses?limit=50&{query}"
                yield f"list {label}, halfway", f"{base}/expenses?limit=50&{query}&cursor={halfway(user, where)}"
            for group_by in ("category", "month", "tag", "merchant"):
                yield (f"summary by {group_by}, one year",
                       f"{base}/reports/summary?group_by={group_by}&from=2024-01-01&to=2024-12-31")
            yield "budgets of a month", f"{base}/budgets?month=2024-06"

        results = {}
        for name, (user, categories, reader, base) in users.items():
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            headers = {"Authorization": f"Bearer {user_token(reader)}"}
            for label, path in cases(user, categories, base):
                samples, status = [], 200
                # Up to `requests` samples, but at most about 10 s per case.
                while len(samples) < requests and (len(samples) < 3 or sum(samples) < 10_000):
                    started = time.perf_counter()
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    samples.append((time.perf_counter() - started) * 1000)
                    if response.status != 200:
                        status = response.status
                        break
                results[(label, name)] = (statistics.median(samples), status)
        print(f"{'case':<40} {'10k':>12} {'1M':>12} {'1M shared':>12} {'1M / 10k':>9} {'shared / 1M':>11}")
        key, categories, _, _ = users["10k"]
        show = lambda r: f"{r[0]:9.2f} ms" if r[1] == 200 else f"{r[1]} ({r[0]:.0f} ms)"
        ratio = lambda a, b: f"{b[0] / a[0]:8.2f}x" if a[1] == b[1] == 200 else "      n/a"
        for label, _ in cases(key, categories, "/v1"):
            small, large, shared = (results[(label, name)] for name in ("10k", "1M", "1M shared"))
            print(f"{label:<40} {show(small):>12} {show(large):>12} {show(shared):>12} "
                  f"{ratio(small, large)} {ratio(large, shared):>11}")
    finally:
        proc.terminate()
        proc.wait()


def bulk_load(db, user, count):
    """`count` expenses for `user` straight into MariaDB: 4 currencies,
    24 months, 50 merchants, 10 categories, 0-2 tags each."""
    import random
    rng = random.Random(7)
    categories = [str(uuid.uuid4()) for _ in range(10)]
    sql = ["SET autocommit=0;"]
    sql.append("INSERT INTO categories (id, user_id, name, name_folded, color, created_at, updated_at) VALUES " +
               ",".join(f"('{c}','{user}','Cat {i}','cat {i}',NULL,0,0)" for i, c in enumerate(categories)) + ";")
    currencies = [("USD", 2), ("EUR", 2), ("JPY", 0), ("BHD", 3)]
    for start in range(0, count, 1000):
        rows, tags = [], []
        for i in range(start, min(start + 1000, count)):
            code, exp = currencies[i % 4]
            minor = rng.randint(1, 100000)
            scaled = minor * 10 ** (4 - exp)
            date = f"{2025 + (i // 12) % 2}-{1 + i % 12:02d}-{1 + i % 28:02d}"
            eid = str(uuid.uuid4())
            cat = f"'{categories[i % 10]}'" if i % 7 else "NULL"
            merchant = f"Shop {i % 50}"
            these = ["team", "travel"][: i % 3]
            rows.append(f"('{eid}','{user}',{minor},{scaled},'{code}','{date}',{cat},'{merchant}',"
                        f"'{merchant.lower()}',NULL,NULL,'{json.dumps(these)}',1,0,0)")
            tags += [f"('{eid}','{user}','{t}','{date}')" for t in these]
        sql.append("INSERT INTO expenses (id, user_id, amount_minor, amount_scaled, currency, expense_date, "
                   "category_id, merchant, merchant_folded, description, description_folded, tags, version, "
                   "created_at, updated_at) VALUES " + ",".join(rows) + ";")
        if tags:
            sql.append("INSERT INTO expense_tags (expense_id, user_id, tag, expense_date) VALUES " + ",".join(tags) + ";")
    sql.append("COMMIT; ANALYZE TABLE expenses, expense_tags;")
    subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", db], input="\n".join(sql), text=True,
                   check=True, stdout=subprocess.DEVNULL)


def summary(database_url, db, expenses, requests):
    proc, port = start_server(database_url, None)
    try:
        bulk_load(db, "bench-user", expenses)
        backfill(database_url)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token()}"}
        for group_by in ("category", "month", "tag", "merchant"):
            path = f"/v1/reports/summary?group_by={group_by}"
            samples = [timed(conn, "GET", path, headers)[0] for _ in range(requests)]
            percentiles(f"summary of {expenses} by {group_by}", samples)
    finally:
        proc.terminate()
        proc.wait()


# The events' token is signed with this fixture secret (events/README.md).
EVENTS_SECRET = "events-fixture-secret"
HELLO_MAIN = """\
//! The baseline of `scripts/bench.py cold-start`: a bare lambda_http function.
use lambda_http::{run, service_fn, Body, Error, Request, Response};

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(|_request: Request| async {
        Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Body::from("{\\"status\\":\\"ok\\"}"))
            .map_err(Error::from)
    }))
    .await
}
"""


def toml_value(value):
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    return json.dumps(value)


def build_hello():
    """The hello-world lambda_http binary: the workspace's own lambda_http
    and tokio requirements, release profile and Cargo.lock (so the same
    crate versions), built into the workspace's target directory."""
    import tomllib
    with open(os.path.join(ROOT, "Cargo.toml"), "rb") as f:
        workspace = tomllib.load(f)
    deps = workspace["workspace"]["dependencies"]
    tokio = dict(deps["tokio"], features=["macros", "rt-multi-thread"])
    project = os.path.join(TARGET, "bench-hello")
    os.makedirs(os.path.join(project, "src"), exist_ok=True)
    manifest = "\n".join([
        "[package]", 'name = "hello-lambda"', 'version = "0.0.0"', 'edition = "2021"',
        "publish = false", "", "[dependencies]",
        f"lambda_http = {toml_value(deps['lambda_http'])}", f"tokio = {toml_value(tokio)}", "",
        "[profile.release]",
        *(f"{k} = {toml_value(v)}" for k, v in workspace["profile"]["release"].items()),
        "", "[workspace]", ""])
    for name, text in (("Cargo.toml", manifest), (os.path.join("src", "main.rs"), HELLO_MAIN)):
        path = os.path.join(project, name)
        if not os.path.exists(path) or open(path).read() != text:
            with open(path, "w") as f:
                f.write(text)
    if not os.path.exists(os.path.join(project, "Cargo.lock")):
        subprocess.run(["cp", os.path.join(ROOT, "Cargo.lock"), project], check=True)
    sh("cargo", "build", "--quiet", "--release", "--manifest-path", os.path.join(project, "Cargo.toml"))
    return os.path.join(TARGET, "release", "hello-lambda")


def event(name, **replace):
    with open(os.path.join(ROOT, "events", f"{name}.json")) as f:
        text = f.read()
    for old, new in replace.items():
        text = text.replace(old, new)
    return text.encode()


def median_line(label, samples, baseline=None):
    median = statistics.median(samples)
    q = statistics.quantiles(samples, n=10)
    ratio = f"  {median / statistics.median(baseline):5.2f}x hello-world" if baseline else ""
    print(f"{label:<30} n={len(samples):<4} median={median:7.2f} ms  "
          f"p10={q[0]:7.2f}  p90={q[8]:7.2f}{ratio}")


def cold_start(database_url, runs):
    """Exec to first response, alternating our function with hello-world."""
    import lambda_emulator as emu
    sh("cargo", "build", "--quiet", "--release", "-p", "bootstrap")
    bootstrap = os.path.join(TARGET, "release", "bootstrap")
    hello = build_hello()
    prefix = f"et_bench_{os.getpid()}:"
    env = {"DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:6379",
           "CACHE_KEY_PREFIX": prefix, "JWT_SECRET": EVENTS_SECRET}
    subprocess.run([bootstrap, "migrate"], env={**env, "PATH": os.environ["PATH"]}, check=True,
                   stdout=subprocess.DEVNULL)
    creator = emu.Function(bootstrap, "create-expense", env)
    creator.start()
    _, status, created = creator.invoke(event("create-expense"))
    creator.close()
    if status != 201:
        raise SystemExit(f"create-expense answered {status}: {created}")
    expense_id = json.loads(created["body"])["id"]
    get = event("get-expense", **{"0192f0c4-7a2e-7cc3-9a57-3f1f6f4f2a10": expense_id})
    health = event("health")
    cases = [("health", health), ("get-expense", get)]
    times = {(who, name): [] for who in ("hello", "ours") for name, _ in cases}
    print(f"cold start: {runs} runs of each, alternating; {bootstrap} "
          f"({os.path.getsize(bootstrap) // 1024} KiB) and {hello} ({os.path.getsize(hello) // 1024} KiB)")
    for run in range(runs + 1):  # the first round warms the page cache, uncounted
        for name, body in cases:
            pair = [("hello", hello, 200), ("ours", bootstrap, 200)]
            for who, binary, status in (pair if run % 2 else pair[::-1]):
                ms = emu.first_response(binary, name, env, body, status)
                if run:
                    times[(who, name)].append(ms)
    for name, _ in cases:
        median_line(f"hello-world ({name} event)", times[("hello", name)])
        median_line(name, times[("ours", name)], times[("hello", name)])
    for label, binary, body in (("hello-world", hello, get), ("get-expense", bootstrap, get)):
        function = emu.Function(binary, "get-expense", env)
        function.start()
        for _ in range(1000):
            _, status, _ = function.invoke(body)
            if status != 200:
                raise SystemExit(f"{label} answered {status}")
        print(f"{label:<30} resident after 1,000 invocations: {function.rss_kib() / 1024:.1f} MiB")
        function.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("bench", choices=["latency", "summary", "cold-start", "load", "scale"])
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=None)
    parser.add_argument("--requests", type=int, default=None)
    parser.add_argument("--expenses", type=int, default=100_000)
    args = parser.parse_args()
    sh("bash", os.path.join(ROOT, "scripts", "services.sh"))
    if args.bench != "cold-start" and not os.path.exists(SERVER):
        sh("cargo", "build", "--release", "-p", "server")
    db = f"et_bench_{os.getpid()}"
    sh("mariadb", "-uroot", "-h127.0.0.1", "-e", f"CREATE DATABASE `{db}`")
    try:
        url = f"mysql://root@127.0.0.1:3306/{db}"
        if args.bench == "summary":
            summary(url, db, args.expenses, args.requests or 50)
            return
        if args.bench == "cold-start":
            cold_start(url, args.runs or 40)
            return
        if args.bench == "scale":
            scale(url, db, args.requests or 31)
            return
        if args.bench == "load":
            load(url, args.connections, args.seconds, args.runs or 1)
            return
        requests = args.requests or 500
        run("mariadb + redis", url, "redis://127.0.0.1:6379", requests)
        run("mariadb + silent redis", url, f"redis://127.0.0.1:{silent_listener()}", requests)
        run("mariadb, no cache", url, None, requests)
    finally:
        sh("mariadb", "-uroot", "-h127.0.0.1", "-e", f"DROP DATABASE IF EXISTS `{db}`")
        keys = subprocess.run(["redis-cli", "--scan", "--pattern", f"et_bench_{os.getpid()}:*"],
                              capture_output=True, text=True).stdout.split()
        for i in range(0, len(keys), 500):
            subprocess.run(["redis-cli", "DEL", *keys[i:i + 500]], capture_output=True)


if __name__ == "__main__":
    sys.exit(main())
