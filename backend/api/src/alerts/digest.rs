//! Scheduled digests: a rule with a `schedule` sends, once a day or a week at 07:00 in its
//! tenant's time zone (weeks start on Monday), a summary of the period just ended: counts by
//! module, flagged events by kind, deletions and exports with their actors, and the integrity
//! status. Its filter narrows what is summed up. The summary goes out through the rule's
//! destination like any delivery (signed, retried, logged).

use auditlog_db::connection::DbConnection;
use auditlog_db::queries::alerts::{self, AlertRule};
use auditlog_db::queries::events::{self as event_queries, EventFilter};
use auditlog_db::queries::{tenants, verifications};
use auditlog_db::visibility::Viewer;
use chrono::{DateTime, Datelike, Days, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::http::error::ApiError;

/// The hour of the day (tenant time) a digest goes out.
const SEND_HOUR: u32 = 7;
/// Deletions and exports listed in one digest, at most.
const LISTED: u32 = 20;

/// How often a digest rule sends its summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Each day at 07:00, tenant time, for the 24 hours before.
    Daily,
    /// Each Monday at 07:00, tenant time, for the week before.
    Weekly,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Daily => "daily",
            Schedule::Weekly => "weekly",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "daily" => Some(Schedule::Daily),
            "weekly" => Some(Schedule::Weekly),
            _ => None,
        }
    }

    fn days(self) -> u64 {
        match self {
            Schedule::Daily => 1,
            Schedule::Weekly => 7,
        }
    }

    /// The period that ended last at `now` in `tz`: its start and end (UTC).
    pub fn last_period(self, tz: Tz, now: DateTime<Utc>) -> (NaiveDateTime, NaiveDateTime) {
        let local = now.with_timezone(&tz);
        let mut day = local.date_naive();
        let at = |day: chrono::NaiveDate| {
            let time = day.and_hms_opt(SEND_HOUR, 0, 0).unwrap_or_default();
            tz.from_local_datetime(&time).earliest().map(|t| t.with_timezone(&Utc)).unwrap_or(now)
        };
        while at(day) > now || (self == Schedule::Weekly && day.weekday() != chrono::Weekday::Mon) {
            day = day.checked_sub_days(Days::new(1)).unwrap_or(day);
        }
        let start = day.checked_sub_days(Days::new(self.days())).unwrap_or(day);
        (at(start).naive_utc(), at(day).naive_utc())
    }
}

/// Owes each digest rule whose period ended by `now` its summary, once across processes;
/// returns how many were owed. A rule's first period is the one that ends after it was made.
pub fn schedule(conn: &mut DbConnection, now: DateTime<Utc>) -> Result<usize, ApiError> {
    let mut owed = 0;
    for rule in alerts::digest_rules(conn)? {
        let Some(schedule) = rule.schedule.as_deref().and_then(Schedule::parse) else { continue };
        let tz = tenants::get(conn, rule.tenant_id)?.timezone.parse::<Tz>().unwrap_or(Tz::UTC);
        let (start, end) = schedule.last_period(tz, now);
        if end <= rule.created_at || rule.last_digest_at.is_some_and(|last| last >= end) {
            continue;
        }
        if alerts::owe_digest(conn, &rule, start, end, Utc::now().naive_utc())? {
            owed += 1;
        }
    }
    Ok(owed)
}

/// Events of a module in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct ModuleCount {
    pub module: String,
    pub count: i64,
}

/// Flagged events of one kind in the period.
#[derive(Debug, Serialize, ToSchema)]
pub struct FlagCountOut {
    pub kind: String,
    pub count: i64,
}

/// A deletion or an export of the period, as its record says.
#[derive(Debug, Serialize, ToSchema)]
pub struct Noted {
    pub event_id: i64,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: String,
    pub actor_name: String,
    pub description: String,
}

/// The latest verification run.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrityNote {
    pub ok: bool,
    pub checked_at: DateTime<Utc>,
    pub events_checked: i64,
    pub reason: Option<String>,
}

/// What a digest sums up.
#[derive(Debug, Serialize, ToSchema)]
pub struct DigestSummary {
    pub schedule: Schedule,
    pub tenant: String,
    pub time_zone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Events of the period matching the rule's filter.
    pub total: i64,
    pub by_module: Vec<ModuleCount>,
    pub flagged: i64,
    pub flagged_by_kind: Vec<FlagCountOut>,
    /// Deletions of the period (at most 20, newest first).
    pub deletions: Vec<Noted>,
    /// Exports of the period (at most 20, newest first).
    pub exports: Vec<Noted>,
    pub integrity: Option<IntegrityNote>,
}

/// The summary a digest delivery carries, read as an admin of the rule's tenant.
pub fn summary(
    conn: &mut DbConnection,
    rule: &AlertRule,
    start: NaiveDateTime,
    end: NaiveDateTime,
) -> Result<DigestSummary, ApiError> {
    let tenant = tenants::get(conn, rule.tenant_id)?;
    let viewer = Viewer::admin(rule.tenant_id);
    let base: EventFilter = serde_json::from_str(&rule.filter)
        .map_err(|e| ApiError::internal(format!("alert rule {}: filter: {e}", rule.id)))?;
    let filter = EventFilter { from: Some(start), until: Some(end), ..base };
    let by_module = alerts::count_by_module(conn, &viewer, &filter)?;
    let (flagged, kinds) = auditlog_db::flags::summary(conn, &viewer, &filter)?;
    let mut noted = |action: &str| -> Result<Vec<Noted>, ApiError> {
        let only = EventFilter { action: Some(action.into()), ..filter.clone() };
        let request = auditlog_db::queries::events::ListRequest {
            filter: only,
            sort: Default::default(),
            per_page: LISTED,
            paging: auditlog_db::queries::events::Paging::Cursor(None),
        };
        Ok(event_queries::list(conn, &viewer, &request)?
            .items
            .into_iter()
            .map(|e| Noted {
                event_id: e.id.get(),
                occurred_at: e.draft.occurred_at.and_utc(),
                actor_id: e.draft.actor.id,
                actor_name: e.draft.actor.name,
                description: e.draft.description,
            })
            .collect())
    };
    let (deletions, exports) = (noted("auditlog.deleted")?, noted("auditlog.exported")?);
    let integrity = verifications::latest(conn, rule.tenant_id)?.map(|run| IntegrityNote {
        ok: run.ok,
        checked_at: run.finished_at.and_utc(),
        events_checked: run.events_checked,
        reason: run.reason,
    });
    Ok(DigestSummary {
        schedule: rule.schedule.as_deref().and_then(Schedule::parse).unwrap_or(Schedule::Daily),
        tenant: tenant.name,
        time_zone: tenant.timezone,
        from: start.and_utc(),
        to: end.and_utc(),
        total: by_module.iter().map(|(_, n)| n).sum(),
        by_module: by_module.into_iter().map(|(module, count)| ModuleCount { module, count }).collect(),
        flagged,
        flagged_by_kind: kinds
            .into_iter()
            .filter(|(_, n)| *n > 0)
            .map(|(kind, count)| FlagCountOut { kind: kind.as_str().into(), count })
            .collect(),
        deletions,
        exports,
        integrity,
    })
}

/// The summary as an e-mail's text.
pub fn text(summary: &DigestSummary, now: DateTime<Utc>) -> String {
    let tz = summary.time_zone.parse::<Tz>().unwrap_or(Tz::UTC);
    let when = |t: DateTime<Utc>| t.with_timezone(&tz).format("%a %-d %b %Y %H:%M").to_string();
    let mut out = format!(
        "{} digest of {}: {} to {} ({})\n\n",
        match summary.schedule {
            Schedule::Daily => "Daily",
            Schedule::Weekly => "Weekly",
        },
        summary.tenant,
        when(summary.from),
        when(summary.to),
        summary.time_zone
    );
    out.push_str(&format!("{}\n", activities(summary.total)));
    if !summary.by_module.is_empty() {
        let modules: Vec<String> =
            summary.by_module.iter().map(|m| format!("{} {}", m.module, m.count)).collect();
        out.push_str(&format!("By module: {}\n", modules.join(", ")));
    }
    out.push_str(&format!("\nFlagged for review: {}\n", summary.flagged));
    for kind in &summary.flagged_by_kind {
        out.push_str(&format!("  {}: {}\n", kind.kind, kind.count));
    }
    for (title, list) in [("Deletions", &summary.deletions), ("Exports", &summary.exports)] {
        out.push_str(&format!(
            "\n{title}: {}\n",
            if list.is_empty() { "none".to_string() } else { list.len().to_string() }
        ));
        for noted in list {
            out.push_str(&format!(
                "  - {} · {} ({}) · {} (#{})\n",
                when(noted.occurred_at),
                noted.actor_name,
                noted.actor_id,
                noted.description,
                noted.event_id
            ));
        }
    }
    out.push_str("\nIntegrity: ");
    match &summary.integrity {
        None => out.push_str("not verified yet\n"),
        Some(run) => {
            let hours = (now - run.checked_at).num_hours();
            let ago = if hours < 1 { "less than an hour ago".to_string() } else { format!("{hours} h ago") };
            if run.ok {
                out.push_str(&format!("verified {ago}, {} events\n", run.events_checked));
            } else {
                out.push_str(&format!(
                    "FAILED {ago}: {}\n",
                    run.reason.as_deref().unwrap_or("see the dashboard")
                ));
            }
        }
    }
    out
}

fn activities(n: i64) -> String {
    if n == 1 {
        "1 activity".into()
    } else {
        format!("{n} activities")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn periods_end_at_seven_in_the_tenants_zone() {
        let london: Tz = "Europe/London".parse().unwrap();
        // Before 07:00: the period that ended yesterday morning.
        let (start, end) = Schedule::Daily.last_period(london, utc("2026-12-07T06:59:00Z"));
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-12-05 07:00:00".into(), "2026-12-06 07:00:00".into())
        );
        let (_, end) = Schedule::Daily.last_period(london, utc("2026-12-07T07:00:00Z"));
        assert_eq!(end.to_string(), "2026-12-07 07:00:00");
        // Summer time: 07:00 in London is 06:00 UTC.
        let (_, end) = Schedule::Daily.last_period(london, utc("2026-07-01T12:00:00Z"));
        assert_eq!(end.to_string(), "2026-07-01 06:00:00");
        // Weeks end on Monday morning (2026-12-07 is a Monday).
        let (start, end) = Schedule::Weekly.last_period(Tz::UTC, utc("2026-12-10T12:00:00Z"));
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-11-30 07:00:00".into(), "2026-12-07 07:00:00".into())
        );
        let (_, end) = Schedule::Weekly.last_period(Tz::UTC, utc("2026-12-07T06:00:00Z"));
        assert_eq!(end.to_string(), "2026-11-30 07:00:00");
    }
}
