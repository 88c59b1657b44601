//! Flags: the server's opinion that an event deserves a security review, computed as events are
//! stored. Each flag has a reason a person can read. Flags are kept beside the event, outside its
//! Merkle leaf: they are not the host application's record, and the rules may change.
//!
//! - `odd_hours`: outside the tenant's business hours (working days and hours in its zone).
//! - `new_ip`: the actor's first event from this network (the /24 of an IPv4 address, the /48
//!   of an IPv6 one) in `new_ip_days`; an actor's very first event is not flagged.
//! - `new_user_agent`: the actor's first event from this browser family on this system in the
//!   same period.
//! - `failed_login_burst`: a failed sign-in (`*.login_failed`) that makes `failed_logins` or more
//!   for one account or from one address within `failed_login_minutes`, and a sign-in
//!   (`*.login`) that follows such a burst.
//! - `bulk_delete`: a deletion of `bulk_delete_events` events or more.
//! - `bulk_export`: an export that brings the actor's exported rows within
//!   `bulk_export_minutes` to `bulk_export_rows` or more.
//! - `privilege_change`: a role change, a new admin, a new API token that may write.
//!
//! Lookups are by key (one [`actor_sightings`](crate::schema::actor_sightings) row per actor) or
//! within a short window of an indexed action, so flagging costs the same at any number of events.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use chrono::{Datelike, NaiveDateTime, NaiveTime, TimeDelta, Weekday};
use chrono_tz::Tz;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::connection::DbConnection;
use crate::error::StoreResult;
use crate::ids::TenantId;
use crate::models::NewEventRow;
use crate::schema::{actor_sightings, events};

/// The kinds of flag, each one bit of `events.flags`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    OddHours,
    NewIp,
    NewUserAgent,
    FailedLoginBurst,
    BulkDelete,
    BulkExport,
    PrivilegeChange,
}

impl FlagKind {
    pub const ALL: [FlagKind; 7] = [
        FlagKind::OddHours,
        FlagKind::NewIp,
        FlagKind::NewUserAgent,
        FlagKind::FailedLoginBurst,
        FlagKind::BulkDelete,
        FlagKind::BulkExport,
        FlagKind::PrivilegeChange,
    ];

    /// Its bit in `events.flags`. Never renumbered: stored rows keep theirs.
    pub const fn bit(self) -> i32 {
        1 << self as i32
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            FlagKind::OddHours => "odd_hours",
            FlagKind::NewIp => "new_ip",
            FlagKind::NewUserAgent => "new_user_agent",
            FlagKind::FailedLoginBurst => "failed_login_burst",
            FlagKind::BulkDelete => "bulk_delete",
            FlagKind::BulkExport => "bulk_export",
            FlagKind::PrivilegeChange => "privilege_change",
        }
    }

    /// The kinds set in `bits`.
    pub fn of(bits: i32) -> impl Iterator<Item = FlagKind> {
        FlagKind::ALL.into_iter().filter(move |k| bits & k.bit() != 0)
    }
}

impl std::str::FromStr for FlagKind {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        FlagKind::ALL.into_iter().find(|k| k.as_str() == text).ok_or_else(|| format!("no flag {text:?}"))
    }
}

/// A flag on one event, with why it was raised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Flag {
    pub kind: FlagKind,
    pub reason: String,
}

/// The flags of a stored row: its bit set and its reasons (a JSON object by kind).
pub fn decode(bits: i32, reasons: Option<&str>) -> Vec<Flag> {
    let reasons: BTreeMap<FlagKind, String> =
        reasons.and_then(|r| serde_json::from_str(r).ok()).unwrap_or_default();
    FlagKind::of(bits)
        .map(|kind| Flag { kind, reason: reasons.get(&kind).cloned().unwrap_or_default() })
        .collect()
}

/// What the flags of a tenant take as unusual (`tenants.review_settings`; absent: the
/// defaults). Every member may be left out: it then takes its default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ReviewSettings {
    /// Working days, as ISO weekdays: 1 (Monday) to 7 (Sunday), at least one; kept in order, each
    /// once. Default Monday to Friday.
    #[serde(deserialize_with = "whole_list")]
    #[schema(schema_with = working_days_schema)]
    pub working_days: Vec<u8>,
    /// When the working day starts, `HH:MM` in the tenant's time zone (default `07:00`); before
    /// `day_ends`.
    #[serde(with = "hours_minutes")]
    #[schema(value_type = String, pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$", example = "07:00", default = "07:00")]
    pub day_starts: NaiveTime,
    /// When it ends, `HH:MM`, after `day_starts` (default `20:00`; an event at that minute is
    /// outside); `24:00` for the end of the day.
    #[serde(with = "hours_minutes")]
    #[schema(value_type = String, pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", example = "20:00", default = "20:00")]
    pub day_ends: NaiveTime,
    /// Days an actor's network and browser are remembered: after that, they are new again
    /// (default 90).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 3650)]
    pub new_ip_days: u32,
    /// Failed sign-ins for one account or from one address that make a burst (default 5).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 1000)]
    pub failed_logins: u32,
    /// Within how many minutes (default 15).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 1440)]
    pub failed_login_minutes: u32,
    /// Events deleted at once that make a bulk deletion (default 100).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 1000000)]
    pub bulk_delete_events: u32,
    /// Rows one actor exports that make a bulk export (default 10 000).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 1000000000)]
    pub bulk_export_rows: u64,
    /// Within how many minutes (default 60).
    #[serde(deserialize_with = "whole")]
    #[schema(minimum = 1, maximum = 1440)]
    pub bulk_export_minutes: u32,
    /// Whether reading an event's details is logged as `auditlog.viewed` (default true).
    pub log_views: bool,
}

impl Default for ReviewSettings {
    fn default() -> Self {
        ReviewSettings {
            working_days: vec![1, 2, 3, 4, 5],
            day_starts: NaiveTime::from_hms_opt(7, 0, 0).unwrap_or_default(),
            day_ends: NaiveTime::from_hms_opt(20, 0, 0).unwrap_or_default(),
            new_ip_days: 90,
            failed_logins: 5,
            failed_login_minutes: 15,
            bulk_delete_events: 100,
            bulk_export_rows: 10_000,
            bulk_export_minutes: 60,
            log_views: true,
        }
    }
}

impl ReviewSettings {
    /// The settings stored for a tenant (unreadable text counts as none: the defaults).
    pub fn from_stored(text: Option<&str>) -> Self {
        text.and_then(|t| serde_json::from_str(t).ok()).unwrap_or_default()
    }

    /// The same settings with the working days in order, each once.
    pub fn normalised(mut self) -> Self {
        self.working_days.sort_unstable();
        self.working_days.dedup();
        self
    }

    /// Why these settings cannot be kept: each member at fault with what is wrong with it (none
    /// when they can be kept).
    pub fn problems(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if self.working_days.iter().any(|d| !(1..=7).contains(d)) {
            problems.push(("working_days", "each day is 1 (Monday) to 7 (Sunday)".to_string()));
        } else if self.working_days.is_empty() {
            problems.push(("working_days", "give at least one working day".to_string()));
        }
        if self.day_starts >= self.day_ends {
            problems.push(("day_starts", "must be before day_ends".to_string()));
        }
        let ranges = [
            ("new_ip_days", u64::from(self.new_ip_days), 3650),
            ("failed_logins", u64::from(self.failed_logins), 1000),
            ("failed_login_minutes", u64::from(self.failed_login_minutes), 1440),
            ("bulk_delete_events", u64::from(self.bulk_delete_events), 1_000_000),
            ("bulk_export_rows", self.bulk_export_rows, 1_000_000_000),
            ("bulk_export_minutes", u64::from(self.bulk_export_minutes), 1440),
        ];
        for (name, value, most) in ranges {
            if value == 0 || value > most {
                problems.push((name, format!("must be from 1 to {most}")));
            }
        }
        problems
    }

    fn days_text(&self) -> String {
        let mut days = self.working_days.clone();
        days.sort_unstable();
        days.dedup();
        let name = |d: u8| weekday(d).map(|w| format!("{w}")).unwrap_or_default();
        match (days.first(), days.last()) {
            (Some(&first), Some(&last)) if usize::from(last - first) + 1 == days.len() && days.len() > 2 => {
                format!("{}–{}", name(first), name(last))
            }
            _ => days.iter().map(|&d| name(d)).collect::<Vec<_>>().join(", "),
        }
    }
}

/// A whole number as JSON Schema reads one: `130` or `130.0` (JSON has one kind of number).
fn whole<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: TryFrom<u64> + num_bounds::Most,
{
    let number = serde_json::Number::deserialize(deserializer)?;
    let value = number.as_u64().or_else(|| {
        number.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < u64::MAX as f64).map(|f| f as u64)
    });
    value
        .and_then(|v| T::try_from(v).ok())
        .ok_or_else(|| serde::de::Error::custom(format!("must be a whole number from 0 to {}", T::MOST)))
}

fn whole_list<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
    #[derive(Deserialize)]
    struct Day(#[serde(deserialize_with = "whole")] u8);
    Ok(Vec::<Day>::deserialize(deserializer)?.into_iter().map(|d| d.0).collect())
}

/// The largest value of each whole-number type a setting takes, for messages.
mod num_bounds {
    pub trait Most {
        const MOST: u64;
    }
    impl Most for u8 {
        const MOST: u64 = u8::MAX as u64;
    }
    impl Most for u32 {
        const MOST: u64 = u32::MAX as u64;
    }
    impl Most for u64 {
        const MOST: u64 = u64::MAX;
    }
}

fn working_days_schema() -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)).maximum(Some(7)))
        .min_items(Some(1))
        .default(Some(serde_json::json!([1, 2, 3, 4, 5])))
        .description(Some(
            "Working days, as ISO weekdays: 1 (Monday) to 7 (Sunday), at least one; kept in order, each once. \
             Default Monday to Friday.",
        ))
        .examples([serde_json::json!([1, 2, 3, 4, 5])])
        .build()
}

/// The end of the day, written `24:00`: the last instant of a day, so that every time of the day
/// is before it.
pub const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_nano_opt(23, 59, 59, 999_999_999) {
    Some(time) => time,
    None => NaiveTime::MIN,
};

/// A time of day as the settings write it: `HH:MM`, and `24:00` for [`END_OF_DAY`].
fn clock(time: NaiveTime) -> String {
    if time == END_OF_DAY {
        "24:00".to_string()
    } else {
        time.format("%H:%M").to_string()
    }
}

/// A time of day as `HH:MM` (`24:00`: the end of the day, for `day_ends`; a `day_starts` of
/// `24:00` is after every `day_ends` and so refused).
mod hours_minutes {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(time: &NaiveTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::clock(*time))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<NaiveTime, D::Error> {
        let text = String::deserialize(d)?;
        if text == "24:00" {
            return Ok(super::END_OF_DAY);
        }
        NaiveTime::parse_from_str(&text, "%H:%M")
            .map_err(|_| serde::de::Error::custom("must be a time of day as HH:MM, e.g. 07:00"))
    }
}

fn weekday(iso: u8) -> Option<Weekday> {
    (1..=7).contains(&iso).then(|| Weekday::try_from(iso - 1).ok()).flatten()
}

/// `odd_hours`: why `at` (UTC) is outside the working days and hours in `tz`, if it is.
pub fn odd_hours(at: NaiveDateTime, tz: Tz, settings: &ReviewSettings) -> Option<String> {
    let local = at.and_utc().with_timezone(&tz);
    let day = local.weekday().number_from_monday() as u8;
    let time = local.time();
    let working =
        settings.working_days.contains(&day) && time >= settings.day_starts && time < settings.day_ends;
    (!working).then(|| {
        format!(
            "{} {} in {}, outside business hours ({} {}–{})",
            local.format("%a"),
            local.format("%H:%M"),
            tz.name(),
            settings.days_text(),
            clock(settings.day_starts),
            clock(settings.day_ends)
        )
    })
}

/// The network an address belongs to, as `new_ip` compares them: its /24 (IPv4) or /48 (IPv6).
pub fn network(ip: &str) -> Option<String> {
    match ip.parse::<IpAddr>().ok()? {
        IpAddr::V4(v4) => {
            let [a, b, c, _] = v4.octets();
            Some(format!("{a}.{b}.{c}.0/24"))
        }
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => network(&v4.to_string()),
            None => {
                let s = v6.segments();
                Some(format!("{:x}:{:x}:{:x}::/48", s[0], s[1], s[2]))
            }
        },
    }
}

/// The browser family and system a user agent names (`Firefox on Windows`), as
/// `new_user_agent` compares them; `None` when it names neither (a script, a bot).
pub fn agent_family(user_agent: &str) -> Option<String> {
    let ua = user_agent.to_ascii_lowercase();
    // Order matters: Edge and Opera also say Chrome; Chrome also says Safari.
    let browser = [
        ("edg/", "Edge"),
        ("edge/", "Edge"),
        ("opr/", "Opera"),
        ("opera", "Opera"),
        ("firefox/", "Firefox"),
        ("fxios/", "Firefox"),
        ("crios/", "Chrome"),
        ("chrome/", "Chrome"),
        ("chromium/", "Chrome"),
        ("safari/", "Safari"),
        ("curl/", "curl"),
        ("python-requests", "Python"),
        ("postmanruntime", "Postman"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    let system = [
        ("android", "Android"),
        ("iphone", "iOS"),
        ("ipad", "iOS"),
        ("windows", "Windows"),
        ("mac os x", "macOS"),
        ("macintosh", "macOS"),
        ("cros", "ChromeOS"),
        ("linux", "Linux"),
    ]
    .into_iter()
    .find(|(needle, _)| ua.contains(needle))
    .map(|(_, name)| name);
    match (browser, system) {
        (Some(b), Some(s)) => Some(format!("{b} on {s}")),
        (Some(b), None) => Some(b.to_string()),
        (None, Some(s)) => Some(format!("a browser on {s}")),
        (None, None) => None,
    }
}

/// Flags `rows` (about to be stored for `tenant_id`, in order) and notes where each actor was
/// seen. Runs inside the storing transaction, under the tenant's lock, so that two requests
/// cannot both find the same network new.
pub fn assess(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    tz: Tz,
    settings: &ReviewSettings,
    rows: &mut [NewEventRow],
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut found: Vec<BTreeMap<FlagKind, String>> = vec![BTreeMap::new(); rows.len()];
    for (row, flags) in rows.iter().zip(found.iter_mut()) {
        if let Some(reason) = odd_hours(row.occurred_at, tz, settings) {
            flags.insert(FlagKind::OddHours, reason);
        }
        if let Some(reason) = by_action(row, settings) {
            flags.insert(reason.0, reason.1);
        }
    }
    sightings(conn, tenant_id, settings, rows, &mut found)?;
    failed_logins(conn, tenant_id, settings, rows, &mut found)?;
    exports(conn, tenant_id, settings, rows, &mut found)?;
    for (row, flags) in rows.iter_mut().zip(found) {
        row.flags = flags.keys().fold(0, |bits, k| bits | k.bit());
        row.flag_reasons = (!flags.is_empty()).then(|| serde_json::to_string(&flags).unwrap_or_default());
    }
    Ok(())
}

/// Flags an event raises by what it is alone: a large deletion, a change of privileges.
fn by_action(row: &NewEventRow, settings: &ReviewSettings) -> Option<(FlagKind, String)> {
    // Only the few actions below read their JSON.
    let concerned = matches!(row.action.as_str(), "auditlog.deleted" | "user.created" | "token.created")
        || row.verb == "role_changed";
    if !concerned {
        return None;
    }
    let metadata: Value = serde_json::from_str(&row.metadata).unwrap_or(Value::Null);
    let changes: Value = serde_json::from_str(&row.changes).unwrap_or(Value::Null);
    let new_role = || {
        changes
            .as_array()?
            .iter()
            .find(|c| c["field"] == "role")
            .and_then(|c| c["new"].as_str().map(String::from))
    };
    let target = row.entity_label.clone().or_else(|| row.entity_id.clone()).unwrap_or_default();
    match row.action.as_str() {
        "auditlog.deleted" => {
            let count = metadata["count"].as_u64().unwrap_or(0);
            (count >= u64::from(settings.bulk_delete_events)).then(|| {
                (
                    FlagKind::BulkDelete,
                    format!(
                        "{} deleted {count} events at once (the threshold is {})",
                        row.actor_name, settings.bulk_delete_events
                    ),
                )
            })
        }
        "user.created" if new_role().as_deref() == Some("admin") => {
            Some((FlagKind::PrivilegeChange, format!("{} created a new admin, {target}", row.actor_name)))
        }
        "token.created" => {
            let scopes = metadata["scopes"]
                .as_str()
                .map(String::from)
                .unwrap_or_else(|| metadata["scopes"].to_string());
            scopes.contains("write").then(|| {
                (
                    FlagKind::PrivilegeChange,
                    format!("{} created an API token that may write: {target}", row.actor_name),
                )
            })
        }
        _ if row.verb == "role_changed" => {
            let to = new_role().map(|r| format!(" to {r}")).unwrap_or_default();
            Some((FlagKind::PrivilegeChange, format!("{} changed the role of {target}{to}", row.actor_name)))
        }
        _ => None,
    }
}

/// Where one actor was seen: each network and browser family, with when it was last seen.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Seen {
    #[serde(default)]
    ip: BTreeMap<String, NaiveDateTime>,
    #[serde(default)]
    agent: BTreeMap<String, NaiveDateTime>,
}

impl Seen {
    fn of(&mut self, flag: FlagKind) -> &mut BTreeMap<String, NaiveDateTime> {
        if flag == FlagKind::NewIp {
            &mut self.ip
        } else {
            &mut self.agent
        }
    }
}

/// `new_ip` and `new_user_agent`, and the sightings they leave: one row per actor of the request
/// is read, and written only when it learnt something (a new network or browser, or one seen a
/// day later than recorded), so most requests read a few rows and write none.
fn sightings(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    settings: &ReviewSettings,
    rows: &[NewEventRow],
    found: &mut [BTreeMap<FlagKind, String>],
) -> StoreResult<()> {
    let keys = |row: &NewEventRow| -> Vec<(FlagKind, String)> {
        let mut keys = Vec::new();
        if let Some(net) = network(&row.ip) {
            keys.push((FlagKind::NewIp, net));
        }
        if let Some(family) = row.user_agent.as_deref().and_then(agent_family) {
            keys.push((FlagKind::NewUserAgent, family));
        }
        keys
    };
    let wanted: Vec<Vec<(FlagKind, String)>> = rows.iter().map(keys).collect();
    let mut actors: Vec<&str> =
        rows.iter().zip(&wanted).filter(|(_, k)| !k.is_empty()).map(|(r, _)| r.actor_id.as_str()).collect();
    if actors.is_empty() {
        return Ok(());
    }
    actors.sort_unstable();
    actors.dedup();
    let stored: Vec<(String, String)> = actor_sightings::table
        .filter(actor_sightings::tenant_id.eq(tenant_id))
        .filter(actor_sightings::actor_id.eq_any(&actors))
        .select((actor_sightings::actor_id, actor_sightings::seen))
        .load(conn)?;
    let stored: HashMap<String, Seen> = stored
        .into_iter()
        .map(|(actor, seen)| (actor, serde_json::from_str(&seen).unwrap_or_default()))
        .collect();
    let mut current = stored.clone();
    let remember = TimeDelta::days(i64::from(settings.new_ip_days));
    for ((row, keys), flags) in rows.iter().zip(wanted).zip(found.iter_mut()) {
        if keys.is_empty() {
            continue;
        }
        // An actor with no sighting at all is new altogether: nothing about it is unusual.
        let known_actor = current.contains_key(&row.actor_id);
        let seen = current.entry(row.actor_id.clone()).or_default();
        for (flag, value) in keys {
            let last = seen.of(flag).get(&value).copied();
            let recent = last.is_some_and(|last| last + remember >= row.occurred_at);
            if known_actor && !recent {
                let what = match flag {
                    FlagKind::NewIp => format!("the network {value} (address {})", row.ip),
                    _ => value.clone(),
                };
                flags.insert(
                    flag,
                    format!("{}'s first event from {what} in {} days", row.actor_name, settings.new_ip_days),
                );
            }
            let entry = seen.of(flag).entry(value).or_insert(row.occurred_at);
            *entry = (*entry).max(row.occurred_at);
        }
    }
    // Written when new or a day later than stored (remembering is counted in days); entries past
    // the remembered period are dropped, so a row stays small.
    let learnt = |actor: &String, seen: &Seen| {
        let before = stored.get(actor);
        let newer = |now: &BTreeMap<String, NaiveDateTime>, was: Option<&BTreeMap<String, NaiveDateTime>>| {
            now.iter().any(|(value, last)| {
                was.and_then(|was| was.get(value)).is_none_or(|stored| *stored + TimeDelta::days(1) <= *last)
            })
        };
        newer(&seen.ip, before.map(|b| &b.ip)) || newer(&seen.agent, before.map(|b| &b.agent))
    };
    let mut changed: Vec<(String, String)> = current
        .iter()
        .filter(|(actor, seen)| learnt(actor, seen))
        .map(|(actor, seen)| {
            let newest = seen.ip.values().chain(seen.agent.values()).max().copied().unwrap_or_default();
            let kept = |m: &BTreeMap<String, NaiveDateTime>| {
                m.iter()
                    .filter(|(_, last)| **last + remember >= newest)
                    .map(|(v, t)| (v.clone(), *t))
                    .collect()
            };
            let pruned = Seen { ip: kept(&seen.ip), agent: kept(&seen.agent) };
            (actor.clone(), serde_json::to_string(&pruned).unwrap_or_default())
        })
        .collect();
    changed.sort();
    for chunk in changed.chunks(200) {
        upsert_sightings(conn, tenant_id, chunk)?;
    }
    Ok(())
}

/// Writes actors' sightings (the caller holds the tenant's lock: read, merged and written whole).
fn upsert_sightings(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    rows: &[(String, String)],
) -> StoreResult<()> {
    use diesel::sql_types::{BigInt, Text};
    let postgres = conn.backend() == crate::Backend::Postgres;
    let placeholders: Vec<String> =
        (0..rows.len())
            .map(|i| {
                if postgres {
                    format!("($1, ${}, ${})", 2 * i + 2, 2 * i + 3)
                } else {
                    "(?, ?, ?)".to_string()
                }
            })
            .collect();
    let sql = format!(
        "INSERT INTO actor_sightings (tenant_id, actor_id, seen) VALUES {} \
         ON CONFLICT (tenant_id, actor_id) DO UPDATE SET seen = excluded.seen",
        placeholders.join(", ")
    );
    let mut query = diesel::sql_query(sql).into_boxed::<crate::connection::MultiBackend>();
    if postgres {
        query = query.bind::<BigInt, _>(tenant_id);
    }
    for (actor, seen) in rows {
        if !postgres {
            query = query.bind::<BigInt, _>(tenant_id);
        }
        query = query.bind::<Text, _>(actor.clone()).bind::<Text, _>(seen.clone());
    }
    query.execute(conn)?;
    Ok(())
}

/// `failed_login_burst`: failures counted per account and per address within the window,
/// stored ones and those earlier in this batch. One query per request, for every sign-in in it:
/// the failures of its accounts and addresses within the window of any of them.
fn failed_logins(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    settings: &ReviewSettings,
    rows: &[NewEventRow],
    found: &mut [BTreeMap<FlagKind, String>],
) -> StoreResult<()> {
    let is_sign_in = |row: &NewEventRow| row.verb == "login_failed" || row.verb == "login";
    let sign_ins: Vec<&NewEventRow> = rows.iter().filter(|r| is_sign_in(r)).collect();
    if sign_ins.is_empty() {
        return Ok(());
    }
    let window = TimeDelta::minutes(i64::from(settings.failed_login_minutes));
    let mut actors: Vec<&str> = sign_ins.iter().map(|r| r.actor_id.as_str()).collect();
    actors.sort_unstable();
    actors.dedup();
    let mut ips: Vec<&str> = sign_ins.iter().map(|r| r.ip.as_str()).filter(|ip| !ip.is_empty()).collect();
    ips.sort_unstable();
    ips.dedup();
    // The windows of the sign-ins, merged where they overlap: events posted live share one, a
    // backfill spread over months has one per sign-in, and never a year's failures at once.
    let mut times: Vec<NaiveDateTime> = sign_ins.iter().map(|r| r.occurred_at).collect();
    times.sort_unstable();
    let mut windows: Vec<(NaiveDateTime, NaiveDateTime)> = Vec::new();
    for t in times {
        match windows.last_mut() {
            Some((_, end)) if t - window <= *end => *end = t,
            _ => windows.push((t - window, t)),
        }
    }
    let mut stored: Vec<(String, String, NaiveDateTime)> = Vec::new();
    for group in windows.chunks(200) {
        stored.extend(failures_within(conn, tenant_id, group, &actors, &ips)?);
    }
    let limit = settings.failed_logins as usize;
    for (i, row) in rows.iter().enumerate() {
        if !is_sign_in(row) {
            continue;
        }
        let failed = row.verb == "login_failed";
        let since = row.occurred_at - window;
        let same = |actor: &str, ip: &str, at: NaiveDateTime| {
            at >= since
                && at <= row.occurred_at
                && (actor == row.actor_id || (!row.ip.is_empty() && ip == row.ip))
        };
        let before = stored.iter().filter(|(actor, ip, at)| same(actor, ip, *at)).count();
        let earlier = rows[..i]
            .iter()
            .filter(|r| r.verb == "login_failed" && same(&r.actor_id, &r.ip, r.occurred_at))
            .count();
        let failures = before + earlier + usize::from(failed);
        if failures >= limit {
            let who = if row.ip.is_empty() {
                row.actor_name.clone()
            } else {
                format!("{} or {}", row.actor_name, row.ip)
            };
            let reason = if failed {
                format!(
                    "{failures} failed sign-ins for {who} within {} minutes",
                    settings.failed_login_minutes
                )
            } else {
                format!(
                    "signed in after {failures} failed sign-ins for {who} within {} minutes",
                    settings.failed_login_minutes
                )
            };
            found[i].insert(FlagKind::FailedLoginBurst, reason);
        }
    }
    Ok(())
}

/// The stored failed sign-ins of `actors` or from `ips` within any of `windows` (which do not
/// overlap): the windows as a table joined to the events, one index range per window.
///
/// Written as a join rather than as windows OR'd together: on a table without statistics yet
/// (right after a bulk load, or a new tenant's first minutes) PostgreSQL takes an OR of ranges as
/// a filter over every failed sign-in of the tenant, some 15 ms per request at 50 000 events and
/// growing with them; as a join each window is one index range at any size. On PostgreSQL the
/// subquery is kept apart (`OFFSET 0`) so the planner cannot turn the windows into a filter
/// again.
fn failures_within(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    windows: &[(NaiveDateTime, NaiveDateTime)],
    actors: &[&str],
    ips: &[&str],
) -> StoreResult<Vec<(String, String, NaiveDateTime)>> {
    use diesel::sql_types::{BigInt, Text, Timestamp};

    #[derive(QueryableByName)]
    struct Failure {
        #[diesel(sql_type = Text)]
        actor_id: String,
        #[diesel(sql_type = Text)]
        ip: String,
        #[diesel(sql_type = Timestamp)]
        occurred_at: NaiveDateTime,
    }

    let postgres = conn.backend() == crate::Backend::Postgres;
    let mut n = 0;
    let mut next = || {
        n += 1;
        // Numbered on both: the windows come before the tenant in the text, not in the binds.
        if postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    };
    let tenant = next();
    let rows: Vec<String> = windows
        .iter()
        .map(|_| {
            let (lo, hi) = (next(), next());
            if postgres {
                format!("({lo}::timestamp, {hi}::timestamp)")
            } else {
                format!("({lo}, {hi})")
            }
        })
        .collect();
    let list = |next: &mut dyn FnMut() -> String, len: usize| {
        if len == 0 {
            "NULL".to_string()
        } else {
            (0..len).map(|_| next()).collect::<Vec<_>>().join(", ")
        }
    };
    let (actor_list, ip_list) = (list(&mut next, actors.len()), list(&mut next, ips.len()));
    let within = format!(
        "SELECT e.actor_id, e.ip, e.occurred_at FROM events e \
         WHERE e.tenant_id = {tenant} AND e.verb = 'login_failed' \
           AND e.occurred_at >= w.lo AND e.occurred_at <= w.hi \
           AND (e.actor_id IN ({actor_list}) OR e.ip IN ({ip_list}))"
    );
    let sql = if postgres {
        format!(
            "WITH w (lo, hi) AS (VALUES {}) SELECT f.* FROM w CROSS JOIN LATERAL ({within} OFFSET 0) f",
            rows.join(", ")
        )
    } else {
        // SQLite's planner loops over the small table of windows and ranges the index per row.
        format!(
            "WITH w (lo, hi) AS (VALUES {}) {}",
            rows.join(", "),
            within.replacen("FROM events e", "FROM w CROSS JOIN events e", 1)
        )
    };
    let mut query =
        diesel::sql_query(sql).into_boxed::<crate::connection::MultiBackend>().bind::<BigInt, _>(tenant_id);
    for (lo, hi) in windows {
        query = query.bind::<Timestamp, _>(*lo).bind::<Timestamp, _>(*hi);
    }
    for value in actors.iter().chain(ips) {
        query = query.bind::<Text, _>(value.to_string());
    }
    Ok(query.load::<Failure>(conn)?.into_iter().map(|f| (f.actor_id, f.ip, f.occurred_at)).collect())
}

/// `bulk_export`: the rows an actor exported within the window, this export included.
fn exports(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    settings: &ReviewSettings,
    rows: &[NewEventRow],
    found: &mut [BTreeMap<FlagKind, String>],
) -> StoreResult<()> {
    let window = TimeDelta::minutes(i64::from(settings.bulk_export_minutes));
    let exported = |metadata: &str| -> u64 {
        serde_json::from_str::<Value>(metadata).ok().and_then(|m| m["rows"].as_u64()).unwrap_or(0)
    };
    for (i, row) in rows.iter().enumerate() {
        if row.action != "auditlog.exported" {
            continue;
        }
        let since = row.occurred_at - window;
        let stored: Vec<String> = events::table
            .filter(events::tenant_id.eq(tenant_id))
            .filter(events::action.eq("auditlog.exported"))
            .filter(events::actor_id.eq(&row.actor_id))
            .filter(events::occurred_at.ge(since))
            .filter(events::occurred_at.le(row.occurred_at))
            .select(events::metadata)
            .load(conn)?;
        let earlier = rows[..i]
            .iter()
            .filter(|r| r.action == row.action && r.actor_id == row.actor_id && r.occurred_at >= since);
        let total: u64 = stored.iter().map(|m| exported(m)).sum::<u64>()
            + earlier.map(|r| exported(&r.metadata)).sum::<u64>()
            + exported(&row.metadata);
        if total >= settings.bulk_export_rows {
            found[i].insert(
                FlagKind::BulkExport,
                format!(
                    "{} exported {total} rows within {} minutes (the threshold is {})",
                    row.actor_name, settings.bulk_export_minutes, settings.bulk_export_rows
                ),
            );
        }
    }
    Ok(())
}

/// Keeps a tenant's review settings.
pub fn set_settings(
    conn: &mut DbConnection,
    tenant_id: TenantId,
    settings: &ReviewSettings,
) -> StoreResult<()> {
    use crate::schema::tenants;
    let text = serde_json::to_string(settings).map_err(|e| crate::StoreError::Corrupt(e.to_string()))?;
    diesel::update(tenants::table.find(tenant_id))
        .set(tenants::review_settings.eq(Some(text)))
        .execute(conn)?;
    Ok(())
}

/// How many visible events matching `filter` carry each kind of flag, and how many are flagged
/// at all (an event may carry several). Read from the partial index of flagged events.
pub fn summary(
    conn: &mut DbConnection,
    viewer: &crate::visibility::Viewer,
    filter: &crate::queries::events::EventFilter,
) -> StoreResult<(i64, Vec<(FlagKind, i64)>)> {
    let flagged = crate::queries::events::EventFilter {
        flag: Some(filter.flag.unwrap_or(crate::queries::events::FlagFilter::Any)),
        ..filter.clone()
    };
    let groups: Vec<(i32, i64)> = events::table
        .filter(crate::queries::events::matching(conn.backend(), viewer, &flagged))
        .group_by(events::flags)
        .select((events::flags, diesel::dsl::count_star()))
        .load(conn)?;
    let total = groups.iter().map(|(_, n)| n).sum();
    let kinds = FlagKind::ALL
        .into_iter()
        .map(|kind| (kind, groups.iter().filter(|(bits, _)| bits & kind.bit() != 0).map(|(_, n)| n).sum()))
        .collect();
    Ok((total, kinds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> NaiveDateTime {
        chrono::DateTime::parse_from_rfc3339(text).unwrap().naive_utc()
    }

    #[test]
    fn business_hours_are_read_in_the_tenant_zone() {
        let settings = ReviewSettings::default();
        let london: Tz = "Europe/London".parse().unwrap();
        // Tuesday 2026-06-09: 06:30 UTC is 07:30 in London (summer time), within hours.
        assert_eq!(odd_hours(utc("2026-06-09T06:30:00Z"), london, &settings), None);
        let early = odd_hours(utc("2026-06-09T05:30:00Z"), london, &settings).unwrap();
        assert_eq!(early, "Tue 06:30 in Europe/London, outside business hours (Mon–Fri 07:00–20:00)");
        assert!(odd_hours(utc("2026-06-13T12:00:00Z"), london, &settings).unwrap().starts_with("Sat 13:00"));
        // The end is exclusive.
        assert!(odd_hours(utc("2026-06-09T19:00:00Z"), london, &settings).is_some());
        let weekend_work = ReviewSettings { working_days: vec![6, 7], ..ReviewSettings::default() };
        assert_eq!(odd_hours(utc("2026-06-13T12:00:00Z"), london, &weekend_work), None);
        // Until midnight: the day's last minute is within hours, the next day's first is not.
        let late: ReviewSettings = serde_json::from_str(r#"{"day_ends": "24:00"}"#).unwrap();
        assert_eq!(late.day_ends, END_OF_DAY);
        assert!(late.problems().is_empty());
        assert_eq!(serde_json::to_value(&late).unwrap()["day_ends"], "24:00");
        assert_eq!(odd_hours(utc("2026-06-09T22:59:59Z"), london, &late), None);
        let early = odd_hours(utc("2026-06-09T23:00:00Z"), london, &late).unwrap();
        assert_eq!(early, "Wed 00:00 in Europe/London, outside business hours (Mon–Fri 07:00–24:00)");
        let never: Result<ReviewSettings, _> = serde_json::from_str(r#"{"day_starts": "24:00"}"#);
        assert_eq!(never.unwrap().problems().len(), 1, "a day cannot start at its end");
        assert!(serde_json::from_str::<ReviewSettings>(r#"{"day_ends": "24:01"}"#).is_err());
    }

    #[test]
    fn networks_and_browsers() {
        assert_eq!(network("10.1.2.3").as_deref(), Some("10.1.2.0/24"));
        assert_eq!(network("2001:db8:1:2::1").as_deref(), Some("2001:db8:1::/48"));
        assert_eq!(network("::ffff:10.1.2.3").as_deref(), Some("10.1.2.0/24"));
        assert_eq!(network(""), None);
        let firefox = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
        let edge = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36 Edg/126.0";
        let safari = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
        assert_eq!(agent_family(firefox).as_deref(), Some("Firefox on Windows"));
        assert_eq!(agent_family(edge).as_deref(), Some("Edge on Windows"));
        assert_eq!(agent_family(safari).as_deref(), Some("Safari on iOS"));
        assert_eq!(agent_family("curl/8.5.0").as_deref(), Some("curl"));
        assert_eq!(agent_family("internal-sync"), None);
    }

    #[test]
    fn settings_are_checked_and_default_when_unreadable() {
        assert_eq!(ReviewSettings::from_stored(None), ReviewSettings::default());
        assert_eq!(ReviewSettings::from_stored(Some("not json")), ReviewSettings::default());
        let stored = ReviewSettings::from_stored(Some(r#"{"failed_logins": 3, "day_starts": "08:30"}"#));
        assert_eq!((stored.failed_logins, stored.day_starts.to_string()), (3, "08:30:00".into()));
        assert!(serde_json::to_string(&stored).unwrap().contains(r#""day_starts":"08:30""#));
        // JSON has one kind of number: 3.0 is the whole number 3, 3.5 is not one.
        let written =
            ReviewSettings::from_stored(Some(r#"{"failed_logins": 3.0, "working_days": [1.0, 2]}"#));
        assert_eq!((written.failed_logins, written.working_days), (3, vec![1, 2]));
        assert!(serde_json::from_str::<ReviewSettings>(r#"{"failed_logins": 3.5}"#).is_err());
        let bad = ReviewSettings { working_days: vec![0], failed_logins: 0, ..Default::default() };
        assert_eq!(
            bad.problems().iter().map(|(f, _)| *f).collect::<Vec<_>>(),
            ["working_days", "failed_logins"]
        );
        let backwards =
            ReviewSettings { day_starts: NaiveTime::from_hms_opt(21, 0, 0).unwrap(), ..Default::default() };
        assert_eq!(backwards.problems().len(), 1);
        assert!(ReviewSettings::default().problems().is_empty());
    }

    #[test]
    fn bits_and_reasons_round_trip() {
        let bits = FlagKind::NewIp.bit() | FlagKind::BulkExport.bit();
        let flags = decode(bits, Some(r#"{"new_ip": "first time", "bulk_export": "many"}"#));
        assert_eq!(
            flags.iter().map(|f| (f.kind, f.reason.as_str())).collect::<Vec<_>>(),
            [(FlagKind::NewIp, "first time"), (FlagKind::BulkExport, "many")]
        );
        assert_eq!("odd_hours".parse::<FlagKind>(), Ok(FlagKind::OddHours));
        assert!("odd".parse::<FlagKind>().is_err());
    }
}
