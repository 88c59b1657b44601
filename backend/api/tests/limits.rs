//! Limits: body size, batch size, JSON nesting depth, string lengths, metadata size, query
//! parameters, header size and slow clients. Each case is checked at the limit (accepted) and just
//! over it (its precise 4xx, a problem document where the server writes the body), and an
//! over-limit request stores nothing: the tenant's chain head stays where it was.
//!
//! Header size and timeouts belong to the HTTP server itself, so those run against the real
//! binary over TCP; the rest through the in-process app. All on SQLite and PostgreSQL.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use auditlog_api::events::ingest::MAX_JSON_DEPTH;
use chrono::{TimeDelta, Utc};
use common::*;
use serde_json::{json, Value};

/// The tenant's chain head: (seq, hash). Unchanged means nothing was stored.
fn head(ctx: &Ctx) -> (i64, String) {
    let tenant = auditlog_db::queries::tenants::get(&mut ctx.pool.get().unwrap(), ctx.acme_id).unwrap();
    (tenant.head_seq, tenant.head_hash)
}

fn request(method: &str, uri: &str, token: &str) -> TestRequest {
    let req = match method {
        "POST" => TestRequest::post(),
        "PUT" => TestRequest::put(),
        "PATCH" => TestRequest::patch(),
        "DELETE" => TestRequest::delete(),
        _ => TestRequest::get(),
    };
    req.uri(uri).insert_header(("authorization", format!("Bearer {token}")))
}

/// A raw JSON body (not re-serialised), as bytes on the wire.
fn raw_json(method: &str, uri: &str, token: &str, body: Vec<u8>) -> TestRequest {
    request(method, uri, token).insert_header(("content-type", "application/json")).set_payload(body)
}

/// `{"a": {"a": … {}}}` with `levels` objects.
fn nested_object(levels: usize) -> String {
    format!("{}{{}}{}", "{\"a\":".repeat(levels - 1), "}".repeat(levels - 1))
}

both_backends! {
    async fn bodies_over_the_size_limit_get_413_and_store_nothing(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let limit = ctx.state.settings.max_body_bytes;
        let padded = |size: usize| {
            let mut body = br#"{"action": "booking.created"}"#.to_vec();
            body.resize(size, b' ');
            body
        };
        let before = head(&ctx);
        let reply = send(&app, raw_json("POST", "/api/v1/events", &token, padded(limit))).await;
        assert_eq!(reply.status, 201, "exactly the limit is accepted: {}", reply.body);
        assert_eq!(head(&ctx).0, before.0 + 1);

        let before = head(&ctx);
        let reply = send(&app, raw_json("POST", "/api/v1/events", &token, padded(limit + 1))).await.problem(413);
        assert!(reply.body["detail"].as_str().unwrap().contains(&limit.to_string()), "{}", reply.body);
        assert_eq!(head(&ctx), before, "nothing stored");

        // Every other endpoint with a body, signed in or not.
        let users_before = get(&app, &token, "/api/v1/users").await.expect(200).body;
        let user_id = ctx.member.id;
        for (method, uri) in [
            ("POST", "/api/v1/auth/login".to_string()),
            ("POST", "/api/v1/auth/password".to_string()),
            ("POST", "/api/v1/users".to_string()),
            ("PATCH", format!("/api/v1/users/{user_id}")),
            ("POST", "/api/v1/tokens".to_string()),
            ("PUT", "/api/v1/settings/retention".to_string()),
            ("DELETE", "/api/v1/events".to_string()),
        ] {
            let mut body = br#"{"name": ""#.to_vec();
            body.resize(limit + 1, b'x');
            let reply = send(&app, raw_json(method, &uri, &token, body)).await;
            let reply = reply.problem(413);
            assert!(!reply.body["detail"].as_str().unwrap().is_empty(), "{method} {uri}");
        }
        assert_eq!(head(&ctx), before, "nothing stored, not even an audit record");
        assert_eq!(get(&app, &token, "/api/v1/users").await.expect(200).body, users_before);
    }

    async fn batches_over_the_limit_get_413_and_store_nothing(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let max = ctx.state.settings.max_batch_events;
        let batch = |n: usize| json!({"events": vec![json!({"action": "booking.created"}); n]});
        let with_key = |body: &Value| raw_json("POST", "/api/v1/events", &token, body.to_string().into_bytes()).insert_header(("idempotency-key", "batch-1"));
        let before = head(&ctx);
        let reply = send(&app, with_key(&batch(max + 1))).await.problem(413);
        assert!(reply.body["detail"].as_str().unwrap().contains(&max.to_string()), "{}", reply.body);
        assert_eq!(head(&ctx), before, "nothing stored");
        // The idempotency key was not used up by the refused request.
        let reply = send(&app, with_key(&batch(3))).await.expect(201);
        assert_eq!(reply.body["accepted"], 3);
        assert!(reply.headers.get("idempotent-replayed").is_none());
        // The empty batch is refused too.
        let before = head(&ctx);
        let reply = post(&app, &token, "/api/v1/events", &batch(0)).await.problem(422);
        assert_eq!(reply.pointers(), ["/events"]);
        assert_eq!(head(&ctx), before);
        // Exactly the limit is accepted (events_api checks 1000 in detail; here only the count).
        let reply = post(&app, &token, "/api/v1/events", &batch(max)).await.expect(201);
        assert_eq!(reply.body["accepted"], max);
    }

    async fn json_nested_too_deep_is_refused_clearly(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        // Depth counts every array and object, the body's own included.
        let single = |levels: usize| format!(r#"{{"action": "a.b", "metadata": {}}}"#, nested_object(levels - 1)).into_bytes();
        let batch = |levels: usize| format!(r#"{{"events": [{{"action": "a.b", "before": {{"x": {}}}}}]}}"#, "[".repeat(levels - 4) + &"]".repeat(levels - 4)).into_bytes();
        for (shape, body) in [("single", &single as &dyn Fn(usize) -> Vec<u8>), ("batch", &batch)] {
            let reply = send(&app, raw_json("POST", "/api/v1/events", &token, body(MAX_JSON_DEPTH))).await;
            assert_eq!(reply.status, 201, "{shape}: {MAX_JSON_DEPTH} levels are accepted: {}", reply.body);
            let id = reply.ids()[0];
            let stored = get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200).body;
            assert!(stored.to_string().len() > MAX_JSON_DEPTH, "the nested value is stored and read back");

            let before = head(&ctx);
            for levels in [MAX_JSON_DEPTH + 1, MAX_JSON_DEPTH + 50, 100_000] {
                let reply = send(&app, raw_json("POST", "/api/v1/events", &token, body(levels))).await.problem(422);
                let detail = reply.body["detail"].as_str().unwrap();
                assert!(detail.contains(&format!("more than {MAX_JSON_DEPTH} levels deep")), "{shape} {levels}: {detail}");
            }
            assert_eq!(head(&ctx), before, "nothing stored");
        }
        // The deep events read back in the list, the export and the chain.
        get(&app, &token, "/api/v1/events").await.expect(200);
        get(&app, &token, "/api/v1/events/export?format=csv").await.expect(200);
        assert_eq!(get(&app, &token, "/api/v1/integrity/verify").await.expect(200).body["ok"], true);
        // Endpoints with typed bodies refuse deep nesting as the wrong type.
        let deep = format!(r#"{{"name": "t", "scopes": {}}}"#, "[".repeat(100_000) + &"]".repeat(100_000)).into_bytes();
        let reply = send(&app, raw_json("POST", "/api/v1/tokens", &token, deep)).await;
        let status = reply.status.as_u16();
        assert!(matches!(status, 400 | 422), "{}", reply.body);
        reply.problem(status);
    }

    async fn every_event_field_limit_at_and_over(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let s = |c: &str, n: usize| c.repeat(n);
        let email = |n: usize| format!("{}@acme.test", "e".repeat(n - 10));
        let ipv6 = "0000:0000:0000:0000:0000:ffff:255.255.255.255";
        let changes = |n: usize| (0..n).map(|i| json!({"field": format!("f{i}"), "new": i})).collect::<Vec<_>>();
        let snapshot = |n: usize, v: i64| Value::Object((0..n).map(|i| (format!("f{i}"), json!(v))).collect());
        let related = |n: usize| vec![json!({"type": "customer", "id": "1"}); n];
        // The serialised metadata `{"k":"…"}` is exactly this many bytes.
        let metadata = |bytes: usize| json!({"k": "m".repeat(bytes - 8)});
        let future = |minutes: i64| (Utc::now() + TimeDelta::minutes(minutes)).to_rfc3339();
        // (pointer, the field's value at the limit, just over it)
        let cases: Vec<(&str, Value, Value)> = vec![
            ("/action", json!({"action": format!("{}.b", s("a", 64))}), json!({"action": format!("{}.b", s("a", 65))})),
            ("/action", json!({"action": format!("a.{}", s("b", 64))}), json!({"action": format!("a.{}", s("b", 65))})),
            ("/actor/id", json!({"actor": {"id": s("€", 128)}}), json!({"actor": {"id": s("€", 129)}})),
            ("/actor/name", json!({"actor": {"id": "1", "name": s("€", 200)}}), json!({"actor": {"id": "1", "name": s("€", 201)}})),
            ("/actor/email", json!({"actor": {"id": "1", "email": email(254)}}), json!({"actor": {"id": "1", "email": email(255)}})),
            ("/actor/role", json!({"actor": {"id": "1", "role": s("r", 64)}}), json!({"actor": {"id": "1", "role": s("r", 65)}})),
            ("/actor/type", json!({"actor": {"id": "1", "type": "system"}}), json!({"actor": {"id": "1", "type": s("t", 17)}})),
            ("/entity/type", json!({"entity": {"type": s("t", 64), "id": "1"}}), json!({"entity": {"type": s("t", 65), "id": "1"}})),
            ("/entity/id", json!({"entity": {"type": "t", "id": s("€", 128)}}), json!({"entity": {"type": "t", "id": s("€", 129)}})),
            ("/entity/label", json!({"entity": {"type": "t", "id": "1", "label": s("€", 256)}}), json!({"entity": {"type": "t", "id": "1", "label": s("€", 257)}})),
            ("/related", json!({"related": related(50)}), json!({"related": related(51)})),
            ("/related/0/id", json!({"related": [{"type": "t", "id": s("i", 128)}]}), json!({"related": [{"type": "t", "id": s("i", 129)}]})),
            ("/description", json!({"description": s("€", 1000)}), json!({"description": s("€", 1001)})),
            ("/changes", json!({"changes": changes(500)}), json!({"changes": changes(501)})),
            ("/changes", json!({"before": snapshot(500, 1), "after": snapshot(500, 2)}), json!({"before": snapshot(501, 1), "after": snapshot(501, 2)})),
            ("/changes/0/field", json!({"changes": [{"field": s("f", 128), "new": 1}]}), json!({"changes": [{"field": s("f", 129), "new": 1}]})),
            ("/ip", json!({"ip": ipv6}), json!({"ip": format!("{ipv6}{}", s("0", 20))})),
            ("/user_agent", json!({"user_agent": s("€", 512)}), json!({"user_agent": s("€", 513)})),
            ("/external_id", json!({"external_id": s("€", 128)}), json!({"external_id": s("x", 129)})),
            ("/metadata", json!({"metadata": metadata(16 * 1024)}), json!({"metadata": metadata(16 * 1024 + 1)})),
            ("/occurred_at", json!({"occurred_at": future(4)}), json!({"occurred_at": future(6)})),
        ];
        for (pointer, at, over) in cases {
            let event = |fields: &Value| {
                let mut e = json!({"action": "booking.updated"});
                e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
                e
            };
            let reply = post(&app, &token, "/api/v1/events", &event(&at)).await;
            assert_eq!(reply.status, 201, "{pointer} at the limit: {}", reply.body);
            let before = head(&ctx);
            let reply = post(&app, &token, "/api/v1/events", &event(&over)).await.problem(422);
            let pointers = reply.pointers();
            assert!(!pointers.is_empty() && pointers.iter().all(|p| p == pointer), "{pointer} over the limit: {}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().starts_with(pointer), "{}", reply.body);
            assert_eq!(head(&ctx), before, "{pointer}: nothing stored");
        }

        // The Idempotency-Key header: 255 characters, printable.
        let keyed = |key: &str| raw_json("POST", "/api/v1/events", &token, br#"{"action": "a.b"}"#.to_vec()).insert_header(("idempotency-key", key.to_string()));
        send(&app, keyed(&s("k", 255))).await.expect(201);
        let before = head(&ctx);
        send(&app, keyed(&s("k", 256))).await.problem(400);
        assert_eq!(head(&ctx), before);
    }

    async fn every_query_limit_at_and_over(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let events: Vec<Value> = (0..101).map(|i| json!({"action": "booking.created", "entity": {"type": "booking", "id": i}})).collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let s = |c: &str, n: usize| c.repeat(n);
        // (path and query at the limit, over it, the parameter named)
        let actors = |n: usize| (0..n).map(|i| format!("actor_id=a{i}")).collect::<Vec<_>>().join("&");
        let id_list = |n: usize| (0..n as i64).map(|i| (i + 1).to_string()).collect::<Vec<_>>().join(",");
        let hours = |h: i64| {
            let from = chrono::DateTime::parse_from_rfc3339("2020-01-01T00:00:00Z").unwrap();
            let to = from + TimeDelta::hours(h) - TimeDelta::microseconds(1);
            format!("/api/v1/stats/timeline?bucket=hour&tz=UTC&from=2020-01-01T00:00:00Z&to={}", to.to_rfc3339().replace('+', "%2B"))
        };
        let mut cases: Vec<(String, String, &str)> = vec![
            (format!("/api/v1/events?q={}", s("q", 200)), format!("/api/v1/events?q={}", s("q", 201)), "q"),
            (format!("/api/v1/events?{}", actors(100)), format!("/api/v1/events?{}", actors(101)), "actor_id"),
            (format!("/api/v1/events?actor_id={}", s("a", 128)), format!("/api/v1/events?actor_id={}", s("a", 129)), "actor_id"),
            ("/api/v1/events?per_page=100".into(), "/api/v1/events?per_page=101".into(), "per_page"),
            ("/api/v1/events?page=4294967295".into(), "/api/v1/events?page=4294967296".into(), "page"),
            ("/api/v1/events?page=1".into(), "/api/v1/events?page=0".into(), "page"),
            (format!("/api/v1/facets/actors?q={}", s("q", 200)), format!("/api/v1/facets/actors?q={}", s("q", 201)), "q"),
            ("/api/v1/facets/actors?limit=100".into(), "/api/v1/facets/actors?limit=101".into(), "limit"),
            ("/api/v1/facets/actors?limit=1".into(), "/api/v1/facets/actors?limit=0".into(), "limit"),
            (format!("/api/v1/events/export?format=csv&ids={}", id_list(1000)), format!("/api/v1/events/export?format=csv&ids={}", id_list(1001)), "ids"),
            ("/api/v1/events/stream?last_event_id=9223372036854775807".into(), "/api/v1/events/stream?last_event_id=9223372036854775808".into(), "last_event_id"),
        ];
        for name in ["module", "verb", "action", "entity_type", "entity_id"] {
            cases.push((format!("/api/v1/events?{name}={}", s("x", 128)), format!("/api/v1/events?{name}={}", s("x", 129)), name));
        }
        for (at, over, name) in &cases {
            if at.contains("/stream") {
                // An endless body: the status is enough.
                let response = actix_web::test::call_service(&app, request("GET", at, &token).to_request()).await;
                assert_eq!(response.status(), 200, "{name} at the limit: {at}");
            } else {
                // Read whole, so that an export has recorded itself before `before` is taken.
                get(&app, &token, at).await.expect(200);
            }
            let before = head(&ctx);
            let reply = get(&app, &token, over).await.problem(400);
            assert_eq!(reply.pointers(), [name.to_string()], "{over}: {}", reply.body);
            assert!(reply.body["detail"].as_str().unwrap().contains(name), "{}", reply.body);
            assert_eq!(head(&ctx), before, "{over}: nothing stored (not even an export record)");
        }
        // Record history: type up to 64 bytes, id up to 128.
        get(&app, &token, &format!("/api/v1/entities/{}/{}/history", s("t", 64), s("i", 128))).await.expect(200);
        get(&app, &token, &format!("/api/v1/entities/{}/1/history", s("t", 65))).await.problem(400);
        get(&app, &token, &format!("/api/v1/entities/t/{}/history", s("i", 129))).await.problem(400);
        // The activity chart: at most 2000 buckets.
        assert_eq!(get(&app, &token, &hours(2000)).await.expect(200).body["buckets"].as_array().unwrap().len(), 2000);
        get(&app, &token, &hours(2001)).await.problem(422);
    }

    async fn every_admin_body_limit_at_and_over(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let s = |c: &str, n: usize| c.repeat(n);
        let ids = post(&app, &token, "/api/v1/events", &json!({"events": vec![json!({"action": "a.b"}); 2]})).await.expect(201).ids();
        let user = |name: String, email: String, actor: String, password: String| json!({"name": name, "email": email, "actor_id": actor, "password": password, "role": "member"});
        let email = |n: usize| format!("{}@acme.test", "e".repeat(n - 10));
        let pw = |n: usize| format!("{}abcd", "p".repeat(n - 4));
        // (method, uri, body at the limit, body over it, pointer)
        let cases: Vec<(&str, String, Value, Value, &str)> = vec![
            ("DELETE", "/api/v1/events".into(), json!({"ids": [ids[0]], "reason": s("€", 500)}), json!({"ids": [ids[1]], "reason": s("€", 501)}), "/reason"),
            ("DELETE", "/api/v1/events".into(), json!({"ids": [ids[1]], "reason": "r"}), json!({"ids": (1..=1001).collect::<Vec<i64>>(), "reason": "r"}), "/ids"),
            ("POST", "/api/v1/tokens".into(), json!({"name": s("n", 100), "scopes": ["events:read"]}), json!({"name": s("n", 101), "scopes": ["events:read"]}), "/name"),
            ("POST", "/api/v1/tokens".into(), json!({"name": "t", "scopes": ["events:read"], "expires_in_days": 3650}), json!({"name": "t", "scopes": ["events:read"], "expires_in_days": 3651}), "/expires_in_days"),
            ("POST", "/api/v1/users".into(), user(s("€", 200), email(254), s("a", 128), pw(128)), user(s("€", 201), "x@acme.test".into(), "a2".into(), pw(12)), "/name"),
            ("POST", "/api/v1/users".into(), user("N".into(), "y@acme.test".into(), "a3".into(), pw(12)), user("N".into(), email(255), "a4".into(), pw(12)), "/email"),
            ("POST", "/api/v1/users".into(), user("N".into(), "z@acme.test".into(), "a5".into(), pw(12)), user("N".into(), "w@acme.test".into(), s("a", 129), pw(12)), "/actor_id"),
            ("POST", "/api/v1/users".into(), user("N".into(), "v@acme.test".into(), "a6".into(), pw(128)), user("N".into(), "u@acme.test".into(), "a7".into(), pw(129)), "/password"),
            ("PATCH", format!("/api/v1/users/{}", ctx.member.id), json!({"name": s("€", 200)}), json!({"name": s("€", 201)}), "/name"),
            ("PUT", "/api/v1/settings/retention".into(), json!({"days": 36500}), json!({"days": 36501}), "/days"),
        ];
        for (method, uri, at, over, pointer) in cases {
            let reply = send(&app, request(method, &uri, &token).set_json(&at)).await;
            assert!(reply.status.is_success(), "{method} {uri} {pointer} at the limit: {}", reply.body);
            let before = head(&ctx);
            let reply = send(&app, request(method, &uri, &token).set_json(&over)).await.problem(422);
            assert_eq!(reply.pointers(), [pointer], "{method} {uri}: {}", reply.body);
            assert_eq!(head(&ctx), before, "{method} {uri} {pointer}: nothing recorded");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The real server over TCP: request heads and slow clients.

const SECRET: &str = "limits-test-secret-that-is-long-enough-0123456789";
/// The server's body limit in these tests, small to keep them quick.
const BODY_LIMIT: usize = 64 * 1024;

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(db: &TestDatabase) -> Server {
    let database_url = &db.url;
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("serve")
        .envs(db.server_env())
        .env("DATABASE_URL", database_url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", SECRET)
        .env("MAX_BODY_BYTES", BODY_LIMIT.to_string())
        .env("ARCHIVE_INTERVAL_SECONDS", "0")
        .env("STATIC_DIR", "/nonexistent")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the server");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "the server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    server
}

/// A migrated database with one tenant, an admin's token, and the server on it.
fn setup(backend: auditlog_db::Backend) -> (TestDatabase, auditlog_db::DbPool, i64, String, Server) {
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(2);
    let mut conn = pool.get().unwrap();
    let tenant = auditlog_db::queries::tenants::ensure(
        &mut conn,
        &auditlog_db::TenantSlug::parse("acme").unwrap(),
        "Acme",
        "UTC",
    )
    .unwrap();
    let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
    let admin = auditlog_db::queries::users::create(
        &mut conn,
        &auditlog_db::queries::users::NewUser {
            tenant_id: tenant.id,
            email: "a@acme.test",
            name: "A",
            password_hash: &hash,
            role: auditlog_db::models::Role::Admin,
            actor_id: None,
        },
    )
    .unwrap();
    let token = auditlog_api::auth::JwtKeys::new(SECRET.as_bytes(), 3600).issue(&admin).unwrap();
    let server = start(&db);
    (db, pool, tenant.id.get(), token, server)
}

fn head_seq(pool: &auditlog_db::DbPool, tenant_id: auditlog_db::TenantId) -> i64 {
    auditlog_db::queries::tenants::get(&mut pool.get().unwrap(), tenant_id).unwrap().head_seq
}

/// One response read off a raw connection: status, head, body (by Content-Length, else to EOF).
struct RawResponse {
    status: u16,
    head: String,
    body: String,
}

fn read_response(stream: &mut TcpStream, wait: Duration) -> RawResponse {
    stream.set_read_timeout(Some(wait)).unwrap();
    let mut data = Vec::new();
    let mut buf = [0u8; 8192];
    let header_end = loop {
        if let Some(i) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match stream.read(&mut buf) {
            Ok(0) => panic!("connection closed without a response: {:?}", String::from_utf8_lossy(&data)),
            Ok(n) => data.extend_from_slice(&buf[..n]),
            Err(e) => panic!("no response within {wait:?}: {e}"),
        }
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_string();
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status line");
    let length = head.lines().find_map(|l| {
        l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap())
    });
    let mut body = data[header_end..].to_vec();
    while length.is_none_or(|n| body.len() < n) {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&buf[..n]),
        }
    }
    RawResponse { status, head, body: String::from_utf8_lossy(&body).to_string() }
}

fn assert_problem(response: &RawResponse, status: u16) -> Value {
    assert_eq!(response.status, status, "{}{}", response.head, response.body);
    assert!(
        response.head.to_ascii_lowercase().contains("content-type: application/problem+json"),
        "{}",
        response.head
    );
    let body: Value = serde_json::from_str(&response.body).expect("a JSON problem");
    assert_eq!(body["status"], status);
    assert!(body["detail"].as_str().is_some_and(|d| !d.is_empty()));
    body
}

fn connect(server: &Server) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    stream.set_nodelay(true).unwrap();
    stream
}

fn oversize_heads(backend: auditlog_db::Backend) {
    let (_db, pool, tenant_id, token, server) = setup(backend);
    let before = head_seq(&pool, auditlog_db::TenantId(tenant_id));
    // A head of 128 KiB that has not ended yet (the server reads all of it, then answers).
    let mut stream = connect(&server);
    let mut head =
        format!("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nX-Pad: ")
            .into_bytes();
    head.resize(128 * 1024, b'a');
    stream.write_all(&head).unwrap();
    let response = read_response(&mut stream, Duration::from_secs(10));
    assert_eq!(response.status, 431, "{}", response.head);
    // More than 96 headers.
    let mut stream = connect(&server);
    let many: String = (0..100).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    write!(stream, "GET /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n{many}\r\n")
        .unwrap();
    assert_eq!(read_response(&mut stream, Duration::from_secs(10)).status, 431);
    // Under both limits the request is served: 90 headers, one of them 100 KiB.
    let mut stream = connect(&server);
    let some: String = (0..88).map(|i| format!("X-H{i}: {i}\r\n")).collect();
    let pad = "a".repeat(100 * 1024);
    let body = r#"{"action": "booking.created"}"#;
    write!(stream, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nX-Pad: {pad}\r\n{some}\r\n{body}", body.len()).unwrap();
    let response = read_response(&mut stream, Duration::from_secs(10));
    assert_eq!(response.status, 201, "{}{}", response.head, response.body);
    assert_eq!(
        head_seq(&pool, auditlog_db::TenantId(tenant_id)),
        before + 1,
        "only the request within the limits stored anything"
    );
}

fn slow_clients(backend: auditlog_db::Backend) {
    let (_db, pool, tenant_id, token, server) = setup(backend);
    let before = head_seq(&pool, auditlog_db::TenantId(tenant_id));
    std::thread::scope(|scope| {
        // Slow loris: the head trickles in a line every half second; the server stops waiting
        // after 5 s (CLIENT_REQUEST_TIMEOUT) with 408 and closes the connection.
        let loris = scope.spawn(|| {
            let mut stream = connect(&server);
            let started = Instant::now();
            stream.write_all(b"POST /api/v1/events HTTP/1.1\r\nHost: x\r\n").unwrap();
            stream.set_read_timeout(Some(Duration::from_millis(500))).unwrap();
            let mut first = [0u8; 1];
            for i in 0.. {
                assert!(started.elapsed() < Duration::from_secs(20), "the slow head was never cut off");
                // The trickle itself is the attack: one header line per half second.
                if stream.write_all(format!("X-Slow-{i}: y\r\n").as_bytes()).is_err() {
                    break;
                }
                match stream.peek(&mut first) {
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) => {}
                    Err(_) => break,
                }
            }
            let elapsed = started.elapsed();
            let response = read_response(&mut stream, Duration::from_secs(5));
            assert_eq!(response.status, 408, "{}", response.head);
            assert!(
                elapsed >= Duration::from_secs(4) && elapsed < Duration::from_secs(9),
                "cut off after {elapsed:?}"
            );
        });
        // Slow body: the head is whole, the body stops after 20 of 200 bytes. After 10 s of
        // silence the server answers 408 and stores nothing.
        let body = scope.spawn(|| {
            let mut stream = connect(&server);
            write!(stream, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"action\": \"a.b\",   ").unwrap();
            let started = Instant::now();
            let response = read_response(&mut stream, Duration::from_secs(20));
            let elapsed = started.elapsed();
            let problem = assert_problem(&response, 408);
            assert!(problem["detail"].as_str().unwrap().contains("stopped arriving"), "{problem}");
            assert!(elapsed >= Duration::from_secs(9) && elapsed < Duration::from_secs(15), "answered after {elapsed:?}");
        });
        // The same for any other JSON body, here a new user's: 408, and no user is created.
        let user_body = scope.spawn(|| {
            let mut stream = connect(&server);
            write!(stream, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{{\"email\": \"slow@acme.test\", ").unwrap();
            let started = Instant::now();
            let problem = assert_problem(&read_response(&mut stream, Duration::from_secs(20)), 408);
            assert!(problem["detail"].as_str().unwrap().contains("stopped arriving"), "{problem}");
            assert!(started.elapsed() >= Duration::from_secs(9), "answered after {:?}", started.elapsed());
        });
        // A chunked body (no Content-Length to refuse up front) is cut off at the limit: 413.
        let chunked = scope.spawn(|| {
            let mut stream = connect(&server);
            write!(stream, "POST /api/v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").unwrap();
            let chunk = 16 * 1024;
            for _ in 0..(BODY_LIMIT / chunk + 1) {
                write!(stream, "{chunk:x}\r\n{}\r\n", " ".repeat(chunk)).unwrap();
            }
            let problem = assert_problem(&read_response(&mut stream, Duration::from_secs(10)), 413);
            assert!(problem["detail"].as_str().unwrap().contains(&BODY_LIMIT.to_string()), "{problem}");
        });
        for t in [loris, body, user_body, chunked] {
            if let Err(panic) = t.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
    assert_eq!(head_seq(&pool, auditlog_db::TenantId(tenant_id)), before, "nothing stored");
    // The server is still fine.
    let reply = ureq::post(&format!("http://127.0.0.1:{}/api/v1/events", server.port))
        .set("authorization", &format!("Bearer {token}"))
        .send_json(json!({"action": "booking.created"}))
        .unwrap();
    assert_eq!(reply.status(), 201);
}

#[test]
fn oversize_request_heads_get_431_on_sqlite() {
    oversize_heads(auditlog_db::Backend::Sqlite);
}

#[test]
fn oversize_request_heads_get_431_on_postgres() {
    oversize_heads(auditlog_db::Backend::Postgres);
}

#[test]
fn slow_clients_are_cut_off_and_store_nothing_on_sqlite() {
    slow_clients(auditlog_db::Backend::Sqlite);
}

#[test]
fn slow_clients_are_cut_off_and_store_nothing_on_postgres() {
    slow_clients(auditlog_db::Backend::Postgres);
}
