//! Hostile input. Property tests of the parsers every request goes through — event validation
//! (one event and batches), the filter query string shared by list, export, stats and stream, and
//! keyset cursors — first on the pure functions, then a smaller number of cases through the HTTP
//! app on SQLite and PostgreSQL; and SQL-injection strings in every filter and sort parameter.
//!
//! Properties: nothing panics; every rejection is a 4xx problem with a `detail` (and a pointer
//! where the code names the field) in the product's own words, never a library's; valid
//! generated input is accepted as given. A key repeated within a JSON object is refused.
//! `PROPTEST_CASES` sets the number of generated cases (default 256: the event properties run
//! half as many, the HTTP tests an eighth).

mod common;

use std::collections::BTreeSet;
use std::net::IpAddr;

use actix_web::test::TestRequest;
use actix_web::ResponseError;
use auditlog_api::aggregates::stats::TimelineParams;
use auditlog_api::events::ingest::parse_body;
use auditlog_api::exports::routes::ExportParams;
use auditlog_api::filters::{list_request, parse_filtered, EventFilterParams, FilterContext, PAGE_SIZES};
use auditlog_api::http::error::ApiError;
use auditlog_api::stream::routes::StreamParams;
use auditlog_db::models::Actor;
use auditlog_db::queries::events::{Cursor, Sort, SortKey, SortOrder};
use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use common::*;
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};

// ---------------------------------------------------------------------------------------------
// Configuration and shared checks

/// Generated cases per property: `default` (at most 256) scaled by `PROPTEST_CASES` / 256.
fn cases(default: u32) -> u32 {
    match std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse::<u64>().ok()).filter(|n| *n > 0) {
        Some(n) => (u64::from(default) * n / 256).max(1) as u32,
        None => default,
    }
}

fn config(default: u32) -> Config {
    // No regression files in the source tree: a failure prints its minimal input instead.
    Config { cases: cases(default), failure_persistence: None, ..Config::default() }
}

/// `n` generated values, for the async HTTP tests (no shrinking there: each case is printed on
/// failure instead).
fn samples<S: Strategy>(strategy: S, n: u32) -> Vec<S::Value> {
    let mut runner = TestRunner::new(Config { failure_persistence: None, ..Config::default() });
    (0..n).map(|_| strategy.new_tree(&mut runner).expect("a generated value").current()).collect()
}

/// HTTP cases: an eighth of the pure ones.
fn http_cases() -> u32 {
    cases(32)
}

/// A rejection is a client error with a problem document that says what is wrong.
fn assert_clear_rejection(error: &ApiError, input: &dyn std::fmt::Debug) {
    let status = error.status_code();
    assert!(status.is_client_error(), "{input:?}: {status} {error:?}");
    let problem = error.problem();
    assert!(!problem.detail.trim().is_empty(), "{input:?}: a rejection without detail");
    for e in &problem.errors {
        assert!(!e.pointer.is_empty() && !e.message.trim().is_empty(), "{input:?}: {e:?}");
    }
    let pointers: Vec<&str> = problem.errors.iter().map(|e| e.pointer.as_str()).collect();
    for text in std::iter::once(&problem.detail).chain(problem.errors.iter().map(|e| &e.message)) {
        if let Some(found) = library_wording(text, &pointers, Echo::Stripped) {
            panic!("{input:?}: {found:?} in the problem text {text:?}");
        }
    }
}

/// What the client sent that a problem text may repeat (a pointer's keys, a quoted value, a
/// parameter's name in backticks): left out of the check when the input is generated, since it
/// can hold anything; checked as well when the input is written out in the test.
#[derive(Clone, Copy, PartialEq)]
enum Echo {
    Stripped,
    Checked,
}

/// Phrases only a library writes: serde's and serde_json's messages, `str::parse`'s, actix's,
/// jsonwebtoken's error kinds, database drivers' names, Rust's debug output.
const LIBRARY_PHRASES: [&str; 40] = [
    "invalid type",
    "invalid value",
    "invalid length",
    "unknown variant",
    "unknown field",
    "missing field",
    "duplicate field",
    "at line",
    "line 1 column",
    "EOF while",
    "trailing characters",
    "recursion limit",
    "key must be a string",
    "can not parse",
    "invalid digit",
    "target type",
    "float literal",
    "provided string",
    "unsupported value",
    "could not read input",
    "did not match any variant",
    "InvalidSignature",
    "InvalidToken",
    "ExpiredSignature",
    "Base64",
    "Json(",
    "Utf8(",
    "Error(",
    "Kind",
    "serde",
    "diesel",
    "Diesel",
    "jsonwebtoken",
    "actix",
    "Payload",
    "deserializ",
    "Deserializ",
    "DatabaseError",
    "os error",
    "Some(",
];

/// Words only a library (or Rust itself) writes, in any case: serde's `expected …`.
const LIBRARY_WORDS: [&str; 4] = ["expected", "struct", "enum", "variant"];

/// Rust's type names, as written.
const RUST_TYPES: [&str; 17] = [
    "String", "Option", "Vec", "Value", "Map", "u8", "u16", "u32", "u64", "usize", "i8", "i16", "i32", "i64",
    "isize", "f32", "f64",
];

/// The library wording in a problem text, if any. With [`Echo::Stripped`] the pointers, and
/// quoted and backticked segments, are left out first.
fn library_wording(text: &str, pointers: &[&str], echo: Echo) -> Option<String> {
    let mut text = text.to_string();
    if echo == Echo::Stripped {
        for pointer in pointers {
            text = text.replace(pointer, " ");
        }
        for quote in ['"', '`'] {
            let parts: Vec<&str> = text.split(quote).collect();
            text = parts.iter().step_by(2).copied().collect::<Vec<_>>().join(" ");
        }
    }
    if let Some(phrase) = LIBRARY_PHRASES.iter().find(|p| text.contains(**p)) {
        return Some(phrase.to_string());
    }
    if text.contains("::") {
        return Some("::".into());
    }
    let mut words = text.split(|c: char| !c.is_alphanumeric() && c != '_');
    let library =
        |w: &&str| LIBRARY_WORDS.iter().any(|l| l.eq_ignore_ascii_case(w)) || RUST_TYPES.contains(w);
    if let Some(word) = words.find(library) {
        return Some(word.to_string());
    }
    // A Rust type name in backticks (`ActorInput`, `RoleSchema`), as serde writes `expected struct X`.
    let backticked = text.split('`').skip(1).step_by(2);
    for name in backticked {
        let camel = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.chars().any(|c| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_alphanumeric());
        if camel {
            return Some(format!("`{name}`"));
        }
    }
    None
}

fn caller() -> Actor {
    Actor {
        id: "caller-1".into(),
        name: "Cal Caller".into(),
        email: Some("cal@acme.test".into()),
        role: Some("admin".into()),
        actor_type: "user".into(),
    }
}

fn filter_context() -> FilterContext {
    FilterContext { now: Utc::now(), default_tz: chrono_tz::Tz::Europe__London }
}

/// Percent-encodes everything but unreserved characters.
fn enc(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Strategies: events

/// A regex strategy compiled once (a pattern given as `&str` is compiled for every value).
/// Keep classes small: generating from a large Unicode class is slow; use [`unicode`] for that.
fn re(pattern: &str) -> proptest::string::RegexGeneratorStrategy<String> {
    proptest::string::string_regex(pattern).unwrap()
}

/// Any Unicode text of `min..=max` characters; without `controls`, control characters are
/// replaced (so that the text is what a text field accepts).
fn unicode(min: usize, max: usize, controls: bool) -> impl Strategy<Value = String> + Clone {
    prop::collection::vec(any::<char>(), min..=max).prop_map(move |chars| {
        chars.into_iter().map(|c| if !controls && c.is_control() { '·' } else { c }).collect()
    })
}

/// Text a field accepts: starts with a visible character, no control characters, at most `max`.
fn printable(max: usize) -> BoxedStrategy<String> {
    prop_oneof![
        4 => proptest::string::string_regex(&format!("[a-zA-Z0-9][a-zA-Z0-9 .,'\"%_-]{{0,{}}}", (max - 1).min(40))).unwrap(),
        2 => (prop::sample::select(vec!['a', 'Z', '7', 'é', '€', '😀']), unicode(0, (max - 1).min(60), false))
            .prop_map(|(first, rest)| format!("{first}{rest}")),
        1 => Just("x".repeat(max)),
        1 => Just("€".repeat(max)),
    ]
    .boxed()
}

fn snake() -> impl Strategy<Value = String> {
    re("[a-z][a-z0-9_]{0,20}")
}

fn email() -> impl Strategy<Value = String> {
    re("[a-z0-9.+_-]{1,20}@[a-z0-9-]{1,20}\\.[a-z]{2,6}")
}

fn id_value(max: usize) -> BoxedStrategy<Value> {
    prop_oneof![printable(max).prop_map(Value::from), any::<i64>().prop_map(Value::from)].boxed()
}

/// Any JSON (no floats, so that values compare equal after a round trip), strings with control
/// characters and NUL included.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        unicode(0, 20, false).prop_map(Value::from),
        unicode(0, 9, true).prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(unicode(0, 8, true), inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(unicode(0, 12, true), json_value(), 0..5)
        .prop_map(|m| m.into_iter().collect())
}

fn occurred_at() -> impl Strategy<Value = String> {
    let latest = Utc::now().timestamp() - 60;
    (0..latest, 0u32..1_000_000, -48i32..=56).prop_map(|(secs, micros, quarter_hours)| {
        let offset = FixedOffset::east_opt(quarter_hours * 15 * 60).unwrap();
        let t = DateTime::from_timestamp(secs, micros * 1000).unwrap().with_timezone(&offset);
        t.to_rfc3339_opts(SecondsFormat::AutoSi, quarter_hours == 0)
    })
}

fn ip() -> impl Strategy<Value = String> {
    (any::<IpAddr>(), any::<bool>()).prop_map(|(ip, upper)| {
        let text = ip.to_string();
        if upper {
            text.to_uppercase()
        } else {
            text
        }
    })
}

fn entity() -> impl Strategy<Value = Value> {
    (snake(), id_value(128), proptest::option::of(printable(256))).prop_map(|(t, id, label)| {
        let mut e = json!({"type": t, "id": id});
        if let Some(label) = label {
            e["label"] = label.into();
        }
        e
    })
}

fn actor() -> impl Strategy<Value = Value> {
    (
        id_value(128),
        proptest::option::of(printable(200)),
        proptest::option::of(email()),
        proptest::option::of(snake()),
        proptest::option::of(prop_oneof![Just("user"), Just("system"), Just("api")]),
    )
        .prop_map(|(id, name, email, role, kind)| {
            let mut a = json!({"id": id});
            for (key, value) in
                [("name", name), ("email", email), ("role", role), ("type", kind.map(String::from))]
            {
                if let Some(value) = value {
                    a[key] = value.into();
                }
            }
            a
        })
}

/// `changes`, or `before`/`after`, or neither.
fn change_part() -> impl Strategy<Value = Map<String, Value>> {
    let fields = prop::collection::btree_map(
        re("[a-z][a-z0-9_.]{0,30}"),
        prop_oneof![
            json_value().prop_map(|v| json!({"old": v})),
            json_value().prop_map(|v| json!({"new": v})),
            (json_value(), json_value()).prop_map(|(o, n)| json!({"old": o, "new": n})),
        ],
        1..6,
    )
    .prop_map(|m| {
        let list: Vec<Value> = m
            .into_iter()
            .map(|(field, mut change)| {
                change["field"] = field.into();
                change
            })
            .collect();
        Map::from_iter([("changes".to_string(), Value::Array(list))])
    });
    let snapshots =
        (proptest::option::of(json_object()), proptest::option::of(json_object())).prop_map(|(b, a)| {
            let mut m = Map::new();
            if let Some(b) = b {
                m.insert("before".into(), Value::Object(b));
            }
            if let Some(a) = a {
                m.insert("after".into(), Value::Object(a));
            }
            m
        });
    prop_oneof![Just(Map::new()), fields, snapshots]
}

/// A valid event, as an integrator would post it.
fn valid_event() -> impl Strategy<Value = Value> {
    let who_what = (
        snake(),
        snake(),
        proptest::option::of(occurred_at()),
        proptest::option::of(actor()),
        proptest::option::of(entity()),
        prop::collection::vec(entity(), 0..4),
    );
    let details = (
        proptest::option::of(printable(1000)),
        change_part(),
        proptest::option::of(ip()),
        proptest::option::of(printable(512)),
        proptest::option::of(json_object()),
        proptest::option::of(printable(128)),
    );
    (who_what, details).prop_map(
        |(
            (module, verb, occurred_at, actor, entity, related),
            (description, changes, ip, ua, metadata, external_id),
        )| {
            let mut e = Map::new();
            e.insert("action".into(), format!("{module}.{verb}").into());
            let optional = [
                ("occurred_at", occurred_at.map(Value::from)),
                ("actor", actor),
                ("entity", entity),
                ("description", description.map(Value::from)),
                ("ip", ip.map(Value::from)),
                ("user_agent", ua.map(Value::from)),
                ("metadata", metadata.map(Value::Object)),
                ("external_id", external_id.map(Value::from)),
            ];
            for (key, value) in optional {
                if let Some(value) = value {
                    e.insert(key.into(), value);
                }
            }
            if !related.is_empty() {
                e.insert("related".into(), Value::Array(related));
            }
            e.extend(changes);
            Value::Object(e)
        },
    )
}

/// One invalid field, and the pointer (relative to the event) the rejection must name.
/// Makes one field of an event invalid.
type Fault = fn(&mut Map<String, Value>);

fn faults() -> Vec<(&'static str, Fault)> {
    vec![
        ("action", |e| _ = e.insert("action".into(), "Booking Created".into())),
        ("action", |e| _ = e.insert("action".into(), "booking".into())),
        ("action", |e| _ = e.insert("action".into(), "booking.created.twice".into())),
        ("action", |e| _ = e.insert("action".into(), json!(42))),
        ("action", |e| _ = e.remove("action")),
        ("occurred_at", |e| _ = e.insert("occurred_at".into(), "2999-01-01T00:00:00Z".into())),
        ("occurred_at", |e| _ = e.insert("occurred_at".into(), "yesterday".into())),
        ("occurred_at", |e| _ = e.insert("occurred_at".into(), "1969-12-31T23:59:59Z".into())),
        ("actor/id", |e| _ = e.insert("actor".into(), json!({"id": "  "}))),
        ("actor/id", |e| _ = e.insert("actor".into(), json!({"id": 1.5}))),
        ("actor/type", |e| _ = e.insert("actor".into(), json!({"id": "7", "type": "robot"}))),
        ("actor/email", |e| _ = e.insert("actor".into(), json!({"id": "7", "email": "no-at-sign"}))),
        ("actor/name", |e| _ = e.insert("actor".into(), json!({"id": "7", "name": "n".repeat(201)}))),
        ("actor/colour", |e| _ = e.insert("actor".into(), json!({"id": "7", "colour": "red"}))),
        ("entity/type", |e| _ = e.insert("entity".into(), json!({"type": "Not Snake", "id": "1"}))),
        ("entity/id", |e| _ = e.insert("entity".into(), json!({"type": "booking", "id": true}))),
        ("entity/id", |e| _ = e.insert("entity".into(), json!({"type": "booking", "id": "i".repeat(129)}))),
        ("entity/label", |e| {
            _ = e.insert("entity".into(), json!({"type": "booking", "id": "1", "label": "l".repeat(257)}))
        }),
        ("related", |e| {
            _ = e.insert("related".into(), json!(vec![json!({"type": "customer", "id": "1"}); 51]))
        }),
        ("related/0/type", |e| _ = e.insert("related".into(), json!([{"type": "", "id": "1"}]))),
        ("description", |e| _ = e.insert("description".into(), "d".repeat(1001).into())),
        ("description", |e| _ = e.insert("description".into(), "bell \u{7} rings".into())),
        ("description", |e| _ = e.insert("description".into(), "nul \u{0} byte".into())),
        ("changes", |e| {
            e.insert("changes".into(), json!([{"field": "a", "new": 1}]));
            e.insert("after".into(), json!({"a": 1}));
        }),
        ("changes/1/field", |e| {
            e.remove("before");
            e.remove("after");
            e.insert("changes".into(), json!([{"field": "a", "new": 1}, {"field": "a", "old": 2}]));
        }),
        ("changes/0", |e| {
            e.remove("before");
            e.remove("after");
            e.insert("changes".into(), json!([{"field": "a"}]));
        }),
        ("ip", |e| _ = e.insert("ip".into(), "300.1.1.1".into())),
        ("ip", |e| _ = e.insert("ip".into(), "10.0.0.1; DROP TABLE events".into())),
        ("user_agent", |e| _ = e.insert("user_agent".into(), "u".repeat(513).into())),
        ("metadata", |e| _ = e.insert("metadata".into(), json!({"blob": "m".repeat(16 * 1024)}))),
        ("metadata", |e| _ = e.insert("metadata".into(), json!([1, 2]))),
        ("external_id", |e| _ = e.insert("external_id".into(), "x".repeat(129).into())),
        ("colour", |e| _ = e.insert("colour".into(), "red".into())),
    ]
}

/// A batch of valid events with one fault in event `index`. Returns (body, index, pointer).
fn faulty_batch() -> impl Strategy<Value = (Value, usize, String)> {
    (prop::collection::vec(valid_event(), 1..6), any::<prop::sample::Index>(), 0..faults().len()).prop_map(
        |(mut events, index, fault)| {
            let index = index.index(events.len());
            let (pointer, apply) = faults()[fault];
            apply(events[index].as_object_mut().unwrap());
            (json!({ "events": events }), index, pointer.to_string())
        },
    )
}

// ---------------------------------------------------------------------------------------------
// Strategies: query strings and cursors

/// The shared filter keys, as the parser knows them.
const LIST_PARAMS: [&str; 5] = ["sort", "order", "per_page", "page", "cursor"];

/// Values meant to break parsers: injection strings, numbers at the edges, dates out of range,
/// control characters, long and empty text.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(INJECTIONS).prop_map(String::from),
        unicode(0, 40, true),
        unicode(0, 30, false),
        re("[+-]?[0-9]{1,7}-[0-9]{1,2}-[0-9]{1,2}"),
        re("[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})"),
        prop::sample::select(vec![
            "0",
            "-1",
            "1",
            "10",
            "25",
            "100",
            "4294967295",
            "4294967296",
            "9223372036854775807",
            "-9223372036854775808",
            "99999999999999999999",
            "1e3",
            "NaN",
            "",
            " ",
            "today",
            "last_month",
            "mine",
            "all",
            "asc",
            "desc",
            "actor",
            "ip",
            "UTC",
            "Europe/London",
            "America/New_York",
            "Mars/Olympus",
            "+262142-12-31",
            "-262143-01-01",
            "262143-12-31",
            "0000-01-01",
            "9999-12-31",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999+14:00",
            "::1",
            "::ffff:10.0.0.1",
            "1.2.3.4",
            "2001:DB8::1",
        ])
        .prop_map(String::from),
        (1usize..400).prop_map(|n| "q".repeat(n)),
    ]
}

fn hostile_key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(auditlog_api::filters::filter_keys().iter().chain(LIST_PARAMS.iter()).copied().collect::<Vec<_>>())
            .prop_map(String::from),
        1 => prop::sample::select(vec!["format", "bucket", "ids", "bom", "through_seq", "last_event_id", "limit"])
            .prop_map(String::from),
        1 => re("[a-z_]{1,12}"),
        1 => unicode(0, 20, true),
    ]
}

/// Percent-encoded `key=value` pairs.
fn hostile_query() -> impl Strategy<Value = String> {
    prop::collection::vec((hostile_key(), hostile_value()), 0..6).prop_map(|pairs| {
        pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
    })
}

/// Raw query text, not necessarily well-formed.
fn raw_query() -> impl Strategy<Value = String> {
    prop_oneof![
        unicode(0, 80, true),
        re("[a-z_=&%0-9A-F+;.:/-]{0,80}"),
        unicode(0, 80, false),
        hostile_query()
    ]
}

/// Dates near the ends of what chrono, PostgreSQL and SQLite can hold, in every notation the
/// parser might take.
fn edge_date() -> impl Strategy<Value = String> {
    let years = vec![
        -262_144, -262_143, -262_142, -5000, -4714, -4713, -1, 0, 1, 2, 1969, 1970, 2026, 9999, 10_000,
        99_999, 262_142, 262_143, 262_144,
    ];
    let days = vec!["01-01", "12-31", "02-29", "06-15"];
    (prop::sample::select(years), prop::sample::select(days), 0..4).prop_map(|(year, day, style)| match style
    {
        0 => format!("{year:04}-{day}"),
        1 => format!("{year:+05}-{day}"),
        2 => format!("{year:04}-{day}T23:59:59.999999Z"),
        _ => format!("{year:+07}-{day}T00:00:00+14:00"),
    })
}

const ZONES: [&str; 6] =
    ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Chatham", "Australia/Lord_Howe"];
const PRESETS: [&str; 7] =
    ["today", "yesterday", "this_week", "last_7_days", "last_30_days", "this_month", "last_month"];

/// A valid filter query, and what it asks for.
#[derive(Debug, Clone)]
struct ValidQuery {
    query: String,
    actor_ids: Vec<String>,
    module: Option<String>,
    ip: Option<String>,
    q: Option<String>,
    per_page: u32,
}

fn valid_query() -> impl Strategy<Value = ValidQuery> {
    let dates = prop_oneof![
        Just(None),
        prop::sample::select(PRESETS.to_vec()).prop_map(|p| Some(format!("range={p}"))),
        (0i64..4_000_000_000, 1i64..400_000_000, any::<bool>()).prop_map(|(from, span, dates)| {
            let (a, b) = (
                DateTime::from_timestamp(from, 0).unwrap(),
                DateTime::from_timestamp(from + span, 0).unwrap(),
            );
            Some(if dates && span > 86_400 {
                format!("from={}&to={}", a.format("%Y-%m-%d"), b.format("%Y-%m-%d"))
            } else {
                format!("from={}&to={}", enc(&a.to_rfc3339()), enc(&b.to_rfc3339()))
            })
        }),
    ];
    (
        dates,
        proptest::option::of(prop::sample::select(ZONES.to_vec())),
        prop::collection::vec(re("[a-z0-9][a-z0-9:_-]{0,20}"), 0..4),
        proptest::option::of(snake()),
        proptest::option::of(ip()),
        proptest::option::of((re("[a-zA-Z0-9]"), unicode(0, 60, false)).prop_map(|(a, b)| a + &b)),
        (
            proptest::option::of(prop::sample::select(vec![
                "occurred_at",
                "actor",
                "module",
                "verb",
                "action",
                "ip",
            ])),
            proptest::option::of(prop::sample::select(vec!["asc", "desc"])),
            prop::sample::select(PAGE_SIZES.to_vec()),
            prop_oneof![
                Just(None),
                (1u32..10_000).prop_map(|p| Some(format!("page={p}"))),
                Just(Some("cursor=".to_string()))
            ],
            proptest::option::of(prop::sample::select(vec!["all", "mine"])),
        ),
    )
        .prop_map(|(dates, tz, actor_ids, module, ip, q, (sort, order, per_page, paging, scope))| {
            let mut parts: Vec<String> = dates.into_iter().collect();
            parts.extend(tz.map(|tz| format!("tz={}", enc(tz))));
            parts.extend(actor_ids.iter().map(|a| format!("actor_id={}", enc(a))));
            parts.extend(module.iter().map(|m| format!("module={m}")));
            parts.extend(ip.iter().map(|ip| format!("ip={}", enc(ip))));
            parts.extend(q.iter().map(|q| format!("q={}", enc(q))));
            parts.extend(sort.map(|s| format!("sort={s}")));
            parts.extend(order.map(|o| format!("order={o}")));
            parts.push(format!("per_page={per_page}"));
            parts.extend(paging);
            parts.extend(scope.map(|s| format!("scope={s}")));
            let mut unique = Vec::new();
            for a in actor_ids {
                if !unique.contains(&a) {
                    unique.push(a);
                }
            }
            ValidQuery {
                query: parts.join("&"),
                actor_ids: unique,
                module,
                ip: ip.map(|ip| ip.parse::<IpAddr>().unwrap().to_string()),
                q: q.map(|q| q.trim().to_lowercase()),
                per_page,
            }
        })
}

fn sort_strategy() -> impl Strategy<Value = Sort> {
    (
        prop::sample::select(vec![
            SortKey::OccurredAt,
            SortKey::Actor,
            SortKey::Module,
            SortKey::Verb,
            SortKey::Action,
            SortKey::Ip,
        ]),
        prop::sample::select(vec![SortOrder::Asc, SortOrder::Desc]),
    )
        .prop_map(|(key, order)| Sort { key, order })
}

/// A cursor the server could have made: a value for every sort but time, a time in the years the
/// store can hold.
fn valid_cursor() -> impl Strategy<Value = Cursor> {
    (
        sort_strategy(),
        unicode(0, 40, false),
        -62_135_596_800_000_000i64..253_402_300_799_000_000,
        any::<i64>(),
    )
        .prop_map(|(sort, value, occurred_at_us, id)| Cursor {
            key: sort.key,
            order: sort.order,
            value: (sort.key != SortKey::OccurredAt).then_some(value),
            occurred_at_us,
            id: auditlog_db::EventId(id),
        })
}

/// Cursor-shaped garbage: base64 of JSON with the right keys and wrong values, or of anything.
fn forged_cursor() -> impl Strategy<Value = String> {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let field = prop_oneof![
        json_value(),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec!["occurred_at", "actor", "module", "verb", "action", "ip", "asc", "desc"])
            .prop_map(Value::from),
    ];
    let object = (field.clone(), field.clone(), proptest::option::of(field.clone()), field.clone(), field)
        .prop_map(|(k, o, v, t, i)| {
            let mut m = json!({"k": k, "o": o, "t": t, "i": i});
            if let Some(v) = v {
                m["v"] = v;
            }
            m
        });
    prop_oneof![
        object.prop_map(|m| URL_SAFE_NO_PAD.encode(m.to_string())),
        (sort_strategy(), any::<i64>(), any::<i64>(), unicode(0, 10, true)).prop_map(|(s, t, i, v)| {
            let key = serde_json::to_value(s.key).unwrap();
            let order = serde_json::to_value(s.order).unwrap();
            URL_SAFE_NO_PAD.encode(json!({"k": key, "o": order, "v": v, "t": t, "i": i}).to_string())
        }),
        (sort_strategy(), any::<i64>(), any::<i64>()).prop_map(|(s, t, i)| {
            let key = serde_json::to_value(s.key).unwrap();
            let order = serde_json::to_value(s.order).unwrap();
            URL_SAFE_NO_PAD.encode(json!({"k": key, "o": order, "t": t, "i": i}).to_string())
        }),
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| URL_SAFE_NO_PAD.encode(b)),
        unicode(0, 40, true),
    ]
}

// ---------------------------------------------------------------------------------------------
// Pure properties

// Generating whole events is the costly part: half the cases of the other properties.
proptest! {
    #![proptest_config(config(128))]

    #[test]
    fn ingest_never_panics_on_arbitrary_bytes(body in prop::collection::vec(any::<u8>(), 0..600)) {
        if let Err(e) = parse_body(&body, &caller(), Utc::now(), 10) {
            assert_clear_rejection(&e, &String::from_utf8_lossy(&body));
        }
    }

    #[test]
    fn ingest_never_panics_on_arbitrary_json(
        value in prop_oneof![
            json_value(),
            json_object().prop_map(Value::Object),
            prop::collection::vec(json_object().prop_map(Value::Object), 0..4).prop_map(|events| json!({"events": events})),
        ]
    ) {
        match parse_body(value.to_string().as_bytes(), &caller(), Utc::now(), 10) {
            Ok(parsed) => prop_assert!(!parsed.drafts.is_empty()),
            Err(e) => assert_clear_rejection(&e, &value),
        }
    }

    #[test]
    fn valid_events_are_accepted_as_given(events in prop::collection::vec(valid_event(), 1..8), batch in any::<bool>()) {
        let body = if batch || events.len() > 1 { json!({"events": events}) } else { events[0].clone() };
        let now = Utc::now();
        let parsed = match parse_body(body.to_string().as_bytes(), &caller(), now, 1000) {
            Ok(parsed) => parsed,
            Err(e) => panic!("valid input rejected: {:?}\n{body:#}", e.problem()),
        };
        prop_assert_eq!(parsed.drafts.len(), events.len());
        for (draft, event) in parsed.drafts.iter().zip(&events) {
            let action = event["action"].as_str().unwrap();
            prop_assert_eq!(&draft.action, action);
            prop_assert_eq!(format!("{}.{}", draft.module, draft.verb), action);
            let text = |v: &Value| match v {
                Value::String(s) => s.trim().to_string(),
                other => other.to_string(),
            };
            match event.get("actor") {
                None => prop_assert_eq!(&draft.actor, &caller()),
                Some(actor) => {
                    prop_assert_eq!(&draft.actor.id, &text(&actor["id"]));
                    prop_assert_eq!(&draft.actor.actor_type, actor["type"].as_str().unwrap_or("user"));
                }
            }
            prop_assert_eq!(draft.entity.as_ref().map(|e| e.id.clone()), event.get("entity").map(|e| text(&e["id"])));
            prop_assert_eq!(draft.related.len(), event.get("related").map_or(0, |r| r.as_array().unwrap().len()));
            prop_assert_eq!(draft.ip.clone(), event.get("ip").map(|ip| ip.as_str().unwrap().parse::<IpAddr>().unwrap().to_string()));
            prop_assert_eq!(draft.external_id.clone(), event.get("external_id").map(text));
            match event.get("description") {
                Some(d) => prop_assert_eq!(&draft.description, &text(d)),
                None => prop_assert!(!draft.description.is_empty()),
            }
            let empty = json!({});
            prop_assert_eq!(&Value::Object(draft.metadata.clone()), event.get("metadata").unwrap_or(&empty));
            match event.get("occurred_at") {
                Some(t) => {
                    let t = DateTime::parse_from_rfc3339(t.as_str().unwrap()).unwrap();
                    prop_assert_eq!(draft.occurred_at.and_utc().timestamp_micros(), t.timestamp_micros());
                }
                None => prop_assert_eq!(draft.occurred_at.and_utc().timestamp_micros(), now.timestamp_micros()),
            }
            if let Some(changes) = event.get("changes") {
                prop_assert_eq!(draft.changes.len(), changes.as_array().unwrap().len());
            } else {
                // before/after: only fields whose value differs, each once.
                let fields: BTreeSet<&str> = draft.changes.iter().map(|c| c.field.as_str()).collect();
                prop_assert_eq!(fields.len(), draft.changes.len());
                prop_assert!(draft.changes.iter().all(|c| c.old != c.new));
            }
        }
        // Formatting does not change the idempotency fingerprint.
        let pretty = parse_body(serde_json::to_string_pretty(&body).unwrap().as_bytes(), &caller(), now, 1000).unwrap();
        prop_assert_eq!(pretty.request_hash, parsed.request_hash);
    }

    #[test]
    fn an_invalid_field_is_named_and_nothing_else((body, index, pointer) in faulty_batch()) {
        let single = body["events"].as_array().unwrap().len() == 1;
        let (body, expected) = if single {
            (body["events"][0].clone(), format!("/{pointer}"))
        } else {
            (body.clone(), format!("/events/{index}/{pointer}"))
        };
        match parse_body(body.to_string().as_bytes(), &caller(), Utc::now(), 1000) {
            Err(e @ ApiError::Validation { .. }) => {
                assert_clear_rejection(&e, &body);
                let problem = e.problem();
                let pointers: Vec<&str> = problem.errors.iter().map(|e| e.pointer.as_str()).collect();
                prop_assert!(pointers.contains(&expected.as_str()), "expected {expected} in {pointers:?}; {body}");
                let prefix = if single { "/".to_string() } else { format!("/events/{index}/") };
                prop_assert!(pointers.iter().all(|p| p.starts_with(&prefix)), "only event {index} is named: {pointers:?}");
                prop_assert!(problem.detail.contains(&problem.errors[0].pointer), "the detail names the field: {}", problem.detail);
            }
            other => panic!("expected a 422 naming {expected}, got {:?}\n{body}", other.map(|p| p.drafts.len())),
        }
    }

}

proptest! {
    #![proptest_config(config(256))]

    #[test]
    fn batch_size_and_shape_limits(n in 0usize..12) {
        let body = json!({"events": vec![json!({"action": "a.b"}); n]});
        match parse_body(body.to_string().as_bytes(), &caller(), Utc::now(), 8) {
            Ok(parsed) => prop_assert!((1..=8).contains(&n) && parsed.drafts.len() == n),
            Err(e) => {
                assert_clear_rejection(&e, &n);
                let expected = if n == 0 { 422 } else { 413 };
                prop_assert_eq!(e.status_code().as_u16(), expected, "{} events", n);
            }
        }
    }

    #[test]
    fn filter_parser_never_panics(query in raw_query()) {
        let ctx = filter_context();
        let check = |result: Result<(), ApiError>| {
            if let Err(e) = result {
                assert_clear_rejection(&e, &query);
                assert_eq!(e.status_code().as_u16(), 400, "{query:?}: {e:?}");
            }
        };
        check(list_request(&query, &ctx).map(|request| {
            assert!(PAGE_SIZES.contains(&request.per_page));
            let f = &request.filter;
            if let (Some(from), Some(until)) = (f.from, f.until) {
                assert!(from < until, "{query:?}");
            }
            assert!(f.actor_ids.len() <= 100 && f.actor_ids.iter().collect::<BTreeSet<_>>().len() == f.actor_ids.len());
            assert!(f.q.as_ref().is_none_or(|q| !q.is_empty() && q.chars().count() <= 200 && !q.chars().any(char::is_control)));
        }));
        let filter_of = |params: EventFilterParams| params.filter(&ctx).map(|_| ());
        check(parse_filtered::<TimelineParams>(&query).and_then(|(f, _)| filter_of(f)));
        check(parse_filtered::<ExportParams>(&query).and_then(|(f, _)| filter_of(f)));
        check(parse_filtered::<StreamParams>(&query).and_then(|(f, _)| filter_of(f)));
    }

    #[test]
    fn hostile_filter_values_are_rejected_by_name(key in prop::sample::select(auditlog_api::filters::filter_keys().iter().chain(LIST_PARAMS.iter()).copied().collect::<Vec<_>>()), value in hostile_value()) {
        let query = format!("{key}={}", enc(&value));
        match list_request(&query, &filter_context()) {
            Ok(request) => {
                // Accepted: the value is used as data, exactly (trimmed), or it was blank.
                let f = &request.filter;
                let used = match key {
                    "module" => f.module.clone(),
                    "verb" => f.verb.clone(),
                    "action" => f.action.clone(),
                    "entity_type" => f.entity_type.clone(),
                    "entity_id" => f.entity_id.clone(),
                    "actor_id" => f.actor_ids.first().cloned(),
                    "q" => f.q.clone(),
                    _ => None,
                };
                if let Some(used) = used {
                    let expected = if key == "q" { value.trim().to_lowercase() } else { value.trim().to_string() };
                    prop_assert!(!used.chars().any(char::is_control), "control characters are refused: {used:?}");
                    prop_assert_eq!(used, expected);
                }
            }
            Err(e) => {
                assert_clear_rejection(&e, &query);
                prop_assert_eq!(e.status_code().as_u16(), 400);
                let problem = e.problem();
                prop_assert_eq!(problem.errors.len(), 1);
                prop_assert_eq!(&problem.errors[0].pointer, key, "the parameter is named: {}", problem.detail);
                prop_assert!(problem.detail.contains(key), "{}", problem.detail);
            }
        }
    }

    #[test]
    fn dates_at_the_edges_of_the_calendar_are_refused_cleanly(
        key in prop::sample::select(vec!["from", "to"]),
        other in proptest::option::of(edge_date()),
        date in edge_date(),
        tz in prop::sample::select(ZONES.to_vec()),
        bucket in prop::sample::select(vec!["hour", "day"]),
    ) {
        let mut query = format!("{key}={}&tz={}", enc(&date), enc(tz));
        if let Some(other) = &other {
            query.push_str(&format!("&{}={}", if key == "from" { "to" } else { "from" }, enc(other)));
        }
        let ctx = filter_context();
        match list_request(&query, &ctx) {
            Ok(request) => {
                for t in request.filter.from.iter().chain(request.filter.until.iter()) {
                    prop_assert!((0..=10_000).contains(&chrono::Datelike::year(t)), "{query}: {t}");
                }
            }
            Err(e) => assert_clear_rejection(&e, &query),
        }
        let (filter, params) = parse_filtered::<TimelineParams>(&format!("{query}&bucket={bucket}")).unwrap();
        prop_assert!(params.bucket.is_some());
        if let Err(e) = filter.filter(&ctx) {
            assert_clear_rejection(&e, &query);
        }
    }

    #[test]
    fn valid_filters_are_accepted(v in valid_query()) {
        let request = match list_request(&v.query, &filter_context()) {
            Ok(request) => request,
            Err(e) => panic!("valid query rejected: {:?}: {:?}", v.query, e.problem()),
        };
        let f = &request.filter;
        prop_assert_eq!(&f.actor_ids, &v.actor_ids);
        prop_assert_eq!(&f.module, &v.module);
        prop_assert_eq!(&f.ip, &v.ip);
        prop_assert_eq!(&f.q, &v.q);
        prop_assert_eq!(request.per_page, v.per_page);
        if let (Some(from), Some(until)) = (f.from, f.until) {
            prop_assert!(from < until);
        }
        // The other readers accept the same filters.
        let stats = format!("{}&bucket=day", v.query.split('&').filter(|p| !p.starts_with("sort=") && !p.starts_with("order=") && !p.starts_with("per_page=") && !p.starts_with("page=") && !p.starts_with("cursor=")).collect::<Vec<_>>().join("&"));
        let (filter, _) = parse_filtered::<TimelineParams>(&stats).unwrap();
        prop_assert_eq!(filter.filter(&filter_context()).unwrap().actor_ids, v.actor_ids);
    }

    #[test]
    fn cursors_round_trip_and_only_for_their_sort(cursor in valid_cursor(), other in sort_strategy()) {
        let sort = Sort { key: cursor.key, order: cursor.order };
        let text = cursor.encode();
        prop_assert_eq!(Cursor::decode(&text, sort), Ok(cursor.clone()));
        if other != sort {
            prop_assert!(Cursor::decode(&text, other).is_err());
        }
        // Through the list parser, with the sort it was made for.
        let key = serde_json::to_value(sort.key).unwrap();
        let order = serde_json::to_value(sort.order).unwrap();
        let query = format!("sort={}&order={}&cursor={text}", key.as_str().unwrap(), order.as_str().unwrap());
        let request = list_request(&query, &filter_context()).unwrap();
        prop_assert_eq!(request.paging, auditlog_db::queries::events::Paging::Cursor(Some(cursor)));
    }

    #[test]
    fn forged_cursors_are_refused_cleanly(text in forged_cursor(), sort in sort_strategy()) {
        match Cursor::decode(&text, sort) {
            Ok(cursor) => {
                // Only a well-formed cursor for this sort gets through, with a storable time.
                prop_assert_eq!((cursor.key, cursor.order), (sort.key, sort.order));
                prop_assert_eq!(cursor.value.is_none(), sort.key == SortKey::OccurredAt);
                prop_assert!(!cursor.value.unwrap_or_default().contains('\0'));
                let year = chrono::Datelike::year(&DateTime::from_timestamp_micros(cursor.occurred_at_us).unwrap());
                prop_assert!((1..=9999).contains(&year), "year {year}");
            }
            Err(message) => prop_assert!(message.contains("cursor"), "{message}"),
        }
        let query = format!("cursor={}", enc(&text));
        if let Err(e) = list_request(&query, &filter_context()) {
            assert_clear_rejection(&e, &query);
            prop_assert_eq!(&e.problem().errors[0].pointer, "cursor");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Through the HTTP app

/// Strings that have broken SQL built by hand somewhere.
const INJECTIONS: &[&str] = &[
    "' OR 1=1 --",
    "' OR '1'='1",
    "\"; DROP TABLE events; --",
    "'; DELETE FROM events WHERE '1'='1",
    "%' --",
    "%",
    "_",
    "\\",
    "\\'",
    "a\\%b",
    "' UNION SELECT id, password_hash FROM users --",
    "1; SELECT pg_sleep(5)",
    "admin'/*",
    "$$; DROP TABLE events; $$",
    "events.id) OR (1=1",
    "1 OR 1=1",
    "-1",
    "9223372036854775807",
    "NULL",
    "\u{2019} OR \u{2018}1\u{2019}=\u{2019}1",
    "\u{ff07} OR 1=1 --",
    "\u{2bc}; DROP TABLE users; --",
    "💥'\"`;",
    "\u{0}",
    "x\u{0}y' OR 1=1",
    "\n--",
    "%00",
];

/// How many events the tenant's chain holds, and its head.
fn head(ctx: &Ctx) -> (i64, String) {
    let tenant = auditlog_db::queries::tenants::get(&mut ctx.pool.get().unwrap(), ctx.acme_id).unwrap();
    (tenant.head_seq, tenant.head_hash)
}

fn verify_ok(ctx: &Ctx) -> i64 {
    let result =
        auditlog_db::integrity::verify_chain(&mut ctx.pool.get().unwrap(), ctx.acme_id, |_, _| {}).unwrap();
    assert!(result.ok, "{result:?}");
    result.events_checked
}

/// A status the server must never answer to bad input: anything but 2xx and a clean 4xx problem.
fn assert_sane(reply: &Reply, what: &str) {
    let status = reply.status.as_u16();
    assert!(status < 500, "{what}: {status} {}", reply.body);
    if status >= 400 {
        assert_eq!(reply.content_type(), "application/problem+json", "{what}: {}", reply.body);
        assert_eq!(reply.body["status"], status, "{what}");
        assert!(
            reply.body["detail"].as_str().is_some_and(|d| !d.trim().is_empty()),
            "{what}: {}",
            reply.body
        );
        assert_own_words(reply, what, Echo::Stripped);
    }
}

/// The problem's `detail` and every `errors[].message` are free of library wording.
fn assert_own_words(reply: &Reply, what: &str, echo: Echo) {
    let pointers = reply.pointers();
    let pointers: Vec<&str> = pointers.iter().map(String::as_str).collect();
    let messages = reply.body["errors"].as_array().cloned().unwrap_or_default();
    let texts = std::iter::once(&reply.body["detail"]).chain(messages.iter().map(|e| &e["message"]));
    for text in texts {
        let text = text.as_str().unwrap_or_else(|| panic!("{what}: no text in {}", reply.body));
        if let Some(found) = library_wording(text, &pointers, echo) {
            panic!("{what}: {found:?} in the problem text {text:?}\n{}", reply.body);
        }
    }
}

/// A request with a raw body of the given content type.
fn raw(method: &str, uri: &str, token: &str, content_type: &str, body: &[u8]) -> TestRequest {
    let req = match method {
        "POST" => TestRequest::post(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::get(),
    };
    let req =
        req.uri(uri).insert_header(("content-type", content_type.to_string())).set_payload(body.to_vec());
    // Each from its own address, so that the per-IP sign-in limit stays out of the way.
    static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let req =
        req.peer_addr(format!("10.{}.{}.{}:5000", n >> 16 & 255, n >> 8 & 255, n & 255).parse().unwrap());
    if token.is_empty() {
        req
    } else {
        req.insert_header(("authorization", format!("Bearer {token}")))
    }
}

/// A dashboard access token for `user` with the given expiry, signed with `secret`.
fn access_token(user: &auditlog_db::models::User, exp: i64, secret: &[u8]) -> String {
    let claims = auditlog_api::auth::Claims {
        sub: user.id.to_string(),
        tenant: user.tenant_id,
        role: user.role(),
        iat: exp - 3600,
        exp,
        jti: "test".into(),
        epoch: user.session_epoch,
    };
    let key = jsonwebtoken::EncodingKey::from_secret(secret);
    jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256), &claims, &key).unwrap()
}

both_backends! {
    async fn generated_events_through_http(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let n = http_cases();
        let valid = samples(prop::collection::vec(valid_event(), 1..5), n);
        let faulty = samples(faulty_batch(), n);
        for (events, (bad, index, pointer)) in valid.into_iter().zip(faulty) {
            // A valid batch is stored whole, and reads back as posted.
            let before = head(&ctx);
            let body = json!({"events": events});
            let reply = post(&app, &token, "/api/v1/events", &body).await;
            assert_eq!(reply.status.as_u16(), 201, "{}\n{body:#}", reply.body);
            let ids = reply.ids();
            let fresh = reply.body["accepted"].as_u64().unwrap() as i64;
            assert_eq!(fresh + reply.body["duplicates"].as_i64().unwrap(), events.len() as i64);
            assert_eq!(head(&ctx).0, before.0 + fresh);
            for (id, event) in ids.iter().zip(&events) {
                let stored = get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200).body;
                match event.get("external_id") {
                    // With an external id the event may be a duplicate of an earlier one.
                    Some(external) => assert_eq!(stored["external_id"], external.as_str().unwrap().trim()),
                    None => {
                        assert_eq!(stored["action"], event["action"]);
                        assert_eq!(stored["metadata"], *event.get("metadata").unwrap_or(&json!({})), "metadata round trip");
                        assert_eq!(stored["related"].as_array().unwrap().len(), event.get("related").map_or(0, |r| r.as_array().unwrap().len()));
                    }
                }
            }
            // An invalid one is refused whole, naming the field, and stores nothing.
            let before = head(&ctx);
            let reply = post(&app, &token, "/api/v1/events", &bad).await;
            let what = format!("{pointer} in event {index}: {bad}");
            let reply = reply.problem(422);
            assert_sane(&reply, &what);
            let expected = format!("/events/{index}/{pointer}");
            assert!(reply.pointers().contains(&expected), "{what}: {:?}", reply.pointers());
            assert_eq!(head(&ctx), before, "nothing of a rejected batch is stored");
        }
        verify_ok(&ctx);
    }

    async fn generated_queries_through_http(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        post(&app, &token, "/api/v1/events", &json!({"events": [
            {"action": "booking.created", "entity": {"type": "booking", "id": "1"}, "ip": "10.0.0.1"},
            {"action": "customer.updated", "actor": {"id": "u1", "name": "Mia"}, "related": [{"type": "booking", "id": "1"}]}
        ]})).await.expect(201);
        let n = http_cases();
        let hostile = samples(hostile_query(), n);
        let cursors = samples(forged_cursor(), n);
        let valid = samples(valid_query(), n);
        for ((query, cursor), valid) in hostile.iter().zip(&cursors).zip(&valid) {
            for uri in [
                format!("/api/v1/events?{query}"),
                format!("/api/v1/events/export?format=csv&{query}"),
                format!("/api/v1/stats/timeline?{query}"),
                format!("/api/v1/entities/booking/1/history?{query}"),
            ] {
                assert_sane(&get(&app, &token, &uri).await, &uri);
            }
            let uri = format!("/api/v1/events?cursor={}", enc(cursor));
            let reply = get(&app, &token, &uri).await;
            assert_sane(&reply, &uri);
            if reply.status.as_u16() != 200 {
                assert_eq!(reply.problem(400).pointers(), ["cursor"], "{uri}");
            }
            let uri = format!("/api/v1/events/stream?{query}");
            let response = actix_web::test::call_service(&app, TestRequest::get().uri(&uri).insert_header(("authorization", format!("Bearer {token}"))).to_request()).await;
            assert!(response.status().as_u16() < 500, "{uri}: {}", response.status());
            // A valid query is answered, whatever it matches.
            let uri = format!("/api/v1/events?{}", valid.query);
            let reply = get(&app, &token, &uri).await;
            assert_eq!(reply.status.as_u16(), 200, "{uri}: {}", reply.body);
            assert!(reply.body["items"].as_array().unwrap().len() <= valid.per_page as usize);
            for item in reply.body["items"].as_array().unwrap() {
                if let Some(module) = &valid.module {
                    assert_eq!(item["module"], module.as_str());
                }
                if !valid.actor_ids.is_empty() {
                    assert!(valid.actor_ids.iter().any(|a| item["actor"]["id"] == a.as_str()), "{uri}");
                }
            }
        }
        verify_ok(&ctx);
    }

    async fn injection_strings_in_every_filter_are_data_or_refused(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        // One event per storable string, carrying it in every text field a filter looks at.
        let storable: Vec<&str> = INJECTIONS.iter().copied().filter(|s| !s.chars().any(char::is_control)).collect();
        let events: Vec<Value> = storable.iter().map(|s| json!({
            "action": "customer.updated",
            "actor": {"id": s, "name": format!("Name {s}"), "email": "staff@acme.test"},
            "entity": {"type": "customer", "id": s, "label": format!("Label {s}")},
            "description": format!("Note {s}"),
            "ip": "192.0.2.1",
        })).collect();
        let fixture = post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201).ids();
        let (seq_before, _) = head(&ctx);
        let users_before = get(&app, &token, "/api/v1/users").await.expect(200).body;

        let exact = ["actor_id", "module", "verb", "action", "entity_type", "entity_id"];
        let strict = ["ip", "tz", "from", "to", "range", "scope", "sort", "order", "per_page", "page", "cursor"];
        let field = |item: &Value, param: &str| -> Value {
            match param {
                "actor_id" => item["actor"]["id"].clone(),
                "entity_type" => item["entity"]["type"].clone(),
                "entity_id" => item["entity"]["id"].clone(),
                other => item[other].clone(),
            }
        };
        let contains = |item: &Value, needle: &str| {
            let fields = [&item["description"], &item["entity"]["label"], &item["entity"]["id"], &item["actor"]["name"], &item["actor"]["email"], &item["action"], &item["ip"]];
            fields.iter().any(|f| f.as_str().is_some_and(|f| f.to_lowercase().contains(needle)))
                || needle.parse::<i64>().is_ok_and(|id| item["id"] == id)
        };
        for &s in INJECTIONS {
            let value = enc(s);
            let needle = s.trim();
            let stored: Vec<i64> = storable.iter().zip(&fixture).filter(|(t, _)| t.trim() == needle).map(|(_, id)| *id).collect();
            for param in exact.iter().chain(["q"].iter()).chain(strict.iter()) {
                let what = format!("{param}={s:?}");
                let list = get(&app, &token, &format!("/api/v1/events?per_page=100&{param}={value}")).await;
                assert_sane(&list, &what);
                // Enumerations, numbers, dates, zones, addresses and cursors, and control characters
                // anywhere (a trimmed-off newline included): refused by name, by every reader.
                if strict.contains(param) || s.chars().any(char::is_control) {
                    let list = list.problem(400);
                    assert_eq!(list.pointers(), [param.to_string()], "{what}: {}", list.body);
                    for uri in [
                        format!("/api/v1/events/export?format=csv&{param}={value}"),
                        format!("/api/v1/stats/timeline?{param}={value}"),
                        format!("/api/v1/entities/customer/c1/history?{param}={value}"),
                    ] {
                        let reply = get(&app, &token, &uri).await;
                        assert_sane(&reply, &uri);
                        assert_eq!(reply.problem(400).pointers(), [param.to_string()], "{uri}");
                    }
                    continue;
                }
                // Data: what matches contains the string, and what contains it matches.
                let list = list.expect(200);
                let items = list.body["items"].as_array().unwrap().clone();
                let total = list.body["total"].as_i64().unwrap();
                assert!(total <= 100, "{what}: matched {total}, more than any data holds");
                for item in &items {
                    if *param == "q" {
                        assert!(contains(item, &needle.to_lowercase()), "{what} matched {item}");
                    } else {
                        assert_eq!(field(item, param), needle, "{what} matched {item}");
                    }
                }
                let ids = list.ids();
                if ["q", "actor_id", "entity_id"].contains(param) {
                    assert!(stored.iter().all(|id| ids.contains(id)), "{what}: {stored:?} not in {ids:?}");
                } else {
                    assert!(ids.is_empty(), "{what}: no module, verb, action or type holds it");
                }
                // Stats count the same events; the CSV export holds the same rows.
                let stats = get(&app, &token, &format!("/api/v1/stats/timeline?{param}={value}")).await.expect(200);
                assert_eq!(stats.body["total"].as_i64(), Some(total), "{what}: stats");
                let csv = get(&app, &token, &format!("/api/v1/events/export?format=csv&{param}={value}")).await.expect(200);
                let text = csv.body.as_str().unwrap().to_string();
                let rows: Vec<i64> = csv::Reader::from_reader(text.as_bytes()).records().map(|r| r.unwrap()[0].parse().unwrap()).collect();
                assert_eq!(rows, ids, "{what}: export");
                // A record's history with the same filter: a subset of the list.
                let history = get(&app, &token, &format!("/api/v1/entities/customer/{}/history?per_page=100&{param}={value}", enc(storable[0]))).await.expect(200);
                assert!(history.ids().iter().all(|id| ids.contains(id)), "{what}: history");
            }
            // Sort columns and keyword together, facets and history: data, never SQL.
            for sort in ["actor", "module", "verb", "action", "ip"] {
                let uri = format!("/api/v1/events?sort={sort}&order=asc&cursor=&q={value}");
                assert_sane(&get(&app, &token, &uri).await, &uri);
            }
            let facets = get(&app, &token, &format!("/api/v1/facets/actors?limit=100&q={value}")).await;
            assert_sane(&facets, &format!("facets q={s:?}"));
            if facets.status == 200 {
                for a in facets.body["items"].as_array().unwrap() {
                    let n = needle.to_lowercase();
                    let hit = a["id"] == needle || [&a["name"], &a["email"]].iter().any(|f| f.as_str().is_some_and(|f| f.to_lowercase().contains(&n)));
                    assert!(hit, "facets q={s:?} offered {a}");
                }
            }
            for uri in [format!("/api/v1/entities/customer/{value}/history"), format!("/api/v1/entities/{value}/{value}/history")] {
                let history = get(&app, &token, &uri).await;
                assert_sane(&history, &uri);
                if history.status == 200 {
                    for item in history.body["items"].as_array().unwrap() {
                        let own = item["entity"]["id"] == s || item["related"].as_array().is_some_and(|r| r.iter().any(|r| r["id"] == s));
                        assert!(own, "{uri} matched {item}");
                    }
                    if uri.contains("/customer/") {
                        let ids = history.ids();
                        let exact: Vec<i64> = storable.iter().zip(&fixture).filter(|(t, _)| **t == s).map(|(_, id)| *id).collect();
                        assert!(exact.iter().all(|id| ids.contains(id)), "{uri}: {exact:?} not in {ids:?}");
                    }
                }
            }
            let uri = format!("/api/v1/events/stream?entity_id={value}");
            let response = actix_web::test::call_service(&app, TestRequest::get().uri(&uri).insert_header(("authorization", format!("Bearer {token}"))).to_request()).await;
            assert!(response.status().as_u16() < 500, "{uri}: {}", response.status());
        }

        // Forged cursors of the right shape: a NUL in the value, times no database can hold.
        use base64::Engine;
        let b64 = |v: Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        for (sort, cursor) in [
            ("actor", json!({"k": "actor", "o": "desc", "v": "a\u{0}b", "t": 0, "i": 1})),
            ("ip", json!({"k": "ip", "o": "asc", "v": "' OR 1=1 --\u{0}", "t": 0, "i": 1})),
            ("occurred_at", json!({"k": "occurred_at", "o": "desc", "t": -8_000_000_000_000_000_000i64, "i": 1})),
            ("occurred_at", json!({"k": "occurred_at", "o": "desc", "t": 8_000_000_000_000_000_000i64, "i": 1})),
            ("module", json!({"k": "module", "o": "desc", "v": "x", "t": -200_000_000_000_000_000i64, "i": 1})),
        ] {
            let order = cursor["o"].as_str().unwrap();
            let uri = format!("/api/v1/events?sort={sort}&order={order}&cursor={}", b64(cursor.clone()));
            let reply = get(&app, &token, &uri).await;
            assert_sane(&reply, &uri);
            assert_eq!(reply.problem(400).pointers(), ["cursor"], "{cursor}");
        }

        // The tables are intact: every event still there (exports added their own records), users
        // unchanged, the chain verifies, and ingest still works.
        let exported = get(&app, &token, "/api/v1/events?action=auditlog.exported&per_page=10").await.expect(200).body["total"].as_i64().unwrap();
        assert!(exported > 0);
        let (seq_after, _) = head(&ctx);
        assert_eq!(seq_after, seq_before + exported, "only the exports' own records were added");
        assert_eq!(verify_ok(&ctx), seq_after);
        assert_eq!(get(&app, &token, "/api/v1/users").await.expect(200).body, users_before);
        for id in &fixture {
            get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200);
        }
        post(&app, &token, "/api/v1/events", &json!({"action": "booking.created"})).await.expect(201);
        let verify = get(&app, &token, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(verify["ok"], true);
    }

    async fn injection_strings_in_sign_in_and_admin_bodies(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        for (i, &s) in INJECTIONS.iter().enumerate() {
            // Each from its own address, so that the per-IP sign-in limit stays out of the way.
            let login = TestRequest::post().uri("/api/v1/auth/login").peer_addr(format!("198.51.100.{i}:5000").parse().unwrap());
            let login = send(&app, login.set_json(json!({"email": s, "password": s, "tenant": s}))).await;
            assert_sane(&login, &format!("login {s:?}"));
            assert!(matches!(login.status.as_u16(), 401 | 422), "login {s:?}: {}", login.body);
            let user = post(&app, &token, "/api/v1/users", &json!({"email": format!("{s}@x.test"), "name": s, "password": "a long enough password", "role": "member", "actor_id": s})).await;
            assert_sane(&user, &format!("create user {s:?}"));
            let token_reply = post(&app, &token, "/api/v1/tokens", &json!({"name": s, "scopes": ["events:read"]})).await;
            assert_sane(&token_reply, &format!("create token {s:?}"));
            let delete = send(&app, TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {token}"))).set_json(json!({"ids": [i64::MAX], "reason": s}))).await;
            assert_sane(&delete, &format!("delete reason {s:?}"));
        }
        // Nobody signed in by injection, and the admin still can.
        let login = TestRequest::post().uri("/api/v1/auth/login").peer_addr("203.0.113.9:5000".parse().unwrap());
        send(&app, login.set_json(json!({"email": "admin@acme.test", "password": "' OR 1=1 --"}))).await.problem(401);
        let login = TestRequest::post().uri("/api/v1/auth/login").peer_addr("203.0.113.9:5000".parse().unwrap());
        send(&app, login.set_json(json!({"email": "admin@acme.test", "password": "correct horse battery"}))).await.expect(200);
        verify_ok(&ctx);
    }
}

// ---------------------------------------------------------------------------------------------
// Problem texts, and repeated JSON keys

both_backends! {
    async fn problem_texts_are_the_products_own_words(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let user = ctx.member.id;
        let json = "application/json";
        // Every endpoint that reads a JSON body.
        let bodies = [
            ("POST", "/api/v1/events".to_string()),
            ("POST", "/api/v1/auth/login".to_string()),
            ("POST", "/api/v1/auth/password".to_string()),
            ("POST", "/api/v1/users".to_string()),
            ("PATCH", format!("/api/v1/users/{user}")),
            ("POST", "/api/v1/tokens".to_string()),
            ("PUT", "/api/v1/settings/retention".to_string()),
            ("DELETE", "/api/v1/events".to_string()),
        ];
        let not_json: [&[u8]; 14] = [
            b"",
            b"   ",
            b"{",
            b"{\"a\": tru}",
            b"{} []",
            b"{\"a\": 1,}",
            b"[1, 2",
            b"{1: 2}",
            b"{\"a\": \"\\u00\"}",
            b"{\"a\": \"\\q\"}",
            b"{\"a\": \"\x01\"}",
            b"{\"a\": 1e400}",
            b"{\"a\": 01}",
            b"\xff\xfe{}",
        ];
        let mut checked = 0;
        let mut check = |reply: Reply, what: String| {
            let status = reply.status.as_u16();
            assert!((400..500).contains(&status), "{what}: {status} {}", reply.body);
            let reply = reply.problem(status);
            assert_own_words(&reply, &what, Echo::Checked);
            checked += 1;
            reply
        };
        for (method, uri) in &bodies {
            for body in not_json {
                let reply = send(&app, raw(method, uri, &token, json, body)).await;
                let what = format!("{method} {uri} {:?}", String::from_utf8_lossy(body));
                let reply = check(reply, what.clone());
                // `web::Json` (sign-in, password change) reads into the type as it parses, so a
                // member it does not take may be refused (422) before the broken JSON after it.
                let typed_as_parsed = uri.starts_with("/api/v1/auth/");
                assert!(reply.status == 400 || (typed_as_parsed && reply.status == 422), "{what}: {}", reply.body);
            }
            // Where the JSON breaks off is told in our words.
            let reply = check(send(&app, raw(method, uri, &token, json, b"[\n  trux\n]")).await, format!("{method} {uri}"));
            assert_eq!(reply.body["detail"], "the request body is not valid JSON (line 2, column 6)", "{method} {uri}");
            // Not JSON at all, by its content type.
            let reply = check(send(&app, raw(method, uri, &token, "text/plain", b"{}")).await, format!("{method} {uri} text/plain"));
            assert_eq!(reply.status, 415);
            // Shapes that are JSON but not what the endpoint takes.
            for body in ["[]", "[1]", "\"text\"", "5", "null", "true", "{\"a\": {\"b\": [1, {\"c\": null}]}}"] {
                check(send(&app, raw(method, uri, &token, json, body.as_bytes())).await, format!("{method} {uri} {body}"));
            }
        }

        // Wrong types, unknown values and fields, missing fields: the member is named.
        let login = "/api/v1/auth/login";
        let cases: Vec<(&str, String, Value, &str)> = vec![
            ("POST", "/api/v1/events".into(), json!({"action": 5}), "/action"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "actor": "x"}), "/actor"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "actor": {"name": "n"}}), "/actor/id"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "actor": {"id": "1", "type": 3}}), "/actor/type"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "related": {}}), "/related"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "metadata": []}), "/metadata"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "changes": [{"field": 1, "new": 2}]}), "/changes/0/field"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "entity": {"type": "t", "id": 1.5}}), "/entity/id"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "entity": {"type": "t", "id": 1e30}}), "/entity/id"),
            ("POST", "/api/v1/events".into(), json!({"action": "a.b", "colour": "red"}), "/colour"),
            ("POST", "/api/v1/events".into(), json!({"events": [{"action": "a.b"}], "extra": 1}), "/extra"),
            ("POST", "/api/v1/events".into(), json!({"events": [{"action": "a.b"}, {"actor": {"id": "1"}}]}), "/events/1/action"),
            ("POST", "/api/v1/events".into(), json!({"events": {}}), "/events"),
            ("POST", login.into(), json!({"email": "a@b.c"}), "/password"),
            ("POST", login.into(), json!({"email": "a@b.c", "password": "x", "remember": true}), "/remember"),
            ("POST", "/api/v1/auth/password".into(), json!({"current_password": "x"}), "/new_password"),
            ("POST", "/api/v1/users".into(), json!({"email": "x@acme.test", "name": "N", "password": "0123456789ab", "role": "boss"}), "/role"),
            ("POST", "/api/v1/users".into(), json!({"email": "x@acme.test", "name": "N", "password": "0123456789ab", "role": 7}), "/role"),
            ("POST", "/api/v1/users".into(), json!({"email": "x@acme.test", "name": "N", "password": "0123456789ab", "role": "member", "colour": 1}), "/colour"),
            ("POST", "/api/v1/users".into(), json!({"email": "x@acme.test"}), "/name"),
            ("PATCH", format!("/api/v1/users/{user}"), json!({"role": "owner"}), "/role"),
            ("PATCH", format!("/api/v1/users/{user}"), json!({"active": "yes"}), "/active"),
            ("PATCH", format!("/api/v1/users/{user}"), json!({"nickname": "x"}), "/nickname"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": ["events:delete"]}), "/scopes/0"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": "events:read"}), "/scopes"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": ["events:read"], "expires_in_days": "10"}), "/expires_in_days"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": ["events:read"], "expires_in_days": 1.5}), "/expires_in_days"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": ["events:read"], "expires_in_days": 1e300}), "/expires_in_days"),
            ("POST", "/api/v1/tokens".into(), json!({"scopes": ["events:read"]}), "/name"),
            ("PUT", "/api/v1/settings/retention".into(), json!({"days": "forever"}), "/days"),
            ("PUT", "/api/v1/settings/retention".into(), json!({"days": true}), "/days"),
            ("PUT", "/api/v1/settings/retention".into(), json!({"days": 3e9}), "/days"),
            ("PUT", "/api/v1/settings/retention".into(), json!({"day": 3}), "/day"),
            ("DELETE", "/api/v1/events".into(), json!({"ids": "1", "reason": "r"}), "/ids"),
            ("DELETE", "/api/v1/events".into(), json!({"ids": [1.5], "reason": "r"}), "/ids"),
            ("DELETE", "/api/v1/events".into(), json!({"ids": [1], "reason": "r", "force": true}), "/force"),
            ("DELETE", "/api/v1/events".into(), json!({"ids": [1]}), "/reason"),
        ];
        for (method, uri, body, pointer) in cases {
            let what = format!("{method} {uri} {body}");
            let reply = check(send(&app, raw(method, &uri, &token, json, body.to_string().as_bytes())).await, what.clone());
            assert_eq!(reply.status, 422, "{what}: {}", reply.body);
            assert!(reply.pointers().iter().any(|p| p == pointer), "{what}: {pointer} not named: {}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().contains(pointer), "{what}: {}", reply.body);
        }
        // The accepted values are listed, in our words.
        let reply = send(&app, raw("POST", "/api/v1/users", &token, json, json!({"email": "x@acme.test", "name": "N", "password": "0123456789ab", "role": "boss"}).to_string().as_bytes())).await;
        assert_eq!(reply.body["errors"][0]["message"], "must be one of `admin`, `manager`, `member`", "{}", reply.body);
        // The sign-in body's types are told with their pointer, as every body's are.
        let reply = check(send(&app, raw("POST", login, "", json, br#"{"email": 5, "password": "x"}"#)).await, "login email 5".into());
        assert_eq!(reply.status, 422);
        assert_eq!(reply.pointers(), ["/email"], "{}", reply.body);
        assert_eq!(reply.body["errors"][0]["message"], "must be a string, not a number", "{}", reply.body);

        // Query strings: bad numbers, unknown values and parameters, repeated ones.
        let queries = [
            ("/api/v1/events?page=abc", Some("page")),
            ("/api/v1/events?page=-1", Some("page")),
            ("/api/v1/events?page=99999999999", Some("page")),
            ("/api/v1/events?page=1.5", Some("page")),
            ("/api/v1/events?per_page=x", Some("per_page")),
            ("/api/v1/events?page=1&page=2", Some("page")),
            ("/api/v1/events?sort=name", Some("sort")),
            ("/api/v1/events?order=up", Some("order")),
            ("/api/v1/events?range=someday", Some("range")),
            ("/api/v1/events?scope=everyone", Some("scope")),
            ("/api/v1/events?colour=red", Some("colour")),
            ("/api/v1/events?from=yesterday", Some("from")),
            ("/api/v1/events?cursor=!!!", Some("cursor")),
            ("/api/v1/events?tz=Mars%2FOlympus", Some("tz")),
            ("/api/v1/entities/booking/1/history?page=x", Some("page")),
            ("/api/v1/facets/actors?limit=abc", Some("limit")),
            ("/api/v1/facets/actors?limit=1&limit=2", Some("limit")),
            ("/api/v1/integrity/checkpoints?after=x", Some("after")),
            ("/api/v1/integrity/checkpoints?limit=-5", Some("limit")),
            ("/api/v1/integrity/consistency?first=abc", Some("first")),
            ("/api/v1/integrity/consistency", Some("first")),
            ("/api/v1/events/1/proof?tree_size=big", Some("tree_size")),
            ("/api/v1/events/export", Some("format")),
            ("/api/v1/events/export?format=docx", Some("format")),
            ("/api/v1/events/export?format=csv&bom=300", Some("bom")),
            ("/api/v1/events/export?format=csv&through_seq=x", Some("through_seq")),
            ("/api/v1/stats/timeline?bucket=minute", Some("bucket")),
            ("/api/v1/events/stream?last_event_id=x", Some("last_event_id")),
        ];
        for (uri, name) in queries {
            let reply = check(get(&app, &token, uri).await, format!("GET {uri}"));
            assert_eq!(reply.status, 400, "{uri}: {}", reply.body);
            if let Some(name) = name {
                assert_eq!(reply.pointers(), [name.to_string()], "{uri}: {}", reply.body);
                assert!(reply.body["detail"].as_str().unwrap().contains(name), "{uri}: {}", reply.body);
            }
        }

        // Path ids that are not integers: the parameter is named.
        for (method, uri) in [
            ("GET", "/api/v1/events/abc"),
            ("GET", "/api/v1/events/99999999999999999999"),
            ("GET", "/api/v1/events/1.5/proof"),
            ("PATCH", "/api/v1/users/abc"),
            ("DELETE", "/api/v1/tokens/abc"),
            ("GET", "/api/v1/archives/-"),
        ] {
            let body: &[u8] = if method == "PATCH" { b"{}" } else { b"" };
            let reply = check(send(&app, raw(method, uri, &token, json, body)).await, format!("{method} {uri}"));
            assert_eq!(reply.status, 400, "{method} {uri}: {}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().contains("`id`"), "{method} {uri}: {}", reply.body);
        }

        // Access tokens: a bad signature, malformed ones, an expired one, one of another secret.
        let now = Utc::now().timestamp();
        let expired = access_token(&ctx.admin, now - 3600, SECRET);
        let foreign = access_token(&ctx.admin, now + 3600, b"another-secret-that-is-long-enough-too");
        let tokens = [
            (tampered(&token), "signature"),
            (foreign, "signature"),
            (expired, "expired"),
            ("abc.def".to_string(), "not valid"),
            ("not-a-jwt".to_string(), "not valid"),
            ("a.b.c".to_string(), "not valid"),
            ("eyJhbGciOiJIUzI1NiJ9.e30.AAAA".to_string(), "not valid"),
            (format!("{}.", token.rsplit_once('.').unwrap().0), "not valid"),
            ("alt_1_2_zz".to_string(), "API token"),
        ];
        for (bad, says) in tokens {
            for uri in ["/api/v1/auth/me", "/api/v1/events"] {
                let reply = check(get(&app, &bad, uri).await, format!("token {bad:?} on {uri}"));
                assert_eq!(reply.status, 401, "{bad}: {}", reply.body);
                assert!(reply.body["detail"].as_str().unwrap().contains(says), "{bad}: {}", reply.body);
            }
        }
        assert!(checked > 200, "{checked} problems checked");
    }

    async fn repeated_json_keys_are_refused_and_nothing_is_stored(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let json = "application/json";
        let ok = r#"{"action": "a.b"}"#;
        // (body, the pointer of the repeated member, its key)
        let events = [
            (r#"{"action": "booking.created", "action": "booking.deleted"}"#.to_string(), "/action", "action"),
            (format!(r#"{{"events": [{ok}, {ok}, {ok}, {{"action": "a.b", "actor": {{"id": "1", "name": "Ann", "name": "Bob"}}}}]}}"#), "/events/3/actor/name", "name"),
            (format!(r#"{{"events": [{ok}], "events": [{ok}, {ok}]}}"#), "/events", "events"),
            (r#"{"action": "a.b", "metadata": {"x": {"y": [1, {"z": 1, "z": 2}]}}}"#.to_string(), "/metadata/x/y/1/z", "z"),
            (r#"{"action": "a.b", "metadata": {"a/b": 1, "a\/b": 2}}"#.to_string(), "/metadata/a~1b", "a/b"),
            (r#"{"action": "a.b", "changes": [{"field": "f", "old": {"k": 1, "k": 2}, "new": 1}]}"#.to_string(), "/changes/0/old/k", "k"),
            (r#"{"action": "a.b", "changes": [{"field": "f", "new": {"v": [{"k": 1, "k": 1}]}}]}"#.to_string(), "/changes/0/new/v/0/k", "k"),
            (r#"{"action": "a.b", "changes": [{"field": "f", "new": 1, "new": 2}]}"#.to_string(), "/changes/0/new", "new"),
            (r#"{"action": "a.b", "before": {"s": 1}, "after": {"s": 2, "s": 3}}"#.to_string(), "/after/s", "s"),
            (r#"{"action": "a.b", "before": {"s": 1, "s": 1}}"#.to_string(), "/before/s", "s"),
            (r#"{"action": "a.b", "entity": {"type": "t", "id": "1", "id": "2"}}"#.to_string(), "/entity/id", "id"),
            (r#"{"action": "a.b", "related": [{"type": "t", "id": "1"}, {"type": "t", "type": "u", "id": "2"}]}"#.to_string(), "/related/1/type", "type"),
        ];
        let before = head(&ctx);
        for (body, pointer, key) in &events {
            let reply = send(&app, raw("POST", "/api/v1/events", &token, json, body.as_bytes()).insert_header(("idempotency-key", "dup"))).await.problem(422);
            assert_eq!(reply.pointers(), [pointer.to_string()], "{body}: {}", reply.body);
            let message = reply.body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(&format!("\"{key}\"")) && message.contains("more than once"), "{body}: {message}");
            assert!(reply.body["detail"].as_str().unwrap().starts_with(pointer), "{body}: {}", reply.body);
            assert_own_words(&reply, body, Echo::Checked);
        }
        assert_eq!(head(&ctx), before, "nothing stored");
        // The Idempotency-Key was not used up by the refusals.
        let reply = send(&app, raw("POST", "/api/v1/events", &token, json, ok.as_bytes()).insert_header(("idempotency-key", "dup"))).await.expect(201);
        assert!(reply.headers.get("idempotent-replayed").is_none());

        // Without a repetition the body is taken as before: the same key in sibling and nested
        // objects, keys differing in case or only in escapes that decode differently.
        let body = json!({"events": [
            {"action": "a.b", "metadata": {"k": 1, "K": 2, "nested": {"k": 3, "list": [{"k": 4}, {"k": 5}]}}},
            {"action": "a.b", "before": {"k": 1}, "after": {"k": 2}, "metadata": {"k": {"k": {"k": null}}}},
        ]});
        let before = head(&ctx);
        let ids = send(&app, raw("POST", "/api/v1/events", &token, json, body.to_string().as_bytes())).await.expect(201).ids();
        assert_eq!(head(&ctx).0, before.0 + 2);
        let first = get(&app, &token, &format!("/api/v1/events/{}", ids[0])).await.expect(200).body;
        assert_eq!(first["metadata"], body["events"][0]["metadata"]);
        let second = get(&app, &token, &format!("/api/v1/events/{}", ids[1])).await.expect(200).body;
        assert_eq!(second["metadata"], body["events"][1]["metadata"]);
        assert_eq!(second["changes"], json!([{"field": "k", "old": 1, "new": 2}]));

        // Every other JSON body: the repeated member is named, and nothing changes.
        let users_before = get(&app, &token, "/api/v1/users").await.expect(200).body;
        let tokens_before = get(&app, &token, "/api/v1/tokens").await.expect(200).body;
        let retention_before = get(&app, &token, "/api/v1/settings/retention").await.expect(200).body;
        let member = ctx.member.id;
        let others = [
            ("POST", "/api/v1/auth/login".to_string(), r#"{"email": "admin@acme.test", "password": "wrong", "password": "correct horse battery"}"#, "/password"),
            ("POST", "/api/v1/auth/login".to_string(), r#"{"email": "nobody@acme.test", "email": "admin@acme.test", "password": "correct horse battery"}"#, "/email"),
            ("POST", "/api/v1/auth/password".to_string(), r#"{"current_password": "correct horse battery", "new_password": "a new long password", "new_password": "another long password"}"#, "/new_password"),
            ("POST", "/api/v1/users".to_string(), r#"{"email": "dup@acme.test", "name": "A", "name": "B", "password": "0123456789ab", "role": "member"}"#, "/name"),
            ("PATCH", format!("/api/v1/users/{member}"), r#"{"role": "member", "role": "admin"}"#, "/role"),
            ("POST", "/api/v1/tokens".to_string(), r#"{"name": "t", "scopes": ["events:read"], "scopes": ["events:write"]}"#, "/scopes"),
            ("PUT", "/api/v1/settings/retention".to_string(), r#"{"days": 30, "days": null}"#, "/days"),
            ("DELETE", "/api/v1/events".to_string(), r#"{"ids": [1], "reason": "a", "reason": "b"}"#, "/reason"),
        ];
        let before = head(&ctx);
        for (method, uri, body, pointer) in others {
            let reply = send(&app, raw(method, &uri, &token, json, body.as_bytes())).await.problem(422);
            assert_eq!(reply.pointers(), [pointer.to_string()], "{method} {uri} {body}: {}", reply.body);
            let key = pointer.trim_start_matches('/');
            let message = reply.body["errors"][0]["message"].as_str().unwrap();
            assert!(message.contains(&format!("\"{key}\"")) && message.contains("more than once"), "{body}: {message}");
            assert!(reply.body["detail"].as_str().unwrap().starts_with(pointer), "{body}: {}", reply.body);
            assert_own_words(&reply, body, Echo::Checked);
        }
        assert_eq!(head(&ctx), before, "nothing stored, not even an audit record");
        assert_eq!(get(&app, &token, "/api/v1/users").await.expect(200).body, users_before);
        assert_eq!(get(&app, &token, "/api/v1/tokens").await.expect(200).body, tokens_before);
        assert_eq!(get(&app, &token, "/api/v1/settings/retention").await.expect(200).body, retention_before);
        // The admin's password is unchanged, and signing in without a repetition works.
        let login = json!({"email": "admin@acme.test", "password": "correct horse battery"});
        send(&app, raw("POST", "/api/v1/auth/login", "", json, login.to_string().as_bytes())).await.expect(200);
        verify_ok(&ctx);
    }
}
