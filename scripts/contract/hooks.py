"""Schemathesis hooks for scripts/contract-test.

`openapi.yaml` states every rule about a single value (lengths, patterns, formats, enums, ranges).
A few rules are about several values together, about the time of the request or about stored
data, which a schema cannot state; they are in the descriptions, and tested in the Rust suite.
Schemathesis expects every request it generated as valid to be accepted, so these hooks give its
*valid* cases those rules too: they repair a case that breaks one (keeping it valid by the schema)
instead of discarding it. Invalid (negative) cases are sent exactly as generated. No check is
turned off or relaxed here.
"""

import json
import os
from datetime import date, datetime, timedelta, timezone

import schemathesis
from schemathesis import GenerationMode

# Operations that take the shared event filters (backend/api/src/filters.rs).
FILTERED = {"listEvents", "getRecordHistory", "exportEvents", "createExportLink", "streamEvents", "getTimeline", "getFlagSummary", "readFeed"}
# `tz` is a plain string in the schema (an enum of the ~600 names of the tz database trips client
# generators), but the server takes only those names: a valid case gets one of these instead.
ZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati")
# Accounts the passes sign in with; changing them would lock the fuzzer out (ids, comma-separated).
PROTECTED_USERS = {int(i) for i in os.environ.get("CONTRACT_PROTECTED_USER_IDS", "").split(",") if i}
# A user made for the fuzzer to change instead.
SPARE_USER = int(os.environ.get("CONTRACT_SPARE_USER_ID", "0"))
# Events of the host application, which may be deleted (the product's own records may not).
DELETABLE = [int(i) for i in os.environ.get("CONTRACT_DELETABLE_IDS", "").split(",") if i] or [1]


def _is_valid_case(case) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode == GenerationMode.POSITIVE


def _parse(text):
    """A `DateBound`: (date or datetime, is_date), or None when it is neither (it is then invalid)."""
    if not isinstance(text, str):
        return None
    try:
        return (date.fromisoformat(text), True) if len(text) == 10 else (datetime.fromisoformat(text), False)
    except ValueError:
        return None


def _shifted(day: date, delta: timedelta) -> datetime:
    """UTC midnight of `day` moved by `delta`, held within the years 1 to 9999."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
    try:
        return midnight + delta
    except OverflowError:
        return datetime.max.replace(tzinfo=timezone.utc) if delta > timedelta(0) else datetime.min.replace(tzinfo=timezone.utc)


def _earliest(bound, end_of_day=False):
    """The earliest instant a bound can stand for (a date: its start, or its end), in any time zone:
    local midnight lies within UTC-14 to UTC+12, up to 3 hours later after a DST gap."""
    value, is_date = bound
    return _shifted(value, timedelta(days=1 if end_of_day else 0, hours=-14)) if is_date else value


def _latest(bound, end_of_day=False):
    value, is_date = bound
    return _shifted(value, timedelta(days=1 if end_of_day else 0, hours=15)) if is_date else value


def _filters(query: dict, operation_id: str) -> None:
    # `tz` must be a name of the tz database (empty is read as absent).
    tz = query.get("tz")
    if tz not in (None, "") and tz not in ZONES:
        query["tz"] = ZONES[sum(map(ord, str(tz))) % len(ZONES)]
    # `range` is not combined with `from`/`to` (filters.rs: "use either `range` or `from`/`to`").
    if query.get("range") not in (None, "") and (query.get("from") or query.get("to")):
        query.pop("from", None)
        query.pop("to", None)
    # `from` must come before the end of `to`: two dates or two instants compare as they are;
    # which instant a date means depends on `tz`, so a mixed pair must be in order in every zone.
    start, end = _parse(query.get("from")), _parse(query.get("to"))
    if start and end:
        in_order = start[0] <= end[0] if start[1] == end[1] else _latest(start) < _earliest(end, end_of_day=True)
        if not in_order:
            query.pop("to")
    # A record is named by `record_type` and `record_id` together (filters.rs; blank is absent); on
    # a record's history the path names it, and the query may only repeat it.
    named = [key for key in ("record_type", "record_id") if str(query.get(key) or "").strip()]
    if len(named) == 1 or (named and operation_id == "getRecordHistory"):
        query.pop("record_type", None)
        query.pop("record_id", None)
    # A cursor is a position the server handed out: a generated one is never one (cursor paging
    # is tested in events_api.rs and hostile_input.rs). Empty asks for the first page.
    if query.get("cursor"):
        query["cursor"] = ""
    # The chart holds at most 2000 buckets (aggregates/stats.rs): a longer span is refused with 422.
    if operation_id == "getTimeline":
        start, end = _parse(query.get("from")), _parse(query.get("to"))
        now = datetime.now(timezone.utc)
        if start:
            until = _latest(end, end_of_day=True) if end else now
            span = until - _earliest(start)
            per_bucket = timedelta(hours=1) if query.get("bucket") == "hour" else timedelta(days=1)
            if span / per_bucket > 1990:
                query.pop("from")


def _event(event: dict, now: datetime) -> None:
    # `occurred_at`: from 1970 to 5 minutes ahead of the server's clock (events/ingest.rs).
    when = _parse(event.get("occurred_at"))
    if when and not when[1]:
        if when[0] < datetime(1970, 1, 1, tzinfo=timezone.utc):
            event["occurred_at"] = "1970-01-01T00:00:00Z"
        elif when[0] > now:
            event["occurred_at"] = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    changes = event.get("changes")
    if isinstance(changes, list):
        # Not `changes` together with `before`/`after`.
        event.pop("before", None)
        event.pop("after", None)
        # Each field once, with `old`, `new` or both.
        seen, kept = set(), []
        for change in changes:
            if isinstance(change, dict) and change.get("field") not in seen:
                seen.add(change.get("field"))
                if "old" not in change and "new" not in change:
                    change["new"] = None
                kept.append(change)
        event["changes"] = kept


def _ingest(body) -> None:
    now = datetime.now(timezone.utc)
    events = body.get("events") if isinstance(body, dict) and "events" in body else [body]
    for event in events if isinstance(events, list) else []:
        if isinstance(event, dict):
            _event(event, now)


def _new_user(body: dict) -> None:
    # A password needs 4 different characters and is not the e-mail address (auth.rs).
    password, email = body.get("password"), body.get("email")
    if isinstance(password, str) and isinstance(email, str):
        local = email.split("@")[0]
        if len(set(password)) < 4 or password.lower() in (email.lower(), local.lower()):
            body["password"] = "contract-Test-9"


def _review_settings(body: dict) -> None:
    # The working day starts before it ends (`ReviewSettings::problems`).
    starts, ends = body.get("day_starts", "07:00"), body.get("day_ends", "20:00")
    if isinstance(starts, str) and isinstance(ends, str) and starts >= ends:
        body["day_starts"], body["day_ends"] = ("00:00", "23:59") if starts == ends else (ends, starts)


# An alert rule's filter is the list's query string, checked as the list checks it; its webhook
# URL must parse as a URL, which a pattern cannot fully say (backend/api/src/alerts/).
RULE_FILTERS = ("", "flag=any", "module=booking", "verb=deleted&flag=odd_hours", "q=invoice&actor_id=u-1001")
# Header names the delivery sets itself are refused (`alerts::HeaderName`).
def _alert_rule(body: dict) -> None:
    text = body.get("filter")
    if text is not None:
        body["filter"] = RULE_FILTERS[len(str(text)) % len(RULE_FILTERS)]
    destination = body.get("destination")
    if isinstance(destination, dict) and destination.get("type") == "webhook":
        if "url" in destination:
            destination["url"] = "https://hooks.example.com/contract"
        headers = destination.get("headers")
        if isinstance(headers, list):
            for i, header in enumerate(headers):
                if isinstance(header, dict) and "name" in header:
                    header["name"] = f"X-Contract-{i}"


# Links into the host application: each record type once, and a template the server takes,
# which a pattern cannot fully say (a port in range, a host that parses: backend/api/src/links/).
def _record_links(body: dict) -> None:
    templates = body.get("templates")
    if not isinstance(templates, list):
        return
    for i, row in enumerate(templates):
        if isinstance(row, dict):
            row["entity_type"] = f"type_{i}"
            if "url" in row:
                row["url"] = f"https://crm.example.com/type_{i}/{{id}}"


def _json_scalar(value) -> bool:
    """Whether a text reads as a JSON boolean, null or number."""
    if not isinstance(value, str):
        return False
    try:
        return json.loads(value) is None or isinstance(json.loads(value), (bool, int, float))
    except ValueError:
        return False


def _text_parameter(schema: dict) -> bool:
    """A query parameter whose value is text: a string, or a list of the shared text filters."""
    if schema.get("type") == "string":
        return True
    items = schema.get("items", {}) if schema.get("type") == "array" else {}
    return items.get("type") == "string" or items.get("$ref", "").endswith(("/FilterText", "/Keyword"))


@schemathesis.hook
def filter_case(context, case):
    # An invalid (negative) case whose "invalid" value is a boolean, null or a number given to a
    # text parameter (schemathesis reads the text `false` as JSON) is not invalid once written into
    # the query string: `actor_id=false` is the actor id "false". Such a case is not sent as
    # invalid; every other negative case is.
    if _is_valid_case(case) or not isinstance(case.query, dict):
        return True
    parameters = case.operation.definition.raw.get("parameters", [])
    schemas = {p.get("name"): p.get("schema", {}) for p in parameters if p.get("in") == "query"}
    for name, value in case.query.items():
        values = value if isinstance(value, list) else [value]
        scalar = any(isinstance(v, (bool, int, float)) or _json_scalar(v) for v in values)
        if scalar and _text_parameter(schemas.get(name, {})):
            return False
    # Likewise a mutation of a text filter whose value, as the query string carries it, is valid
    # text after all (a value generated against the parameter's internal array-or-string form,
    # sent as `actor_id=__main__`): the server rightly takes it.
    data = getattr(getattr(getattr(case, "meta", None), "phase", None), "data", None)
    name = getattr(data, "parameter", None)
    if name in case.query and _filter_text(schemas.get(name, {})):
        value = case.query[name]
        values = value if isinstance(value, list) else [value]
        most = schemas[name].get("maxItems", 1 if schemas[name].get("type") != "array" else None)
        if (most is None or len(values) <= most) and all(_valid_filter_text(v) for v in values):
            return False
    return True


def _filter_text(schema: dict) -> bool:
    """A query parameter of the shared text filter (`FilterText`), or a list of them."""
    ref = schema.get("$ref") or (schema.get("items", {}).get("$ref") if schema.get("type") == "array" else None)
    return bool(ref) and ref.endswith("/FilterText")


def _valid_filter_text(value) -> bool:
    """Whether a value is valid `FilterText`: at most 128 characters, no control characters."""
    return isinstance(value, str) and len(value) <= 128 and not any(
        ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value
    )


@schemathesis.hook
def map_case(context, case):
    if not _is_valid_case(case):
        return case
    return _valid(case)


@schemathesis.hook
def before_add_examples(context, examples):
    # The document's own examples (examples phase) do not pass through `map_case`: they name the
    # demo tenant's ids, which need the same mapping onto this server's data.
    for case in examples:
        _valid(case)


def _valid(case):
    """Makes a valid case valid against this server's data too (ids, passwords, dates)."""
    operation_id = case.operation.definition.raw.get("operationId")
    if operation_id in FILTERED and isinstance(case.query, dict):
        _filters(case.query, operation_id)
        # Only CSV and XLSX exports choose columns (the parameter's description says so).
        if operation_id in ("exportEvents", "createExportLink") and case.query.get("format") in ("pdf", "manifest"):
            case.query.pop("columns", None)
    elif operation_id == "ingestEvents":
        _ingest(case.body)
    elif operation_id == "createUser" and isinstance(case.body, dict):
        _new_user(case.body)
    elif operation_id == "setReviewSettings" and isinstance(case.body, dict):
        _review_settings(case.body)
    elif operation_id == "setRecordLinks" and isinstance(case.body, dict):
        _record_links(case.body)
    elif operation_id in ("createAlertRule", "replaceAlertRule") and isinstance(case.body, dict):
        _alert_rule(case.body)
    elif operation_id == "deleteEvents" and isinstance(case.body, dict) and isinstance(case.body.get("ids"), list):
        # All ids must be the tenant's events and none the product's own records, else nothing is
        # deleted (422): use stored events of the host application.
        ids = [int(i) for i in case.body["ids"] if isinstance(i, (int, float)) and not isinstance(i, bool)]
        case.body["ids"] = [DELETABLE[abs(i) % len(DELETABLE)] for i in ids] or DELETABLE[:1]
    elif operation_id == "updateUser" and isinstance(case.path_parameters, dict):
        # The accounts the passes sign in with stay as they are: the spare user takes their place.
        if case.path_parameters.get("id") in PROTECTED_USERS:
            case.path_parameters["id"] = SPARE_USER
    return case
