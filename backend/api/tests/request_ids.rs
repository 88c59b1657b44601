//! Request ids: on every response, in every problem body, chosen by a trusted proxy only, and on
//! the request's log lines (JSON logs of the real binary).

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use auditlog_db::testing::TestDatabase;
use common::*;
use serde_json::{json, Value};

fn id_of(reply: &Reply) -> String {
    reply.headers.get("x-request-id").expect("an X-Request-Id").to_str().unwrap().to_string()
}

both_backends! {
    async fn every_answer_carries_its_id_and_every_problem_names_it(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let ok = get(&app, &token, "/api/v1/events?per_page=10").await.expect(200);
        let refused = get(&app, "not-a-token", "/api/v1/events").await.problem(401);
        let invalid = get(&app, &token, "/api/v1/events?per_page=7").await.problem(400);
        let unknown = get(&app, &token, "/api/v1/nothing-here").await.problem(404);
        let body = post(&app, &token, "/api/v1/events", &json!({"action": ""})).await.problem(422);
        let health = send(&app, actix_web::test::TestRequest::get().uri("/healthz")).await;
        let mut ids = Vec::new();
        for reply in [&ok, &refused, &invalid, &unknown, &body, &health] {
            let id = id_of(reply);
            assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
            if reply.status.as_u16() >= 400 {
                assert_eq!(reply.body["request_id"], json!(id), "{}", reply.body);
            }
            ids.push(id);
        }
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 6, "ids repeat");
        assert!(ok.body.get("request_id").is_none(), "a success body is as it was");
    }
}

#[actix_web::test]
async fn a_trusted_proxys_id_is_kept_and_anyone_elses_replaced() {
    let ctx = Ctx::with(auditlog_db::Backend::Sqlite, |s| {
        s.trusted_proxies = auditlog_api::config::parse_proxies("10.0.0.0/8").unwrap()
    });
    let app = ctx.app().await;
    let token = ctx.token(&ctx.admin);
    let ask = |peer: &str, id: &str| {
        actix_web::test::TestRequest::get()
            .uri("/api/v1/events?per_page=3")
            .peer_addr(format!("{peer}:5000").parse().unwrap())
            .insert_header(("x-request-id", id.to_string()))
            .insert_header(("authorization", format!("Bearer {token}")))
    };
    let proxied = send(&app, ask("10.0.0.5", "edge-42:abc")).await;
    assert_eq!(id_of(&proxied), "edge-42:abc");
    assert_eq!(proxied.body["request_id"], json!("edge-42:abc"), "a problem names the proxy's id");
    let direct = send(&app, ask("198.51.100.7", "edge-42:abc")).await;
    assert_ne!(id_of(&direct), "edge-42:abc");
    let garbled = send(&app, ask("10.0.0.5", "two words")).await;
    assert!(uuid::Uuid::parse_str(&id_of(&garbled)).is_ok());
}

/// The real binary with `LOG_FORMAT=json`: every line is JSON, and the access line of a request
/// carries the id the response gave, its route's path and status, never its query string.
#[test]
fn json_logs_carry_the_request_id() {
    let db = TestDatabase::new(auditlog_db::Backend::Sqlite);
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("serve")
        .envs(db.server_env())
        .env("DATABASE_URL", &db.url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", std::str::from_utf8(SECRET).unwrap())
        .env("ARCHIVE_INTERVAL_SECONDS", "0")
        .env("STATIC_DIR", "/nonexistent")
        .env("RUST_LOG", "info")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the server");
    let stderr = child.stderr.take().unwrap();
    let (lines, received) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{base}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "the server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    let answer = match ureq::get(&format!("{base}/api/v1/events?q=secret-search-words")).call() {
        Err(ureq::Error::Status(401, response)) => response,
        other => panic!("expected 401, got {other:?}"),
    };
    let id = answer.header("x-request-id").unwrap().to_string();
    let mut found = None;
    let mut seen = Vec::new();
    while found.is_none() && Instant::now() < deadline {
        let Ok(line) = received.recv_timeout(Duration::from_millis(200)) else { continue };
        let parsed: Value = serde_json::from_str(&line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(!line.contains("secret-search-words"), "a query string was logged: {line}");
        if parsed["span"]["request_id"] == json!(id) && parsed["fields"]["status"] == json!(401) {
            found = Some(parsed);
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = found.unwrap_or_else(|| panic!("no access line for {id} in:\n{}", seen.join("\n")));
    assert_eq!(line["span"]["path"], json!("/api/v1/events"));
    assert_eq!(line["span"]["method"], json!("GET"));
    assert_eq!(line["target"], json!("auditlog::access"));
    assert!(line["fields"]["elapsed_ms"].as_f64().is_some());
}
