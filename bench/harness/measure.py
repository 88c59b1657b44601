"""One repeat of every measurement: each returns plain dicts (milliseconds, rows per second, MB)
that `report.py` turns into the tables."""

import base64
import datetime as dt
import json
import os
import subprocess
import time
from urllib.parse import quote

from . import events as ev
from .filters import COMBOS, EXPORT_COLUMNS, ORDER, SELECT_COLUMNS
from .server import HarnessError, RssSampler


def utcnow():
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def percentile(values, p):
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    s = sorted(values)
    k = (len(s) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def stats_ms(seconds):
    ms = [s * 1000 for s in seconds]
    return {"n": len(ms), "p50": percentile(ms, 50), "p95": percentile(ms, 95), "min": min(ms), "max": max(ms)}


def sample(fn, samples, budget, min_samples=3):
    """Times `fn` (which returns its own duration in seconds) `samples` times after a warm-up,
    stopping early once `budget` seconds are spent and `min_samples` are taken."""
    first = fn()
    if first < 1.0:  # a second warm-up unless a single call is already slow
        fn()
    times, started = [], time.perf_counter()
    while len(times) < samples:
        times.append(fn())
        if len(times) >= min_samples and time.perf_counter() - started > budget:
            break
    return times


class Settings:
    def __init__(self, samples, budget):
        self.samples, self.budget = samples, budget


# -- what any request costs --------------------------------------------------------------------
def floor(client, settings):
    """The fixed cost of a request, for reading the ratios against bare SQL: an answer with no
    database work (`/healthz`) and the smallest authenticated one (`/api/v1/auth/me`: the token
    checked, the user and tenant read)."""
    def http(path):
        return lambda: client.request("GET", path)[0]
    return {"healthz": stats_ms(sample(http("/healthz"), settings.samples, settings.budget)),
            "me": stats_ms(sample(http("/api/v1/auth/me"), settings.samples, settings.budget))}


# -- first page of each filter combination -------------------------------------------------------
def combos(client, raw, tenant_id, settings, explain, problems):
    out = []
    for combo in COMBOS:
        qs = combo.query()
        page_path = "/api/v1/events?per_page=50" + (f"&{qs}" if qs else "")
        cursor_path = page_path + "&cursor="
        now = utcnow()
        where, args = combo.where(tenant_id, now, raw.postgres)
        sql = f"SELECT {SELECT_COLUMNS} FROM events WHERE {where} {ORDER} LIMIT 51"
        last = {}

        def http(path, key):
            def call():
                seconds, _, _, data = client.request("GET", path)
                last[key] = data
                return seconds
            return call

        def bare():
            seconds, rows = raw.timed(sql, args)
            last["sql"] = rows
            return seconds

        page = sample(http(page_path, "page"), settings.samples, settings.budget)
        cursor = sample(http(cursor_path, "cursor"), settings.samples, settings.budget)
        bare_times = sample(bare, settings.samples, settings.budget)
        page_body, cursor_body = json.loads(last["page"]), json.loads(last["cursor"])
        ids = [e["id"] for e in cursor_body["items"]]
        same = ids == [e["id"] for e in page_body["items"]] == [r[0] for r in last["sql"]][:50]
        if not same:
            problems.append(f"{combo.name}: the API and the bare SQL returned different rows — the harness's SQL "
                            f"no longer matches the server's query (API {ids[:5]}…, SQL {[r[0] for r in last['sql']][:5]}…)")
        actual = None
        if explain:  # first run only: how right `total` is (an exact one must equal COUNT(*))
            actual = raw.scalar(f"SELECT count(*) FROM events WHERE {where}", args)
            if not page_body.get("total_is_estimate") and page_body.get("total") != actual:
                problems.append(f"{combo.name}: `total` {page_body.get('total')} is not flagged as an estimate "
                                f"but COUNT(*) is {actual}")
        out.append({
            "name": combo.name, "query": qs, "keyword": combo.keyword, "rows": len(ids), "actual_total": actual,
            "page": stats_ms(page), "cursor": stats_ms(cursor), "sql": stats_ms(bare_times),
            "total": page_body.get("total"), "total_is_estimate": page_body.get("total_is_estimate"),
            "index": raw.indexes_used(sql, args) if explain else None, "same_rows": same,
            "ids": ids[:10],
        })
    return out


# -- a page at depth 10 000 ----------------------------------------------------------------------
def decode_cursor(text):
    data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return dt.datetime(1970, 1, 1) + dt.timedelta(microseconds=data["t"]), data["i"]


def depth(client, raw, tenant_id, settings, rows=10_000, problems=None):
    """Walks `next_cursor` through `rows / 50` pages (fewer when the data ends first), then times
    the page after them by cursor and by page number (OFFSET), through HTTP and as bare SQL."""
    cursor, walked, walk = "", 0, []
    while walked < rows:
        seconds, _, _, data = client.request("GET", f"/api/v1/events?per_page=50&cursor={quote(cursor)}")
        body = json.loads(data)
        if not body["next_cursor"]:
            break
        walk.append(seconds)
        walked += len(body["items"])
        cursor = body["next_cursor"]
    if walked < 100:
        return None
    at, last_id = decode_cursor(cursor)
    deep_path = f"/api/v1/events?per_page=50&cursor={quote(cursor)}"
    offset_path = f"/api/v1/events?per_page=50&page={walked // 50 + 1}"
    keyset_sql = (f"SELECT {SELECT_COLUMNS} FROM events WHERE tenant_id = %s AND (occurred_at, id) < (%s, %s) "
                  f"{ORDER} LIMIT 51")
    offset_sql = f"SELECT {SELECT_COLUMNS} FROM events WHERE tenant_id = %s {ORDER} LIMIT 51 OFFSET {walked}"
    last = {}

    def http(path, key):
        def call():
            seconds, _, _, data = client.request("GET", path)
            last[key] = [e["id"] for e in json.loads(data)["items"]]
            return seconds
        return call

    def bare(sql, args, key):
        def call():
            seconds, result = raw.timed(sql, args)
            last[key] = [r[0] for r in result][:50]
            return seconds
        return call

    result = {
        "depth": walked,
        "walk": stats_ms(walk),
        "cursor": stats_ms(sample(http(deep_path, "cursor"), settings.samples, settings.budget)),
        "offset": stats_ms(sample(http(offset_path, "offset"), settings.samples, settings.budget)),
        "sql_keyset": stats_ms(sample(bare(keyset_sql, [tenant_id, at, last_id], "sql_keyset"),
                                      settings.samples, settings.budget)),
        "sql_offset": stats_ms(sample(bare(offset_sql, [tenant_id], "sql_offset"), settings.samples, settings.budget)),
    }
    if not (last["cursor"] == last["offset"] == last["sql_keyset"] == last["sql_offset"]) and problems is not None:
        problems.append(f"depth {walked}: cursor, page number and bare SQL returned different rows")
    return result


# -- total on the unfiltered list ----------------------------------------------------------------
def total(unfiltered, raw, tenant_id, settings, problems):
    """The unfiltered page-mode list (timed with the combinations) against a full COUNT(*)."""
    count_sql = "SELECT count(*) FROM events WHERE tenant_id = %s"
    counted = {}

    def count():
        seconds, rows = raw.timed(count_sql, [tenant_id])
        counted["n"] = rows[0][0]
        return seconds

    times = sample(count, min(settings.samples, 5), settings.budget, min_samples=2)
    exact = unfiltered["total"] == counted["n"]
    if not unfiltered["total_is_estimate"] and not exact:
        problems.append(f"unfiltered total {unfiltered['total']} is not flagged as an estimate but "
                        f"COUNT(*) is {counted['n']}")
    return {"page": unfiltered["page"], "total": unfiltered["total"], "estimate": unfiltered["total_is_estimate"],
            "count": counted["n"], "count_ms": stats_ms(times), "correct": exact or unfiltered["total_is_estimate"]}


# -- CSV export ----------------------------------------------------------------------------------
def export(server, client, raw, tenant_id, problems):
    """The whole unfiltered export streamed to nowhere, the server's memory sampled meanwhile,
    against the database's own CSV of the same rows and columns in the same order."""
    before = server.rss()
    sampler = RssSampler(server.pid)
    sampler.start()
    seconds, size, lines, response = client.stream("/api/v1/events/export?format=csv")
    peak = sampler.stop()
    time.sleep(0.5)
    after = server.rss()
    through = int(response.getheader("X-Through-Seq"))
    rows = lines - 1
    expected = raw.scalar("SELECT count(*) FROM events WHERE tenant_id = %s AND seq <= %s", [tenant_id, through])
    if rows != expected:
        problems.append(f"the CSV export had {rows} rows, the database {expected} up to seq {through}")
    sql = f"SELECT {EXPORT_COLUMNS} FROM events WHERE tenant_id = %s AND seq <= %s {ORDER}"
    raw_seconds, raw_rows, raw_size = raw.export_csv(sql, [tenant_id, through])
    return {
        "rows": rows, "seconds": seconds, "rate": rows / seconds, "mb": size / 1e6,
        "rss_before": before, "rss_peak": peak, "rss_after": after, "rss_growth": peak - before,
        "raw_rows": raw_rows, "raw_seconds": raw_seconds, "raw_rate": raw_rows / raw_seconds, "raw_mb": raw_size / 1e6,
    }


# -- mixed read load -----------------------------------------------------------------------------
LUA = r"""
local token = os.getenv("BENCH_TOKEN")
local paths = {%PATHS%}
local counter = 0
setup = function(thread)
  thread:set("n", counter)
  counter = counter + 7
end
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n % #paths) + 1], {["Authorization"] = "Bearer " .. token})
end
local reported = 0
response = function(status, headers, body)
  if status >= 400 and reported < 3 then
    reported = reported + 1
    io.stderr:write(string.format("answer %d: %s\n", status, string.sub(body, 1, 300)))
  end
end
done = function(summary, latency, requests)
  local out = io.open(os.getenv("BENCH_RESULT"), "w")
  out:write(string.format(
    '{"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}',
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
  out:close()
end
"""


def load_paths(event_ids):
    """What dashboard users ask for, in proportion: list pages with filters and paging (25 of 40),
    event details (8), the activity chart (4) and the filter pickers' facets (3)."""
    ids = (event_ids * 8)[:8] if event_ids else []
    lists = [
        "/api/v1/events?per_page=25", "/api/v1/events?per_page=50", "/api/v1/events?per_page=50&page=2",
        "/api/v1/events?per_page=50&page=3", "/api/v1/events?per_page=50&cursor=",
        "/api/v1/events?per_page=25&range=today&tz=UTC", "/api/v1/events?per_page=50&range=yesterday&tz=UTC",
        "/api/v1/events?per_page=50&range=last_7_days&tz=UTC", "/api/v1/events?per_page=50&range=last_30_days&tz=UTC",
        "/api/v1/events?per_page=50&range=this_month&tz=UTC", "/api/v1/events?per_page=50&actor_id=u0",
        "/api/v1/events?per_page=50&actor_id=u7", "/api/v1/events?per_page=50&actor_id=u42&range=last_30_days&tz=UTC",
        "/api/v1/events?per_page=50&module=invoice", "/api/v1/events?per_page=50&module=booking&page=2",
        "/api/v1/events?per_page=50&verb=deleted", "/api/v1/events?per_page=50&action=booking.status_changed",
        "/api/v1/events?per_page=50&module=booking&verb=updated&range=last_30_days&tz=UTC",
        "/api/v1/events?per_page=50&entity_type=booking&entity_id=12000",
        "/api/v1/events?per_page=50&entity_type=customer&entity_id=5000",
        "/api/v1/events?per_page=50&q=invoice", "/api/v1/events?per_page=50&q=invoice&range=last_7_days&tz=UTC",
        "/api/v1/events?per_page=100", "/api/v1/events?per_page=50&sort=actor&order=asc",
        "/api/v1/events?per_page=50&sort=module&order=desc",
    ]
    others = [f"/api/v1/events/{i}" for i in ids] + [
        "/api/v1/stats/timeline?bucket=day", "/api/v1/stats/timeline?bucket=hour&range=today&tz=UTC",
        "/api/v1/stats/timeline?bucket=day&range=last_7_days&tz=UTC",
        "/api/v1/stats/timeline?bucket=day&module=invoice",
        "/api/v1/facets/modules", "/api/v1/facets/actions", "/api/v1/facets/actors?limit=20",
    ]
    # Interleave so that every stretch of the cycle has the same mix.
    mixed, others_left = [], list(others)
    for i, path in enumerate(lists):
        mixed.append(path)
        if i % 2 == 1 and others_left:
            mixed.append(others_left.pop(0))
    return mixed + others_left


AGGREGATES = ("/api/v1/stats/", "/api/v1/facets/")


def cold_aggregates(client, paths):
    """Each aggregate of the load (chart, facets) asked once by one client before the load: what the
    first dashboard visit waits for. A slow answer is then reused by the server for a while."""
    cold = []
    for path in paths:
        if path.startswith(AGGREGATES):
            seconds, _, response, _ = client.request("GET", path)
            cold.append({"path": path, "ms": seconds * 1000, "reused": response.getheader("Age") is not None})
    return cold


def mixed_load(server, token, seconds, paths, workdir, threads=2, connections=16):
    script = os.path.join(workdir, "mixed.lua")
    result_path = os.path.join(workdir, "wrk-result.json")
    with open(script, "w") as f:
        f.write(LUA.replace("%PATHS%", ", ".join(json.dumps(p) for p in paths)))
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_RESULT=result_path)
    idle = server.rss()
    sampler = RssSampler(server.pid, every=0.25)
    sampler.start()
    run = subprocess.run(["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s",
                          "-s", script, f"http://127.0.0.1:{server.port}"],
                         env=env, capture_output=True, text=True)
    peak = sampler.stop()
    if run.returncode != 0:
        raise HarnessError(f"wrk failed: {run.stderr.strip()[-1000:]}")
    with open(result_path) as f:
        r = json.load(f)
    errors = sum(r[k] for k in ("connect", "read", "write", "status", "timeout"))
    duration = r["duration_us"] / 1e6
    return {
        "seconds": duration, "requests": r["requests"], "rps": r["requests"] / duration,
        "p50": r["p50_us"] / 1000, "p90": r["p90_us"] / 1000, "p99": r["p99_us"] / 1000, "max": r["max_us"] / 1000,
        "errors": errors, "error_detail": {k: r[k] for k in ("connect", "read", "write", "status", "timeout")},
        "rss_idle": idle, "rss_peak": peak, "stderr": run.stderr.strip()[-600:],
    }


# -- ingest --------------------------------------------------------------------------------------
class IngestState:
    """The raw side's position in its own chain, kept across repeats."""

    def __init__(self):
        self.seq, self.prev_hash = 0, ev.ZERO_HASH


def ingest(client, raw, tenant_id, count, repeat, run_id, state, users=200):
    """The same realistic events posted as 1000-event batches over HTTP (chain on) and inserted
    by the raw side, one transaction per batch; only the requests / the database calls are timed."""
    generator = ev.EventGenerator(seed=1000 + repeat, users=users)
    events = generator.api_events(count, prefix=f"bench-{run_id}-{repeat}")
    batches = [events[i:i + 1000] for i in range(0, len(events), 1000)]
    bodies = [json.dumps({"events": b}).encode() for b in batches]
    http_seconds, accepted = 0.0, 0
    for body in bodies:
        seconds, _, _, data = client.request("POST", "/api/v1/events", body=body,
                                             headers={"Content-Type": "application/json"}, expect=(201,))
        http_seconds += seconds
        accepted += json.loads(data)["accepted"]
    if accepted != count:
        raise HarnessError(f"the server accepted {accepted} of {count} events")

    recorded = utcnow()
    ident = raw.next_raw_id()
    encoded = []
    for batch in batches:
        rows, related = [], []
        for event in batch:
            state.seq += 1
            row = ev.stored_row(event, tenant_id, state.seq, ident, recorded, state.prev_hash)
            state.prev_hash = row[-1]
            rows.append(row)
            related += ev.related_rows(event, tenant_id, ident)
            ident += 1
        encoded.append(raw.encode_batch(rows, related))
    raw_seconds = sum(raw.insert_batch(e) for e in encoded)
    stored = raw.scalar("SELECT count(*) FROM bench_raw")
    if stored != state.seq:
        raise HarnessError(f"the raw side stored {stored} rows, expected {state.seq}")
    return {"events": count, "batches": len(batches), "http_seconds": http_seconds, "rate": count / http_seconds,
            "raw_seconds": raw_seconds, "raw_rate": count / raw_seconds, "ratio": raw_seconds / http_seconds}
