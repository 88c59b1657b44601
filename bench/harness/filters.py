"""The 20 fixed filter combinations: the API query string and the equivalent bare SQL.

The SQL mirrors what `matching()` in `backend/db/src/queries/events.rs` builds for an admin (visibility is
`tenant_id = ?`; admins also see tombstones): the same predicates, `ORDER BY occurred_at DESC,
id DESC LIMIT 51` (a page of 50 and one more to know whether there is a next page), and the same
columns as `EventRow`. Date presets are resolved in UTC, as the server does for `tz=UTC`.
"""

import datetime as dt
from urllib.parse import urlencode

# The columns of `EventRow` (everything but `search_text`), as the server selects them.
SELECT_COLUMNS = (
    "id, tenant_id, seq, external_id, occurred_at, recorded_at, actor_id, actor_type, actor_name, actor_email, "
    "actor_role, admin_private, action, module, verb, entity_type, entity_id, entity_label, description, changes, "
    "related, metadata, ip, user_agent, prev_hash, hash, deleted_at, deleted_by"
)
ORDER = "ORDER BY occurred_at DESC, id DESC"
# The 22 columns of the CSV export (`occurred_at_local` is `occurred_at` again: the tenant is UTC).
EXPORT_COLUMNS = (
    "id, seq, occurred_at, occurred_at, recorded_at, actor_id, actor_name, actor_email, actor_role, actor_type, "
    "module, verb, action, entity_type, entity_id, entity_label, description, ip, user_agent, changes, hash, prev_hash"
)


class Combo:
    def __init__(self, name, keyword=False, **params):
        self.name, self.keyword, self.params = name, keyword, params

    def query(self):
        """The API query string (without paging)."""
        pairs = []
        for key, value in self.params.items():
            for v in value if isinstance(value, list) else [value]:
                pairs.append((key, v))
        if "range" in self.params:
            pairs.append(("tz", "UTC"))
        return urlencode(pairs)

    def where(self, tenant_id, now, postgres):
        """`(sql, params)` with `%s` placeholders: the server's WHERE for an admin of `tenant_id`
        (diesel writes a list of actors as `= ANY($1)` on PostgreSQL and as `IN (?, …)` on SQLite)."""
        sql, args = ["tenant_id = %s"], [tenant_id]
        p = self.params
        if "range" in p:
            start, end = resolve_range(p["range"], now)
            sql += ["occurred_at >= %s", "occurred_at < %s"]
            args += [start, end]
        if "actor_id" in p:
            ids = p["actor_id"] if isinstance(p["actor_id"], list) else [p["actor_id"]]
            if postgres:
                sql.append("actor_id = ANY(%s)")
                args.append(ids)
            else:
                sql.append("actor_id IN (" + ", ".join(["%s"] * len(ids)) + ")")
                args += ids
        for column in ("module", "verb", "action", "entity_type", "entity_id"):
            if column in p:
                sql.append(f"{column} = %s")
                args.append(p[column])
        if "q" in p:
            q = p["q"].strip().lower()
            if not postgres and len(q) >= 3:
                # SQLite: the FTS5 trigram table, with the keyword as one quoted phrase.
                text, arg = "events.id IN (SELECT rowid FROM events_search WHERE events_search MATCH %s)", \
                    '"' + q.replace('"', '""') + '"'
            else:
                # PostgreSQL (its trigram index answers the LIKE), and SQLite for 1–2 characters.
                text = "search_text LIKE %s ESCAPE '\\'"
                arg = "%" + "".join("\\" + c if c in "%_\\" else c for c in q) + "%"
            if q.lstrip("-").isdigit():
                sql.append(f"({text} OR id = %s)")
                args += [arg, int(q)]
            else:
                sql.append(text)
                args.append(arg)
        return " AND ".join(sql), args


def resolve_range(preset, now):
    """`[start, end)` of a named period in UTC (the server's `resolve_range` for `tz=UTC`)."""
    today = dt.datetime(now.year, now.month, now.day)
    day = dt.timedelta(days=1)
    month_start = today.replace(day=1)
    next_month = (month_start + dt.timedelta(days=32)).replace(day=1)
    last_month = (month_start - dt.timedelta(days=1)).replace(day=1)
    monday = today - dt.timedelta(days=today.weekday())
    return {
        "today": (today, today + day),
        "yesterday": (today - day, today),
        "this_week": (monday, monday + 7 * day),
        "last_7_days": (today - 6 * day, today + day),
        "last_30_days": (today - 29 * day, today + day),
        "this_month": (month_start, next_month),
        "last_month": (last_month, month_start),
    }[preset]


# Data from `auditlog seed-bench`: actors u0 (the busiest; activity is skewed) … u199 (rare),
# modules booking/customer/invoice/quote/session/staff/settings, booking 12000 and customer 5000
# are the first records of each kind. `bok-12345` is one booking among millions of events: a
# keyword that matches almost nothing, the worst case for a LIKE scan.
COMBOS = [
    Combo("unfiltered"),
    Combo("range=today", range="today"),
    Combo("range=yesterday", range="yesterday"),
    Combo("range=this_week", range="this_week"),
    Combo("range=last_7_days", range="last_7_days"),
    Combo("range=last_30_days", range="last_30_days"),
    Combo("range=this_month", range="this_month"),
    Combo("range=last_month", range="last_month"),
    Combo("user u0 (busiest)", actor_id="u0"),
    Combo("user u199 (rare)", actor_id="u199"),
    Combo("module=invoice", module="invoice"),
    Combo("verb=deleted", verb="deleted"),
    Combo("action=booking.status_changed", action="booking.status_changed"),
    Combo("entity booking 12000", entity_type="booking", entity_id="12000"),
    Combo("entity_type=customer", entity_type="customer"),
    Combo("module+verb+last_30_days", module="booking", verb="updated", range="last_30_days"),
    Combo("user u2+module+last_month", actor_id="u2", module="invoice", range="last_month"),
    Combo("q=invoice (common)", keyword=True, q="invoice"),
    Combo("q=patel (some)", keyword=True, q="patel"),
    Combo("q=bok-12345 (rare)", keyword=True, q="bok-12345"),
]
assert len(COMBOS) == 20
