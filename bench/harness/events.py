"""Realistic events for the ingest benchmark, in the two forms the two sides need.

`api` is what an integrator posts to `POST /api/v1/events`: an action, an actor, the record and
its related records, a `changes` list, IP, user agent, metadata and an `external_id`. `row` is the
same event as the server stores it (description generated, JSON columns canonical, search text,
hash chain), which the raw database side inserts with COPY or INSERT. The mix follows
`backend/api/src/cli/seed.rs`: bookings, customers, invoices, quotes, sign-ins, user and settings
changes, with a few busy users doing most of the work.
"""

import datetime as dt
import hashlib
import json
import random

FIRST_NAMES = ["Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Grace", "Arthur",
               "Freya", "Oscar", "Lily", "Jack", "Ella", "Harry"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker",
              "Wright", "Hughes", "Green", "Hall", "Wood", "Clarke", "Patel"]
SERVICES = ["Boiler service", "Gas safety check", "Radiator install", "Leak repair", "Annual maintenance",
            "Bathroom fit"]
USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "FieldCRM-Android/4.12.0 (Pixel 8; Android 15)",
]
STAFF = [("104", "Tom Fischer", "technician"), ("105", "Sara Lindqvist", "dispatcher"),
         ("106", "Diego Alvarez", "technician"), ("107", "Hannah Cole", "accountant"),
         ("108", "Kenji Watanabe", "sales")]
SEARCH_SEPARATOR = "\x1f"
ZERO_HASH = "0" * 64

# The stored columns the raw side writes, in this order (`id` is given explicitly so that the
# related rows can point at their event; `deleted_at`/`deleted_by` stay NULL).
ROW_COLUMNS = [
    "id", "tenant_id", "seq", "external_id", "occurred_at", "recorded_at", "actor_id", "actor_type",
    "actor_name", "actor_email", "actor_role", "admin_private", "action", "module", "verb", "entity_type",
    "entity_id", "entity_label", "description", "changes", "related", "metadata", "ip", "user_agent",
    "search_text", "prev_hash", "hash",
]
# PostgreSQL types of ROW_COLUMNS, for binary COPY.
ROW_PG_TYPES = [
    "int8", "int8", "int8", "text", "timestamp", "timestamp", "text", "text", "text", "text", "text", "bool",
    "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text", "text",
    "text", "text",
]
RELATED_COLUMNS = ["tenant_id", "entity_type", "entity_id", "event_id"]


def canonical(value):
    """JSON with sorted keys and no spaces, as the server stores `changes`, `related`, `metadata`."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def describe(actor, verb, module, entity):
    """The server's generated description (`describe` in backend/api/src/events/ingest.rs)."""
    phrase = {
        "login": "signed in", "logout": "signed out", "login_failed": "failed to sign in",
        "password_changed": "changed their password", "status_changed": "changed the status of",
        "role_changed": "changed the role of", "retention_changed": "changed", "review_settings_changed": "changed",
    }.get(verb, verb.replace("_", " "))
    if entity:
        kind = entity["type"].replace("_", " ")
        label = entity.get("label")
        if label and kind.lower() in label.lower():
            return f"{actor['name']} {phrase} {label}"
        return f"{actor['name']} {phrase} {kind} {label or '#' + str(entity['id'])}"
    if verb in ("login", "logout", "login_failed", "password_changed"):
        return f"{actor['name']} {phrase}"
    what = module.replace("_", " ")
    article = "" if what.endswith("s") and not what.endswith("ss") else "an " if what[:1].lower() in "aeiou" else "a "
    return f"{actor['name']} {phrase} {article}{what}"


def rfc3339(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class EventGenerator:
    """Deterministic for a given seed: two runs post the same events."""

    def __init__(self, seed, users=200, days=30, tenant_slug="bench-ingest", now=None):
        self.rng = random.Random(seed)
        self.now = now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
        self.days = days
        self.actors = [
            {"id": f"u{u}", "name": f"{FIRST_NAMES[u % 16]} {LAST_NAMES[(u // 16) % 16]} {u}",
             "email": f"user{u}@{tenant_slug}.example", "role": "admin" if u == 0 else "staff", "type": "user"}
            for u in range(max(users, 1))
        ]
        self.ips = [
            f"2001:db8:{self.rng.randrange(1, 0xFFFF):x}::{self.rng.randrange(1, 0xFF):x}" if i % 5 == 4
            else f"{[81, 86, 92, 185, 203][i % 5]}.{self.rng.randrange(255)}.{self.rng.randrange(255)}.{self.rng.randrange(1, 254)}"
            for i in range(14)
        ]
        self.customers = []  # [id, name, deleted]
        self.bookings = []  # [id, customer index, status, price, technician]
        self.invoices = []  # [id, customer index, booking id, status, total]
        self.quotes = 0

    # -- records ----------------------------------------------------------------------------
    def _customer(self, new=False):
        if new or len(self.customers) < 20:
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            self.customers.append([5000 + len(self.customers), name, False])
            return len(self.customers) - 1
        return self.rng.randrange(len(self.customers))

    @staticmethod
    def _ref(kind, ident, label):
        return {"type": kind, "id": str(ident), "label": label}

    def _customer_ref(self, i):
        c = self.customers[i]
        return self._ref("customer", c[0], c[1])

    # -- kinds of events ---------------------------------------------------------------------
    def _booking(self):
        roll = self.rng.randrange(100)
        if not self.bookings or roll < 30:
            c = self._customer()
            b = [12000 + len(self.bookings), c, "scheduled", self.rng.randrange(8, 60) * 10,
                 self.rng.choice(["Tom Fischer", "Diego Alvarez"])]
            self.bookings.append(b)
            changes = [{"field": "customer", "new": self.customers[c][1]},
                       {"field": "service", "new": self.rng.choice(SERVICES)},
                       {"field": "status", "new": "scheduled"}, {"field": "technician", "new": b[4]},
                       {"field": "price", "new": b[3]}]
            return ("booking.created", self._ref("booking", b[0], f"BOK-{b[0]}"), [self._customer_ref(c)],
                    changes, {"source": "web"})
        b = self.bookings[self.rng.randrange(len(self.bookings))]
        if roll < 60:
            old = b[3]
            b[3] += 10 * (1 + roll % 4)
            action, changes = "booking.updated", [{"field": "price", "old": old, "new": b[3]}]
        elif roll < 80:
            old = b[2]
            b[2] = {"scheduled": "confirmed", "confirmed": "in_progress", "in_progress": "completed"}.get(old, "scheduled")
            action, changes = "booking.status_changed", [{"field": "status", "old": old, "new": b[2]}]
        elif roll < 90:
            old = b[4]
            b[4] = "Diego Alvarez" if old == "Tom Fischer" else "Tom Fischer"
            action, changes = "booking.assigned", [{"field": "technician", "old": old, "new": b[4]}]
        else:
            action = "booking.deleted"
            changes = [{"field": "status", "old": b[2]}, {"field": "price", "old": b[3]},
                       {"field": "technician", "old": b[4]}]
        return action, self._ref("booking", b[0], f"BOK-{b[0]}"), [self._customer_ref(b[1])], changes, {}

    def _customer_event(self):
        roll = self.rng.randrange(100)
        if len(self.customers) < 25 or roll < 35:
            c = self.customers[self._customer(new=True)]
            email = f"{c[1].lower().replace(' ', '.')}{c[0] % 97}@example.net"
            changes = [{"field": "name", "new": c[1]}, {"field": "email", "new": email},
                       {"field": "phone", "new": f"+44 7700 9{self.rng.randrange(100000):05}"},
                       {"field": "marketing_opt_in", "new": roll % 2 == 0}]
            return "customer.created", self._ref("customer", c[0], c[1]), [], changes, {}
        c = self.customers[self._customer()]
        if roll >= 95:
            return ("customer.deleted", self._ref("customer", c[0], c[1]), [],
                    [{"field": "name", "old": c[1]}], {})
        changes = [{"field": "phone", "old": f"+44 7700 9{c[0] * 7 % 100000:05}",
                    "new": f"+44 7700 9{(c[0] * 7919 + roll) % 100000:05}"}]
        return "customer.updated", self._ref("customer", c[0], c[1]), [], changes, {}

    def _invoice(self):
        roll = self.rng.randrange(100)
        if not self.invoices or roll < 35:
            if not self.bookings:
                return self._customer_event()
            b = self.bookings[self.rng.randrange(len(self.bookings))]
            inv = [3000 + len(self.invoices), b[1], b[0], "draft", b[3] * 12 // 10]
            self.invoices.append(inv)
            changes = [{"field": "number", "new": f"INV-{inv[0]}"}, {"field": "status", "new": "draft"},
                       {"field": "total", "new": inv[4]}, {"field": "currency", "new": "GBP"},
                       {"field": "due_in_days", "new": 30}]
            related = [self._customer_ref(b[1]), self._ref("booking", b[0], f"BOK-{b[0]}")]
            return "invoice.created", self._ref("invoice", inv[0], f"INV-{inv[0]}"), related, changes, {}
        inv = self.invoices[self.rng.randrange(len(self.invoices))]
        metadata = {}
        if roll < 65 and inv[3] == "draft":
            action, changes, metadata = "invoice.sent", [], {"channel": "email", "template": "invoice-default"}
            inv[3] = "sent"
        elif roll < 85:
            old = inv[3]
            inv[3] = "paid"
            action, changes = "invoice.status_changed", [{"field": "status", "old": old, "new": "paid"}]
        elif roll < 95:
            inv[4] += 15
            action, changes = "invoice.updated", [{"field": "total", "old": inv[4] - 15, "new": inv[4]}]
        else:
            action, changes = "invoice.deleted", [{"field": "status", "old": inv[3]}, {"field": "total", "old": inv[4]}]
        related = [self._customer_ref(inv[1]), self._ref("booking", inv[2], f"BOK-{inv[2]}")]
        return action, self._ref("invoice", inv[0], f"INV-{inv[0]}"), related, changes, metadata

    def _quote(self):
        c = self._customer()
        roll = self.rng.randrange(100)
        if self.quotes == 0 or roll < 40:
            self.quotes += 1
        q = 700 + self.quotes
        entity, related = self._ref("quote", q, f"QUO-{q}"), [self._customer_ref(c)]
        amount = self.rng.randrange(20, 200) * 10
        if roll < 40:
            return ("quote.created", entity, related,
                    [{"field": "amount", "new": amount}, {"field": "currency", "new": "GBP"},
                     {"field": "valid_days", "new": 30}], {})
        if roll < 65:
            return "quote.sent", entity, related, [], {"channel": "email"}
        if roll < 85:
            return "quote.updated", entity, related, [{"field": "amount", "old": amount, "new": amount + 50}], {}
        return ("quote.transferred", entity, related,
                [{"field": "owner", "old": "Kenji Watanabe", "new": "Marcus Reed"}], {})

    def _auth(self):
        # The host application's own sign-ins (the product's `auth.*` records are its own, never posted).
        roll = self.rng.randrange(100)
        action = ("session.login" if roll < 55 else "session.logout" if roll < 85
                  else "session.login_failed" if roll < 98 else "session.password_changed")
        metadata = {"reason": "wrong_password"} if action == "session.login_failed" else {"method": "password"}
        return action, None, [], [], metadata

    def _user(self):
        ident, name, role = self.rng.choice(STAFF)
        entity = self._ref("user", ident, name)
        if self.rng.random() < 0.5:
            new_role = "senior_technician" if role == "technician" else "team_lead"
            return "staff.role_changed", entity, [], [{"field": "role", "old": role, "new": new_role}], {}
        return "staff.updated", entity, [], [{"field": "working_hours", "old": "08:00-16:00", "new": "09:00-17:30"}], {}

    def _settings(self):
        field, old, new = self.rng.choice([("invoice_due_days", 30, 14),
                                           ("business_hours", "08:00-17:00", "07:30-18:00")])
        entity = self._ref("settings", "company", "Company settings")
        return "settings.updated", entity, [], [{"field": field, "old": old, "new": new}], {}

    # -- one event ---------------------------------------------------------------------------
    def api_event(self, external_id):
        """One event as an integrator posts it."""
        actor = self.actors[int(self.rng.random() ** 3 * len(self.actors)) % len(self.actors)]
        roll = self.rng.randrange(100)
        if roll <= 21:
            action, entity, related, changes, metadata = self._booking()
        elif roll <= 29:
            action, entity, related, changes, metadata = self._customer_event()
        elif roll <= 43:
            action, entity, related, changes, metadata = self._invoice()
        elif roll <= 51:
            action, entity, related, changes, metadata = self._quote()
        elif roll <= 88:
            action, entity, related, changes, metadata = self._auth()
        elif roll <= 95:
            action, entity, related, changes, metadata = self._user()
        else:
            action, entity, related, changes, metadata = self._settings()
        occurred = self.now - dt.timedelta(seconds=self.rng.randrange(1, self.days * 86400))
        event = {
            "action": action,
            "occurred_at": rfc3339(occurred),
            "actor": dict(actor),
            "related": related,
            "changes": changes,
            "ip": self.rng.choice(self.ips),
            "user_agent": self.rng.choice(USER_AGENTS),
            "external_id": external_id,
        }
        if entity:
            event["entity"] = entity
        if metadata:
            event["metadata"] = metadata
        return event

    def api_events(self, count, prefix):
        return [self.api_event(f"{prefix}-{i}") for i in range(count)]


def stored_row(event, tenant_id, seq, ident, recorded_at, prev_hash):
    """The row the server would store for `event` (the API form): every column of ROW_COLUMNS."""
    module, verb = event["action"].split(".", 1)
    actor, entity = event["actor"], event.get("entity")
    description = describe(actor, verb, module, entity)
    occurred = dt.datetime.strptime(event["occurred_at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    search = SEARCH_SEPARATOR.join(
        part for part in [description, entity and entity.get("label"), entity and entity["id"], actor["name"],
                          actor.get("email"), event["action"], event.get("ip")] if part
    ).lower()
    row = [
        ident, tenant_id, seq, event.get("external_id"), occurred, recorded_at, actor["id"], actor.get("type", "user"),
        actor["name"], actor.get("email"), actor.get("role"), actor.get("role") == "admin", event["action"], module,
        verb, entity and entity["type"], entity and entity["id"], entity and entity.get("label"), description,
        canonical(event.get("changes", [])), canonical(event.get("related", [])), canonical(event.get("metadata", {})),
        event.get("ip", ""), event.get("user_agent"), search, prev_hash, None,
    ]
    # A real SHA-256 chain link (not the server's canonical bytes, but the same work and shape).
    payload = "\x1e".join("" if v is None else str(v) for v in row[:-2])
    row[-1] = hashlib.sha256((prev_hash + payload).encode()).hexdigest()
    return row


def related_rows(event, tenant_id, ident):
    seen, rows = set(), []
    for r in event.get("related", []):
        key = (r["type"], r["id"])
        if key not in seen:
            seen.add(key)
            rows.append([tenant_id, r["type"], r["id"], ident])
    return rows
