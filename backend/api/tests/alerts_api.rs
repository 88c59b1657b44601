//! Alert rules, their outbox and deliveries, and the SIEM feed, on SQLite and PostgreSQL:
//! webhooks to a real local receiver that fails, times out and recovers; e-mail through a real
//! local SMTP sink; batching; disabling a rule whose destination stays dead; and a server killed
//! with SIGKILL in the middle of a delivery, which sends it again after restart.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auditlog_api::alerts::deliver::Outbox;
use auditlog_api::config::DeliverySettings;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use common::*;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

/// One request a receiver got.
#[derive(Debug, Clone)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
}

/// A local HTTP receiver: answers request `n` (from 0) with the status `behave(n)` gives, after
/// its delay; records each request as soon as it has read it.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(behave: impl Fn(usize) -> (u16, Duration) + Send + Sync + 'static) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got = Arc::new(Mutex::new(Vec::new()));
        let (seen, behave, count) = (got.clone(), Arc::new(behave), Arc::new(AtomicUsize::new(0)));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (seen, behave, count) = (seen.clone(), behave.clone(), count.clone());
                std::thread::spawn(move || {
                    if let Some(request) = read_request(&stream) {
                        let n = count.fetch_add(1, Ordering::SeqCst);
                        seen.lock().unwrap().push(request);
                        let (status, delay) = behave(n);
                        std::thread::sleep(delay);
                        let mut stream = stream;
                        let _ = write!(
                            stream,
                            "HTTP/1.1 {status} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        );
                    }
                });
            }
        });
        Receiver { url, got }
    }

    fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut headers = HashMap::new();
    loop {
        line.clear();
        reader.read_line(&mut line).ok()?;
        let text = line.trim_end();
        if text.is_empty() {
            break;
        }
        let (name, value) = text.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length: usize = headers.get("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Received { headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// Checks `webhook-signature` as a receiver would, with the secret alone (Standard Webhooks).
fn signed_by(request: &Received, secret: &str) -> bool {
    let key = BASE64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&key).unwrap();
    let signed = format!(
        "{}.{}.{}",
        request.headers["webhook-id"], request.headers["webhook-timestamp"], request.body
    );
    mac.update(signed.as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    request.headers["webhook-signature"].split(' ').any(|s| s == expected)
}

fn outbox(ctx: &Ctx, adjust: impl FnOnce(&mut DeliverySettings)) -> Arc<Outbox> {
    let mut settings = ctx.state.settings.deliveries.clone();
    adjust(&mut settings);
    Outbox::new(ctx.pool.clone(), settings, ctx.state.notary.verifier().clone(), ctx.state.metrics.clone())
}

/// Sends what is due until `done` holds (or 20 s pass).
async fn deliver_until(outbox: &Arc<Outbox>, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "deliveries did not arrive in time");
        let outbox = outbox.clone();
        actix_web::rt::task::spawn_blocking(move || outbox.run_due().unwrap()).await.unwrap();
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

fn event(action: &str, actor: &str) -> Value {
    json!({"action": action, "actor": {"id": actor, "name": format!("Actor {actor}")}, "description": format!("{action} by {actor}")})
}

fn webhook_rule(name: &str, filter: &str, url: &str) -> Value {
    json!({"name": name, "filter": filter, "destination": {"type": "webhook", "url": url}})
}

both_backends! {
    async fn webhooks_are_signed_filtered_and_retried_until_they_land(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // Fails twice, then takes everything.
        let receiver = Receiver::start(|n| (if n < 2 { 500 } else { 204 }, Duration::ZERO));
        let created = post(&app, &admin, "/api/v1/alerts/rules", &webhook_rule("Bookings", "module=booking", &receiver.url)).await.expect(201).body;
        let (rule_id, secret) = (created["rule"]["id"].as_i64().unwrap(), created["secret"].as_str().unwrap().to_string());
        assert!(secret.starts_with("whsec_"));
        assert_eq!(created["rule"]["destination"], json!({"type": "webhook", "url": receiver.url, "format": "json", "header_names": []}));
        let stored = post(&app, &admin, "/api/v1/events", &json!({"events": [event("booking.created", "s1"), event("invoice.sent", "s1"), event("booking.cancelled", "s2")]})).await.expect(201).ids();
        let outbox = outbox(&ctx, |_| {});
        let landed = |r: &Receiver| r.requests().len();
        deliver_until(&outbox, || landed(&receiver) >= 4).await;

        let requests = receiver.requests();
        assert_eq!(requests.len(), 4, "two failures, then two deliveries: {requests:?}");
        assert!(requests.iter().all(|r| signed_by(r, &secret)), "every attempt is signed");
        assert!(requests.iter().all(|r| r.headers["content-type"] == "application/json"));
        // A failed attempt is sent again under the same id.
        let ids: Vec<&str> = requests.iter().map(|r| r.headers["webhook-id"].as_str()).collect();
        assert_eq!(ids.iter().collect::<BTreeSet<_>>().len(), 2, "{ids:?}");
        assert!(ids[2..].contains(&ids[0]) && ids[2..].contains(&ids[1]), "{ids:?}");
        let delivered: BTreeMap<&str, i64> = requests
            .iter()
            .map(|r| {
                let body: Value = serde_json::from_str(&r.body).unwrap();
                assert_eq!(body["type"], "alert.matched");
                assert_eq!(body["data"]["rule"], json!({"id": rule_id, "name": "Bookings"}));
                let events = body["data"]["events"].as_array().unwrap();
                assert_eq!(events.len(), 1);
                assert_eq!(events[0]["leaf_index"], events[0]["event"]["seq"].as_i64().unwrap() - 1);
                (r.headers["webhook-id"].as_str(), events[0]["event"]["id"].as_i64().unwrap())
            })
            .collect();
        let mut sent: Vec<i64> = delivered.values().copied().collect();
        sent.sort();
        assert_eq!(sent, vec![stored[0], stored[2]], "only the booking events, the invoice one not");

        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body;
        let items = log["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        assert!(items.iter().all(|d| d["status"] == "delivered" && d["response_code"] == 204 && d["latency_ms"].is_i64()), "{log}");
        let attempts: Vec<i64> = items.iter().map(|d| d["attempts"].as_i64().unwrap()).collect();
        assert_eq!(attempts.iter().sum::<i64>(), 4, "{log}");
        let rule = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}")).await.expect(200).body;
        assert_eq!(rule["recent_deliveries"].as_array().unwrap().len(), 2);
        // The rule's creation is in the trail, without its secret.
        let trail = get(&app, &admin, "/api/v1/events?action=alert_rule.created").await.expect(200).body;
        assert_eq!(trail["total"], 1);
        assert!(!trail.to_string().contains(&secret));
    }

    async fn a_timeout_fails_an_attempt_and_a_dead_destination_disables_its_rule(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let slow = Receiver::start(|_| (200, Duration::from_secs(4)));
        let rule = post(&app, &admin, "/api/v1/alerts/rules", &webhook_rule("Slow", "action=a.slow", &slow.url)).await.expect(201).body;
        let slow_id = rule["rule"]["id"].as_i64().unwrap();
        post(&app, &admin, "/api/v1/events", &event("a.slow", "s1")).await.expect(201);
        let outbox = outbox(&ctx, |_| {});
        let sender = outbox.clone();
        let started = Instant::now();
        actix_web::rt::task::spawn_blocking(move || sender.run_due().unwrap()).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(4), "the attempt gave up at its timeout");
        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{slow_id}/deliveries")).await.expect(200).body;
        assert_eq!(log["items"][0]["status"], "pending", "{log}");
        assert_eq!(log["items"][0]["attempts"], 1);
        assert_eq!(log["items"][0]["error"], "no answer within 2 s", "{log}");
        assert!(log["items"][0]["next_attempt_at"].is_string());

        // A receiver that is gone, with no time left to retry: the delivery fails for good and
        // the rule, which never delivered, is disabled and says why.
        let dead_port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let dead = format!("http://127.0.0.1:{dead_port}/hook");
        let rule = post(&app, &admin, "/api/v1/alerts/rules", &webhook_rule("Dead", "action=a.dead", &dead)).await.expect(201).body;
        let dead_id = rule["rule"]["id"].as_i64().unwrap();
        let first = post(&app, &admin, "/api/v1/events", &event("a.dead", "s1")).await.expect(201).ids()[0];
        let impatient = outbox_with_give_up(&ctx, 0);
        actix_web::rt::task::spawn_blocking(move || impatient.run_due().unwrap()).await.unwrap();
        let rule = get(&app, &admin, &format!("/api/v1/alerts/rules/{dead_id}")).await.expect(200).body;
        assert!(rule["disabled_at"].is_string(), "{rule}");
        assert!(rule["disabled_reason"].as_str().unwrap().contains("no delivery succeeded"), "{rule}");
        let delivery = &rule["recent_deliveries"][0];
        assert_eq!(delivery["status"], "failed", "{rule}");
        let disabled = get(&app, &admin, "/api/v1/events?action=alert_rule.disabled").await.expect(200).body;
        assert_eq!(disabled["total"], 1, "{disabled}");
        assert_eq!(disabled["items"][0]["entity"]["id"], dead_id.to_string());
        // A disabled rule owes nothing new.
        post(&app, &admin, "/api/v1/events", &event("a.dead", "s1")).await.expect(201);
        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{dead_id}/deliveries")).await.expect(200).body;
        assert_eq!(log["items"].as_array().unwrap().len(), 1);

        // Pointed at a live receiver and resumed, its failed delivery goes out again by hand,
        // under the same id.
        let live = Receiver::start(|_| (200, Duration::ZERO));
        let resumed = put(&app, &admin, &format!("/api/v1/alerts/rules/{dead_id}"), &webhook_rule("Dead", "action=a.dead", &live.url)).await.expect(200).body;
        assert!(resumed["disabled_at"].is_null(), "{resumed}");
        let again = post(&app, &admin, &format!("/api/v1/alerts/deliveries/{}/redeliver", delivery["id"]), &json!({})).await.expect(202).body;
        assert_eq!(again["status"], "pending");
        deliver_until(&outbox, || !live.requests().is_empty()).await;
        let got = live.requests();
        assert_eq!(got[0].headers["webhook-id"], delivery["message_id"].as_str().unwrap());
        let body: Value = serde_json::from_str(&got[0].body).unwrap();
        assert_eq!(body["data"]["events"][0]["event"]["id"], first);
        assert_eq!(get(&app, &admin, "/api/v1/events?action=alert_rule.redelivered").await.expect(200).body["total"], 1);
    }

    async fn batches_fill_up_or_wait_their_time(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let receiver = Receiver::start(|_| (200, Duration::ZERO));
        let rule = json!({"name": "To the SIEM", "destination": {"type": "webhook", "url": receiver.url, "format": "ndjson"},
                          "batch": {"max_events": 3, "max_seconds": 3600}});
        let rule_id = post(&app, &admin, "/api/v1/alerts/rules", &rule).await.expect(201).body["rule"]["id"].as_i64().unwrap();
        let first: Vec<Value> = (0..7).map(|i| event("feed.tick", &format!("a{i}"))).collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": first})).await.expect(201);
        let outbox = outbox(&ctx, |_| {});
        deliver_until(&outbox, || receiver.requests().len() >= 2).await;
        // Two full batches went at once; the seventh event waits for company (the rule itself
        // was created by an event before them: the empty filter matches every event).
        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body;
        let counts: Vec<usize> = log["items"].as_array().unwrap().iter().map(|d| d["event_ids"].as_array().unwrap().len()).collect();
        assert_eq!(counts, vec![2, 3, 3], "{log}");
        assert_eq!(log["items"][0]["status"], "pending");
        // Two more events fill the open batch, which then goes at once.
        post(&app, &admin, "/api/v1/events", &json!({"events": [event("feed.tick", "b1"), event("feed.tick", "b2")]})).await.expect(201);
        deliver_until(&outbox, || receiver.requests().len() >= 3).await;
        let mut seqs = Vec::new();
        for request in receiver.requests() {
            assert_eq!(request.headers["content-type"], "application/x-ndjson");
            let lines: Vec<Value> = request.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            assert_eq!(lines.len(), 3, "{}", request.body);
            for line in lines {
                let seq = line["event"]["seq"].as_i64().unwrap();
                assert_eq!(line["leaf_index"], seq - 1);
                assert_eq!(line["cursor"], seq.to_string());
                seqs.push(seq);
            }
        }
        let distinct: BTreeSet<i64> = seqs.iter().copied().collect();
        assert_eq!((seqs.len(), distinct.len()), (9, 9), "every event once: {seqs:?}");
        assert_eq!(*distinct.first().unwrap() + 8, *distinct.last().unwrap(), "consecutive: {seqs:?}");
    }

    async fn rules_are_checked_admin_only_and_bound_to_their_tenant(ctx: Ctx) {
        let app = ctx.app().await;
        let (admin, manager, other) = (ctx.token(&ctx.admin), ctx.token(&ctx.manager), ctx.token(&ctx.other_admin));
        let good = webhook_rule("Ok", "flag=any", "https://hooks.example.com/x");
        post(&app, &manager, "/api/v1/alerts/rules", &good).await.problem(403);
        get(&app, &manager, "/api/v1/alerts/rules").await.problem(403);
        for (filter, needle) in [("range=today", "`range`"), ("from=2026-01-01", "`from`"), ("scope=mine", "`scope`"), ("bogus=1", "bogus"), ("flag=sometimes", "flag")] {
            let refused = post(&app, &admin, "/api/v1/alerts/rules", &webhook_rule("R", filter, "https://h.example.com")).await.problem(422);
            assert_eq!(refused.pointers(), ["/filter"], "{filter}: {}", refused.body);
            assert!(refused.body["errors"][0]["message"].as_str().unwrap().contains(needle), "{filter}: {}", refused.body);
        }
        let bad = json!({"name": " ", "filter": "module=x", "batch": {"max_events": 0, "max_seconds": 99999},
                         "destination": {"type": "webhook", "url": "ftp://h.example.com", "headers": [{"name": "webhook-id", "value": "x"}]}});
        let refused = post(&app, &admin, "/api/v1/alerts/rules", &bad).await.problem(422);
        let mut pointers = refused.pointers();
        pointers.sort();
        assert_eq!(pointers, ["/destination/headers/0/name", "/destination/url", "/name"], "{}", refused.body);
        let header = refused.body["errors"].as_array().unwrap().iter().find(|e| e["pointer"] == "/destination/headers/0/name").unwrap().clone();
        assert!(header["message"].as_str().unwrap().contains("sets itself"), "{header}");
        let batch = json!({"name": "B", "destination": {"type": "webhook", "url": "https://h.example.com"}, "batch": {"max_events": 0, "max_seconds": 99999}});
        let mut pointers = post(&app, &admin, "/api/v1/alerts/rules", &batch).await.problem(422).pointers();
        pointers.sort();
        assert_eq!(pointers, ["/batch/max_events", "/batch/max_seconds"]);
        let credentials = webhook_rule("C", "", "https://user:pw@h.example.com/");
        assert_eq!(post(&app, &admin, "/api/v1/alerts/rules", &credentials).await.problem(422).pointers(), ["/destination/url"]);
        let email = json!({"name": "Mail", "destination": {"type": "email", "to": ["sec@acme.test"]}});
        let refused = post(&app, &admin, "/api/v1/alerts/rules", &email).await.problem(422);
        assert_eq!(refused.pointers(), ["/destination/type"]);
        assert!(refused.body["detail"].as_str().unwrap().contains("SMTP_URL"), "{}", refused.body);
        assert_eq!(get(&app, &admin, "/api/v1/alerts/rules").await.expect(200).body["items"], json!([]), "nothing refused was kept");

        // Headers are kept but never shown; replacing a rule without them keeps them.
        let with_header = json!({"name": "H", "destination": {"type": "webhook", "url": "https://h.example.com/in", "headers": [{"name": "Authorization", "value": "Splunk s3cret"}]}});
        let rule = post(&app, &admin, "/api/v1/alerts/rules", &with_header).await.expect(201).body["rule"].clone();
        assert_eq!(rule["destination"]["header_names"], json!(["Authorization"]));
        assert!(!rule.to_string().contains("s3cret"));
        let id = rule["id"].as_i64().unwrap();
        let renamed = put(&app, &admin, &format!("/api/v1/alerts/rules/{id}"), &json!({"name": "H2", "paused": true, "destination": {"type": "webhook", "url": "https://h.example.com/in"}})).await.expect(200).body;
        assert_eq!((renamed["name"].as_str(), renamed["paused"].as_bool()), (Some("H2"), Some(true)));
        assert_eq!(renamed["destination"]["header_names"], json!(["Authorization"]));
        // A rule read with GET can be sent back as it is.
        let read = get(&app, &admin, &format!("/api/v1/alerts/rules/{id}")).await.expect(200).body;
        let back = json!({"name": read["name"], "filter": read["filter"], "destination": read["destination"], "batch": read["batch"], "paused": read["paused"], "schedule": read["schedule"]});
        assert_eq!(put(&app, &admin, &format!("/api/v1/alerts/rules/{id}"), &back).await.expect(200).body["destination"], read["destination"]);
        // A paused rule owes nothing (before, it matched every event: its own creation record).
        let owed = get(&app, &admin, &format!("/api/v1/alerts/rules/{id}/deliveries")).await.expect(200).body["items"].clone();
        assert_eq!(owed.as_array().unwrap().len(), 1, "{owed}");
        post(&app, &admin, "/api/v1/events", &event("x.y", "s1")).await.expect(201);
        assert_eq!(get(&app, &admin, &format!("/api/v1/alerts/rules/{id}/deliveries")).await.expect(200).body["items"], owed);
        // Another tenant's admin finds nothing of it.
        for uri in [format!("/api/v1/alerts/rules/{id}"), format!("/api/v1/alerts/rules/{id}/deliveries")] {
            get(&app, &other, &uri).await.problem(404);
        }
        put(&app, &other, &format!("/api/v1/alerts/rules/{id}"), &good).await.problem(404);
        post(&app, &other, &format!("/api/v1/alerts/rules/{id}/secret"), &json!({})).await.problem(404);
        assert_eq!(get(&app, &other, "/api/v1/alerts/rules").await.expect(200).body["items"], json!([]));
        let rotated = post(&app, &admin, &format!("/api/v1/alerts/rules/{id}/secret"), &json!({})).await.expect(200).body;
        assert!(rotated["secret"].as_str().unwrap().starts_with("whsec_"));
        let deleted = send(&app, actix_web::test::TestRequest::delete().uri(&format!("/api/v1/alerts/rules/{id}")).insert_header(("authorization", format!("Bearer {admin}")))).await;
        assert_eq!(deleted.status, 204);
        get(&app, &admin, &format!("/api/v1/alerts/rules/{id}")).await.problem(404);
        let trail = get(&app, &admin, "/api/v1/events?module=alert_rule&per_page=100").await.expect(200).body;
        let actions: Vec<&str> = trail["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["alert_rule.deleted", "alert_rule.secret_rotated", "alert_rule.updated", "alert_rule.created"]);
        assert!(!trail.to_string().contains("s3cret"), "header values stay out of the trail");
    }

    async fn a_rule_with_a_backlog_does_not_starve_other_rules(ctx: Ctx) {
        let app = ctx.app().await;
        let (admin, other) = (ctx.token(&ctx.admin), ctx.token(&ctx.other_admin));
        // Acme's receiver takes 200 ms per delivery and is owed 200 of them, all due before
        // Globex's one.
        let (open, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (gauge, peak) = (open.clone(), most.clone());
        let slow = Receiver::start(move |_| {
            peak.fetch_max(gauge.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(200));
            gauge.fetch_sub(1, Ordering::SeqCst);
            (204, Duration::ZERO)
        });
        let quick = Receiver::start(|_| (204, Duration::ZERO));
        let busy = json!({"name": "Busy", "filter": "action=bulk.tick", "batch": {"max_events": 1, "max_seconds": 0},
                          "destination": {"type": "webhook", "url": slow.url}});
        post(&app, &admin, "/api/v1/alerts/rules", &busy).await.expect(201);
        post(&app, &other, "/api/v1/alerts/rules", &webhook_rule("Lone", "action=lone.tick", &quick.url)).await.expect(201);
        let burst: Vec<Value> = (0..200).map(|i| event("bulk.tick", &format!("b{i}"))).collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": burst})).await.expect(201);
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
        post(&app, &other, "/api/v1/events", &event("lone.tick", "g1")).await.expect(201);

        let (outbox, second) = (outbox(&ctx, |s| s.workers = 2), outbox(&ctx, |s| s.workers = 2));
        let started = Instant::now();
        deliver_until(&outbox, || !quick.requests().is_empty()).await;
        assert!(started.elapsed() < Duration::from_secs(5), "the other tenant waited {:?}", started.elapsed());
        assert!(slow.requests().len() < 10, "the backlog went first: {}", slow.requests().len());
        // The backlog still goes, one delivery of the rule at a time, even with two processes
        // sending.
        let beside = actix_web::rt::task::spawn_blocking(move || {
            let deadline = Instant::now() + Duration::from_secs(3);
            while Instant::now() < deadline {
                second.run_due().unwrap();
                std::thread::sleep(Duration::from_millis(20));
            }
        });
        deliver_until(&outbox, || slow.requests().len() >= 12).await;
        beside.await.unwrap();
        assert_eq!(most.load(Ordering::SeqCst), 1, "one delivery of a rule in flight at a time");
        assert_eq!(quick.requests().len(), 1);
    }

    async fn an_insider_cannot_point_a_rule_elsewhere(ctx: Ctx) {
        use diesel::connection::SimpleConnection;
        let app = ctx.app().await;
        let (admin, other) = (ctx.token(&ctx.admin), ctx.token(&ctx.other_admin));
        let good = Receiver::start(|_| (204, Duration::ZERO));
        let evil = Receiver::start(|_| (204, Duration::ZERO));
        let rule = post(&app, &admin, "/api/v1/alerts/rules", &webhook_rule("Sign-ins", "module=session", &good.url)).await.expect(201).body["rule"].clone();
        let id = rule["id"].as_i64().unwrap();
        // The attacker's own rule, made properly in another tenant: its seal is genuine.
        let theirs = post(&app, &other, "/api/v1/alerts/rules", &webhook_rule("Mine", "", &evil.url)).await.expect(201).body["rule"]["id"].as_i64().unwrap();
        let outbox = outbox(&ctx, |_| {});
        let settle = |outbox: Arc<Outbox>| async move {
            for _ in 0..3 {
                let outbox = outbox.clone();
                actix_web::rt::task::spawn_blocking(move || outbox.run_due().unwrap()).await.unwrap();
            }
        };
        settle(outbox.clone()).await;
        let evil_before = evil.requests().len();
        let evil_url = json!({"type": "webhook", "url": evil.url, "format": "json", "headers": []}).to_string().replace('\'', "''");
        let acme = ctx.acme_id;
        let app_role = ctx.pool.clone();
        let owner = ctx.db.owner_pool(1);
        let attacks: Vec<(&str, &auditlog_db::DbPool, String)> = vec![
            ("the app's role points the rule at another receiver", &app_role,
             format!("UPDATE alert_rules SET destination = '{evil_url}', disabled_at = NULL WHERE id = {id}")),
            ("a superuser copies another rule's receiver, secret and seal", &owner,
             format!("UPDATE alert_rules SET destination = o.destination, secret = o.secret, seal = o.seal, disabled_at = NULL \
                      FROM (SELECT destination, secret, seal FROM alert_rules WHERE id = {theirs}) o WHERE alert_rules.id = {id}")),
            ("a superuser widens the filter to every event", &owner,
             format!("UPDATE alert_rules SET query = '', filter = '{{}}', disabled_at = NULL WHERE id = {id}")),
        ];
        for (i, (attack, pool, sql)) in attacks.into_iter().enumerate() {
            post(&app, &admin, "/api/v1/events", &json!({"events": [{"action": "session.login", "actor": {"id": format!("s{i}")}, "description": format!("secret sign-in {i}")}]})).await.expect(201);
            pool.get().unwrap().batch_execute(&sql).unwrap();
            let delivered_before = good.requests().len();
            settle(outbox.clone()).await;
            assert_eq!(evil.requests().len(), evil_before, "{attack}: nothing went to the other receiver");
            assert_eq!(good.requests().len(), delivered_before, "{attack}: nothing is sent for a rule whose seal fails");
            let now = get(&app, &admin, &format!("/api/v1/alerts/rules/{id}")).await.expect(200).body;
            assert!(now["disabled_reason"].as_str().unwrap_or_default().contains("seal"), "{attack}: {now}");
            // An admin reviews it and saves it again as it should be: sealed anew, enabled, and
            // what waited goes where it belongs.
            let fixed = json!({"name": "Sign-ins", "filter": "module=session", "destination": {"type": "webhook", "url": good.url}, "paused": false});
            put(&app, &admin, &format!("/api/v1/alerts/rules/{id}"), &fixed).await.expect(200);
            deliver_until(&outbox, || good.requests().iter().any(|r| r.body.contains(&format!("secret sign-in {i}")))).await;
        }
        assert_eq!(evil.requests().len(), evil_before);
        let trail = get(&app, &admin, "/api/v1/events?action=alert_rule.disabled").await.expect(200).body;
        assert_eq!(trail["total"], 3, "each refusal is in the trail: {trail}");
        assert_eq!(trail["items"][0]["metadata"]["seal"], "does not match");

        // A delivery forged into the outbox for events of another tenant carries none of them.
        let foreign = post(&app, &other, "/api/v1/events", &json!({"action": "session.login", "description": "globex private sign-in"})).await.expect(201).ids()[0];
        ctx.pool.get().unwrap().batch_execute(&format!(
            "INSERT INTO deliveries (tenant_id, rule_id, message_id, event_ids, event_count, status, created_at, next_attempt_at, attempts) \
             VALUES ({acme}, {id}, 'msg_forged', '[{foreign}]', 1, 'pending', '2026-01-01 00:00:00', '2026-01-01 00:00:00', 0)"
        )).unwrap();
        deliver_until(&outbox, || good.requests().iter().any(|r| r.headers["webhook-id"] == "msg_forged")).await;
        let forged = good.requests().into_iter().find(|r| r.headers["webhook-id"] == "msg_forged").unwrap();
        assert!(!forged.body.contains("globex private"), "{}", forged.body);
        let verify = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(verify["ok"], true, "{verify}");
    }

    async fn the_feed_rules_and_flags_work_right_after_a_bulk_load(ctx: Ctx) {
        use auditlog_db::queries::{tenants, users};
        use diesel::connection::SimpleConnection;
        // A tenant's history loaded in bulk (through the ingest path, flags and all), read and
        // added to at once: no ANALYZE, and on PostgreSQL no statistics at all.
        // Loaded as the schema's owner (a bulk load drops and rebuilds indexes), as `seed-bench` is.
        auditlog_api::cli::seed::seed_bench(&mut ctx.db.owner_pool(1).get().unwrap(), 4000, 1, 40, 30, |_| {}).unwrap();
        let mut conn = ctx.pool.get().unwrap();
        let tenant = tenants::find_by_slug(&mut conn, "bench-1").unwrap().unwrap();
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        let admin = users::create(&mut conn, &users::NewUser { tenant_id: tenant.id, email: "admin@bench.test", name: "Bea Bench", password_hash: &hash, role: auditlog_db::models::Role::Admin, actor_id: Some("bench-admin") }).unwrap();
        drop(conn);
        if let Ok(mut owner) = ctx.db.owner_pool(1).get() {
            if owner.backend() == auditlog_db::Backend::Postgres {
                owner.batch_execute("DELETE FROM pg_statistic WHERE starelid IN (SELECT oid FROM pg_class WHERE relname LIKE 'events%')").unwrap();
            }
        }
        let app = ctx.app().await;
        let token = ctx.token(&admin);

        // The feed hands over every event once, in order, each with its leaf index.
        let mut cursor = String::new();
        let (mut seqs, mut flagged, mut kinds) = (Vec::new(), 0i64, BTreeMap::<String, i64>::new());
        loop {
            let reply = get(&app, &token, &format!("/api/v1/events/feed?limit=1500&cursor={cursor}")).await.expect(200);
            let text = match &reply.body { Value::String(text) => text.clone(), Value::Null => String::new(), one => format!("{one}\n") };
            for line in text.lines() {
                let line: Value = serde_json::from_str(line).unwrap();
                assert_eq!(line["leaf_index"], line["event"]["seq"].as_i64().unwrap() - 1);
                seqs.push(line["event"]["seq"].as_i64().unwrap());
                for flag in line["event"]["flags"].as_array().unwrap() {
                    *kinds.entry(flag["kind"].as_str().unwrap().to_string()).or_insert(0) += 1;
                }
                flagged += i64::from(!line["event"]["flags"].as_array().unwrap().is_empty());
            }
            cursor = reply.headers.get("feed-cursor").unwrap().to_str().unwrap().to_string();
            if reply.headers.get("feed-more").unwrap() == "false" {
                break;
            }
        }
        assert_eq!(seqs, (1..=4000).collect::<Vec<i64>>());
        // The security review counts what the feed carries, on the same fresh table.
        let summary = get(&app, &token, "/api/v1/stats/flags").await.expect(200).body;
        assert!(flagged > 1000, "odd hours over 30 days of history: {flagged}");
        assert_eq!(summary["total"], flagged, "{summary}");
        for kind in summary["kinds"].as_array().unwrap() {
            assert_eq!(kind["count"], kinds.get(kind["kind"].as_str().unwrap()).copied().unwrap_or(0), "{summary}");
        }

        // A rule made now matches what arrives next; flags read the loaded history.
        let receiver = Receiver::start(|_| (204, Duration::ZERO));
        let rule = json!({"name": "Bursts", "filter": "flag=failed_login_burst", "destination": {"type": "webhook", "url": receiver.url}});
        post(&app, &token, "/api/v1/alerts/rules", &rule).await.expect(201);
        let failed = |i: usize| json!({"action": "session.login_failed", "actor": {"id": "victim", "name": "Vic Tim"}, "ip": "203.0.113.9", "external_id": format!("f{i}")});
        let ids = post(&app, &token, "/api/v1/events", &json!({"events": (0..5).map(failed).collect::<Vec<_>>()})).await.expect(201).ids();
        let outbox = outbox(&ctx, |_| {});
        deliver_until(&outbox, || !receiver.requests().is_empty()).await;
        let body: Value = serde_json::from_str(&receiver.requests()[0].body).unwrap();
        let sent: Vec<i64> = body["data"]["events"].as_array().unwrap().iter().map(|e| e["event"]["id"].as_i64().unwrap()).collect();
        assert_eq!(sent, [ids[4]], "the fifth failure alone: {body}");
    }

    async fn parallel_ingest_owes_each_matching_event_once(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let rule = json!({"name": "All pings", "filter": "action=p.ing", "destination": {"type": "webhook", "url": "https://h.example.com"}, "batch": {"max_events": 4, "max_seconds": 60}});
        let rule_id = post(&app, &admin, "/api/v1/alerts/rules", &rule).await.expect(201).body["rule"]["id"].as_i64().unwrap();
        let server = ctx.serve().await;
        let (url, token) = (server.url.clone(), admin.clone());
        let stored = at_once(8, move |i| {
            let events: Vec<Value> = (0..5).map(|n| event(if n % 2 == 0 { "p.ing" } else { "p.ong" }, &format!("t{i}"))).collect();
            let (status, body) = call("POST", &format!("{url}/api/v1/events"), Some(&token), Some(&json!({"events": events})));
            assert_eq!(status, 201, "{body}");
            body["ids"].as_array().unwrap().iter().step_by(2).map(|v| v.as_i64().unwrap()).collect::<Vec<i64>>()
        })
        .await;
        let mut expected: Vec<i64> = stored.into_iter().flatten().collect();
        expected.sort();
        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries?limit=100")).await.expect(200).body;
        let mut owed: Vec<i64> = log["items"].as_array().unwrap().iter().flat_map(|d| d["event_ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap())).collect();
        owed.sort();
        assert_eq!(owed, expected, "each matching event owed exactly once");
        assert!(log["items"].as_array().unwrap().iter().all(|d| d["event_ids"].as_array().unwrap().len() <= 4));
    }

    async fn digests_sum_up_each_period_once(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let receiver = Receiver::start(|_| (200, Duration::ZERO));
        let rule = json!({"name": "Morning digest", "schedule": "daily", "destination": {"type": "webhook", "url": receiver.url}});
        let created = post(&app, &admin, "/api/v1/alerts/rules", &rule).await.expect(201).body;
        assert_eq!(created["rule"]["schedule"], "daily");
        let secret = created["secret"].as_str().unwrap().to_string();
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [event("booking.created", "s1"), event("booking.updated", "s1"), event("invoice.sent", "s2")]})).await.expect(201).ids();
        let deletion = actix_web::test::TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"ids": [ids[2]], "reason": "sent twice"}));
        send(&app, deletion).await.expect(200);
        assert_eq!(get(&app, &admin, "/api/v1/events/export?format=csv&module=booking").await.status, 200);
        get(&app, &admin, "/api/v1/integrity/verify").await.expect(200);
        // A digest matches no single event.
        let rule_id = created["rule"]["id"].as_i64().unwrap();
        assert_eq!(get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body["items"], json!([]));
        let outbox = outbox(&ctx, |_| {});
        // Nothing is due before the rule's first period has ended.
        assert_eq!(outbox.schedule_digests(chrono::Utc::now()).unwrap(), 0);
        // A day later the period holding these events has ended: owed once, whoever looks.
        let tomorrow = chrono::Utc::now() + chrono::TimeDelta::days(1);
        let scheduler = outbox.clone();
        let owed: usize = at_once(4, move |_| scheduler.schedule_digests(tomorrow).unwrap()).await.into_iter().sum();
        assert_eq!(owed, 1);
        assert_eq!(outbox.schedule_digests(tomorrow).unwrap(), 0);
        deliver_until(&outbox, || !receiver.requests().is_empty()).await;
        let request = &receiver.requests()[0];
        assert!(signed_by(request, &secret));
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(body["type"], "digest.ready");
        let summary = &body["data"]["summary"];
        assert_eq!(summary["schedule"], "daily");
        let modules: BTreeMap<String, i64> = summary["by_module"].as_array().unwrap().iter().map(|m| (m["module"].as_str().unwrap().to_string(), m["count"].as_i64().unwrap())).collect();
        assert_eq!(modules.get("booking"), Some(&2), "{summary}");
        assert_eq!(modules.get("invoice"), Some(&1), "a tombstone still counts as an event of its module: {summary}");
        assert_eq!(summary["deletions"].as_array().unwrap().len(), 1, "{summary}");
        assert_eq!(summary["deletions"][0]["actor_id"], "a1");
        assert_eq!(summary["exports"].as_array().unwrap().len(), 1, "{summary}");
        assert_eq!(summary["integrity"]["ok"], true, "{summary}");
        let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body;
        assert_eq!((log["items"][0]["status"].as_str(), log["items"][0]["event_ids"].as_array().map(Vec::len)), (Some("delivered"), Some(0)));
    }

    async fn rules_change_while_events_arrive_and_deliveries_go(ctx: Ctx) {
        // Replacing, rotating and redelivering while ingest writes the outbox and a worker sends:
        // every request is answered, none with 5xx (a transaction that read first could not
        // write on SQLite).
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let receiver = Receiver::start(|_| (200, Duration::from_millis(20)));
        let rule = json!({"name": "Busy", "filter": "action=b.usy", "destination": {"type": "webhook", "url": receiver.url}, "batch": {"max_events": 2, "max_seconds": 0}});
        let rule_id = post(&app, &admin, "/api/v1/alerts/rules", &rule).await.expect(201).body["rule"]["id"].as_i64().unwrap();
        post(&app, &admin, "/api/v1/events", &event("b.usy", "s0")).await.expect(201);
        let first = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body["items"][0]["id"].as_i64().unwrap();
        let server = ctx.serve().await;
        let outbox = outbox(&ctx, |_| {});
        let sender = outbox.clone();
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let sending = stop.clone();
        let worker = std::thread::spawn(move || {
            while !sending.load(Ordering::SeqCst) {
                sender.run_due().unwrap();
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        let (url, token, receiver_url) = (server.url.clone(), admin.clone(), receiver.url.clone());
        let statuses = at_once(6, move |i| {
            (0..8)
                .map(|n| match i % 3 {
                    0 => call("POST", &format!("{url}/api/v1/events"), Some(&token), Some(&json!({"events": [event("b.usy", &format!("t{i}")), event("b.usy", &format!("t{n}"))]}))).0,
                    1 => {
                        let body = json!({"name": format!("Busy {n}"), "filter": "action=b.usy", "destination": {"type": "webhook", "url": receiver_url}, "batch": {"max_events": 2, "max_seconds": 0}});
                        call("PUT", &format!("{url}/api/v1/alerts/rules/{rule_id}"), Some(&token), Some(&body)).0
                    }
                    _ if n % 2 == 0 => call("POST", &format!("{url}/api/v1/alerts/rules/{rule_id}/secret"), Some(&token), None).0,
                    _ => call("POST", &format!("{url}/api/v1/alerts/deliveries/{first}/redeliver"), Some(&token), None).0,
                })
                .collect::<Vec<u16>>()
        })
        .await;
        stop.store(true, Ordering::SeqCst);
        worker.join().unwrap();
        let all: Vec<u16> = statuses.into_iter().flatten().collect();
        assert!(all.iter().all(|s| matches!(s, 200 | 201 | 202 | 409)), "{all:?}");
    }

    async fn a_demoted_admin_loses_the_rules_but_the_tenant_keeps_them(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        let second = auditlog_db::queries::users::create(&mut ctx.pool.get().unwrap(), &auditlog_db::queries::users::NewUser {
            tenant_id: ctx.acme_id, email: "second@acme.test", name: "Second Admin", password_hash: &hash,
            role: auditlog_db::models::Role::Admin, actor_id: Some("a2"),
        }).unwrap();
        let token = ctx.token(&second);
        let rule = post(&app, &token, "/api/v1/alerts/rules", &webhook_rule("Theirs", "flag=any", "https://h.example.com/x")).await.expect(201).body["rule"].clone();
        let uri = format!("/api/v1/alerts/rules/{}", rule["id"]);
        let demote = actix_web::test::TestRequest::patch().uri(&format!("/api/v1/users/{}", second.id)).insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"role": "member"}));
        send(&app, demote).await.expect(200);
        // The same session, read again on each request: no longer an admin.
        get(&app, &token, "/api/v1/alerts/rules").await.problem(403);
        get(&app, &token, &uri).await.problem(403);
        put(&app, &token, &uri, &webhook_rule("Mine still", "", "https://evil.example.com/")).await.problem(403);
        post(&app, &token, &format!("{uri}/secret"), &json!({})).await.problem(403);
        // The rule is the tenant's: it stays as it was, and its creator is named.
        let kept = get(&app, &admin, &uri).await.expect(200).body;
        assert_eq!((kept["name"].as_str(), kept["created_by"].as_str(), kept["paused"].as_bool()), (Some("Theirs"), Some("a2"), Some(false)));
        assert_eq!(kept["destination"]["url"], "https://h.example.com/x");
    }

    async fn the_feed_reads_every_visible_event_once_in_order(ctx: Ctx) {
        let app = ctx.app().await;
        let (admin, member) = (ctx.token(&ctx.admin), ctx.token(&ctx.member));
        let events: Vec<Value> = (0..5).map(|i| event("feed.item", if i % 2 == 0 { "u1" } else { "s9" })).collect();
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": events})).await.expect(201).ids();
        let read = |reply: Reply| -> (Vec<Value>, String, String) {
            let reply = reply.expect(200);
            assert_eq!(reply.content_type(), "application/x-ndjson");
            let text = match &reply.body {
                Value::Null => String::new(),
                Value::String(text) => text.clone(),
                one => format!("{one}\n"),
            };
            let lines = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
            let header = |name: &str| reply.headers.get(name).unwrap().to_str().unwrap().to_string();
            (lines, header("feed-cursor"), header("feed-more"))
        };
        let (page, cursor, more) = read(get(&app, &admin, "/api/v1/events/feed?action=feed.item&limit=2").await);
        assert_eq!(more, "true");
        assert_eq!(page.iter().map(|l| l["event"]["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[..2]);
        assert_eq!(cursor, page[1]["cursor"].as_str().unwrap());
        assert!(page.iter().all(|l| l["leaf_index"].as_i64().unwrap() == l["event"]["seq"].as_i64().unwrap() - 1));
        let (rest, last, more) = read(get(&app, &admin, &format!("/api/v1/events/feed?action=feed.item&cursor={cursor}")).await);
        assert_eq!(more, "false");
        assert_eq!(rest.iter().map(|l| l["event"]["id"].as_i64().unwrap()).collect::<Vec<_>>(), ids[2..]);
        // An empty cursor is the start.
        let (from_start, _, _) = read(get(&app, &admin, "/api/v1/events/feed?action=feed.item&cursor=").await);
        assert_eq!(from_start.len(), 5);
        // Nothing new: the cursor stays where it was.
        let (none, same, _) = read(get(&app, &admin, &format!("/api/v1/events/feed?action=feed.item&cursor={last}")).await);
        assert!(none.is_empty());
        assert_eq!(same, last);
        // A member reads only their own events (actor u1).
        let (own, _, _) = read(get(&app, &member, "/api/v1/events/feed?action=feed.item").await);
        assert_eq!(own.iter().map(|l| l["event"]["id"].as_i64().unwrap()).collect::<Vec<_>>(), vec![ids[0], ids[2], ids[4]]);
        for bad in ["cursor=-1", "cursor=abc", "cursor=1234567890123456789", "limit=0", "limit=5001", "range=today&bogus=1"] {
            get(&app, &admin, &format!("/api/v1/events/feed?{bad}")).await.problem(400);
        }
    }
}

fn outbox_with_give_up(ctx: &Ctx, seconds: u64) -> Arc<Outbox> {
    outbox(ctx, |s| s.give_up_seconds = seconds)
}

/// A local SMTP server that takes every message and keeps it.
struct SmtpSink {
    url: String,
    messages: Arc<Mutex<Vec<String>>>,
}

impl SmtpSink {
    fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("smtp://{}", listener.local_addr().unwrap());
        let messages = Arc::new(Mutex::new(Vec::new()));
        let kept = messages.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut writer = stream.try_clone().unwrap();
                    let mut reader = BufReader::new(stream);
                    let _ = writer.write_all(b"220 sink ready\r\n");
                    let mut line = String::new();
                    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) {
                        let command = line.trim_end().to_ascii_uppercase();
                        let reply: &[u8] = if command.starts_with("EHLO") || command.starts_with("HELO") {
                            b"250 sink\r\n"
                        } else if command.starts_with("DATA") {
                            let _ = writer.write_all(b"354 go on\r\n");
                            let mut message = String::new();
                            let mut data = String::new();
                            while reader.read_line(&mut data).map(|n| n > 0).unwrap_or(false) {
                                if data == ".\r\n" {
                                    break;
                                }
                                message.push_str(&data);
                                data.clear();
                            }
                            kept.lock().unwrap().push(message);
                            b"250 queued\r\n"
                        } else if command.starts_with("QUIT") {
                            let _ = writer.write_all(b"221 bye\r\n");
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        let _ = writer.write_all(reply);
                        line.clear();
                    }
                });
            }
        });
        SmtpSink { url, messages }
    }
}

async fn email_alerts_go_through_the_smtp_relay(backend: auditlog_db::Backend) {
    let sink = SmtpSink::start();
    let url = sink.url.clone();
    let ctx = Ctx::with(backend, |s| {
        s.deliveries.smtp_url = Some(url);
        s.deliveries.public_url = Some("https://audit.acme.test".into());
    });
    let app = ctx.app().await;
    let admin = ctx.token(&ctx.admin);
    let rule = json!({"name": "Deletions", "filter": "verb=deleted", "destination": {"type": "email", "to": ["sec@acme.test", "cto@acme.test"]},
                      "batch": {"max_events": 2, "max_seconds": 0}});
    let created = post(&app, &admin, "/api/v1/alerts/rules", &rule).await.expect(201).body;
    assert_eq!(
        created["rule"]["destination"],
        json!({"type": "email", "to": ["sec@acme.test", "cto@acme.test"]})
    );
    let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [event("booking.deleted", "s1"), event("invoice.deleted", "s2"), event("booking.created", "s1")]})).await.expect(201).ids();
    let outbox = outbox(&ctx, |_| {});
    let messages = sink.messages.clone();
    deliver_until(&outbox, || !messages.lock().unwrap().is_empty()).await;
    let message = quoted_printable(&sink.messages.lock().unwrap()[0]);
    assert!(message.contains("Subject: [Activity Log] 2 new activities matching"), "{message}");
    assert!(message.contains("To: sec@acme.test, cto@acme.test"), "{message}");
    assert!(
        message.contains("booking.deleted by s1") && message.contains("invoice.deleted by s2"),
        "{message}"
    );
    assert!(!message.contains("booking.created"), "{message}");
    assert!(message.contains(&format!("https://audit.acme.test/?event={}", ids[0])), "{message}");
    let rule_id = created["rule"]["id"].as_i64().unwrap();
    let log = get(&app, &admin, &format!("/api/v1/alerts/rules/{rule_id}/deliveries")).await.expect(200).body;
    assert_eq!(log["items"][0]["status"], "delivered", "{log}");
}

/// A message body as read: soft line breaks joined, `=XX` bytes decoded (RFC 2045).
fn quoted_printable(text: &str) -> String {
    let joined = text.replace("=\r\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()),
        ) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[actix_web::test]
async fn email_alerts_go_through_the_smtp_relay_on_sqlite() {
    email_alerts_go_through_the_smtp_relay(auditlog_db::Backend::Sqlite).await
}

#[actix_web::test]
async fn email_alerts_go_through_the_smtp_relay_on_postgres() {
    email_alerts_go_through_the_smtp_relay(auditlog_db::Backend::Postgres).await
}

/// The real server, killed with SIGKILL while a receiver holds a delivery's request open, then
/// started again: the delivery, whose lease ran out, is sent again under the same id; every
/// matching event reaches the receiver, each in one delivery only.
fn delivery_survives_sigkill(backend: auditlog_db::Backend) {
    use std::process::{Command, Stdio};
    const SECRET: &str = "alerts-crash-test-secret-long-enough-0123456789";
    let db = auditlog_db::testing::TestDatabase::new(backend);
    let pool = db.migrated_pool(2);
    let admin = {
        let mut conn = pool.get().unwrap();
        let slug = auditlog_db::TenantSlug::parse("acme").unwrap();
        let tenant = auditlog_db::queries::tenants::ensure(&mut conn, &slug, "Acme", "UTC").unwrap();
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        let user = auditlog_db::queries::users::NewUser {
            tenant_id: tenant.id,
            email: "a@acme.test",
            name: "A",
            password_hash: &hash,
            role: auditlog_db::models::Role::Admin,
            actor_id: None,
        };
        auditlog_db::queries::users::create(&mut conn, &user).unwrap()
    };
    let token = auditlog_api::auth::JwtKeys::new(SECRET.as_bytes(), 3600).issue(&admin).unwrap();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let start = || {
        let child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
            .arg("serve")
            .envs(db.server_env())
            .env("DATABASE_URL", &db.url)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("JWT_SECRET", SECRET)
            .env("ARCHIVE_INTERVAL_SECONDS", "0")
            .env("STATIC_DIR", "/nonexistent")
            .env("WEBHOOK_ALLOW_PRIVATE", "true")
            .env("DELIVERY_TIMEOUT_SECONDS", "2")
            .env("DELIVERY_LEASE_SECONDS", "3")
            .env("DELIVERY_RETRY_BASE_SECONDS", "1")
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let deadline = Instant::now() + Duration::from_secs(30);
        while ureq::get(&format!("http://127.0.0.1:{port}/readyz")).call().is_err() {
            assert!(Instant::now() < deadline, "the server did not become ready");
            std::thread::sleep(Duration::from_millis(50));
        }
        child
    };
    let url = format!("http://127.0.0.1:{port}");
    // The first request is held long past the kill; every later one is taken at once.
    let receiver = Receiver::start(|n| (200, if n == 0 { Duration::from_secs(8) } else { Duration::ZERO }));
    let mut server = start();
    let rule = webhook_rule("Crash", "action=c.rash", &receiver.url);
    let (status, body) = call("POST", &format!("{url}/api/v1/alerts/rules"), Some(&token), Some(&rule));
    assert_eq!(status, 201, "{body}");
    let events: Vec<Value> = (0..3).map(|i| event("c.rash", &format!("k{i}"))).collect();
    let (status, body) =
        call("POST", &format!("{url}/api/v1/events"), Some(&token), Some(&json!({"events": events})));
    assert_eq!(status, 201, "{body}");
    let mut expected: Vec<i64> =
        body["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
    expected.sort();
    let deadline = Instant::now() + Duration::from_secs(20);
    while receiver.requests().is_empty() {
        assert!(Instant::now() < deadline, "no delivery started");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.kill().unwrap(); // SIGKILL, mid-delivery
    server.wait().unwrap();
    let mut server = start();
    let carried = |r: &Received| -> Vec<i64> {
        let body: Value = serde_json::from_str(&r.body).unwrap();
        body["data"]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["event"]["id"].as_i64().unwrap())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut got: Vec<i64> = receiver.requests()[1..].iter().flat_map(carried).collect();
        got.sort();
        got.dedup();
        if got == expected {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every event arrived after the restart: {got:?} of {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let requests = receiver.requests();
    let first_id = requests[0].headers["webhook-id"].clone();
    assert!(
        requests[1..].iter().any(|r| r.headers["webhook-id"] == first_id),
        "the cut delivery was sent again under its id"
    );
    let mut by_id: HashMap<String, Vec<i64>> = HashMap::new();
    for request in &requests {
        let events = carried(request);
        let earlier = by_id.entry(request.headers["webhook-id"].clone()).or_insert_with(|| events.clone());
        assert_eq!(*earlier, events, "a delivery carries the same events every time");
    }
    let mut once: Vec<i64> = by_id.values().flatten().copied().collect();
    once.sort();
    assert_eq!(once, expected, "each event in one delivery only");
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn a_delivery_cut_by_sigkill_is_sent_again_after_restart_on_sqlite() {
    delivery_survives_sigkill(auditlog_db::Backend::Sqlite)
}

#[test]
fn a_delivery_cut_by_sigkill_is_sent_again_after_restart_on_postgres() {
    delivery_survives_sigkill(auditlog_db::Backend::Postgres)
}
