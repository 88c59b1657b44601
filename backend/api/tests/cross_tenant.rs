//! Tenants never see or touch each other's data, whatever the request says. Tenant A (`acme`)
//! gets events, users, API tokens, a deleted entry and an archive; tenant B's admin, manager,
//! member and API token then call every endpoint of the OpenAPI document with A's ids and A's
//! values: ids of A answer 404 (or the documented 403/422), and no list, export, count, facet,
//! stream or history of B ever holds anything of A. Afterwards A's chain, users, tokens and
//! settings are exactly as before. The test fails when the document has an endpoint it did not
//! call, so a new endpoint cannot be forgotten here. On SQLite and PostgreSQL.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::test::TestRequest;
use auditlog_db::models::Role;
use chrono::{TimeDelta, Utc};
use common::*;
use serde_json::{json, Value};

/// Strings only tenant A's data holds; none may appear in anything tenant B receives.
const A_MARKERS: [&str; 7] =
    ["ACME-SECRET", "acme-actor", "acme-rec", "acme_secret_module", "acme-token", "@acme.test", "acme_type"];

/// The (method, path) pairs of the OpenAPI document.
fn documented_endpoints() -> BTreeSet<(String, String)> {
    let doc = auditlog_api::http::openapi::document();
    let mut endpoints = BTreeSet::new();
    for (path, item) in &doc.paths.paths {
        let item = serde_json::to_value(item).unwrap();
        for method in ["get", "put", "post", "delete", "patch", "head", "options"] {
            if item.get(method).is_some() {
                endpoints.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    endpoints
}

/// Records which documented endpoints the test called.
struct Coverage {
    documented: BTreeSet<(String, String)>,
    called: RefCell<BTreeSet<(String, String)>>,
}

impl Coverage {
    fn new() -> Self {
        Coverage { documented: documented_endpoints(), called: RefCell::new(BTreeSet::new()) }
    }

    fn record(&self, method: &str, template: &str) {
        let key = (method.to_string(), template.to_string());
        assert!(self.documented.contains(&key), "{method} {template} is not in the OpenAPI document");
        self.called.borrow_mut().insert(key);
    }

    fn assert_complete(&self) {
        let missing: Vec<String> =
            self.documented.difference(&self.called.borrow()).map(|(m, p)| format!("{m} {p}")).collect();
        assert!(
            missing.is_empty(),
            "endpoints without a cross-tenant check (add them to cross_tenant.rs): {missing:?}"
        );
    }
}

fn assert_no_leak(text: &str, what: &str) {
    for marker in A_MARKERS {
        assert!(!text.contains(marker), "{what}: tenant A's `{marker}` leaked into {text}");
    }
}

/// One call as `token` to `uri`, recorded as `method template`.
async fn call<S, B>(
    app: &S,
    coverage: &Coverage,
    method: &str,
    template: &str,
    uri: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    coverage.record(method, template);
    let req = match method {
        "POST" => TestRequest::post(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::get(),
    }
    .uri(uri);
    let req =
        if token.is_empty() { req } else { req.insert_header(("authorization", format!("Bearer {token}"))) };
    let req = match body {
        Some(body) => req.set_json(body),
        None => req,
    };
    let reply = send(app, req).await;
    assert!(reply.status.as_u16() < 500, "{method} {uri}: {} {}", reply.status, reply.body);
    reply
}

/// Reads a Server-Sent Events body until `done` holds for what arrived (or fails after 10 s).
async fn read_stream<B: MessageBody>(body: B, done: impl Fn(&str) -> bool) -> String {
    let mut body = std::pin::pin!(body);
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let chunk = tokio::time::timeout_at(deadline, std::future::poll_fn(|cx| body.as_mut().poll_next(cx)))
            .await
            .unwrap_or_else(|_| panic!("the stream did not deliver in time; so far: {text}"));
        match chunk {
            Some(Ok(bytes)) => text.push_str(&String::from_utf8_lossy(&bytes)),
            _ => panic!("the stream ended; so far: {text}"),
        }
        if done(&text) {
            return text;
        }
    }
}

/// The event ids in a page, an export (first CSV column) or a stream (each `data:` line).
fn event_ids(reply: &Reply) -> BTreeSet<i64> {
    match &reply.body {
        Value::Object(_) => reply.ids().into_iter().collect(),
        Value::String(text) if text.starts_with("id,") => csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.unwrap()[0].trim_start_matches('\'').parse().unwrap())
            .collect(),
        Value::String(text) => stream_ids(text),
        other => panic!("no ids in {other}"),
    }
}

fn stream_ids(text: &str) -> BTreeSet<i64> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(|data| serde_json::from_str::<Value>(data).unwrap()["id"].as_i64().unwrap())
        .collect()
}

both_backends! {
    async fn every_endpoint_keeps_tenants_apart(ctx: Ctx) {
        let app = ctx.app().await;
        let cov = Coverage::new();
        let a_admin = ctx.token(&ctx.admin);
        let globex = ctx.other_admin.tenant_id;

        // ---- Tenant A: events (one deleted), an API token, an archive, a retention setting.
        let a_event = |n: usize, actor: &str| json!({
            "action": "acme_secret_module.created",
            "actor": {"id": actor, "name": format!("ACME-SECRET Person {n}"), "email": "person@acme.test"},
            "entity": {"type": "acme_type", "id": format!("acme-rec-{n}"), "label": "ACME-SECRET label"},
            "related": [{"type": "customer", "id": "shared-customer"}, {"type": "acme_type", "id": "acme-rec-parent"}],
            "description": format!("ACME-SECRET event {n}"),
            "ip": "198.51.100.1",
            "external_id": format!("shared-ext-{n}"),
            "metadata": {"note": "ACME-SECRET metadata"},
        });
        // Old events first (recorded 40 days ago) for the archive, then live ones.
        let caller = auditlog_api::auth::user_actor(&ctx.admin);
        let old: Vec<Value> = (100..105).map(|n| a_event(n, "acme-actor")).collect();
        let drafts = auditlog_api::events::ingest::parse_body(json!({"events": old}).to_string().as_bytes(), &caller, Utc::now(), 1000).unwrap().drafts;
        auditlog_db::queries::ingest::store_events(&mut ctx.pool.get().unwrap(), ctx.acme_id, None, &drafts, Utc::now().naive_utc() - TimeDelta::days(40)).unwrap();
        let batch = json!({"events": [a_event(1, "acme-actor"), a_event(2, "u1"), a_event(3, "m1"), a_event(4, "a1")]});
        let keyed = TestRequest::post().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {a_admin}"))).insert_header(("idempotency-key", "shared-key")).set_json(&batch);
        let a_ids = send(&app, keyed).await.expect(201).ids();
        let a_token = post(&app, &a_admin, "/api/v1/tokens", &json!({"name": "acme-token", "scopes": ["events:read", "events:write"]})).await.expect(201).body;
        let a_token_id = a_token["token"]["id"].as_i64().unwrap();
        let a_token_secret = a_token["secret"].as_str().unwrap().to_string();
        post(&app, &a_token_secret, "/api/v1/events", &a_event(5, "acme-actor")).await.expect(201);
        let deleted = send(&app, TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {a_admin}"))).set_json(json!({"ids": [a_ids[3]], "reason": "ACME-SECRET reason"}))).await.expect(200);
        assert_eq!(deleted.body["deleted"], json!([a_ids[3]]));
        send(&app, TestRequest::put().uri("/api/v1/settings/retention").insert_header(("authorization", format!("Bearer {a_admin}"))).set_json(json!({"days": 30}))).await.expect(200);
        let a_review = json!({"working_days": [1, 2, 3, 4, 5, 6, 7], "day_starts": "00:00", "day_ends": "23:59", "failed_logins": 2});
        let a_review = send(&app, TestRequest::put().uri("/api/v1/settings/review").insert_header(("authorization", format!("Bearer {a_admin}"))).set_json(&a_review)).await.expect(200).body;
        let a_links = json!({"app_name": "ACME-SECRET CRM", "templates": [{"entity_type": "booking", "url": "https://acme-secret.example/b/{id}"}]});
        send(&app, TestRequest::put().uri("/api/v1/settings/record-links").insert_header(("authorization", format!("Bearer {a_admin}"))).set_json(&a_links)).await.expect(200);
        let a_fields = json!({"ip": "nobody", "user_agent": "nobody", "metadata": "members_and_managers"});
        let a_fields = send(&app, TestRequest::put().uri("/api/v1/settings/fields").insert_header(("authorization", format!("Bearer {a_admin}"))).set_json(&a_fields)).await.expect(200).body;
        let archives = auditlog_api::retention::run_for_tenant(&mut ctx.pool.get().unwrap(), &ctx.state.notary, &ctx.state.settings, ctx.acme_id, |_| {}).unwrap().unwrap();
        assert_eq!(archives.len(), 1, "tenant A has an archive");
        let a_archive_id = archives[0].id;

        // A's flagged events: the same actor from a second network, with a browser.
        let mut moved = a_event(7, "acme-actor");
        moved["ip"] = json!("203.0.113.77");
        moved["user_agent"] = json!("Mozilla/5.0 (X11; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0");
        moved["external_id"] = json!("shared-ext-7");
        post(&app, &a_admin, "/api/v1/events", &moved).await.expect(201);
        let a_flagged = get(&app, &a_admin, "/api/v1/events?flag=new_ip").await.expect(200).body;
        assert!(a_flagged["total"].as_i64().unwrap() >= 1, "tenant A has a flagged event: {a_flagged}");

        // An alert rule of A, owing a delivery.
        let a_rule = json!({"name": "acme-rule ACME-SECRET", "filter": "module=acme_secret_module",
                            "destination": {"type": "webhook", "url": "https://acme-rec.example.com/hook", "headers": [{"name": "X-Key", "value": "ACME-SECRET-key"}]}});
        let a_rule = post(&app, &a_admin, "/api/v1/alerts/rules", &a_rule).await.expect(201).body["rule"].clone();
        let a_rule_id = a_rule["id"].as_i64().unwrap();
        post(&app, &a_admin, "/api/v1/events", &a_event(6, "acme-actor")).await.expect(201);
        let a_deliveries = get(&app, &a_admin, &format!("/api/v1/alerts/rules/{a_rule_id}/deliveries")).await.expect(200).body;
        let a_delivery_id = a_deliveries["items"][0]["id"].as_i64().expect("A's rule owes a delivery");

        // Everything A's admin sees, to compare with afterwards.
        let a_all = get(&app, &a_admin, "/api/v1/events?per_page=100").await.expect(200);
        let a_event_ids: BTreeSet<i64> = event_ids(&a_all);
        assert!(a_event_ids.len() >= 8, "{a_event_ids:?}");
        let a_users = get(&app, &a_admin, "/api/v1/users").await.expect(200).body;
        let a_user_ids: Vec<i64> = a_users["items"].as_array().unwrap().iter().map(|u| u["id"].as_i64().unwrap()).collect();
        let a_tokens = get(&app, &a_admin, "/api/v1/tokens").await.expect(200).body;
        let a_verify = get(&app, &a_admin, "/api/v1/integrity/verify").await.expect(200).body;
        let a_head = a_verify["head_hash"].as_str().unwrap().to_string();
        let a_archives = get(&app, &a_admin, "/api/v1/archives").await.expect(200).body;
        let a_file = a_archives["items"][0]["file_name"].as_str().unwrap().to_string();
        let a_hashes: Vec<String> = a_all.body["items"].as_array().unwrap().iter().map(|e| e["hash"].as_str().unwrap().to_string()).collect();
        let leak = |text: &str, what: &str| {
            assert_no_leak(text, what);
            assert!(!text.contains(&a_head) && !text.contains(&a_file), "{what}: A's chain head or archive in {text}");
            for hash in &a_hashes {
                assert!(!text.contains(hash.as_str()), "{what}: A's event hash {hash} in {text}");
            }
        };

        // ---- Tenant B: a manager and a member with the same actor ids as A's, an API token, events.
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        let b_user = |email: &str, role: Role, actor: &str| auditlog_db::queries::users::create(&mut ctx.pool.get().unwrap(), &auditlog_db::queries::users::NewUser {
            tenant_id: globex, email, name: "Globex person", password_hash: &hash, role, actor_id: Some(actor),
        }).unwrap();
        let b_manager_user = b_user("manager@globex.test", Role::Manager, "m1");
        let b_member_user = b_user("member@globex.test", Role::Member, "u1");
        let b_admin = ctx.token(&ctx.other_admin);
        let b_manager = ctx.token(&b_manager_user);
        let b_member = ctx.token(&b_member_user);
        let b_token = post(&app, &b_admin, "/api/v1/tokens", &json!({"name": "globex-token", "scopes": ["events:read", "events:write"]})).await.expect(201).body["secret"].as_str().unwrap().to_string();
        let b_event = |n: usize, actor: &str| json!({
            "action": "booking.created", "actor": {"id": actor, "name": format!("Globex {n}")},
            "entity": {"type": "booking", "id": format!("b{n}")}, "related": [{"type": "customer", "id": "shared-customer"}],
            "description": format!("GLOBEX event {n}"), "external_id": format!("globex-{n}"),
        });
        post(&app, &b_admin, "/api/v1/events", &json!({"events": [b_event(1, "a1"), b_event(2, "m1"), b_event(3, "u1")]})).await.expect(201);
        let principals = [("B admin", b_admin.clone()), ("B manager", b_manager.clone()), ("B member", b_member.clone()), ("B token", b_token.clone())];

        // ---- Service endpoints: nothing of any tenant.
        let key = call(&app, &cov, "GET", "/api/v1/integrity/public-key", "/api/v1/integrity/public-key", "", None).await.expect(200);
        assert_eq!(key.body.as_str().unwrap().trim(), ctx.state.notary.verifier().to_string());
        for path in ["/healthz", "/readyz", "/metrics"] {
            let reply = call(&app, &cov, "GET", path, path, "", None).await.expect(200);
            leak(&reply.body.to_string(), path);
        }

        // ---- Reads: every list, count, facet, export and history of B holds nothing of A.
        let b_seen = |reply: &Reply| event_ids(reply);
        for (who, token) in &principals {
            let list = call(&app, &cov, "GET", "/api/v1/events", "/api/v1/events?per_page=100", token, None).await.expect(200);
            leak(&list.body.to_string(), &format!("{who}: list"));
            assert!(b_seen(&list).is_disjoint(&a_event_ids), "{who}: list");
            assert!(list.body["total"].as_i64().unwrap() > 0, "{who} sees B's own events");
            // Filters naming A's values find nothing of A.
            for filters in [
                "actor_id=acme-actor", "actor_id=u1&actor_id=m1&actor_id=a1", "entity_type=acme_type", "entity_id=acme-rec-1",
                "module=acme_secret_module", "action=acme_secret_module.created", "q=acme-secret", "q=person%40acme.test", "ip=198.51.100.1",
                "scope=mine", "sort=actor&order=asc&cursor=",
            ] {
                let reply = call(&app, &cov, "GET", "/api/v1/events", &format!("/api/v1/events?per_page=100&{filters}"), token, None).await;
                // The IP is hidden from members by default: its filter is refused them.
                if *who == "B member" && filters.starts_with("ip=") {
                    reply.problem(403);
                    continue;
                }
                let reply = reply.expect(200);
                assert!(b_seen(&reply).is_disjoint(&a_event_ids), "{who}: {filters}");
                if filters.contains("acme") || filters.starts_with("ip=") {
                    assert_eq!(reply.body["total"], 0, "{who}: {filters}");
                }
            }
            for id in &a_event_ids {
                call(&app, &cov, "GET", "/api/v1/events/{id}", &format!("/api/v1/events/{id}"), token, None).await.problem(404);
            }
            for (entity_type, id) in [("acme_type", "acme-rec-1"), ("acme_type", "acme-rec-parent"), ("customer", "shared-customer")] {
                let uri = format!("/api/v1/entities/{entity_type}/{id}/history?per_page=100");
                let reply = call(&app, &cov, "GET", "/api/v1/entities/{type}/{id}/history", &uri, token, None).await.expect(200);
                leak(&reply.body.to_string(), &format!("{who}: {uri}"));
                assert!(b_seen(&reply).is_disjoint(&a_event_ids), "{who}: {uri}");
            }
            let stats = call(&app, &cov, "GET", "/api/v1/stats/timeline", "/api/v1/stats/timeline?range=last_30_days", token, None).await.expect(200);
            assert_eq!(stats.body["total"].as_i64(), list.body["total"].as_i64(), "{who}: the chart counts only B's events");
            let stats = call(&app, &cov, "GET", "/api/v1/stats/timeline", "/api/v1/stats/timeline?module=acme_secret_module", token, None).await.expect(200);
            assert_eq!(stats.body["total"], 0, "{who}");
            // The review counts B's flagged events only: as many as B's own flagged list.
            let flagged = call(&app, &cov, "GET", "/api/v1/stats/flags", "/api/v1/stats/flags", token, None).await.expect(200);
            let listed = get(&app, token, "/api/v1/events?flag=any&per_page=100").await.expect(200);
            assert_eq!(flagged.body["total"], listed.body["total"], "{who}: the review counts only B's events");
            assert!(b_seen(&listed).is_disjoint(&a_event_ids), "{who}");
            let flagged = call(&app, &cov, "GET", "/api/v1/stats/flags", "/api/v1/stats/flags?module=acme_secret_module", token, None).await.expect(200);
            assert_eq!(flagged.body["total"], 0, "{who}");
            for (template, uri) in [
                ("/api/v1/facets/actors", "/api/v1/facets/actors?limit=100"),
                ("/api/v1/facets/actors", "/api/v1/facets/actors?q=acme"),
                ("/api/v1/facets/actors", "/api/v1/facets/actors?q=acme-actor"),
                ("/api/v1/facets/modules", "/api/v1/facets/modules"),
                ("/api/v1/facets/actions", "/api/v1/facets/actions"),
            ] {
                let reply = call(&app, &cov, "GET", template, uri, token, None).await.expect(200);
                leak(&reply.body.to_string(), &format!("{who}: {uri}"));
            }
            // Exports: CSV, the manifest and the PDF, of everything and of A's ids.
            let csv = call(&app, &cov, "GET", "/api/v1/events/export", "/api/v1/events/export?format=csv", token, None).await.expect(200);
            leak(csv.body.as_str().unwrap(), &format!("{who}: CSV"));
            assert!(event_ids(&csv).is_disjoint(&a_event_ids));
            let ids: Vec<String> = a_event_ids.iter().map(i64::to_string).collect();
            let csv = call(&app, &cov, "GET", "/api/v1/events/export", &format!("/api/v1/events/export?format=csv&ids={}&through_seq=1000000", ids.join(",")), token, None).await.expect(200);
            assert!(event_ids(&csv).is_empty(), "{who}: A's ids export nothing: {}", csv.body);
            // Download links: made by B's sessions (API tokens download directly), they carry
            // only B's events, even when they name A's ids.
            for query in ["format=csv".to_string(), format!("format=csv&ids={}", ids.join(","))] {
                let uri = format!("/api/v1/events/export/link?{query}");
                let made = call(&app, &cov, "POST", "/api/v1/events/export/link", &uri, token, None).await;
                if made.status == 403 {
                    assert!(who.contains("token"), "{who}: only API tokens are refused a link");
                    continue;
                }
                assert_eq!(made.status, 200, "{who}: {}", made.body);
                let url = made.body["url"].as_str().unwrap().to_string();
                cov.record("GET", "/api/v1/downloads/{token}");
                let response = actix_web::test::call_service(&app, TestRequest::get().uri(&url).to_request()).await;
                assert_eq!(response.status(), 200, "{who}: {url}");
                let text = String::from_utf8(actix_web::test::read_body(response).await.to_vec()).unwrap();
                leak(&text, &format!("{who}: download link"));
                let linked = Reply { status: actix_web::http::StatusCode::OK, headers: Default::default(), body: Value::String(text) };
                assert!(event_ids(&linked).is_disjoint(&a_event_ids), "{who}: {query}");
            }
            let manifest = call(&app, &cov, "GET", "/api/v1/events/export", "/api/v1/events/export?format=manifest", token, None).await.expect(200);
            leak(manifest.body.as_str().unwrap_or(&manifest.body.to_string()), &format!("{who}: manifest"));
            let (template, uri) = ("/api/v1/events/export", "/api/v1/events/export?format=pdf");
            cov.record("GET", template);
            let response = actix_web::test::call_service(&app, TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {token}"))).to_request()).await;
            assert_eq!(response.status(), 200, "{who}: PDF");
            let text = pdf_pages(&actix_web::test::read_body(response).await).join("\n");
            // The text is read (B's own tenant is named on the cover), and holds nothing of A's.
            assert!(text.contains("Activity Log — "), "{who}: PDF text: {text}");
            leak(&text, &format!("{who}: PDF"));
        }

        // The live tail: A writes while B listens; B's stream carries only B's event.
        for (i, (who, token)) in principals.iter().enumerate() {
            cov.record("GET", "/api/v1/events/stream");
            let req = TestRequest::get().uri("/api/v1/events/stream").insert_header(("authorization", format!("Bearer {token}"))).to_request();
            let response = actix_web::test::call_service(&app, req).await;
            assert_eq!(response.status(), 200, "{who}: stream");
            let n = 10 + 3 * i;
            let written = post(&app, &a_admin, "/api/v1/events", &json!({"events": [a_event(n, "u1"), a_event(n + 1, "a1"), a_event(n + 2, "m1")]})).await.expect(201);
            assert_eq!(written.body["accepted"], 3);
            let mine = post(&app, &b_admin, "/api/v1/events", &json!({"events": [b_event(n, "u1")]})).await.expect(201).ids()[0];
            let text = read_stream(response.into_body(), |t| stream_ids(t).contains(&mine)).await;
            leak(&text, &format!("{who}: stream"));
            assert_eq!(stream_ids(&text), BTreeSet::from([mine]), "{who}: only B's new event");
            // Resuming from the start of the chain (`Last-Event-ID: 0`) replays only B's events.
            let req = TestRequest::get().uri("/api/v1/events/stream").insert_header(("authorization", format!("Bearer {token}"))).insert_header(("last-event-id", "0")).to_request();
            let response = actix_web::test::call_service(&app, req).await;
            let marker = format!("GLOBEX resumed {i}");
            post(&app, &b_admin, "/api/v1/events", &json!({"action": "booking.viewed", "actor": {"id": "u1", "name": "Globex"}, "description": marker})).await.expect(201);
            let text = read_stream(response.into_body(), |t| t.contains(&marker)).await;
            leak(&text, &format!("{who}: resumed stream"));
            assert!(stream_ids(&text).is_disjoint(&a_event_ids));
        }
        let a_event_ids: BTreeSet<i64> = event_ids(&get(&app, &a_admin, "/api/v1/events?per_page=100").await.expect(200));

        // ---- Accounts and administration: B's own data only; A's ids are 404 (403 below admin).
        for (who, token) in &principals {
            let me = call(&app, &cov, "GET", "/api/v1/auth/me", "/api/v1/auth/me", token, None).await;
            if *who == "B token" {
                me.problem(403);
            } else {
                assert_eq!(me.expect(200).body["tenant"]["slug"], "globex", "{who}");
            }
            let admin = *who == "B admin";
            let users = call(&app, &cov, "GET", "/api/v1/users", "/api/v1/users", token, None).await;
            let tokens = call(&app, &cov, "GET", "/api/v1/tokens", "/api/v1/tokens", token, None).await;
            let archives = call(&app, &cov, "GET", "/api/v1/archives", "/api/v1/archives", token, None).await;
            let retention = call(&app, &cov, "GET", "/api/v1/settings/retention", "/api/v1/settings/retention", token, None).await;
            let review = call(&app, &cov, "GET", "/api/v1/settings/review", "/api/v1/settings/review", token, None).await;
            // Every principal reads its own tenant's links, none of A's.
            let links = call(&app, &cov, "GET", "/api/v1/settings/record-links", "/api/v1/settings/record-links", token, None).await.expect(200);
            leak(&links.body.to_string(), who);
            assert_eq!(links.body["templates"], json!([]), "{who}: B has no links");
            let fields = call(&app, &cov, "GET", "/api/v1/settings/fields", "/api/v1/settings/fields", token, None).await.expect(200);
            assert_eq!(fields.body["metadata"], "nobody", "{who}: B keeps its own field visibility");
            let verify = call(&app, &cov, "GET", "/api/v1/integrity/verify", "/api/v1/integrity/verify", token, None).await;
            if admin {
                for reply in [&users, &tokens, &archives, &verify] {
                    leak(&reply.body.to_string(), who);
                }
                assert!(users.body["items"].as_array().unwrap().iter().all(|u| !a_user_ids.contains(&u["id"].as_i64().unwrap())));
                assert!(tokens.body["items"].as_array().unwrap().iter().all(|t| t["id"] != a_token_id));
                assert_eq!(archives.body["items"], json!([]), "B has no archives");
                assert_eq!(retention.body["days"], Value::Null, "B keeps its own retention setting");
                assert_eq!(review.expect(200).body["failed_logins"], 5, "B keeps its own review settings");
                assert_ne!(verify.body["head_hash"], a_head.as_str());
            } else {
                for reply in [users, tokens, archives, retention, review, verify] {
                    reply.problem(403);
                }
            }
            // Checkpoints and proofs: only B's own log, whoever asks.
            let status = call(&app, &cov, "GET", "/api/v1/integrity/status", "/api/v1/integrity/status", token, None).await;
            if admin {
                leak(&status.body.to_string(), who);
                assert!(!status.body.to_string().contains("/acme"), "{who}: A's log in {}", status.body);
            } else {
                status.problem(403);
            }
            let latest = call(&app, &cov, "GET", "/api/v1/integrity/checkpoint", "/api/v1/integrity/checkpoint", token, None).await.expect(200);
            assert_eq!(latest.body["origin"], "activity-log.test/globex", "{who}");
            let list = call(&app, &cov, "GET", "/api/v1/integrity/checkpoints", "/api/v1/integrity/checkpoints?after=0", token, None).await.expect(200);
            assert!(!list.body.to_string().contains("/acme"), "{who}: {}", list.body);
            let consistency = call(&app, &cov, "GET", "/api/v1/integrity/consistency", "/api/v1/integrity/consistency?first=1", token, None).await.expect(200);
            assert_eq!(consistency.body["checkpoint"]["origin"], "activity-log.test/globex", "{who}");
            for id in &a_event_ids {
                call(&app, &cov, "GET", "/api/v1/events/{id}/proof", &format!("/api/v1/events/{id}/proof"), token, None).await.problem(404);
            }
            let expected = if admin { 404 } else { 403 };
            for id in &a_user_ids {
                let patch = json!({"role": "member", "active": false, "name": "taken over"});
                call(&app, &cov, "PATCH", "/api/v1/users/{id}", &format!("/api/v1/users/{id}"), token, Some(&patch)).await.problem(expected);
            }
            call(&app, &cov, "DELETE", "/api/v1/tokens/{id}", &format!("/api/v1/tokens/{a_token_id}"), token, None).await.problem(expected);
            // A's alert rule and its deliveries: not found (or not allowed); B's list and feed
            // hold nothing of A.
            let rules = call(&app, &cov, "GET", "/api/v1/alerts/rules", "/api/v1/alerts/rules", token, None).await;
            if admin {
                leak(&rules.expect(200).body.to_string(), &format!("{who}: alert rules"));
            } else {
                rules.problem(403);
            }
            let rule_uri = format!("/api/v1/alerts/rules/{a_rule_id}");
            let taken = json!({"name": "taken over", "destination": {"type": "webhook", "url": "https://globex.example.com/"}});
            call(&app, &cov, "GET", "/api/v1/alerts/rules/{id}", &rule_uri, token, None).await.problem(expected);
            call(&app, &cov, "PUT", "/api/v1/alerts/rules/{id}", &rule_uri, token, Some(&taken)).await.problem(expected);
            call(&app, &cov, "POST", "/api/v1/alerts/rules/{id}/secret", &format!("{rule_uri}/secret"), token, None).await.problem(expected);
            call(&app, &cov, "GET", "/api/v1/alerts/rules/{id}/deliveries", &format!("{rule_uri}/deliveries"), token, None).await.problem(expected);
            call(&app, &cov, "POST", "/api/v1/alerts/deliveries/{id}/redeliver", &format!("/api/v1/alerts/deliveries/{a_delivery_id}/redeliver"), token, None).await.problem(expected);
            call(&app, &cov, "DELETE", "/api/v1/alerts/rules/{id}", &rule_uri, token, None).await.problem(expected);
            let feed = call(&app, &cov, "GET", "/api/v1/events/feed", "/api/v1/events/feed?limit=5000", token, None).await.expect(200);
            let feed_text = feed.body.as_str().map(str::to_string).unwrap_or_else(|| feed.body.to_string());
            leak(&feed_text, &format!("{who}: feed"));
            let fed: BTreeSet<i64> = feed_text.lines().filter(|l| !l.is_empty() && *l != "null").map(|l| serde_json::from_str::<Value>(l).unwrap()["event"]["id"].as_i64().unwrap()).collect();
            assert!(!fed.is_empty() && fed.is_disjoint(&a_event_ids), "{who}: feed {fed:?}");
            let response = call(&app, &cov, "GET", "/api/v1/archives/{id}", &format!("/api/v1/archives/{a_archive_id}"), token, None).await;
            response.problem(expected);
            // Deleting A's events: unknown ids to B (422), or not allowed at all (403).
            let ids: Vec<i64> = a_event_ids.iter().copied().collect();
            let delete = json!({"ids": ids, "reason": "cross-tenant attempt"});
            call(&app, &cov, "DELETE", "/api/v1/events", "/api/v1/events", token, Some(&delete)).await.problem(if admin { 422 } else { 403 });
        }
        // An API token with A's tenant and id but B's secret is refused.
        let forged = format!("alt_{}_{}_{}", ctx.acme_id, a_token_id, b_token.rsplit('_').next().unwrap());
        get(&app, &forged, "/api/v1/events").await.problem(401);

        // ---- Writes by B land in B: A's idempotency key and external ids mean nothing there.
        let keyed = TestRequest::post().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {b_token}"))).insert_header(("idempotency-key", "shared-key"));
        cov.record("POST", "/api/v1/events");
        let reply = send(&app, keyed.set_json(&batch)).await.expect(201);
        assert!(reply.headers.get("idempotent-replayed").is_none(), "A's response is not replayed to B");
        assert_eq!(reply.body["accepted"], 4, "A's external ids are no duplicates in B");
        assert!(reply.ids().iter().all(|id| !a_event_ids.contains(id)));
        let retention = json!({"days": 7});
        call(&app, &cov, "PUT", "/api/v1/settings/retention", "/api/v1/settings/retention", &b_admin, Some(&retention)).await.expect(200);
        let review = json!({"failed_logins": 9});
        call(&app, &cov, "PUT", "/api/v1/settings/review", "/api/v1/settings/review", &b_admin, Some(&review)).await.expect(200);
        let links = json!({"app_name": "Globex ERP", "templates": [{"entity_type": "booking", "url": "https://globex.example/b/{id}"}]});
        call(&app, &cov, "PUT", "/api/v1/settings/record-links", "/api/v1/settings/record-links", &b_admin, Some(&links)).await.expect(200);
        let fields = json!({"changes": "members"});
        call(&app, &cov, "PUT", "/api/v1/settings/fields", "/api/v1/settings/fields", &b_admin, Some(&fields)).await.expect(200);
        let new_user = json!({"email": "admin@acme.test", "name": "Same e-mail, other tenant", "password": "another long password", "role": "admin"});
        call(&app, &cov, "POST", "/api/v1/users", "/api/v1/users", &b_admin, Some(&new_user)).await.expect(201);
        let new_token = json!({"name": "another", "scopes": ["events:read"]});
        call(&app, &cov, "POST", "/api/v1/tokens", "/api/v1/tokens", &b_admin, Some(&new_token)).await.expect(201);
        let b_rule = json!({"name": "acme-rule ACME-SECRET", "destination": {"type": "webhook", "url": "https://globex.example.com/in"}});
        call(&app, &cov, "POST", "/api/v1/alerts/rules", "/api/v1/alerts/rules", &b_admin, Some(&b_rule)).await.expect(201);
        for (_, token) in &principals[1..] {
            call(&app, &cov, "POST", "/api/v1/users", "/api/v1/users", token, Some(&new_user)).await.problem(403);
            call(&app, &cov, "POST", "/api/v1/tokens", "/api/v1/tokens", token, Some(&new_token)).await.problem(403);
            call(&app, &cov, "POST", "/api/v1/alerts/rules", "/api/v1/alerts/rules", token, Some(&b_rule)).await.problem(403);
            call(&app, &cov, "PUT", "/api/v1/settings/retention", "/api/v1/settings/retention", token, Some(&retention)).await.problem(403);
            call(&app, &cov, "PUT", "/api/v1/settings/review", "/api/v1/settings/review", token, Some(&review)).await.problem(403);
            call(&app, &cov, "PUT", "/api/v1/settings/record-links", "/api/v1/settings/record-links", token, Some(&links)).await.problem(403);
            call(&app, &cov, "PUT", "/api/v1/settings/fields", "/api/v1/settings/fields", token, Some(&fields)).await.problem(403);
        }

        // ---- Signing in: B's accounts never open A, A's credentials never open B.
        let login = |body: Value| TestRequest::post().uri("/api/v1/auth/login").peer_addr("198.51.100.20:4000".parse().unwrap()).set_json(body);
        cov.record("POST", "/api/v1/auth/login");
        send(&app, login(json!({"email": "manager@globex.test", "password": "correct horse battery", "tenant": "acme"}))).await.problem(401);
        send(&app, login(json!({"email": "manager@acme.test", "password": "correct horse battery", "tenant": "globex"}))).await.problem(401);
        let signed_in = send(&app, login(json!({"email": "manager@globex.test", "password": "correct horse battery"}))).await.expect(200);
        assert_eq!(signed_in.body["user"]["tenant"]["slug"], "globex");
        leak(&signed_in.body.to_string(), "login");
        // Changing a password and signing out in B leave A's accounts and sessions alone.
        let change = json!({"current_password": "correct horse battery", "new_password": "a brand new passphrase"});
        let changed = call(&app, &cov, "POST", "/api/v1/auth/password", "/api/v1/auth/password", &b_member, Some(&change)).await.expect(200);
        leak(&changed.body.to_string(), "password change");
        let b_member = changed.body["access_token"].as_str().unwrap().to_string();
        call(&app, &cov, "POST", "/api/v1/auth/logout", "/api/v1/auth/logout", &b_member, None).await.expect(204);
        call(&app, &cov, "POST", "/api/v1/auth/password", "/api/v1/auth/password", &b_token, Some(&change)).await.problem(403);
        call(&app, &cov, "POST", "/api/v1/auth/logout", "/api/v1/auth/logout", &b_token, None).await.problem(403);
        let a_member_login = send(&app, login(json!({"email": "member@acme.test", "password": "correct horse battery"}))).await.expect(200);
        assert_eq!(a_member_login.body["user"]["tenant"]["slug"], "acme");

        // ---- A is exactly as it was: events, chain, users, tokens, archive, retention.
        get(&app, &a_admin, "/api/v1/auth/me").await.expect(200);
        get(&app, &a_token_secret, "/api/v1/events").await.expect(200);
        let a_now = get(&app, &a_admin, "/api/v1/events?per_page=100").await.expect(200);
        assert!(a_event_ids.is_subset(&event_ids(&a_now)), "every event of A is still there");
        let new_in_a: Vec<&Value> = a_now.body["items"].as_array().unwrap().iter().filter(|e| !a_event_ids.contains(&e["id"].as_i64().unwrap())).collect();
        let own = |e: &&Value| (e["actor"]["id"] == "u1" && e["action"] == "auth.login") || (e["actor"]["id"] == "a1" && e["action"] == "integrity.verified");
        assert!(new_in_a.iter().all(own), "only A's own sign-in and verification were added: {new_in_a:?}");
        let verify = get(&app, &a_admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(verify["ok"], true);
        // A's writes: three per principal, the sign-in, and the first verification's own record.
        assert_eq!(verify["events_checked"].as_i64(), Some(a_verify["events_checked"].as_i64().unwrap() + 3 * principals.len() as i64 + 2), "A's chain holds A's own writes only");
        // Unchanged but for the last sign-in of A's member, who signed in above.
        let without_sign_ins = |mut users: Value| {
            users["items"].as_array_mut().unwrap().iter_mut().for_each(|u| _ = u.as_object_mut().unwrap().remove("last_sign_in_at"));
            users
        };
        let users_now = get(&app, &a_admin, "/api/v1/users").await.expect(200).body;
        assert_eq!(without_sign_ins(users_now.clone()), without_sign_ins(a_users.clone()));
        let signed_in: Vec<&str> = users_now["items"].as_array().unwrap().iter().filter(|u| !u["last_sign_in_at"].is_null()).map(|u| u["actor_id"].as_str().unwrap()).collect();
        assert_eq!(signed_in, ["u1"], "only A's member signed in");
        let tokens_now = get(&app, &a_admin, "/api/v1/tokens").await.expect(200).body;
        assert_eq!(tokens_now["items"].as_array().unwrap().len(), a_tokens["items"].as_array().unwrap().len());
        assert!(tokens_now["items"].as_array().unwrap().iter().all(|t| t["revoked_at"].is_null()));
        assert_eq!(get(&app, &a_admin, "/api/v1/archives").await.expect(200).body, a_archives);
        assert_eq!(get(&app, &a_admin, &format!("/api/v1/archives/{a_archive_id}")).await.status, 200);
        assert_eq!(get(&app, &a_admin, "/api/v1/settings/retention").await.expect(200).body, json!({"days": 30}));
        assert_eq!(get(&app, &a_admin, "/api/v1/settings/review").await.expect(200).body, a_review, "A's review settings are its own");
        assert_eq!(get(&app, &a_admin, "/api/v1/settings/record-links").await.expect(200).body, a_links, "A's links are its own");
        assert_eq!(get(&app, &a_admin, "/api/v1/settings/fields").await.expect(200).body, a_fields, "A's field visibility is its own");
        let a_rule_now = get(&app, &a_admin, &format!("/api/v1/alerts/rules/{a_rule_id}")).await.expect(200).body;
        for key in ["name", "filter", "destination", "paused", "updated_at"] {
            assert_eq!(a_rule_now[key], a_rule[key], "A's alert rule is as it was: {key}");
        }
        // Its delivery is as it was (not sent again by B); later ones are of A's own new events.
        let deliveries_now = get(&app, &a_admin, &format!("/api/v1/alerts/rules/{a_rule_id}/deliveries?limit=100")).await.expect(200).body;
        let items = deliveries_now["items"].as_array().unwrap();
        assert!(items.contains(&a_deliveries["items"][0]), "{deliveries_now}");
        let a_events_now = event_ids(&get(&app, &a_admin, "/api/v1/events?per_page=100").await.expect(200));
        assert!(items.iter().flat_map(|d| d["event_ids"].as_array().unwrap()).all(|id| a_events_now.contains(&id.as_i64().unwrap())));
        assert_eq!(get(&app, &a_admin, "/api/v1/alerts/rules").await.expect(200).body["items"].as_array().unwrap().len(), 1);
        let _ = std::fs::remove_dir_all(&ctx.state.settings.archive_dir);

        cov.assert_complete();
    }
}

/// The coverage check itself: the document lists endpoints, and one the test never calls fails it.
#[test]
fn an_endpoint_left_out_fails_the_coverage_check() {
    let coverage = Coverage::new();
    assert!(coverage.documented.len() >= 25, "{:?}", coverage.documented);
    for (method, path) in coverage.documented.iter().skip(1) {
        coverage.record(method, path);
    }
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| coverage.assert_complete()));
    assert!(result.is_err(), "a missing endpoint must fail the check");
}
