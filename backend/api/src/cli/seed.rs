//! `seed-demo`: a demo tenant with users and ~5 000 realistic events over the last 60 days.
//! Idempotent: a tenant that already has events is left alone.

use auditlog_db::connection::DbConnection;
use auditlog_db::models::{Actor, EntityRef, EventDraft, Role};
use auditlog_db::queries::ingest::store_events;
use auditlog_db::queries::{tenants, users};
use auditlog_db::TenantSlug;
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};

use crate::auth::hash_password;
use crate::events::ingest::{describe, diff};

pub const DEMO_TENANT: &str = "acme";
pub const DEMO_EVENTS: usize = 5000;

/// Dashboard logins of the demo: (e-mail, password, name, role, actor id in the host app).
pub const DEMO_USERS: [(&str, &str, &str, Role, &str); 3] = [
    ("admin@acme.example", "admin-demo-pass", "Olivia Bennett", Role::Admin, "101"),
    ("manager@acme.example", "manager-demo-pass", "Marcus Reed", Role::Manager, "102"),
    ("member@acme.example", "member-demo-pass", "Priya Shah", Role::Member, "103"),
];

/// Host-application staff without dashboard accounts.
const STAFF: [(&str, &str, &str); 5] = [
    ("104", "Tom Fischer", "technician"),
    ("105", "Sara Lindqvist", "dispatcher"),
    ("106", "Diego Alvarez", "technician"),
    ("107", "Hannah Cole", "accountant"),
    ("108", "Kenji Watanabe", "sales"),
];

const FIRST_NAMES: [&str; 16] = [
    "Amelia", "Oliver", "Isla", "George", "Ava", "Noah", "Mia", "Leo", "Grace", "Arthur", "Freya", "Oscar",
    "Lily", "Jack", "Ella", "Harry",
];
const LAST_NAMES: [&str; 16] = [
    "Smith", "Jones", "Taylor", "Brown", "Wilson", "Evans", "Thomas", "Roberts", "Walker", "Wright",
    "Hughes", "Green", "Hall", "Wood", "Clarke", "Patel",
];
const SERVICES: [&str; 6] = [
    "Boiler service",
    "Gas safety check",
    "Radiator install",
    "Leak repair",
    "Annual maintenance",
    "Bathroom fit",
];
const USER_AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "FieldCRM-Android/4.12.0 (Pixel 8; Android 15)",
];

struct Customer {
    id: u32,
    name: String,
    email: String,
    phone: String,
    deleted: bool,
}

struct Booking {
    id: u32,
    customer: usize,
    status: &'static str,
    service: &'static str,
    technician: &'static str,
    price: u32,
    deleted: bool,
}

struct Invoice {
    id: u32,
    customer: usize,
    booking: u32,
    status: &'static str,
    total: u32,
}

struct Generator {
    rng: StdRng,
    actors: Vec<Actor>,
    ips: Vec<String>,
    customers: Vec<Customer>,
    bookings: Vec<Booking>,
    invoices: Vec<Invoice>,
    quotes: u32,
}

fn customer_ref(c: &Customer) -> EntityRef {
    EntityRef { entity_type: "customer".into(), id: c.id.to_string(), label: Some(c.name.clone()) }
}

fn booking_ref(b: &Booking) -> EntityRef {
    EntityRef { entity_type: "booking".into(), id: b.id.to_string(), label: Some(format!("BOK-{}", b.id)) }
}

fn object(value: Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

impl Generator {
    fn new() -> Self {
        let mut actors: Vec<Actor> = DEMO_USERS
            .iter()
            .map(|(email, _, name, role, id)| Actor {
                id: (*id).into(),
                name: (*name).into(),
                email: Some((*email).into()),
                role: Some(role.as_str().into()),
                actor_type: "user".into(),
            })
            .collect();
        actors.extend(STAFF.iter().map(|(id, name, role)| Actor {
            id: (*id).into(),
            name: (*name).into(),
            email: Some(format!("{}@acme.example", name.to_lowercase().replace(' ', "."))),
            role: Some((*role).into()),
            actor_type: "user".into(),
        }));
        let mut rng = StdRng::seed_from_u64(20261121);
        let ips = (0..14)
            .map(|i| {
                if i % 5 == 4 {
                    format!("2001:db8:{:x}::{:x}", rng.gen_range(1..0xffff), rng.gen_range(1..0xff))
                } else {
                    format!(
                        "{}.{}.{}.{}",
                        [81, 86, 92, 185, 203][i % 5],
                        rng.gen_range(0..255),
                        rng.gen_range(0..255),
                        rng.gen_range(1..254)
                    )
                }
            })
            .collect();
        Generator {
            rng,
            actors,
            ips,
            customers: Vec::new(),
            bookings: Vec::new(),
            invoices: Vec::new(),
            quotes: 0,
        }
    }

    /// Busy staff act more often; admins and managers less.
    fn pick_actor(&mut self) -> Actor {
        if self.actors.len() > 8 {
            // Many users: a few do most of the work.
            let skewed = self.rng.gen::<f64>().powi(3);
            return self.actors[(skewed * self.actors.len() as f64) as usize % self.actors.len()].clone();
        }
        let weights = [3, 5, 6, 12, 14, 10, 8, 7];
        let total: u32 = weights.iter().sum();
        let mut roll = self.rng.gen_range(0..total);
        for (actor, weight) in self.actors.iter().zip(weights) {
            if roll < weight {
                return actor.clone();
            }
            roll -= weight;
        }
        self.actors[0].clone()
    }

    fn new_customer(&mut self) -> usize {
        let first = FIRST_NAMES.choose(&mut self.rng).copied().unwrap_or("Alex");
        let last = LAST_NAMES.choose(&mut self.rng).copied().unwrap_or("Doe");
        let id = 5000 + self.customers.len() as u32;
        self.customers.push(Customer {
            id,
            name: format!("{first} {last}"),
            email: format!("{}.{}{}@example.net", first.to_lowercase(), last.to_lowercase(), id % 97),
            phone: format!("+44 7700 9{:05}", self.rng.gen_range(0..100000)),
            deleted: false,
        });
        self.customers.len() - 1
    }

    /// A random existing customer (a few tries past deleted ones), or a new one.
    fn live_customer(&mut self) -> usize {
        if self.customers.len() > 20 {
            for _ in 0..8 {
                let i = self.rng.gen_range(0..self.customers.len());
                if !self.customers[i].deleted {
                    return i;
                }
            }
        }
        self.new_customer()
    }

    fn live_booking(&mut self) -> Option<usize> {
        if self.bookings.is_empty() {
            return None;
        }
        (0..8).map(|_| self.rng.gen_range(0..self.bookings.len())).find(|i| !self.bookings[*i].deleted)
    }

    /// One event at `at`: the kind is drawn with weights that resemble a field-service CRM.
    fn event(&mut self, at: DateTime<Utc>) -> EventDraft {
        let actor = self.pick_actor();
        let roll = self.rng.gen_range(0..100);
        let (action, entity, related, changes, metadata) = match roll {
            0..=21 => self.booking_event(&actor),
            22..=29 => self.customer_event(),
            30..=43 => self.invoice_event(),
            44..=51 => self.quote_event(),
            52..=88 => self.auth_event(),
            89..=95 => self.user_event(),
            _ => self.settings_event(),
        };
        let (module, verb) = action.split_once('.').unwrap_or(("booking", "updated"));
        let (module, verb) = (module.to_string(), verb.to_string());
        let ip = self.ips[self.rng.gen_range(0..self.ips.len())].clone();
        let user_agent = USER_AGENTS.choose(&mut self.rng).map(|s| s.to_string());
        let description = describe(&actor, &verb, &module, entity.as_ref());
        EventDraft {
            external_id: None,
            occurred_at: at.naive_utc(),
            actor,
            action,
            module,
            verb,
            entity,
            related,
            description,
            changes,
            ip: Some(ip),
            user_agent,
            metadata,
        }
    }

    #[allow(clippy::type_complexity)]
    fn booking_event(
        &mut self,
        actor: &Actor,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let existing = self.live_booking();
        let roll = self.rng.gen_range(0..100);
        if existing.is_none() || roll < 30 {
            let customer = self.live_customer();
            let technician = ["Tom Fischer", "Diego Alvarez"][self.rng.gen_range(0..2)];
            let booking = Booking {
                id: 12000 + self.bookings.len() as u32,
                customer,
                status: "scheduled",
                service: SERVICES.choose(&mut self.rng).copied().unwrap_or("Leak repair"),
                technician,
                price: self.rng.gen_range(8..60) * 10,
                deleted: false,
            };
            let after = json!({"customer": self.customers[customer].name, "service": booking.service,
                "status": booking.status, "technician": booking.technician, "price": booking.price,
                "scheduled_for": format!("2026-12-{:02} {:02}:00", self.rng.gen_range(1..28), self.rng.gen_range(8..17))});
            let refs = (booking_ref(&booking), vec![customer_ref(&self.customers[customer])]);
            self.bookings.push(booking);
            return (
                "booking.created".into(),
                Some(refs.0),
                refs.1,
                diff(None, after.as_object()),
                object(json!({"source": "web"})),
            );
        }
        let index = existing.unwrap_or_default();
        let customer_ref = customer_ref(&self.customers[self.bookings[index].customer]);
        let b = &mut self.bookings[index];
        let before =
            json!({"status": b.status, "technician": b.technician, "price": b.price, "service": b.service});
        let action = match roll {
            30..=59 => {
                b.price += 10 * (1 + roll % 4);
                if roll % 2 == 0 {
                    b.technician =
                        if b.technician == "Tom Fischer" { "Diego Alvarez" } else { "Tom Fischer" };
                }
                "booking.updated"
            }
            60..=79 => {
                b.status = match b.status {
                    "scheduled" => "confirmed",
                    "confirmed" => "in_progress",
                    "in_progress" => "completed",
                    _ => "scheduled",
                };
                "booking.status_changed"
            }
            80..=89 => {
                b.technician = if actor.name == "Tom Fischer" { "Tom Fischer" } else { "Diego Alvarez" };
                "booking.assigned"
            }
            _ => {
                b.deleted = true;
                "booking.deleted"
            }
        };
        let after =
            json!({"status": b.status, "technician": b.technician, "price": b.price, "service": b.service});
        let changes = if action == "booking.deleted" {
            diff(before.as_object(), None)
        } else {
            diff(before.as_object(), after.as_object())
        };
        let entity = booking_ref(b);
        (action.into(), Some(entity), vec![customer_ref], changes, Map::new())
    }

    #[allow(clippy::type_complexity)]
    fn customer_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let roll = self.rng.gen_range(0..100);
        if self.customers.len() < 25 || roll < 35 {
            let i = self.new_customer();
            let c = &self.customers[i];
            let after = json!({"name": c.name, "email": c.email, "phone": c.phone, "marketing_opt_in": roll % 2 == 0});
            return (
                "customer.created".into(),
                Some(customer_ref(c)),
                Vec::new(),
                diff(None, after.as_object()),
                Map::new(),
            );
        }
        let i = self.live_customer();
        let c = &mut self.customers[i];
        let before = json!({"name": c.name, "email": c.email, "phone": c.phone});
        if roll >= 95 {
            c.deleted = true;
            return (
                "customer.deleted".into(),
                Some(customer_ref(c)),
                Vec::new(),
                diff(before.as_object(), None),
                Map::new(),
            );
        }
        if roll % 2 == 0 {
            c.phone = format!("+44 7700 9{:05}", (c.id * 7919 + roll) % 100000);
        } else {
            c.email = format!("{}{}@example.org", c.name.to_lowercase().replace(' ', "."), roll);
        }
        let after = json!({"name": c.name, "email": c.email, "phone": c.phone});
        (
            "customer.updated".into(),
            Some(customer_ref(c)),
            Vec::new(),
            diff(before.as_object(), after.as_object()),
            Map::new(),
        )
    }

    #[allow(clippy::type_complexity)]
    fn invoice_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let roll = self.rng.gen_range(0..100);
        if self.invoices.is_empty() || roll < 35 {
            let booking = match self.live_booking() {
                Some(b) => b,
                None => return self.customer_event(),
            };
            let (customer, booking_id, total) = (
                self.bookings[booking].customer,
                self.bookings[booking].id,
                self.bookings[booking].price * 12 / 10,
            );
            let invoice = Invoice {
                id: 3000 + self.invoices.len() as u32,
                customer,
                booking: booking_id,
                status: "draft",
                total,
            };
            let after = json!({"number": format!("INV-{}", invoice.id), "status": "draft", "total": total, "currency": "GBP", "due_in_days": 30});
            let entity = EntityRef {
                entity_type: "invoice".into(),
                id: invoice.id.to_string(),
                label: Some(format!("INV-{}", invoice.id)),
            };
            let related = vec![customer_ref(&self.customers[customer]), booking_ref(&self.bookings[booking])];
            self.invoices.push(invoice);
            return (
                "invoice.created".into(),
                Some(entity),
                related,
                diff(None, after.as_object()),
                Map::new(),
            );
        }
        let i = self.rng.gen_range(0..self.invoices.len());
        let inv = &mut self.invoices[i];
        let before = json!({"status": inv.status, "total": inv.total});
        let action = match (roll, inv.status) {
            (35..=64, "draft") => {
                inv.status = "sent";
                "invoice.sent"
            }
            (35..=64, _) | (65..=84, "sent") => {
                inv.status = "paid";
                "invoice.status_changed"
            }
            (65..=94, _) => {
                inv.total += 15;
                "invoice.updated"
            }
            _ => {
                inv.status = "void";
                "invoice.deleted"
            }
        };
        let after = json!({"status": inv.status, "total": inv.total});
        let changes = match action {
            "invoice.sent" => vec![],
            "invoice.deleted" => diff(before.as_object(), None),
            _ => diff(before.as_object(), after.as_object()),
        };
        let entity = EntityRef {
            entity_type: "invoice".into(),
            id: inv.id.to_string(),
            label: Some(format!("INV-{}", inv.id)),
        };
        let related = vec![
            customer_ref(&self.customers[inv.customer]),
            EntityRef {
                entity_type: "booking".into(),
                id: inv.booking.to_string(),
                label: Some(format!("BOK-{}", inv.booking)),
            },
        ];
        let metadata = if action == "invoice.sent" {
            object(json!({"channel": "email", "template": "invoice-default"}))
        } else {
            Map::new()
        };
        (action.into(), Some(entity), related, changes, metadata)
    }

    #[allow(clippy::type_complexity)]
    fn quote_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let customer = self.live_customer();
        let roll = self.rng.gen_range(0..100);
        if self.quotes == 0 || roll < 40 {
            self.quotes += 1;
        }
        let id = 700 + self.quotes;
        let entity =
            EntityRef { entity_type: "quote".into(), id: id.to_string(), label: Some(format!("QUO-{id}")) };
        let related = vec![customer_ref(&self.customers[customer])];
        let amount = self.rng.gen_range(20..200) * 10;
        match roll {
            0..=39 => {
                let after =
                    json!({"amount": amount, "currency": "GBP", "valid_days": 30, "items": 1 + roll % 4});
                ("quote.created".into(), Some(entity), related, diff(None, after.as_object()), Map::new())
            }
            40..=64 => {
                ("quote.sent".into(), Some(entity), related, Vec::new(), object(json!({"channel": "email"})))
            }
            65..=84 => {
                let before = json!({"amount": amount});
                let after = json!({"amount": amount + 50});
                (
                    "quote.updated".into(),
                    Some(entity),
                    related,
                    diff(before.as_object(), after.as_object()),
                    Map::new(),
                )
            }
            _ => {
                let before = json!({"owner": "Kenji Watanabe"});
                let after = json!({"owner": "Marcus Reed"});
                (
                    "quote.transferred".into(),
                    Some(entity),
                    related,
                    diff(before.as_object(), after.as_object()),
                    Map::new(),
                )
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn auth_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let roll = self.rng.gen_range(0..100);
        let action = match roll {
            0..=54 => "auth.login",
            55..=84 => "auth.logout",
            85..=97 => "auth.login_failed",
            _ => "auth.password_changed",
        };
        let metadata = if action == "auth.login_failed" {
            object(json!({"reason": "wrong_password"}))
        } else {
            object(json!({"method": "password"}))
        };
        (action.into(), None, Vec::new(), Vec::new(), metadata)
    }

    #[allow(clippy::type_complexity)]
    fn user_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let (id, name, role) = STAFF[self.rng.gen_range(0..STAFF.len())];
        let entity = EntityRef { entity_type: "user".into(), id: id.into(), label: Some(name.into()) };
        if self.rng.gen_bool(0.5) {
            let before = json!({"role": role});
            let after = json!({"role": if role == "technician" { "senior_technician" } else { "team_lead" }});
            (
                "user.role_changed".into(),
                Some(entity),
                Vec::new(),
                diff(before.as_object(), after.as_object()),
                Map::new(),
            )
        } else {
            let before = json!({"working_hours": "08:00-16:00"});
            let after = json!({"working_hours": "09:00-17:30"});
            (
                "user.updated".into(),
                Some(entity),
                Vec::new(),
                diff(before.as_object(), after.as_object()),
                Map::new(),
            )
        }
    }

    #[allow(clippy::type_complexity)]
    fn settings_event(
        &mut self,
    ) -> (String, Option<EntityRef>, Vec<EntityRef>, Vec<auditlog_db::models::Change>, Map<String, Value>)
    {
        let (field, old, new) = match self.rng.gen_range(0..3) {
            0 => ("invoice_due_days", json!(30), json!(14)),
            1 => ("business_hours", json!("08:00-17:00"), json!("07:30-18:00")),
            _ => ("vat_rate", json!(0.2), json!(0.2)),
        };
        let changes = diff(json!({field: old}).as_object(), json!({field: new}).as_object());
        let entity = EntityRef {
            entity_type: "settings".into(),
            id: "company".into(),
            label: Some("Company settings".into()),
        };
        ("settings.updated".into(), Some(entity), Vec::new(), changes, Map::new())
    }
}

/// Event times over the last 60 days: weekdays in business hours (London), a few at night.
fn timeline(rng: &mut StdRng, count: usize, now: DateTime<Utc>, days: i64) -> Vec<DateTime<Utc>> {
    let start = now - TimeDelta::days(days);
    let mut times = Vec::with_capacity(count);
    while times.len() < count {
        let t = start + TimeDelta::seconds(rng.gen_range(0..days.max(1) * 86400));
        let weekend = matches!(t.weekday(), Weekday::Sat | Weekday::Sun);
        let office = (7..19).contains(&t.hour());
        let keep = match (weekend, office) {
            (false, true) => 1.0,
            (true, true) => 0.25,
            _ => 0.05,
        };
        if t < now && rng.gen_bool(keep) {
            times.push(t);
        }
    }
    times.sort();
    times
}

/// Creates the demo tenant, its users and events. Returns how many events were added.
pub fn seed_demo(conn: &mut DbConnection) -> Result<usize, String> {
    let err = |e: auditlog_db::StoreError| e.to_string();
    let slug = TenantSlug::parse(DEMO_TENANT).map_err(|e| e.to_string())?;
    let tenant = tenants::ensure(conn, &slug, "Acme Field Services", "Europe/London").map_err(err)?;
    for (email, password, name, role, actor_id) in DEMO_USERS {
        if users::find_by_email(conn, tenant.id, email).map_err(err)?.is_none() {
            let hash = hash_password(password)?;
            let new = users::NewUser {
                tenant_id: tenant.id,
                email,
                name,
                password_hash: &hash,
                role,
                actor_id: Some(actor_id),
            };
            users::create(conn, &new).map_err(err)?;
        }
    }
    if tenant.head_seq > 0 {
        return Ok(0);
    }
    let mut generator = Generator::new();
    let now = Utc::now();
    let times = timeline(&mut generator.rng, DEMO_EVENTS, now, 60);
    let drafts: Vec<EventDraft> = times.into_iter().map(|t| generator.event(t)).collect();
    for batch in drafts.chunks(1000) {
        store_events(conn, tenant.id, None, batch, now.naive_utc()).map_err(err)?;
    }
    Ok(drafts.len())
}

/// Benchmark data: `tenants` tenants `bench-1`… with `users` actors each and `events` events in
/// all, spread over the last `days` days, stored through the normal ingest path in batches of
/// 1000 (so the hash chain is real). `progress` hears the number stored so far.
pub fn seed_bench(
    conn: &mut DbConnection,
    events: usize,
    tenant_count: usize,
    users: usize,
    days: i64,
    mut progress: impl FnMut(usize),
) -> Result<(), String> {
    let now = Utc::now();
    let tenant_count = tenant_count.max(1);
    let mut stored = 0;
    auditlog_db::queries::ingest::bulk_load(conn, |conn| {
        for t in 0..tenant_count {
            let slug = TenantSlug::parse(&format!("bench-{}", t + 1))
                .map_err(|e| auditlog_db::StoreError::Conflict(e.to_string()))?;
            let tenant = tenants::ensure(conn, &slug, &format!("Benchmark tenant {}", t + 1), "UTC")?;
            let share = events / tenant_count + usize::from(t < events % tenant_count);
            let mut generator = Generator::new();
            generator.rng = StdRng::seed_from_u64(t as u64 + 1);
            generator.actors = (0..users.max(1))
                .map(|u| Actor {
                    id: format!("u{u}"),
                    name: format!("{} {} {u}", FIRST_NAMES[u % 16], LAST_NAMES[(u / 16) % 16]),
                    email: Some(format!("user{u}@{slug}.example")),
                    role: Some(if u == 0 { "admin" } else { "staff" }.into()),
                    actor_type: "user".into(),
                })
                .collect();
            let times = timeline(&mut generator.rng, share, now, days);
            for chunk in times.chunks(1000) {
                let drafts: Vec<EventDraft> = chunk.iter().map(|t| generator.event(*t)).collect();
                store_events(conn, tenant.id, None, &drafts, now.naive_utc())?;
                stored += drafts.len();
                progress(stored);
            }
        }
        Ok::<_, auditlog_db::StoreError>(())
    })
    .map_err(|e| e.to_string())
}
