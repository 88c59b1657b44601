//! Turning posted JSON into validated [`EventDraft`]s: one event or `{"events": [...]}`, every
//! problem reported with a JSON Pointer to the event and field.

use std::collections::BTreeSet;

use auditlog_db::chain::canonical_json;
use auditlog_db::models::{Actor, Change, EntityRef, EventDraft, PRODUCT_NAMESPACES};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::filters::{parse_date_time, IpAddress};
use crate::http::error::{ApiError, FieldError};
use crate::text::{self, text_type, Email};

const MAX_FUTURE: TimeDelta = TimeDelta::minutes(5);
const MAX_METADATA_BYTES: usize = 16 * 1024;
const MAX_CHANGES: usize = 500;
const MAX_RELATED: usize = 50;
const MAX_REPORTED_ERRORS: usize = 50;
pub use crate::http::json::MAX_JSON_DEPTH;

// The types below say exactly what `validate` accepts: each text field checks itself as it is
// read (rules about the whole event, or about the time of the request, are in the descriptions).

text_type!(
    /// An id in the host application: 1 to 128 characters on one line, or an integer (stored as
    /// text).
    HostId {
        read: string_or_integer,
        flaw: |raw: &str| text::Form::NonBlankLine.flaw(raw, 128),
        schema: |description: String| {
            utoipa::openapi::schema::AnyOfBuilder::new()
                .description(Some(description))
                .item(text::Form::NonBlankLine.schema(128))
                .item(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::schema::Type::Integer)
                        .minimum(Some(i64::MIN))
                        .maximum(Some(u64::MAX)),
                )
                .build()
                .into()
        },
    }
);

text_type!(
    /// A record type in lower snake case (`booking`, `credit_note`), at most 64 characters.
    EntityType {
        read: <String as Deserialize>::deserialize,
        flaw: |raw: &str| match raw {
            "" => Some("must not be empty".into()),
            _ if !is_snake_segment(raw) => Some("must be lower snake case, e.g. `booking` or `credit_note`".into()),
            _ => None,
        },
        schema: |description: String| {
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .max_length(Some(64))
                .pattern(Some(r"^[a-z][a-z0-9_]*$"))
                .description(Some(description))
                .build()
                .into()
        },
    }
);

text_type!(
    /// `<module>.<verb>`, lower snake case segments of at most 64 characters, e.g.
    /// `booking.created`. The modules `alert_rule`, `auditlog`, `auth`, `integrity`, `token` and
    /// `user` are the product's own records and cannot be posted.
    Action {
        read: <String as Deserialize>::deserialize,
        flaw: |raw: &str| match raw.split_once('.') {
            Some((module, _)) if PRODUCT_NAMESPACES.contains(&module) => Some(
                "must not be in the namespaces alert_rule, auditlog, auth, integrity, token and user: they \
                 are the product's own records"
                    .into(),
            ),
            Some((module, verb)) if is_snake_segment(module) && is_snake_segment(verb) => None,
            _ => Some("must be `<module>.<verb>` in lower snake case, e.g. `booking.created`".into()),
        },
        schema: |description: String| {
            utoipa::openapi::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .pattern(Some(
                    r"^(?!(alert_rule|auditlog|auth|integrity|token|user)\.)[a-z][a-z0-9_]{0,63}\.[a-z][a-z0-9_]{0,63}$",
                ))
                .description(Some(description))
                .examples(["booking.updated"])
                .build()
                .into()
        },
    }
);

impl Action {
    /// Module and verb.
    fn parts(&self) -> (String, String) {
        let (module, verb) = self.0.split_once('.').unwrap_or_default();
        (module.to_string(), verb.to_string())
    }
}

text_type!(
    /// A record's human-readable label, e.g. `BOK-12345`: at most 256 characters.
    Label: Text, 256
);
text_type!(
    /// An actor's display name: at most 200 characters.
    ActorName: Text, 200
);
text_type!(
    /// An actor's role in the host application: at most 64 characters.
    ActorRole: Text, 64
);
text_type!(
    /// The name of a changed field: 1 to 128 characters.
    ChangedField: NonBlankText, 128
);
text_type!(
    /// An event's human-readable summary: at most 1000 characters.
    EventDescription: Text, 1000
);
text_type!(
    /// A user agent: at most 512 characters.
    UserAgent: Text, 512
);
text_type!(
    /// The host application's id for an event: at most 128 characters.
    ExternalId: Text, 128
);

/// A record an event is about: the "Event On" column.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityInput {
    /// Record type, lower snake case (`booking`, `invoice`, `customer` …).
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    /// Record id in the host application (a string, or an integer which is stored as text).
    pub id: HostId,
    /// Human-readable label, e.g. `BOK-12345`.
    pub label: Option<Label>,
}

/// Who performed the event. Omit it to record the caller as the actor.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActorInput {
    /// The actor's id in the host application (a string, or an integer stored as text).
    pub id: HostId,
    /// Display name; defaults to the id.
    pub name: Option<ActorName>,
    /// The actor's e-mail address.
    pub email: Option<Email>,
    /// The actor's role in the host application; `admin` marks the event admin-private unless the
    /// id belongs to a dashboard user, whose stored role decides.
    pub role: Option<ActorRole>,
    /// `user` (default), `system` or `api`.
    #[serde(rename = "type")]
    pub actor_type: Option<ActorType>,
}

/// The kind of actor.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
#[schema(as = ActorTypeInput)]
pub enum ActorType {
    User,
    System,
    Api,
}

impl ActorType {
    fn as_str(self) -> &'static str {
        match self {
            ActorType::User => "user",
            ActorType::System => "system",
            ActorType::Api => "api",
        }
    }
}

/// One changed field. Give `old`, `new` or both.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeInput {
    /// Name of the changed field, unique within the event.
    pub field: ChangedField,
    /// Previous value (any JSON); omit for a created record.
    #[serde(default, deserialize_with = "present")]
    pub old: Option<Value>,
    /// New value (any JSON); omit for a deleted record.
    #[serde(default, deserialize_with = "present")]
    pub new: Option<Value>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// A string, or an integer from `i64::MIN` to `u64::MAX` (also written `42.0`), as text.
fn string_or_integer<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let range = i128::from(i64::MIN)..=i128::from(u64::MAX);
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Number(n) => match crate::http::json::integer_value(&n) {
            Some(i) if range.contains(&i) => Ok(i.to_string()),
            _ => Err(serde::de::Error::custom(format!(
                "must be a string, or an integer from {} to {}",
                i64::MIN,
                u64::MAX
            ))),
        },
        _ => Err(serde::de::Error::custom("must be a string or an integer")),
    }
}

/// An event as an integrator posts it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    /// What happened, e.g. `booking.updated`; posting the product's own namespaces is refused
    /// (422).
    pub action: Action,
    /// When it happened (RFC 3339); default: when the server received it. Not before 1970, and at
    /// most 5 minutes ahead of the server's clock.
    #[schema(format = DateTime)]
    pub occurred_at: Option<String>,
    /// Who did it; omit to record the caller.
    pub actor: Option<ActorInput>,
    /// The affected record, if any (logins have none).
    pub entity: Option<EntityInput>,
    /// Other records this event belongs to (e.g. the booking's customer), at most 50.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub related: Vec<EntityInput>,
    /// Human-readable summary; generated from actor, verb and record when absent or blank.
    pub description: Option<EventDescription>,
    /// Field-level diff, at most 500 fields. Not together with `before`/`after`.
    #[schema(max_items = 500)]
    pub changes: Option<Vec<ChangeInput>>,
    /// The record before the change; with `after`, the server computes `changes` (only fields that differ).
    #[schema(value_type = Option<Object>)]
    pub before: Option<Map<String, Value>>,
    /// The record after the change.
    #[schema(value_type = Option<Object>)]
    pub after: Option<Map<String, Value>>,
    /// IPv4 or IPv6 address of the actor.
    pub ip: Option<IpAddress>,
    /// The actor's user agent.
    pub user_agent: Option<UserAgent>,
    /// Free JSON object, at most 16 KiB serialised.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
    /// The host application's id for this event, unique per tenant: posting it again stores
    /// nothing and returns the first id.
    pub external_id: Option<ExternalId>,
}

/// Several events, stored all together or not at all.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventBatch {
    /// 1 to 1000 events (the server's `MAX_BATCH_EVENTS`; more is a 413).
    #[schema(min_items = 1)]
    pub events: Vec<EventInput>,
}

/// The body of `POST /events`: one event, or a batch.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(dead_code)] // Documents the body; the handler parses it itself to report every error.
pub enum IngestBody {
    One(Box<EventInput>),
    Batch(EventBatch),
}

/// Everything a validated request carries.
pub struct ParsedIngest {
    pub drafts: Vec<EventDraft>,
    /// Fingerprint of the request for Idempotency-Key comparison.
    pub request_hash: String,
}

/// Parses and validates a body. `caller` is the actor of events that name none.
pub fn parse_body(
    body: &[u8],
    caller: &Actor,
    now: DateTime<Utc>,
    max_batch: usize,
) -> Result<ParsedIngest, ApiError> {
    // Strict: a key repeated anywhere in the body is refused (422 at its pointer), so that the
    // event stored is the only one any JSON parser can read from the body.
    let value: Value = crate::http::json::parse(body)?;
    let request_hash = {
        use sha2::{Digest, Sha256};
        hex::encode(Sha256::digest(canonical_json(&value).as_bytes()))
    };
    let (items, batch) = match value {
        Value::Object(mut map) if map.contains_key("events") => {
            if let Some(other) = map.keys().find(|k| *k != "events") {
                let pointer = format!("/{}", crate::http::json::escape(other));
                let message = "is not allowed next to `events`";
                return Err(ApiError::validation(
                    format!("{pointer}: {message}"),
                    vec![FieldError::new(pointer, message)],
                ));
            }
            match map.remove("events") {
                Some(Value::Array(items)) => (items, true),
                _ => {
                    return Err(ApiError::validation(
                        "/events: must be an array of events",
                        vec![FieldError::new("/events", "must be an array of events")],
                    ))
                }
            }
        }
        Value::Object(map) => (vec![Value::Object(map)], false),
        _ => {
            return Err(ApiError::validation(
                "the body must be an event object or {\"events\": [...]}",
                Vec::new(),
            ))
        }
    };
    if items.is_empty() {
        return Err(ApiError::validation(
            "the batch holds no events",
            vec![FieldError::new("/events", "empty")],
        ));
    }
    if items.len() > max_batch {
        return Err(ApiError::PayloadTooLarge(format!(
            "a batch holds at most {max_batch} events; this one has {}",
            items.len()
        )));
    }

    let mut drafts = Vec::with_capacity(items.len());
    let mut errors = Vec::new();
    for (index, item) in items.into_iter().enumerate() {
        let prefix = if batch { format!("/events/{index}") } else { String::new() };
        // Every member the event's types refuse, then (on what they took) the rules about the
        // whole event.
        let (input, mut refused) = crate::http::json::read_all::<EventInput>(&prefix, item);
        errors.append(&mut refused);
        if let Some(input) = input {
            match validate(input, caller, now, &prefix) {
                Ok(draft) if errors.is_empty() => drafts.push(draft),
                Ok(_) => {}
                Err(mut errs) => errors.append(&mut errs),
            }
        }
        if errors.len() >= MAX_REPORTED_ERRORS {
            break;
        }
    }
    if !errors.is_empty() {
        errors.truncate(MAX_REPORTED_ERRORS);
        let first = &errors[0];
        let detail = if batch {
            format!(
                "{} invalid field(s); nothing was stored. First: {}: {}",
                errors.len(),
                first.pointer,
                first.message
            )
        } else {
            format!("{}: {}", first.pointer, first.message)
        };
        return Err(ApiError::validation(detail, errors));
    }
    Ok(ParsedIngest { drafts, request_hash })
}

fn is_snake_segment(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && s.len() <= 64
}

struct Checker<'a> {
    prefix: &'a str,
    errors: Vec<FieldError>,
}

impl Checker<'_> {
    fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(FieldError::new(format!("{}/{field}", self.prefix), message));
    }
}

fn entity_ref(input: EntityInput) -> EntityRef {
    EntityRef {
        entity_type: input.entity_type.into_inner(),
        id: input.id.into_inner(),
        label: input.label.and_then(Label::non_empty),
    }
}

/// Checks one event; all its problems are reported together.
fn validate(
    input: EventInput,
    caller: &Actor,
    now: DateTime<Utc>,
    prefix: &str,
) -> Result<EventDraft, Vec<FieldError>> {
    let mut c = Checker { prefix, errors: Vec::new() };

    let (module, verb) = input.action.parts();
    let action = input.action.into_inner();

    let occurred_at = match input.occurred_at.as_deref() {
        None => now,
        Some(text) => match parse_date_time(text) {
            Some(t) if t.with_timezone(&Utc) > now + MAX_FUTURE => {
                c.fail("occurred_at", "is more than 5 minutes in the future");
                now
            }
            Some(t) if t.timestamp() < 0 => {
                c.fail("occurred_at", "must be after 1970-01-01");
                now
            }
            Some(t) => t.with_timezone(&Utc),
            None => {
                c.fail("occurred_at", "must be an RFC 3339 timestamp such as 2026-11-21T09:30:00Z");
                now
            }
        },
    };
    // Stored with microsecond precision on both backends; the hash must see the same value.
    let occurred_at =
        DateTime::from_timestamp_micros(occurred_at.timestamp_micros()).unwrap_or(now).naive_utc();

    let actor = match input.actor {
        None => caller.clone(),
        Some(a) => {
            let id = a.id.into_inner();
            Actor {
                name: a.name.and_then(ActorName::non_empty).unwrap_or_else(|| id.clone()),
                id,
                email: a.email.map(Email::into_inner),
                role: a.role.and_then(ActorRole::non_empty),
                actor_type: a.actor_type.unwrap_or(ActorType::User).as_str().to_string(),
            }
        }
    };

    let entity = input.entity.map(entity_ref);
    if input.related.len() > MAX_RELATED {
        c.fail("related", format!("at most {MAX_RELATED} related records"));
    }
    let related: Vec<EntityRef> = input.related.into_iter().map(entity_ref).collect();

    let changes = match (input.changes, input.before, input.after) {
        (Some(_), Some(_), _) | (Some(_), _, Some(_)) => {
            c.fail("changes", "give either `changes` or `before`/`after`, not both");
            Vec::new()
        }
        (Some(changes), None, None) => {
            let mut seen = BTreeSet::new();
            changes
                .into_iter()
                .enumerate()
                .map(|(i, ch)| {
                    let field = ch.field.into_inner();
                    if ch.old.is_none() && ch.new.is_none() {
                        c.fail(&format!("changes/{i}"), "give `old`, `new` or both");
                    }
                    if !seen.insert(field.clone()) {
                        c.fail(&format!("changes/{i}/field"), "the same field appears twice");
                    }
                    Change { field, old: ch.old, new: ch.new }
                })
                .collect()
        }
        (None, before, after) => diff(before.as_ref(), after.as_ref()),
    };
    if changes.len() > MAX_CHANGES {
        c.fail("changes", format!("at most {MAX_CHANGES} changed fields"));
    }

    let ip = input.ip.map(IpAddress::into_inner);
    let user_agent = input.user_agent.and_then(UserAgent::non_empty);
    let metadata = input.metadata.unwrap_or_default();
    if serde_json::to_vec(&metadata).map(|v| v.len()).unwrap_or(usize::MAX) > MAX_METADATA_BYTES {
        c.fail("metadata", format!("at most {} KiB once serialised", MAX_METADATA_BYTES / 1024));
    }
    let external_id = input.external_id.and_then(ExternalId::non_empty);
    let description = input
        .description
        .and_then(EventDescription::non_empty)
        .unwrap_or_else(|| describe(&actor, &verb, &module, entity.as_ref()));

    if !c.errors.is_empty() {
        return Err(c.errors);
    }
    Ok(EventDraft {
        external_id,
        occurred_at,
        actor,
        action,
        module,
        verb,
        entity,
        related,
        description,
        changes,
        ip,
        user_agent,
        metadata,
    })
}

/// Field-level diff of two snapshots: created → every `new`; deleted → every `old`;
/// updated → only the fields whose value changed. Fields come out in name order.
pub fn diff(before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) -> Vec<Change> {
    let empty = Map::new();
    let (b, a) = (before.unwrap_or(&empty), after.unwrap_or(&empty));
    let fields: BTreeSet<&String> = b.keys().chain(a.keys()).collect();
    fields
        .into_iter()
        .filter_map(|field| {
            // A side exists only when its snapshot does; a field missing from it reads as null
            // (so `null` before and absent after is no change).
            let side = |snapshot: Option<&Map<String, Value>>, v: Option<&Value>| {
                snapshot.map(|_| v.cloned().unwrap_or(Value::Null))
            };
            let (old, new) = (side(before, b.get(field)), side(after, a.get(field)));
            if old == new {
                return None;
            }
            Some(Change { field: field.clone(), old, new })
        })
        .collect()
}

/// "Ann Lee updated booking BOK-123" when the integrator gives no description.
pub fn describe(actor: &Actor, verb: &str, module: &str, entity: Option<&EntityRef>) -> String {
    let phrase = match verb {
        "login" => "signed in".to_string(),
        "logout" => "signed out".to_string(),
        "login_failed" => "failed to sign in".to_string(),
        "password_changed" => "changed their password".to_string(),
        "status_changed" => "changed the status of".to_string(),
        "role_changed" => "changed the role of".to_string(),
        "retention_changed" | "review_settings_changed" | "field_visibility_changed" => "changed".to_string(),
        other => other.replace('_', " "),
    };
    match entity {
        Some(e) => {
            let kind = e.entity_type.replace('_', " ");
            match &e.label {
                // "updated Company settings", not "updated settings Company settings".
                Some(label) if label.to_lowercase().contains(&kind.to_lowercase()) => {
                    format!("{} {phrase} {label}", actor.name)
                }
                Some(label) => format!("{} {phrase} {kind} {label}", actor.name),
                None => format!("{} {phrase} {kind} #{}", actor.name, e.id),
            }
        }
        None if matches!(verb, "login" | "logout" | "login_failed" | "password_changed") => {
            format!("{} {phrase}", actor.name)
        }
        // "CRM sent an invoice", not "CRM sent invoice".
        None => {
            let what = module.replace('_', " ");
            let plural = what.ends_with('s') && !what.ends_with("ss");
            let article = match what.chars().next() {
                _ if plural => "",
                Some('a' | 'e' | 'i' | 'o' | 'u' | 'A' | 'E' | 'I' | 'O' | 'U') => "an ",
                _ => "a ",
            };
            format!("{} {phrase} {article}{what}", actor.name)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn caller() -> Actor {
        Actor {
            id: "1".into(),
            name: "Ann Lee".into(),
            email: None,
            role: Some("admin".into()),
            actor_type: "user".into(),
        }
    }

    fn parse(body: Value) -> Result<ParsedIngest, ApiError> {
        parse_body(body.to_string().as_bytes(), &caller(), Utc::now(), 1000)
    }

    fn errors(body: Value) -> Vec<(String, String)> {
        match parse(body) {
            Err(ApiError::Validation { errors, .. }) => {
                errors.into_iter().map(|e| (e.pointer, e.message)).collect()
            }
            other => panic!("expected a validation error, got {:?}", other.map(|p| p.drafts)),
        }
    }

    #[test]
    fn generated_descriptions_read_as_sentences() {
        let crm = Actor { name: "CRM".into(), ..caller() };
        let entity = |kind: &str, label: Option<&str>| EntityRef {
            entity_type: kind.into(),
            id: "7".into(),
            label: label.map(String::from),
        };
        assert_eq!(describe(&crm, "sent", "invoice", None), "CRM sent an invoice");
        assert_eq!(describe(&crm, "created", "booking", None), "CRM created a booking");
        assert_eq!(describe(&crm, "updated", "settings", None), "CRM updated settings");
        let settings = entity("settings", Some("Company settings"));
        assert_eq!(
            describe(&caller(), "updated", "settings", Some(&settings)),
            "Ann Lee updated Company settings"
        );
        let booking = entity("booking", Some("BOK-12"));
        assert_eq!(
            describe(&caller(), "status_changed", "booking", Some(&booking)),
            "Ann Lee changed the status of booking BOK-12"
        );
        assert_eq!(
            describe(&caller(), "deleted", "customer", Some(&entity("customer", None))),
            "Ann Lee deleted customer #7"
        );
        assert_eq!(describe(&caller(), "login", "session", None), "Ann Lee signed in");
    }

    #[test]
    fn diff_keeps_only_changed_fields() {
        let before = json!({"status": "open", "total": 10, "note": null, "gone": 1});
        let after = json!({"status": "paid", "total": 10, "note": null, "added": true});
        let changes = diff(before.as_object(), after.as_object());
        let fields: Vec<_> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["added", "gone", "status"]);
        assert_eq!(changes[0].old, Some(Value::Null));
        assert_eq!(changes[1].new, Some(Value::Null));
        assert_eq!(
            (changes[2].old.clone(), changes[2].new.clone()),
            (Some(json!("open")), Some(json!("paid")))
        );
    }

    #[test]
    fn diff_of_created_and_deleted_records_has_one_side() {
        let snapshot = json!({"a": 1, "b": "x"});
        let created = diff(None, snapshot.as_object());
        assert!(created.iter().all(|c| c.old.is_none() && c.new.is_some()));
        let deleted = diff(snapshot.as_object(), None);
        assert!(deleted.iter().all(|c| c.new.is_none() && c.old.is_some()));
        assert_eq!(deleted.len(), 2);
    }

    #[test]
    fn a_valid_event_gets_defaults() {
        let parsed = parse(
            json!({"action": "booking.created", "entity": {"type": "booking", "id": 42, "label": "BOK-42"}}),
        )
        .unwrap();
        let draft = &parsed.drafts[0];
        assert_eq!((draft.module.as_str(), draft.verb.as_str()), ("booking", "created"));
        assert_eq!(draft.actor, caller());
        assert_eq!(draft.entity.as_ref().unwrap().id, "42");
        assert_eq!(draft.description, "Ann Lee created booking BOK-42");
    }

    #[test]
    fn every_problem_is_reported_with_its_pointer() {
        let errs = errors(json!({"events": [
            {"action": "booking.created"},
            {"action": "Booking Created", "ip": "300.1.1.1", "occurred_at": "2999-01-01T00:00:00Z"},
            {"action": "booking.created", "colour": "red"},
            {"action": "booking.created", "actor": {"id": "7", "type": "robot"}, "description": "x".repeat(1001)},
            {"action": "booking.created", "ip": "300.1.1.1", "occurred_at": "2999-01-01T00:00:00Z", "changes": [{"field": " "}]}
        ]}));
        let pointers: Vec<&str> = errs.iter().map(|(p, _)| p.as_str()).collect();
        // Each member a type refuses; then, for an event whose required members were read, the
        // rules about the whole event (a time in the future, a change with neither side).
        assert_eq!(
            pointers,
            [
                "/events/1/action",
                "/events/1/ip",
                "/events/2/colour",
                "/events/3/actor/type",
                "/events/3/description",
                "/events/4/changes/0/field",
                "/events/4/ip",
                "/events/4/occurred_at",
            ]
        );
        assert!(errs[2].1.starts_with("is not a known field; the fields are action, "), "{}", errs[2].1);
        assert_eq!(errs[4].1, "must be at most 1000 characters");
        assert_eq!(errs[5].1, "must not be empty");
    }

    #[test]
    fn nested_type_errors_point_into_the_event() {
        let errs =
            errors(json!({"events": [{"action": "a.b", "related": [{"type": "customer", "id": true}]}]}));
        assert_eq!(errs[0].0, "/events/0/related/0/id");
    }

    #[test]
    fn batch_limits_and_shapes() {
        let many: Vec<Value> = (0..3).map(|_| json!({"action": "a.b"})).collect();
        assert!(matches!(
            parse_body(json!({"events": many}).to_string().as_bytes(), &caller(), Utc::now(), 2),
            Err(ApiError::PayloadTooLarge(_))
        ));
        assert!(matches!(parse(json!({"events": []})), Err(ApiError::Validation { .. })));
        assert!(matches!(parse(json!([1, 2])), Err(ApiError::Validation { .. })));
        assert!(matches!(
            parse_body(b"{not json", &caller(), Utc::now(), 10),
            Err(ApiError::BadRequest { .. })
        ));
    }

    #[test]
    fn request_hash_ignores_formatting() {
        let a = parse_body(br#"{"action":"a.b","ip":"10.0.0.1"}"#, &caller(), Utc::now(), 10).unwrap();
        let b = parse_body(b"{ \"ip\": \"10.0.0.1\",\n \"action\": \"a.b\" }", &caller(), Utc::now(), 10)
            .unwrap();
        assert_eq!(a.request_hash, b.request_hash);
    }
}
