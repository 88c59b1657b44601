"""Turns the measurements into `docs/BENCHMARKS.md` and its chart.

Every figure is a median over the repeats with the range (min–max) beside it; PASS/MISS compares
the median with the issue's target. The "Why the misses" section is human analysis: it is copied
from the previous file when it has one.
"""

import os
import re
import statistics

WHY_BEGIN = "<!-- why-the-misses:begin (kept by bench/run when it regenerates this file) -->"
WHY_END = "<!-- why-the-misses:end -->"
WHY_PLACEHOLDER = """_Placeholder — to be written by a person after a full run: for each MISS above, where the time
goes (query plan, serialisation, locking, memory) and what would fix it. `bench/run` keeps
whatever stands between the two markers of this section when it regenerates the file._"""

BACKEND_TITLE = {"postgres": "PostgreSQL", "sqlite": "SQLite"}
TARGET_SIZE = {"postgres": 10_000_000, "sqlite": 1_000_000}


# -- numbers -------------------------------------------------------------------------------------
def group(n):
    return f"{n:,.0f}".replace(",", "\u202f")


def ms(v):
    if v is None:
        return "—"
    if v < 1:
        return f"{v:.2f} ms"
    if v < 10:
        return f"{v:.1f} ms"
    return f"{group(v)} ms"


def rate(v):
    return "—" if v is None else f"{group(v)} rows/s"


def mb(v):
    return "—" if v is None else f"{v:.1f} MB"


def times(v):
    return "—" if v is None else f"{v:.2f}×"


def pct(v):
    return "—" if v is None else f"{v * 100:.0f} %"


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def spread(values, fmt):
    values = [v for v in values if v is not None]
    if not values:
        return "—"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(statistics.median(values))} ({fmt(min(values))} – {fmt(max(values))})"


def count_tag(n):
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000} M"
    if n >= 1000 and n % 1000 == 0:
        return f"{n // 1000} k"
    return group(n)


# -- the summary rows ----------------------------------------------------------------------------
class Row:
    def __init__(self, short, what, figure, raw="—", ratio="—", target="", passed=None, miss="", note=""):
        self.short, self.what, self.figure, self.raw, self.ratio = short, what, figure, raw, ratio
        self.target, self.passed, self.miss, self.note = target, passed, miss, note

    @property
    def result(self):
        return "—" if self.passed is None else ("PASS" if self.passed else "**MISS**")


def over(value, limit, fmt):
    return f"{fmt(value)} is {fmt(value - limit)} ({(value / limit - 1) * 100:.0f} %) over the {fmt(limit)} limit"


def under(value, floor, fmt):
    return f"{fmt(value)} is {(1 - value / floor) * 100:.0f} % short of the {fmt(floor)} floor"


def floor_note(reps):
    """What any request costs, beside the ratios against bare SQL (none for runs made before
    the harness measured it)."""
    floors = [r["floor"] for r in reps if r.get("floor")]
    if not floors:
        return ""
    return (f"; what any request costs: `GET /healthz` p50 {ms(median([f['healthz']['p50'] for f in floors]))}, "
            f"`GET /api/v1/auth/me` (token checked, user and tenant read) p50 "
            f"{ms(median([f['me']['p50'] for f in floors]))}")


def summary_rows(res):
    reps = res["repeats"]
    rows = []
    kind = res["backend"]

    ingest = [r["ingest"] for r in reps if r.get("ingest")]
    if ingest:
        ratio = median([i["ratio"] for i in ingest])
        raw_name = "binary `COPY`" if kind == "postgres" else "batched `INSERT`, one transaction per batch"
        rows.append(Row(
            "Ingest", f"Ingest over HTTP, batches of 1 000 realistic events, chain on ({group(ingest[0]['events'])} events per run)",
            spread([i["rate"] for i in ingest], rate), f"{rate(median([i['raw_rate'] for i in ingest]))} ({raw_name})",
            pct(ratio), "≥ 50 % of raw", ratio >= 0.5, "" if ratio >= 0.5 else f"ratio {under(ratio, 0.5, pct)}",
        ))

    combo_reps = [r["combos"] for r in reps if r.get("combos")]
    if combo_reps:
        def worst(key_fn, pick):
            per_rep = []
            for combos in combo_reps:
                candidates = [c for c in combos if pick(c)]
                per_rep.append(max(candidates, key=key_fn))
            return per_rep

        plain = worst(lambda c: c["page"]["p95"], lambda c: not c["keyword"])
        fig = median([c["page"]["p95"] for c in plain])
        names = sorted({c["name"] for c in plain})
        rows.append(Row(
            "First page p95", f"First page (50 rows) through HTTP, p95, worst of the {sum(1 for c in combo_reps[0] if not c['keyword'])} "
            "non-keyword filter combinations (page mode, with `total`)",
            spread([c["page"]["p95"] for c in plain], ms), f"{ms(median([c['sql']['p95'] for c in plain]))} (bare SQL p95)",
            times(median([c["page"]["p95"] / c["sql"]["p95"] for c in plain])), "≤ 20 ms", fig <= 20,
            "" if fig <= 20 else over(fig, 20, ms), f"worst: {', '.join(names)}",
        ))

        ratio_worst = worst(lambda c: c["cursor"]["p50"] / c["sql"]["p50"], lambda c: True)
        value = median([c["cursor"]["p50"] / c["sql"]["p50"] for c in ratio_worst])
        rows.append(Row(
            "First page against bare SQL", "First page through HTTP against the bare SQL query on the same index, worst of 20 "
            "(cursor mode p50 ÷ SQL p50)",
            spread([c["cursor"]["p50"] / c["sql"]["p50"] for c in ratio_worst], times),
            f"{ms(median([c['sql']['p50'] for c in ratio_worst]))} (bare SQL p50)", "", "≤ 2×", value <= 2,
            "" if value <= 2 else over(value, 2, times),
            f"worst: {', '.join(sorted({c['name'] for c in ratio_worst}))}" + floor_note(reps),
        ))

    depths = [(r["depth"], r["combos"][0]) for r in reps if r.get("depth") and r.get("combos")]
    if depths:
        d = depths[0][0]["depth"]
        ratio = median([dep["cursor"]["p50"] / first["cursor"]["p50"] for dep, first in depths])
        rows.append(Row(
            "Depth by cursor", f"Page at depth {group(d)} by cursor, p50 (after walking {d // 50} pages of 50)",
            spread([dep["cursor"]["p50"] for dep, _ in depths], ms),
            f"{ms(median([dep['sql_keyset']['p50'] for dep, _ in depths]))} (bare SQL keyset)",
            times(ratio), "≤ 1.5× the first page", ratio <= 1.5,
            "" if ratio <= 1.5 else over(ratio, 1.5, times),
            f"first page (cursor mode) p50 {ms(median([f['cursor']['p50'] for _, f in depths]))}; "
            f"OFFSET beside it: `page={d // 50 + 1}` through HTTP p50 "
            f"{ms(median([dep['offset']['p50'] for dep, _ in depths]))}, bare SQL `OFFSET {group(d)}` p50 "
            f"{ms(median([dep['sql_offset']['p50'] for dep, _ in depths]))}",
        ))

    if combo_reps:
        kw = [max((c for c in combos if c["keyword"]), key=lambda c: c["page"]["p95"]) for combos in combo_reps]
        fig = median([c["page"]["p95"] for c in kw])
        rows.append(Row(
            "Keyword search", "Keyword search (`q`) first page, p95, worst of the 3 keywords (page mode)",
            spread([c["page"]["p95"] for c in kw], ms), f"{ms(median([c['sql']['p95'] for c in kw]))} (bare SQL p95)",
            times(median([c["page"]["p95"] / c["sql"]["p95"] for c in kw])), "≤ 100 ms", fig <= 100,
            "" if fig <= 100 else over(fig, 100, ms), f"worst: {', '.join(sorted({c['name'] for c in kw}))}",
        ))

    exports = [r["export"] for r in reps if r.get("export")]
    if exports:
        ratio = median([e["rate"] / e["raw_rate"] for e in exports])
        raw_name = ("`COPY (SELECT …) TO STDOUT WITH CSV`" if kind == "postgres"
                    else "Python's csv writer over a sqlite3 cursor")
        rows.append(Row(
            "CSV export", f"CSV export of all {group(exports[0]['rows'])} rows through HTTP",
            spread([e["rate"] for e in exports], rate), f"{rate(median([e['raw_rate'] for e in exports]))} ({raw_name})",
            pct(ratio), "≥ 50 % of raw", ratio >= 0.5, "" if ratio >= 0.5 else f"ratio {under(ratio, 0.5, pct)}",
            f"{median([e['mb'] for e in exports]):.0f} MB of CSV in {median([e['seconds'] for e in exports]):.1f} s",
        ))
        growth = median([e["rss_growth"] for e in exports])
        rows.append(Row(
            "Export memory", "Server RSS growth over the export",
            spread([e["rss_growth"] for e in exports], mb), "", "", "< 64 MB", growth < 64,
            "" if growth < 64 else over(growth, 64, mb),
            f"RSS {mb(median([e['rss_before'] for e in exports]))} before → {mb(median([e['rss_peak'] for e in exports]))} "
            f"peak → {mb(median([e['rss_after'] for e in exports]))} after",
        ))

    loads = [r["load"] for r in reps if r.get("load")]
    if loads:
        p99 = median([x["p99"] for x in loads])
        errors = max(x["errors"] for x in loads)
        rss = median([x["rss_peak"] for x in loads])
        secs = round(loads[0]["seconds"])
        rows.append(Row(
            "Mixed load p99", f"Mixed read load, wrk 2 threads × 16 connections, {secs} s: p99",
            spread([x["p99"] for x in loads], ms), "", "", "< 50 ms", p99 < 50, "" if p99 < 50 else over(p99, 50, ms),
            f"p50 {ms(median([x['p50'] for x in loads]))}, {group(median([x['rps'] for x in loads]))} requests/s, "
            f"max {ms(max(x['max'] for x in loads))}",
        ))
        rows.append(Row(
            "Mixed load errors", "Mixed read load: errors (socket errors, timeouts, non-2xx)",
            spread([x["errors"] for x in loads], lambda v: group(v)), "", "", "0", errors == 0,
            "" if errors == 0 else f"{errors} errors in the worst run",
        ))
        rows.append(Row(
            "Mixed load memory", "Server RSS under the mixed load (peak)",
            spread([x["rss_peak"] for x in loads], mb), "", "", "< 100 MB", rss < 100, "" if rss < 100 else over(rss, 100, mb),
            f"idle before the load: {mb(median([x['rss_idle'] for x in loads]))}",
        ))
    colds = [r["cold"] for r in reps if r.get("cold")]
    if colds:
        slowest = [max(c, key=lambda a: a["ms"]) for c in colds]
        worst = max(slowest, key=lambda a: a["ms"])
        rows.append(Row(
            "Aggregates, first visit", "Chart and facets asked once before the load (computed, not reused): slowest",
            spread([a["ms"] for a in slowest], ms), "", "", "", None, "",
            f"`{worst['path'].removeprefix('/api/v1')}`; an answer that takes ≥ 100 ms is reused for 20× its time "
            "(5–60 s), then served while it is computed again in the background, so the load reads kept answers",
        ))

    totals = [r["total"] for r in reps if r.get("total")]
    if totals:
        p95 = median([t["page"]["p95"] for t in totals])
        correct = all(t["correct"] for t in totals)
        last = totals[-1]
        kind_of = "estimate (`total_is_estimate: true`)" if last["estimate"] else "exact"
        passed = correct and p95 <= 20
        rows.append(Row(
            "`total`", "`total` on the unfiltered list: page 1 with `total`, p95",
            spread([t["page"]["p95"] for t in totals], ms),
            f"{ms(median([t['count_ms']['p50'] for t in totals]))} (a full `COUNT(*)`)",
            times(median([t["page"]["p95"] / t["count_ms"]["p50"] for t in totals])),
            "no COUNT stall: ≤ 20 ms, exact or flagged", passed,
            "" if passed else ("the total was wrong and not flagged" if not correct else over(p95, 20, ms)),
            f"total {group(last['total'])} ({kind_of}); COUNT(*) {group(last['count'])}",
        ))
    return rows


# -- the document --------------------------------------------------------------------------------


def previous_why(path):
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return None
    m = re.search(re.escape(WHY_BEGIN) + r"\n(.*?)\n?" + re.escape(WHY_END), text, re.S)
    return m.group(1).strip("\n") if m else None


def previous_sections(path):
    """The sections other runners wrote (`<!-- name:begin -->` … `<!-- name:end -->`: bench/integrity,
    bench/exports), kept as they are: each runner measures apart."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError:
        return []
    sections = re.finditer(r"<!-- ([a-z-]+):begin -->.*?<!-- \1:end -->", text, re.S)
    return [m.group(0) for m in sections if m.group(0) and not m.group(0).startswith(WHY_BEGIN)]


def combo_table(res):
    combo_reps = [r["combos"] for r in res["repeats"] if r.get("combos")]
    if not combo_reps:
        return []
    lines = [
        "| # | filter | rows | HTTP page p50 | HTTP page p95 | HTTP cursor p50 | SQL p50 | SQL p95 | cursor ÷ SQL | "
        "index (plan of the bare SQL) | `total` | target | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, first in enumerate(combo_reps[0]):
        runs = [combos[i] for combos in combo_reps]
        page95 = median([c["page"]["p95"] for c in runs])
        ratio = median([c["cursor"]["p50"] / c["sql"]["p50"] for c in runs])
        limit = 100 if first["keyword"] else 20
        passed = page95 <= limit and ratio <= 2
        total, actual = runs[0]["total"], runs[0].get("actual_total")
        total_text = "—" if total is None else group(total)
        if total is not None and runs[0]["total_is_estimate"]:
            total_text += " (estimate" + (f"; COUNT(*) {group(actual)}" if actual is not None else "") + ")"
        query = f"`{first['query']}`" if first["query"] else "(none)"
        lines.append(
            f"| {i + 1} | {first['name']}: {query} | {first['rows']} | {ms(median([c['page']['p50'] for c in runs]))} | "
            f"{ms(page95)} | {ms(median([c['cursor']['p50'] for c in runs]))} | {ms(median([c['sql']['p50'] for c in runs]))} | "
            f"{ms(median([c['sql']['p95'] for c in runs]))} | {times(ratio)} | {first.get('index') or '—'} | {total_text} | "
            f"p95 ≤ {limit} ms, ≤ 2× | {'PASS' if passed else '**MISS**'} |"
        )
    counts = [c[side]["n"] for combos in combo_reps for c in combos for side in ("page", "cursor", "sql")]
    lines.append("")
    lines.append(f"Each figure is the median over the runs. Every cell of every run is {max(counts)} timed requests "
                 "after a warm-up, or fewer when its time budget ran out first (slow queries); the fewest any cell got "
                 f"was {min(counts)}. Estimated totals are shown with the exact `COUNT(*)` of the first run.")
    return lines


def backend_section(res, args):
    kind = res["backend"]
    title = BACKEND_TITLE[kind]
    out = [f"## {title}: {count_tag(res['events'])} events", ""]
    if res.get("error"):
        out += [f"**The harness failed on this backend:** `{res['error']}` — the figures below are incomplete.", ""]
    load = res.get("load", {})
    if load:
        how = ("reused from an earlier run (`--skip-load`)" if load.get("reused") else "loaded by this run")
        seed = load.get("seed") or {}
        seeded = (f"`seed-bench` stored {group(seed['events'])} events in {seed['seconds']:.0f} s "
                  f"({group(seed['events'] / seed['seconds'])} events/s) on {seed.get('date', '?')}"
                  if seed.get("seconds") else "seed time unknown")
        out.append(f"Data {how}: {seeded}; {load.get('where', '')}, {load.get('size_mb', 0):.0f} MB on disk."
                   + (f" {load['note']}" if load.get("note") else ""))
        out.append("")
    target = TARGET_SIZE[kind]
    if res["events"] != target:
        out += [f"_The issue's targets are set for {count_tag(target)} events on {title}; this run used "
                f"{count_tag(res['events'])}, so a PASS here says little about {count_tag(target)}._", ""]
    rows = summary_rows(res)
    out += ["| what | figure: median (min – max) of the runs | raw database | ratio | target | result |",
            "|---|---|---|---|---|---|"]
    for r in rows:
        what = r.what + (f"<br><sub>{r.note}</sub>" if r.note else "")
        out.append(f"| {what} | {r.figure} | {r.raw or '—'} | {r.ratio or '—'} | {r.target} | {r.result} |")
    misses = [r for r in rows if r.passed is False]
    out.append("")
    if misses:
        out.append("Misses:")
        out += [f"- {r.short}: {r.miss}." for r in misses]
    elif rows:
        out.append("No misses.")
    out.append("")
    table = combo_table(res)
    if table:
        out += [f"### {title}: the 20 filter combinations", ""] + table + [""]
    return out


def render(results, meta, args, output_path, chart_name):
    why = previous_why(output_path) or WHY_PLACEHOLDER
    lines = [
        "# Benchmarks",
        "",
        f"Generated by `bench/run` on {meta['date']} — the whole file is rewritten by each run except the "
        "\"Why the misses\" section. How each figure is taken: [bench/README.md](../bench/README.md).",
        "",
        f"Command: `{meta['command']}`",
        "",
    ]
    if meta.get("small"):
        lines += ["**Small-N mode** (the CI check that the harness runs): tiny data, one run, "
                  f"{'a debug build' if meta.get('profile') == 'debug' else 'a release build'}. "
                  "These figures are not benchmarks.", ""]
    lines += [
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
    ]
    for key, value in meta["machine"]:
        lines.append(f"| {key} | {value} |")
    lines.append("")
    for res in results:
        lines += backend_section(res, args)
    if chart_name:
        lines += ["## Chart", "", f"![Server against the raw database, per target]({chart_name})", ""]
    problems = [p for res in results for p in res.get("problems", [])]
    if problems:
        lines += ["## Harness problems", "", "The runner found answers it could not reconcile (it exits non-zero):", ""]
        lines += [f"- {p}" for p in problems] + [""]
    lines += ["## Why the misses", "", WHY_BEGIN, why, WHY_END, ""]
    for section in previous_sections(output_path):
        lines += [section, ""]
    lines += method_notes(meta)
    return "\n".join(lines)


def method_notes(meta):
    return [
        "## How the figures are taken",
        "",
        "- Each backend runs its own `auditlog serve` (the build named above) with `RUST_LOG=warn` and "
        "`ESTIMATE_REUSE_SECONDS=0` (every estimated total made afresh, as on a first visit); the harness "
        "(Python, one client connection with keep-alive) and the database run on the same machine. The raw side "
        "is the same SQL or the same rows through psycopg (PostgreSQL) or Python's sqlite3 module.",
        "- Ingest: the same generated events are posted as `{\"events\": [1000 events]}` with an API token "
        "(`events:write`), one request at a time, into a fresh scratch database, then inserted by the raw side into "
        "`bench_raw`/`bench_raw_related` (same columns, indexes and foreign key as `events`/`event_related`) in the "
        "same scratch database, one transaction per batch. Only the requests and the database calls are timed; "
        "the raw rows (hash chain included) and their COPY data are prepared before the clock starts.",
        "- Filter combinations: as an admin (whose visibility is `tenant_id = ?`), `GET /api/v1/events?per_page=50&…` "
        "in page mode (the dashboard's request, with `total`) and in cursor mode (`cursor=`, no count), against "
        "`SELECT … WHERE … ORDER BY occurred_at DESC, id DESC LIMIT 51`. The harness checks that all three return "
        "the same rows. Ratios compare medians; the latency targets use p95. Before them `GET /healthz` and "
        "`GET /api/v1/auth/me` are timed the same way: what any request costs, shown beside the ratio.",
        "- Depth: `next_cursor` is followed for 200 pages of 50, then the next page is timed by cursor, by "
        "`page=201` (OFFSET in the server) and as bare SQL (keyset and `OFFSET 10000`).",
        "- Export: `GET /api/v1/events/export?format=csv` of the whole tenant streamed to nowhere while the server's "
        "VmRSS is sampled every 50 ms; the raw side writes the same 22 columns in the same order.",
        "- Mixed load: `wrk -t2 -c16 --timeout 10s` cycling through 40 read requests: list pages with filters, "
        "paging and sorting (25), event details (8), the activity chart (4) and the filter pickers' facets (3); the "
        "server's VmRSS is sampled every 250 ms.",
        "- PostgreSQL data is `VACUUM ANALYZE`d after loading (what autovacuum does shortly after a bulk load); "
        "SQLite is used as the server leaves it (no `ANALYZE`).",
        "",
    ]


# -- the chart -----------------------------------------------------------------------------------
def chart(results, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in results if any(rep.get("combos") for rep in r["repeats"])]
    if not done:
        return False
    fig, axes = plt.subplots(2, 2, figsize=(15, 10.5))
    colours = {"server": "#3b6fb6", "raw": "#b0b0b0"}

    def bars(ax, groups, title, ylabel, log):
        labels = [g[0] for g in groups]
        xs = range(len(groups))
        width = 0.38
        server = [g[1] or 0 for g in groups]
        raw = [g[2] or 0 for g in groups]
        ax.bar([x - width / 2 for x in xs], server, width, label="server (HTTP)", color=colours["server"])
        ax.bar([x + width / 2 for x in xs], raw, width, label="raw database", color=colours["raw"])
        for x, g in zip(xs, groups):
            if g[3] is not None:
                ax.hlines(g[3], x - 0.45, x + 0.45, colors="#c0392b", linestyles="dashed", linewidth=1)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, rotation=35, ha="right", fontsize=7.5)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        if log:
            ax.set_yscale("log")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)

    throughput, latency = [], []
    for res in done:
        tag = "PG" if res["backend"] == "postgres" else "SQLite"
        reps = res["repeats"]
        ing = [r["ingest"] for r in reps if r.get("ingest")]
        if ing:
            raw = median([i["raw_rate"] for i in ing])
            throughput.append((f"{tag} ingest", median([i["rate"] for i in ing]), raw, raw * 0.5))
        exp = [r["export"] for r in reps if r.get("export")]
        if exp:
            raw = median([e["raw_rate"] for e in exp])
            throughput.append((f"{tag} CSV export", median([e["rate"] for e in exp]), raw, raw * 0.5))
        combos = [r["combos"] for r in reps if r.get("combos")]
        if combos:
            plain = [max((c for c in cs if not c["keyword"]), key=lambda c: c["page"]["p95"]) for cs in combos]
            latency.append((f"{tag} first page p95 (worst)", median([c["page"]["p95"] for c in plain]),
                            median([c["sql"]["p95"] for c in plain]), 20))
            kw = [max((c for c in cs if c["keyword"]), key=lambda c: c["page"]["p95"]) for cs in combos]
            latency.append((f"{tag} keyword p95 (worst)", median([c["page"]["p95"] for c in kw]),
                            median([c["sql"]["p95"] for c in kw]), 100))
        deps = [r["depth"] for r in reps if r.get("depth")]
        if deps:
            latency.append((f"{tag} depth cursor p50", median([d["cursor"]["p50"] for d in deps]),
                            median([d["sql_keyset"]["p50"] for d in deps]), None))
            latency.append((f"{tag} depth OFFSET p50", median([d["offset"]["p50"] for d in deps]),
                            median([d["sql_offset"]["p50"] for d in deps]), None))
        loads = [r["load"] for r in reps if r.get("load")]
        if loads:
            latency.append((f"{tag} mixed load p99", median([x["p99"] for x in loads]), None, 50))
    bars(axes[0][0], throughput, "Throughput (dashed: 50 % of raw, the target)", "rows/s (log)", True)
    bars(axes[0][1], latency, "Latency (dashed: target)", "ms (log)", True)
    for ax, res in zip((axes[1][0], axes[1][1]), done):
        combos = [r["combos"] for r in res["repeats"] if r.get("combos")]
        groups = []
        for i, first in enumerate(combos[0]):
            runs = [cs[i] for cs in combos]
            groups.append((f"{i + 1} {first['name']}", median([c["page"]["p95"] for c in runs]),
                           median([c["sql"]["p95"] for c in runs]), 100 if first["keyword"] else 20))
        bars(ax, groups, f"{BACKEND_TITLE[res['backend']]} ({count_tag(res['events'])} events): first page p95 "
             "per filter combination", "ms (log)", True)
    for ax in axes[1][len(done):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def console_summary(results):
    """A plain-text version of the summary tables for the terminal (and CI logs)."""
    out = []
    for res in results:
        out.append(f"{BACKEND_TITLE[res['backend']]} ({count_tag(res['events'])} events)"
                   + (f" — FAILED: {res['error']}" if res.get("error") else ""))
        for r in summary_rows(res):
            out.append(f"  {r.result.strip('*'):5} {r.short:28} {r.figure:38} raw {r.raw or '—'}; ratio {r.ratio or '—'}; "
                       f"target {r.target}")
    return "\n".join(out)


def write(results, meta, args, output_path):
    os.makedirs(os.path.dirname(os.path.abspath(output_path)), exist_ok=True)
    chart_name = "benchmarks.png"
    chart_path = os.path.join(os.path.dirname(os.path.abspath(output_path)), chart_name)
    has_chart = chart(results, chart_path)
    text = render(results, meta, args, output_path, chart_name if has_chart else None)
    with open(output_path, "w", encoding="utf-8") as f:
        f.write(text)
    return chart_path if has_chart else None
