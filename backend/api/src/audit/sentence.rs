//! The product's own events as sentences a person reads in the table, the detail view, the CSV
//! and the PDF: "Deleted 2 activities (#5011, #5012) — reason: duplicate import", "Exported
//! 1,204 activities as CSV (filters: module invoice, last 30 days)", "Changed the role of Mia
//! Manager from member to manager". The actor is not repeated: every row shows who.
//!
//! The sentence is written once, when the event is recorded, from the same facts the event
//! carries (its record, changes and metadata), and is part of its signed leaf like any
//! description.

use serde_json::{Map, Value};

use super::AuditEvent;
use crate::text::thousands;

/// The sentence for `event`, or `None` for an action without one (the generic "who did what to
/// which record" then serves).
pub fn sentence(event: &AuditEvent) -> Option<String> {
    let meta = &event.metadata;
    let label = event.entity.as_ref().map(|e| e.label.clone().unwrap_or_else(|| format!("#{}", e.id)));
    let named =
        |what: &str| label.as_ref().map(|l| format!("{what} {l}")).unwrap_or_else(|| what.to_string());
    let quoted =
        |what: &str| label.as_ref().map(|l| format!("{what} “{l}”")).unwrap_or_else(|| what.to_string());
    // A reason a person wrote (a deletion's) is quoted as written; a reason the server gives as a
    // code (`wrong_password`) reads as words.
    let given = meta.get("reason").and_then(Value::as_str).filter(|r| !r.is_empty());
    let reason = |text: String| match given {
        Some(reason) => format!("{text} — reason: {reason}"),
        None => text,
    };
    let code = |text: String| match given {
        Some(reason) => format!("{text} — reason: {}", reason.replace('_', " ")),
        None => text,
    };
    let change = |field: &str| event.changes.iter().find(|c| c.field == field);
    let sentence = match event.action {
        "auth.login" => "Signed in".to_string(),
        "auth.logout" => "Signed out".to_string(),
        "auth.login_failed" => code("Failed to sign in".to_string()),
        "auth.password_changed" => "Changed their password".to_string(),
        "auth.password_change_failed" => code("Failed to change their password".to_string()),
        "auditlog.deleted" => {
            let ids = ids(meta.get("ids"));
            let count = meta.get("count").and_then(Value::as_u64).unwrap_or(ids.len() as u64);
            reason(format!("Deleted {} ({})", activities(count), id_list(&ids)))
        }
        "auditlog.exported" => {
            let rows = meta.get("rows").and_then(Value::as_u64).unwrap_or(0);
            let format = meta.get("format").and_then(Value::as_str).unwrap_or("a file").to_uppercase();
            let filters = filters_in_words(meta.get("filters").and_then(Value::as_str).unwrap_or(""));
            let unfinished = meta.get("completed").and_then(Value::as_bool) == Some(false);
            format!(
                "Exported {} as {format} ({}){}",
                activities(rows),
                if filters.is_empty() { "no filters".to_string() } else { format!("filters: {filters}") },
                if unfinished { ", not completed" } else { "" }
            )
        }
        "auditlog.viewed" => match &event.entity {
            Some(e) => format!("Viewed the details of activity #{}", e.id),
            None => "Viewed the details of an activity".to_string(),
        },
        "auditlog.archived" => {
            let count = meta.get("events").and_then(Value::as_u64).unwrap_or(0);
            let (first, last) = (meta.get("first_seq"), meta.get("last_seq"));
            let span = match (first.and_then(Value::as_i64), last.and_then(Value::as_i64)) {
                (Some(first), Some(last)) => format!(" (entries {first} to {last})"),
                _ => String::new(),
            };
            format!("Archived {}{span} into {}", activities(count), named("archive"))
        }
        "auditlog.archive_downloaded" => format!("Downloaded {}", named("archive")),
        "auditlog.retention_changed" => match change("retention_days") {
            Some(c) => format!("Changed retention from {} to {}", days(c.old.as_ref()), days(c.new.as_ref())),
            None => "Changed retention".to_string(),
        },
        "auditlog.review_settings_changed" => {
            let fields: Vec<String> = event.changes.iter().map(|c| c.field.replace('_', " ")).collect();
            if fields.is_empty() {
                "Changed the security review settings".to_string()
            } else {
                format!("Changed the security review settings: {}", fields.join(", "))
            }
        }
        "auditlog.record_links_changed" => {
            let app = meta.get("app_name").and_then(Value::as_str).unwrap_or("the host application");
            let mut parts = Vec::new();
            if let Some(c) = change("app_name") {
                let name = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
                parts.push(format!(
                    "renamed it from “{}” to “{}”",
                    name(c.old.as_ref()),
                    name(c.new.as_ref())
                ));
            }
            let templates = |added: bool, removed: bool| -> Vec<String> {
                let with =
                    event.changes.iter().filter(|c| c.old.is_none() == added && c.new.is_none() == removed);
                with.filter_map(|c| c.field.strip_prefix("templates.")).map(|t| t.replace('_', " ")).collect()
            };
            for (types, verb) in [
                (templates(true, false), "added"),
                (templates(false, false), "changed"),
                (templates(false, true), "removed"),
            ] {
                match types.as_slice() {
                    [] => {}
                    [one] => parts.push(format!("{verb} the link for {one}")),
                    many => parts.push(format!("{verb} the links for {}", and_list(many))),
                }
            }
            if parts.is_empty() {
                format!("Changed the links into {app}")
            } else {
                format!("Changed the links into {app}: {}", parts.join("; "))
            }
        }
        "auditlog.field_visibility_changed" => {
            let fields: Vec<String> = event
                .changes
                .iter()
                .map(|c| {
                    let who =
                        |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("nobody").replace('_', " ");
                    format!("{} hidden from {}", c.field.replace('_', " "), who(c.new.as_ref()))
                })
                .collect();
            if fields.is_empty() {
                "Changed which fields each role sees".to_string()
            } else {
                format!("Changed which fields each role sees: {}", fields.join("; "))
            }
        }
        "integrity.verified" => {
            let events = meta.get("events_checked").and_then(Value::as_u64).unwrap_or(0);
            let checkpoints = meta.get("checkpoints_checked").and_then(Value::as_u64).unwrap_or(0);
            format!(
                "Verified the log: {} and {} intact",
                counted(events, "entry", "entries"),
                counted(checkpoints, "checkpoint", "checkpoints")
            )
        }
        "integrity.failed" => {
            let at = meta
                .get("first_bad_seq")
                .and_then(Value::as_i64)
                .map(|s| format!(" at entry {s}"))
                .unwrap_or_default();
            reason(format!("Verification failed{at}"))
        }
        "user.created" => {
            let role = change("role").and_then(|c| c.new.as_ref()).and_then(Value::as_str);
            match role {
                Some(role) => format!("Added {} as {role}", named("user")),
                None => format!("Added {}", named("user")),
            }
        }
        "user.role_changed" => match change("role") {
            Some(c) => format!(
                "Changed the role of {} from {} to {}",
                label.clone().unwrap_or_default(),
                text(c.old.as_ref()),
                text(c.new.as_ref())
            ),
            None => format!("Changed the role of {}", label.clone().unwrap_or_default()),
        },
        "user.deactivated" => format!("Deactivated {}", named("user")),
        "user.updated" => {
            let fields: Vec<String> = event.changes.iter().map(|c| c.field.replace('_', " ")).collect();
            format!("Updated {}: {}", named("user"), fields.join(", "))
        }
        "token.created" => {
            let scopes =
                meta.get("scopes").map(|s| s.as_str().map(String::from).unwrap_or_else(|| s.to_string()));
            match scopes {
                Some(scopes) => format!("Created {} with scopes {scopes}", quoted("API token")),
                None => format!("Created {}", quoted("API token")),
            }
        }
        "token.revoked" => format!("Revoked {}", quoted("API token")),
        "alert_rule.created" => format!("Created {}", quoted("alert rule")),
        "alert_rule.updated" => {
            let mut fields: Vec<String> = event.changes.iter().map(|c| c.field.replace('_', " ")).collect();
            if meta.get("header_values_replaced").is_some() {
                fields.push("header values".to_string());
            }
            if meta.get("enabled_again").is_some() {
                fields.push("enabled again".to_string());
            }
            format!("Changed {}: {}", quoted("alert rule"), fields.join(", "))
        }
        "alert_rule.deleted" => format!("Deleted {}", quoted("alert rule")),
        "alert_rule.disabled" => reason(format!("Disabled {}", quoted("alert rule"))),
        "alert_rule.secret_rotated" => format!("Rotated the signing secret of {}", quoted("alert rule")),
        "alert_rule.redelivered" => {
            let delivery =
                meta.get("delivery_id").and_then(Value::as_i64).map(|d| format!(" {d}")).unwrap_or_default();
            format!("Sent delivery{delivery} of {} again", quoted("alert rule"))
        }
        _ => return None,
    };
    Some(sentence)
}

/// "1 activity", "1,204 activities".
fn activities(n: u64) -> String {
    counted(n, "activity", "activities")
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

fn ids(value: Option<&Value>) -> Vec<i64> {
    value.and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_i64).collect()).unwrap_or_default()
}

/// "#5011, #5012", the first ten and how many more.
fn id_list(ids: &[i64]) -> String {
    const SHOWN: usize = 10;
    let mut text: Vec<String> = ids.iter().take(SHOWN).map(|id| format!("#{id}")).collect();
    if ids.len() > SHOWN {
        text.push(format!("and {} more", thousands((ids.len() - SHOWN) as u64)));
    }
    text.join(", ")
}

fn text(value: Option<&Value>) -> String {
    match value {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "none".to_string(),
        Some(other) => other.to_string(),
    }
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// "90 days", "forever" (no limit).
fn days(value: Option<&Value>) -> String {
    match value.and_then(Value::as_u64) {
        Some(n) => counted(n, "day", "days"),
        None => "forever".to_string(),
    }
}

/// A list's query string in plain words: `module=invoice&range=last_30_days&q=boiler` reads
/// "module invoice, last 30 days, keyword “boiler”". Paging, sorting and the time zone are left
/// out: they do not change what is in a file.
pub fn filters_in_words(query: &str) -> String {
    let mut words = Vec::new();
    let mut by_key: Map<String, Value> = Map::new();
    for (key, value) in url::form_urlencoded::parse(query.as_bytes()) {
        if value.is_empty()
            || matches!(
                key.as_ref(),
                "page" | "per_page" | "cursor" | "sort" | "order" | "tz" | "format" | "bom" | "columns"
            )
        {
            continue;
        }
        let entry = by_key.entry(key.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = entry {
            values.push(Value::String(value.to_string()));
        }
    }
    for (key, values) in &by_key {
        let values: Vec<String> =
            values.as_array().into_iter().flatten().filter_map(Value::as_str).map(String::from).collect();
        let joined = values.join(" or ");
        let phrase = match key.as_str() {
            "range" => joined.replace('_', " "),
            "from" => format!("from {joined}"),
            "to" => format!("until {joined}"),
            "q" => format!("keyword “{joined}”"),
            "actor_id" => format!("user {joined}"),
            "entity_type" => format!("record type {joined}"),
            "entity_id" => format!("record {joined}"),
            // A record's history: its type and id read together.
            "record_type" => {
                let id = by_key.get("record_id").and_then(|v| v.as_array()).into_iter().flatten();
                let id: Vec<&str> = id.filter_map(Value::as_str).collect();
                format!("history of {joined} {}", id.join(" or ")).trim_end().to_string()
            }
            "record_id" if by_key.contains_key("record_type") => continue,
            "ip" => format!("address {joined}"),
            "flag" if joined == "any" => "flagged".to_string(),
            "flag" => format!("flagged {}", joined.replace('_', " ")),
            "scope" if joined == "mine" => "only my own".to_string(),
            "scope" => continue,
            "ids" => {
                format!("selected: {}", values.iter().map(|v| format!("#{v}")).collect::<Vec<_>>().join(", "))
            }
            other => format!("{} {joined}", other.replace('_', " ")),
        };
        words.push(phrase);
    }
    words.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_db::models::{Actor, Change};
    use serde_json::json;

    fn admin() -> Actor {
        Actor {
            id: "a1".into(),
            name: "Ada Admin".into(),
            email: None,
            role: Some("admin".into()),
            actor_type: "user".into(),
        }
    }

    fn said(event: AuditEvent) -> String {
        sentence(&event).unwrap()
    }

    #[test]
    fn deletions_and_exports_say_what_and_why() {
        let deleted = AuditEvent::new("auditlog.deleted", admin())
            .meta("ids", json!([5011, 5012]))
            .meta("count", 2)
            .meta("reason", "duplicate import");
        assert_eq!(said(deleted), "Deleted 2 activities (#5011, #5012) — reason: duplicate import");
        let written = AuditEvent::new("auditlog.deleted", admin())
            .meta("ids", json!([3]))
            .meta("count", 1)
            .meta("reason", "see ticket OPS_142");
        assert_eq!(
            said(written),
            "Deleted 1 activity (#3) — reason: see ticket OPS_142",
            "a written reason is kept as written"
        );
        let one = AuditEvent::new("auditlog.deleted", admin()).meta("ids", json!([7])).meta("count", 1);
        assert_eq!(said(one), "Deleted 1 activity (#7)");
        let many = AuditEvent::new("auditlog.deleted", admin())
            .meta("ids", json!((1..=25).collect::<Vec<i64>>()))
            .meta("count", 25);
        assert_eq!(
            said(many),
            "Deleted 25 activities (#1, #2, #3, #4, #5, #6, #7, #8, #9, #10, and 15 more)"
        );
        let exported = AuditEvent::new("auditlog.exported", admin())
            .meta("format", "csv")
            .meta("filters", "module=invoice&range=last_30_days&tz=Europe%2FLondon&sort=occurred_at&bom=1")
            .meta("rows", 1204)
            .meta("completed", true);
        assert_eq!(
            said(exported),
            "Exported 1,204 activities as CSV (filters: module invoice, last 30 days)"
        );
        let everything = AuditEvent::new("auditlog.exported", admin())
            .meta("format", "pdf")
            .meta("filters", "")
            .meta("rows", 1);
        assert_eq!(said(everything), "Exported 1 activity as PDF (no filters)");
    }

    #[test]
    fn record_links_say_what_changed() {
        let link = |field: &str, old: Option<&str>, new: Option<&str>| Change {
            field: field.into(),
            old: old.map(|v| json!(v)),
            new: new.map(|v| json!(v)),
        };
        let changed = AuditEvent::new("auditlog.record_links_changed", admin())
            .meta("app_name", "Acme CRM")
            .changes(vec![
                link("app_name", Some("the host application"), Some("Acme CRM")),
                link("templates.booking", None, Some("https://crm.acme.example/bookings/{id}")),
                link("templates.credit_note", None, Some("https://crm.acme.example/notes/{id}")),
                link("templates.invoice", Some("https://a.example/{id}"), Some("https://b.example/{id}")),
                link("templates.ticket", Some("https://a.example/t/{id}"), None),
            ]);
        assert_eq!(
            said(changed),
            "Changed the links into Acme CRM: renamed it from “the host application” to “Acme CRM”; \
             added the links for booking and credit note; changed the link for invoice; removed the link for ticket"
        );
        let removed = AuditEvent::new("auditlog.record_links_changed", admin())
            .meta("app_name", "Acme CRM")
            .changes(vec![link("templates.booking", Some("https://a.example/{id}"), None)]);
        assert_eq!(said(removed), "Changed the links into Acme CRM: removed the link for booking");
    }

    #[test]
    fn accounts_read_as_sentences() {
        assert_eq!(said(AuditEvent::new("auth.login", admin()).meta("method", "password")), "Signed in");
        assert_eq!(
            said(AuditEvent::new("auth.login_failed", admin()).meta("reason", "wrong_password")),
            "Failed to sign in — reason: wrong password"
        );
        let role = AuditEvent::new("user.role_changed", admin())
            .on("user", 3, Some("Mia Manager".into()))
            .changes(vec![Change {
                field: "role".into(),
                old: Some(json!("member")),
                new: Some(json!("manager")),
            }]);
        assert_eq!(said(role), "Changed the role of Mia Manager from member to manager");
        let added = AuditEvent::new("user.created", admin())
            .on("user", 4, Some("Max Manager".into()))
            .changes(vec![Change { field: "role".into(), old: None, new: Some(json!("admin")) }]);
        assert_eq!(said(added), "Added user Max Manager as admin");
        let token = AuditEvent::new("token.created", admin())
            .on("token", 9, Some("CRM sync".into()))
            .meta("scopes", "events:write");
        assert_eq!(said(token), "Created API token “CRM sync” with scopes events:write");
        let retention = AuditEvent::new("auditlog.retention_changed", admin()).changes(vec![Change {
            field: "retention_days".into(),
            old: Some(Value::Null),
            new: Some(json!(365)),
        }]);
        assert_eq!(said(retention), "Changed retention from forever to 365 days");
        assert!(sentence(&AuditEvent::new("booking.updated", admin())).is_none());
    }

    #[test]
    fn filters_read_in_plain_words() {
        assert_eq!(
            filters_in_words("flag=any&q=Boiler+repair&actor_id=u1&actor_id=u2"),
            "user u1 or u2, flagged, keyword “Boiler repair”"
        );
        assert_eq!(filters_in_words("ids=4&ids=5&page=2"), "selected: #4, #5");
        assert_eq!(
            filters_in_words("format=csv&record_type=customer&verb=created&record_id=c1"),
            "history of customer c1, verb created"
        );
        assert_eq!(filters_in_words(""), "");
    }
}
