//! Field visibility: the event fields a tenant hides from members (and managers) are withheld on
//! every read path — list, detail, history, CSV export and its manifest, proof, stream, feed,
//! actor search — and cannot be learned through a filter, a sort or the keyword search.

mod common;

use std::pin::Pin;

use actix_web::body::MessageBody;
use actix_web::test::{self, TestRequest};
use auditlog_db::queries::events::{self as event_queries, EventFilter, ListRequest, Paging, Sort};
use auditlog_db::queries::tenants;
use auditlog_db::visibility::{FieldVisibility, HiddenFrom, Viewer};
use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};

const IP: &str = "10.9.8.7";
const AGENT: &str = "Probe/1.0 (field visibility)";

/// One booking event of the member (actor `u1`) with every hideable field set; returns its id.
async fn seed<S, B>(app: &S, admin: &str) -> i64
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    post(
        app,
        admin,
        "/api/v1/events",
        &json!({
            "action": "booking.updated",
            "actor": {"id": "u1", "name": "Mia Member", "email": "mia.private@acme.test"},
            "entity": {"type": "booking", "id": "B1", "label": "BOK-1"},
            "description": "Moved the probe booking",
            "changes": [{"field": "status", "old": "open", "new": "closed"}],
            "metadata": {"source": "probe"},
            "ip": IP,
            "user_agent": AGENT,
        }),
    )
    .await
    .expect(201)
    .ids()[0]
}

/// What of the hideable fields an event as served shows: (ip, user agent, e-mail, changes,
/// metadata, withheld).
fn shown(event: &Value) -> (Value, Value, Value, usize, usize, Vec<String>) {
    let withheld = event["withheld"]
        .as_array()
        .map(|w| w.iter().map(|f| f.as_str().unwrap().to_string()).collect())
        .unwrap_or_default();
    (
        event["ip"].clone(),
        event["user_agent"].clone(),
        event["actor"]["email"].clone(),
        event["changes"].as_array().unwrap().len(),
        event["metadata"].as_object().unwrap().len(),
        withheld,
    )
}

fn all_shown() -> (Value, Value, Value, usize, usize, Vec<String>) {
    (json!(IP), json!(AGENT), json!("mia.private@acme.test"), 1, 1, vec![])
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The CSV's rows as column → cell maps.
fn csv_rows(bytes: &[u8]) -> Vec<std::collections::HashMap<String, String>> {
    let text = String::from_utf8_lossy(bytes);
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().clone();
    reader
        .records()
        .map(|r| headers.iter().map(String::from).zip(r.unwrap().iter().map(String::from)).collect())
        .collect()
}

/// The next `activity` event of a stream, as JSON.
async fn next_event<B: MessageBody>(body: &mut Pin<Box<B>>) -> Value {
    loop {
        let text = next_text(body).await.expect("an event within the timeout");
        if let Some(data) = text.lines().find_map(|l| l.strip_prefix("data: ")) {
            if text.contains("event: activity") {
                return serde_json::from_str(data).unwrap();
            }
            panic!("the stream ended: {text}");
        }
    }
}

both_backends! {
    async fn by_default_members_see_neither_ip_nor_user_agent_on_any_path(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let id = seed(&app, &admin).await;
        let member_hidden = (Value::Null, Value::Null, json!("mia.private@acme.test"), 1, 1, strings(&["ip", "user_agent"]));
        for (user, expected) in [(&ctx.member, member_hidden), (&ctx.manager, all_shown()), (&ctx.admin, all_shown())] {
            let token = ctx.token(user);
            let role = user.role();
            let list = get(&app, &token, "/api/v1/events?action=booking.updated").await.expect(200);
            assert_eq!(shown(&list.body["items"][0]), expected, "list as {role}");
            let detail = get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200);
            assert_eq!(shown(&detail.body), expected, "detail as {role}");
            let history = get(&app, &token, "/api/v1/entities/booking/B1/history").await.expect(200);
            assert_eq!(shown(&history.body["items"][0]), expected, "history as {role}");
            let feed = get(&app, &token, "/api/v1/events/feed?action=booking.updated").await.expect(200);
            // One line of NDJSON reads as one JSON document.
            let line = feed.body.clone();
            assert_eq!(shown(&line["event"]), expected, "feed as {role}");

            let (status, _, csv) = download(&app, &token, "/api/v1/events/export?format=csv&action=booking.updated").await;
            assert_eq!(status, 200);
            let rows = csv_rows(&csv);
            let hidden = !expected.5.is_empty();
            assert_eq!(rows[0]["ip"], if hidden { "" } else { IP }, "CSV as {role}");
            assert_eq!(rows[0]["user_agent"], if hidden { "" } else { AGENT }, "CSV as {role}");
            assert_eq!(rows[0]["actor_email"], "mia.private@acme.test");

            // Neither the manifest nor the proof gives the salt that would let the digests of
            // the hidden values be matched against guesses.
            let (status, _, manifest) = download(&app, &token, "/api/v1/events/export?format=manifest&action=booking.updated").await;
            assert_eq!(status, 200);
            let text = String::from_utf8(manifest).unwrap();
            let line: Value = serde_json::from_str(text.lines().nth(1).unwrap()).unwrap();
            assert_eq!(line["salt"].is_string(), !hidden, "manifest as {role}: {line}");
            assert_eq!(line["withheld"].is_array(), hidden, "manifest as {role}: {line}");
            let proof = get(&app, &token, &format!("/api/v1/events/{id}/proof")).await.expect(200);
            assert_eq!(proof.body["salt"].is_string(), !hidden, "proof as {role}");
            assert!(proof.body["leaf"].is_string(), "the leaf still verifies as {role}");

            // Filters and sorts on the IP are refused; the keyword does not look at it.
            let keyword = get(&app, &token, "/api/v1/events?q=10.9.8&module=booking").await.expect(200);
            assert_eq!(keyword.body["total"], if hidden { 0 } else { 1 }, "keyword on the IP as {role}");
            // Nor does a record's count of entries the role hides tell of a hit on the IP.
            let history = get(&app, &token, "/api/v1/entities/booking/B1/history?q=10.9.8").await.expect(200);
            assert_eq!((history.body["total"].clone(), history.body["hidden"].clone()), (json!(if hidden { 0 } else { 1 }), json!(0)), "history as {role}");
            let visible_word = get(&app, &token, "/api/v1/events?q=probe%20booking&module=booking").await.expect(200);
            assert_eq!(visible_word.body["total"], 1, "keyword on the description as {role}");
            for uri in [
                format!("/api/v1/events?ip={IP}"),
                "/api/v1/events?sort=ip".to_string(),
                format!("/api/v1/entities/booking/B1/history?ip={IP}"),
                format!("/api/v1/stats/timeline?ip={IP}"),
                format!("/api/v1/stats/flags?ip={IP}"),
                format!("/api/v1/events/feed?ip={IP}"),
                format!("/api/v1/events/export?format=csv&ip={IP}"),
                "/api/v1/events/export?format=csv&sort=ip".to_string(),
                format!("/api/v1/events/stream?ip={IP}"),
            ] {
                // A stream that is not refused never ends: only its refusal is read.
                if !hidden && uri.contains("stream") {
                    continue;
                }
                let reply = get(&app, &token, &uri).await;
                if hidden {
                    let problem = reply.problem(403);
                    assert!(problem.body["detail"].as_str().unwrap().contains("hidden from your role"), "{uri}");
                } else {
                    assert_eq!(reply.status, 200, "{uri} as {role}");
                }
            }
        }
    }

    async fn a_custom_setting_hides_fields_from_managers_and_is_recorded(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let id = seed(&app, &admin).await;
        let defaults = get(&app, &ctx.token(&ctx.member), "/api/v1/settings/fields").await.expect(200).body;
        assert_eq!(defaults, json!({"ip": "members", "user_agent": "members", "actor_email": "nobody", "changes": "nobody", "metadata": "nobody"}));

        let setting = json!({"ip": "members_and_managers", "actor_email": "members", "changes": "members_and_managers", "metadata": "members"});
        put(&app, &ctx.token(&ctx.manager), "/api/v1/settings/fields", &setting).await.problem(403);
        let kept = put(&app, &admin, "/api/v1/settings/fields", &setting).await.expect(200).body;
        assert_eq!(kept["user_agent"], "members", "a field left out takes its default");

        let manager = ctx.token(&ctx.manager);
        let seen = get(&app, &manager, &format!("/api/v1/events/{id}")).await.expect(200).body;
        assert_eq!(shown(&seen), (Value::Null, json!(AGENT), json!("mia.private@acme.test"), 0, 1, strings(&["ip", "changes"])));
        let member = ctx.token(&ctx.member);
        let seen = get(&app, &member, &format!("/api/v1/events/{id}")).await.expect(200).body;
        assert_eq!(seen["withheld"], json!(["ip", "user_agent", "actor_email", "changes", "metadata"]));
        assert_eq!(shown(&seen).0, Value::Null);
        assert_eq!(shown(&get(&app, &admin, &format!("/api/v1/events/{id}")).await.expect(200).body), all_shown());
        get(&app, &manager, &format!("/api/v1/events?ip={IP}")).await.problem(403);
        // An integrator's reading token reads as a manager.
        let reader = post(&app, &admin, "/api/v1/tokens", &json!({"name": "siem", "scopes": ["events:read"]})).await.expect(201).body;
        let reader = reader["secret"].as_str().unwrap();
        let seen = get(&app, reader, &format!("/api/v1/events/{id}")).await.expect(200).body;
        assert_eq!(seen["withheld"], json!(["ip", "changes"]));
        let feed = get(&app, reader, "/api/v1/events/feed?action=booking.updated").await.expect(200).body;
        assert_eq!((feed["event"]["ip"].clone(), feed["event"]["user_agent"].clone()), (Value::Null, json!(AGENT)));

        // The e-mail is neither served nor searchable for the member; the manager still finds it.
        assert_eq!(get(&app, &member, "/api/v1/events?q=mia.private").await.expect(200).body["total"], 0);
        assert_eq!(get(&app, &manager, "/api/v1/events?q=mia.private").await.expect(200).body["total"], 1);
        let facets = get(&app, &member, "/api/v1/facets/actors?q=mia.private").await.expect(200).body;
        assert_eq!(facets["items"], json!([]), "no actor found by a hidden e-mail");
        let facets = get(&app, &member, "/api/v1/facets/actors?q=mia").await.expect(200).body;
        assert_eq!(facets["items"][0]["email"], Value::Null);
        let facets = get(&app, &manager, "/api/v1/facets/actors?q=mia.private").await.expect(200).body;
        assert_eq!(facets["items"][0]["email"], "mia.private@acme.test");

        // The change is in the trail, in words.
        let trail = get(&app, &admin, "/api/v1/events?action=auditlog.field_visibility_changed").await.expect(200).body;
        assert_eq!(trail["total"], 1);
        let description = trail["items"][0]["description"].as_str().unwrap();
        assert!(description.starts_with("Changed which fields each role sees: "), "{description}");
        assert!(description.contains("ip hidden from members and managers"), "{description}");
    }

    async fn a_bad_setting_is_refused_and_nothing_changes(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let before = get(&app, &admin, "/api/v1/settings/fields").await.expect(200).body;
        for (bad, pointer) in [
            (json!({"ip": "admins"}), "/ip"),
            (json!({"ip": null}), "/ip"),
            (json!({"social_security_number": "members"}), "/social_security_number"),
            (json!({"changes": ["members"]}), "/changes"),
        ] {
            let problem = put(&app, &admin, "/api/v1/settings/fields", &bad).await.problem(422);
            assert_eq!(problem.pointers(), vec![pointer.to_string()], "{bad}");
        }
        put(&app, &admin, "/api/v1/settings/fields", &json!([])).await.problem(422);
        assert_eq!(get(&app, &admin, "/api/v1/settings/fields").await.expect(200).body, before);
        let trail = get(&app, &admin, "/api/v1/events?action=auditlog.field_visibility_changed").await.expect(200).body;
        assert_eq!(trail["total"], 0, "nothing recorded");
    }

    async fn changes_made_at_once_are_each_recorded_against_the_one_before(ctx: Ctx) {
        let server = ctx.serve().await;
        let (url, admin) = (server.url.clone(), ctx.token(&ctx.admin));
        const CHOICES: [&str; 3] = ["nobody", "members", "members_and_managers"];
        let sent: Vec<Value> = (0..8)
            .map(|i| json!({"ip": CHOICES[i % 3], "metadata": CHOICES[(i / 3) % 3], "changes": CHOICES[(i + 1) % 3]}))
            .collect();
        let bodies = sent.clone();
        let statuses = at_once(8, move |i| call("PUT", &format!("{url}/api/v1/settings/fields"), Some(&admin), Some(&bodies[i])).0).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let admin = ctx.token(&ctx.admin);
        let app = ctx.app().await;
        let stored = get(&app, &admin, "/api/v1/settings/fields").await.expect(200).body;
        // Replaying the recorded changes, oldest first, from the defaults gives what is stored:
        // each change was taken against the setting it replaced.
        let mut state = json!({"ip": "members", "user_agent": "members", "actor_email": "nobody", "changes": "nobody", "metadata": "nobody"});
        let trail = get(&app, &admin, "/api/v1/events?action=auditlog.field_visibility_changed&sort=occurred_at&order=asc&per_page=100").await.expect(200).body;
        for event in trail["items"].as_array().unwrap() {
            for change in event["changes"].as_array().unwrap() {
                let field = change["field"].as_str().unwrap();
                assert_eq!(state[field], change["old"], "each change starts from the setting before it");
                state[field] = change["new"].clone();
            }
        }
        assert_eq!(state, stored);
        assert!(sent.iter().any(|s| s.as_object().unwrap().iter().all(|(k, v)| stored[k] == *v)), "the last writer's setting is kept whole");
    }

    async fn a_change_applies_at_once_to_an_open_stream(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let manager = ctx.token(&ctx.manager);
        let req = TestRequest::get().uri("/api/v1/events/stream?module=booking").insert_header(("authorization", format!("Bearer {manager}")));
        let mut body = Box::pin(test::call_service(&app, req.to_request()).await.into_body());
        assert!(next_text(&mut body).await.unwrap().contains("connected"));
        seed(&app, &admin).await;
        assert_eq!(shown(&next_event(&mut body).await), all_shown(), "a manager sees the IP by default");

        put(&app, &admin, "/api/v1/settings/fields", &json!({"ip": "members_and_managers"})).await.expect(200);
        seed(&app, &admin).await;
        let later = next_event(&mut body).await;
        assert_eq!(later["ip"], Value::Null, "the open stream masks the events after the change: {later}");
        assert_eq!(later["withheld"], json!(["ip"]));
        assert_eq!(later["user_agent"], AGENT);
    }

    async fn a_role_change_applies_to_the_next_request(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let id = seed(&app, &admin).await;
        let member = ctx.token(&ctx.member);
        assert_eq!(get(&app, &member, &format!("/api/v1/events/{id}")).await.expect(200).body["ip"], Value::Null);
        let uri = format!("/api/v1/users/{}", ctx.member.id);
        send(&app, TestRequest::patch().uri(&uri).insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"role": "manager"}))).await.expect(200);
        assert_eq!(get(&app, &member, &format!("/api/v1/events/{id}")).await.expect(200).body["ip"], IP, "the same session, now a manager's");
    }

    async fn a_read_under_way_takes_a_tightening_at_once(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        seed(&app, &admin).await;
        let mut conn = ctx.pool.get().unwrap();
        // A viewer made before the change, as an export's is when it starts.
        let viewer = Viewer {
            tenant_id: ctx.acme_id,
            role: auditlog_db::models::Role::Manager,
            actor_id: "m1".into(),
            fields: FieldVisibility::default(),
        };
        let request = ListRequest {
            filter: EventFilter { action: Some("booking.updated".into()), ..Default::default() },
            sort: Sort::default(),
            per_page: 10,
            paging: Paging::Cursor(None),
        };
        let before = event_queries::list(&mut conn, &viewer, &request).unwrap();
        assert_eq!(before.items[0].draft.ip.as_deref(), Some(IP));
        let stricter = FieldVisibility { user_agent: HiddenFrom::MembersAndManagers, ..FieldVisibility::default() };
        tenants::set_field_visibility(&mut conn, ctx.acme_id, &stricter).unwrap();
        let after = event_queries::list(&mut conn, &viewer, &request).unwrap();
        assert_eq!(after.items[0].draft.user_agent, None, "the next page is masked as the setting now says");
        assert_eq!(after.items[0].draft.ip.as_deref(), Some(IP));
        // An insider's unreadable setting counts as the defaults, never as "show everything".
        diesel::update(auditlog_db::schema::tenants::table)
            .set(auditlog_db::schema::tenants::field_visibility.eq(Some("not json")))
            .execute(&mut conn)
            .unwrap();
        let member = ctx.token(&ctx.member);
        assert_eq!(get(&app, &member, "/api/v1/events?action=booking.updated").await.expect(200).body["items"][0]["ip"], Value::Null);
    }
}
