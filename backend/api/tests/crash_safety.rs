//! Nothing acknowledged is lost, nothing is stored twice: clients post batches with idempotency
//! keys while the server is killed with SIGKILL at random moments and restarted; they retry what
//! was not acknowledged. Run against the real binary, on SQLite and PostgreSQL.

use std::collections::HashMap;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auditlog_api::auth::{hash_password, JwtKeys};
use auditlog_db::integrity::verify_chain;
use auditlog_db::models::Role;
use auditlog_db::queries::{tenants, users};
use auditlog_db::testing::TestDatabase;
use auditlog_db::Backend;
use serde_json::{json, Value};

const SECRET: &str = "crash-test-secret-that-is-long-enough-0123456789";
const CLIENTS: usize = 3;
const PER_BATCH: usize = 25;
/// SIGKILLs per run; `CRASH_TEST_KILLS` raises it for the long run (`scripts/reliability`).
fn kills() -> usize {
    std::env::var("CRASH_TEST_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(3)
}

/// Batches per client: enough that the clients are still writing at the last kill.
fn batches() -> usize {
    (4 * kills()).max(12)
}

struct Server {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(db: &TestDatabase, database_url: &str, port: u16) -> Server {
    start_logging(db, database_url, port, "error", Stdio::null())
}

/// The real binary on `port`, logging at `level` to `log`; returns once it is ready.
fn start_logging(
    db: &TestDatabase,
    database_url: &str,
    port: u16,
    level: &str,
    log: impl Into<Stdio>,
) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("serve")
        .envs(db.server_env())
        .env("DATABASE_URL", database_url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", SECRET)
        .env("ARCHIVE_INTERVAL_SECONDS", "0")
        .env("STATIC_DIR", "/nonexistent")
        .env("RUST_LOG", level)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start the server");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while ureq::get(&format!("{url}/readyz")).call().is_err() {
        assert!(Instant::now() < deadline, "the server did not become ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server { child, url }
}

fn batch(client: usize, batch: usize) -> Value {
    let events: Vec<Value> = (0..PER_BATCH)
        .map(|i| {
            json!({"action": "booking.updated", "external_id": format!("c{client}-b{batch}-e{i}"),
                   "actor": {"id": format!("client-{client}"), "name": "Crash client"}, "description": format!("batch {batch} event {i}")})
        })
        .collect();
    json!({ "events": events })
}

/// A migrated database with one tenant and an admin's access token.
fn setup(backend: Backend) -> (TestDatabase, auditlog_db::DbPool, auditlog_db::models::Tenant, String) {
    let db = TestDatabase::new(backend);
    let pool = db.migrated_pool(2);
    let mut conn = pool.get().unwrap();
    let tenant =
        tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC").unwrap();
    let hash = hash_password("correct horse battery").unwrap();
    let user = users::NewUser {
        tenant_id: tenant.id,
        email: "a@acme.test",
        name: "A",
        password_hash: &hash,
        role: Role::Admin,
        actor_id: None,
    };
    let admin = users::create(&mut conn, &user).unwrap();
    let token = JwtKeys::new(SECRET.as_bytes(), 3600).issue(&admin).unwrap();
    (db, pool, tenant, token)
}

fn run(backend: Backend) {
    let (db, pool, tenant, token) = setup(backend);
    let port = free_port();
    let mut server = start(&db, &db.url, port);
    let url = server.url.clone();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut acknowledged: HashMap<usize, Vec<i64>> = HashMap::new();
                for b in 0..batches() {
                    let body = batch(client, b);
                    let deadline = Instant::now() + Duration::from_secs(60);
                    loop {
                        let reply = ureq::post(&format!("{url}/api/v1/events"))
                            .set("authorization", &format!("Bearer {token}"))
                            .set("idempotency-key", &format!("c{client}-b{b}"))
                            .timeout(Duration::from_secs(10))
                            .send_json(body.clone());
                        match reply {
                            Ok(response) if response.status() == 201 => {
                                let value: Value = response.into_json().unwrap();
                                let ids = value["ids"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|v| v.as_i64().unwrap())
                                    .collect();
                                acknowledged.insert(b, ids);
                                break;
                            }
                            // Server down, restarting or overloaded: retry the same request.
                            Err(ureq::Error::Transport(_)) | Err(ureq::Error::Status(503, _)) => {}
                            other => panic!("unexpected answer: {:?}", other.map(|r| r.status())),
                        }
                        assert!(Instant::now() < deadline, "batch {b} of client {client} never got through");
                        std::thread::sleep(Duration::from_millis(30));
                    }
                }
                acknowledged
            })
        })
        .collect();

    // Kill the server at random moments while the clients write, and bring it back each time.
    let mut seed = 0x2545F4914F6CDD1Du64 ^ u64::from(port);
    for _ in 0..kills() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(150 + seed % 400));
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        server = start(&db, &db.url, port);
    }
    let acknowledged: Vec<HashMap<usize, Vec<i64>>> =
        clients.into_iter().map(|c| c.join().unwrap()).collect();

    // Every acknowledged batch is stored exactly once, with the ids it was acknowledged with.
    let mut conn = pool.get().unwrap();
    let result = verify_chain(&mut conn, tenant.id, |_, _| {}).unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.events_checked as usize, CLIENTS * batches() * PER_BATCH, "no event lost or doubled");
    eprintln!(
        "sigkill ({backend:?}): {} kills; {} batches of {PER_BATCH} from {CLIENTS} clients acknowledged, \
         {} events stored once each; chain verified",
        kills(),
        CLIENTS * batches(),
        result.events_checked
    );
    for (client, acked) in acknowledged.iter().enumerate() {
        assert_eq!(acked.len(), batches(), "client {client}");
        for (b, ids) in acked {
            let again = ureq::post(&format!("{}/api/v1/events", server.url))
                .set("authorization", &format!("Bearer {token}"))
                .send_json(batch(client, *b))
                .unwrap()
                .into_json::<Value>()
                .unwrap();
            let stored: Vec<i64> =
                again["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
            assert_eq!(&stored, ids, "client {client} batch {b}: the acknowledged ids are the stored ones");
            assert_eq!(again["duplicates"], PER_BATCH);
        }
    }
    let _ = server.child.kill();
    let _ = server.child.wait();
}

#[test]
fn acknowledged_events_survive_sigkill_on_sqlite() {
    run(Backend::Sqlite);
}

#[test]
fn acknowledged_events_survive_sigkill_on_postgres() {
    run(Backend::Postgres);
}

/// SIGTERM: the server stops accepting, finishes what is in flight and exits cleanly; every
/// batch acknowledged before is stored, and nothing that was not acknowledged.
fn graceful_shutdown(backend: Backend) {
    let (db, pool, tenant, token) = setup(backend);
    let mut conn = pool.get().unwrap();
    let mut server = start(&db, &db.url, free_port());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, token) = (server.url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut acknowledged = 0;
                for b in 0..1000 {
                    let reply = ureq::post(&format!("{url}/api/v1/events"))
                        .set("authorization", &format!("Bearer {token}"))
                        .set("idempotency-key", &format!("c{client}-b{b}"))
                        .send_json(batch(client, b));
                    match reply {
                        Ok(r) if r.status() == 201 => acknowledged += 1,
                        Err(ureq::Error::Transport(_)) | Err(ureq::Error::Status(503, _)) => break,
                        other => panic!("unexpected answer: {:?}", other.map(|r| r.status())),
                    }
                }
                acknowledged
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = server.child.wait().unwrap();
    assert!(exit.success(), "a clean exit on SIGTERM, got {exit:?}");
    let acknowledged: usize = clients.into_iter().map(|c| c.join().unwrap()).sum();
    assert!(acknowledged > 0, "the clients were writing when the server stopped");
    let result = verify_chain(&mut conn, tenant.id, |_, _| {}).unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(
        result.events_checked as usize,
        acknowledged * PER_BATCH,
        "exactly the acknowledged batches are stored"
    );
}

#[test]
fn sigterm_finishes_in_flight_requests_on_sqlite() {
    graceful_shutdown(Backend::Sqlite);
}

#[test]
fn sigterm_finishes_in_flight_requests_on_postgres() {
    graceful_shutdown(Backend::Postgres);
}

/// A TCP relay in front of PostgreSQL that the test can cut — open connections reset, new ones
/// refused, as when the database server stops — and restore on the same port.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Relay {
    fn start(upstream: String) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::{Arc, Mutex};
        let port = free_port();
        let up = Arc::new(AtomicBool::new(true));
        let open: Arc<Mutex<Vec<std::net::TcpStream>>> = Arc::default();
        let (up2, open2) = (up.clone(), open.clone());
        std::thread::spawn(move || {
            let mut listener: Option<TcpListener> = None;
            loop {
                if !up2.load(Ordering::SeqCst) {
                    listener = None;
                    std::thread::sleep(Duration::from_millis(10));
                    continue;
                }
                let Some(l) = listener.as_ref() else {
                    if let Ok(l) = TcpListener::bind(("127.0.0.1", port)) {
                        l.set_nonblocking(true).unwrap();
                        listener = Some(l);
                    }
                    continue;
                };
                match l.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let Ok(server) = std::net::TcpStream::connect(&upstream) else { continue };
                        open2
                            .lock()
                            .unwrap()
                            .extend([client.try_clone().unwrap(), server.try_clone().unwrap()]);
                        for (mut from, mut to) in
                            [(client.try_clone().unwrap(), server.try_clone().unwrap()), (server, client)]
                        {
                            std::thread::spawn(move || {
                                let _ = std::io::copy(&mut from, &mut to);
                                let _ = to.shutdown(std::net::Shutdown::Both);
                            });
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Relay { port, up, open }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for stream in self.open.lock().unwrap().drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `scheme://user@host:port/rest` → (`host:port`, the URL with `host:port` replaced by `relay`).
fn through_relay(url: &str, relay: u16) -> (String, String) {
    let start = url.find('@').map(|i| i + 1).unwrap_or_else(|| url.find("://").unwrap() + 3);
    let end = start + url[start..].find('/').unwrap();
    let upstream = url[start..end].to_string();
    let upstream = if upstream.contains(':') { upstream } else { format!("{upstream}:5432") };
    (upstream, format!("{}127.0.0.1:{relay}{}", &url[..start], &url[end..]))
}

/// One answer a load client saw during the outage test.
#[derive(Debug)]
struct Seen {
    status: u16,
    problem_json: bool,
    retry_after: bool,
    took: Duration,
}

fn observe(result: Result<ureq::Response, ureq::Error>, took: Duration) -> Seen {
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("no HTTP answer after {took:?} (a hang or a dropped connection): {e}"),
    };
    Seen {
        status: response.status(),
        problem_json: response.content_type() == "application/problem+json",
        retry_after: response.header("retry-after").is_some(),
        took,
    }
}

/// PostgreSQL goes away under load: requests answer 503 problem+json with `Retry-After` (no hang,
/// no 500) and `/readyz` fails; when it returns, the server recovers by itself. Clients retry with
/// their idempotency keys, and afterwards every batch is stored exactly once.
#[test]
fn postgres_outage_answers_503_and_recovers_without_restart() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let (db, pool, tenant, token) = setup(Backend::Postgres);
    let (upstream, _) = through_relay(&db.url, 0);
    let relay = Relay::start(upstream);
    let (_, relayed_url) = through_relay(&db.url, relay.port);
    let server = start(&db, &relayed_url, free_port());

    // Two writers and a reader; a writer retries each batch with its idempotency key until 201.
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..3)
        .map(|client| {
            let (url, token, stop) = (server.url.clone(), token.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                let mut stored_batches = 0;
                let mut b = 0;
                while !stop.load(Ordering::SeqCst) {
                    let started = Instant::now();
                    let result = if client == 2 {
                        ureq::get(&format!("{url}/api/v1/events?per_page=25"))
                            .set("authorization", &format!("Bearer {token}"))
                            .timeout(Duration::from_secs(20))
                            .call()
                    } else {
                        ureq::post(&format!("{url}/api/v1/events"))
                            .set("authorization", &format!("Bearer {token}"))
                            .set("idempotency-key", &format!("c{client}-b{b}"))
                            .timeout(Duration::from_secs(20))
                            .send_json(batch(client, b))
                    };
                    let answer = observe(result, started.elapsed());
                    if answer.status == 201 {
                        stored_batches += 1;
                        b += 1;
                    }
                    if answer.status == 503 {
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    seen.push(answer);
                }
                (seen, stored_batches)
            })
        })
        .collect();

    let ready = |url: &str| {
        observe(ureq::get(&format!("{url}/readyz")).timeout(Duration::from_secs(20)).call(), Duration::ZERO)
    };
    std::thread::sleep(Duration::from_millis(700));
    relay.cut();
    let cut_at = Instant::now();
    // Readiness reports the outage: a 503 problem, promptly.
    let readiness = loop {
        let answer = ready(&server.url);
        if answer.status != 200 || cut_at.elapsed() > Duration::from_secs(15) {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(readiness.status, 503, "/readyz fails while the database is down");
    assert!(readiness.problem_json && readiness.retry_after, "{readiness:?}");
    std::thread::sleep(Duration::from_secs(3));

    relay.restore();
    let restored_at = Instant::now();
    while ready(&server.url).status != 200 {
        assert!(restored_at.elapsed() < Duration::from_secs(30), "the server did not recover by itself");
        std::thread::sleep(Duration::from_millis(100));
    }
    let recovered_in = restored_at.elapsed();
    std::thread::sleep(Duration::from_millis(700));
    stop.store(true, Ordering::SeqCst);
    let results: Vec<(Vec<Seen>, usize)> = workers.into_iter().map(|w| w.join().unwrap()).collect();

    let all: Vec<&Seen> = results.iter().flat_map(|(seen, _)| seen).collect();
    for answer in &all {
        match answer.status {
            200 | 201 => {}
            503 => assert!(answer.problem_json && answer.retry_after, "503 without a problem or Retry-After"),
            other => panic!("answer {other} during the outage (only 2xx or 503 are acceptable): {answer:?}"),
        }
        assert!(answer.took < Duration::from_secs(12), "a request hung for {:?}", answer.took);
    }
    assert!(all.iter().any(|a| a.status == 503), "the outage was visible to clients");
    let last_of = |seen: &Vec<Seen>| seen.last().map(|a| a.status);
    for (client, (seen, _)) in results.iter().enumerate() {
        assert!(matches!(last_of(seen), Some(200 | 201)), "client {client} works again after recovery");
    }
    eprintln!(
        "outage: {} answers, {} were 503; recovered {recovered_in:?} after the database returned",
        all.len(),
        all.iter().filter(|a| a.status == 503).count()
    );

    // Nothing acknowledged was lost, nothing stored twice, the chain holds.
    let acknowledged: usize = results.iter().map(|(_, n)| n).sum();
    let mut conn = pool.get().unwrap();
    let result = verify_chain(&mut conn, tenant.id, |_, _| {}).unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.events_checked as usize, acknowledged * PER_BATCH);
    let mut server = server;
    let _ = server.child.kill();
    let _ = server.child.wait();
}

/// Secrets never reach the log, at any level: passwords (right, wrong, new), access tokens, API
/// token secrets. At the default level the log holds no e-mail addresses, client addresses or
/// query strings either (searches can carry personal data); client addresses appear from `debug`.
#[test]
fn secrets_never_reach_the_log() {
    let (db, _pool, _tenant, admin_token) = setup(Backend::Sqlite);
    for level in ["info", "debug", "trace"] {
        let log_path = std::env::temp_dir().join(format!("auditlog-log-{level}-{}.txt", free_port()));
        let log = std::fs::File::create(&log_path).unwrap();
        let mut server = start_logging(&db, &db.url, free_port(), level, log);
        let url = server.url.clone();
        let api = |path: &str| format!("{url}/api/v1{path}");
        let bearer = |token: &str| format!("Bearer {token}");
        let login = |password: &str| {
            ureq::post(&api("/auth/login"))
                .send_json(json!({"email": "a@acme.test", "password": password}))
                .ok()
                .map(|r| r.into_json::<Value>().unwrap())
        };

        let wrong = format!("Wrong-Password-{level}-7391");
        assert!(login(&wrong).is_none());
        let session = login("correct horse battery").unwrap();
        let access = session["access_token"].as_str().unwrap().to_string();
        let created = ureq::post(&api("/tokens"))
            .set("authorization", &bearer(&access))
            .send_json(
                json!({"name": format!("log test {level}"), "scopes": ["events:write", "events:read"]}),
            )
            .unwrap()
            .into_json::<Value>()
            .unwrap();
        let secret = created["secret"].as_str().unwrap().to_string();
        ureq::post(&api("/events"))
            .set("authorization", &bearer(&secret))
            .send_json(
                json!({"action": "contact.updated", "actor": {"id": "u9", "email": "someone@customer.test"}}),
            )
            .unwrap();
        ureq::get(&api("/events?q=private.person%40customer.test"))
            .set("authorization", &bearer(&secret))
            .call()
            .unwrap();
        // Failures log too; none may echo what it was given.
        let forged = format!("{secret}x");
        assert!(ureq::get(&api("/events")).set("authorization", &bearer(&forged)).call().is_err());
        let new_password = format!("New-Password-{level}-4821");
        let weak = ureq::post(&api("/auth/password"))
            .set("authorization", &bearer(&access))
            .send_json(json!({"current_password": wrong, "new_password": new_password}));
        assert!(weak.is_err());
        ureq::post(&api("/auth/logout")).set("authorization", &bearer(&access)).send_bytes(b"").unwrap();
        assert!(ureq::get(&api("/auth/me")).set("authorization", &bearer(&access)).call().is_err());
        let _ = ureq::get(&api("/events")).set("authorization", &bearer(&admin_token)).call().unwrap();

        let _ = Command::new("kill").args(["-TERM", &server.child.id().to_string()]).status();
        let _ = server.child.wait();
        let text = std::fs::read_to_string(&log_path).unwrap();
        let _ = std::fs::remove_file(&log_path);
        for (method, path, status) in [
            ("POST", "/api/v1/events", 201),
            ("GET", "/api/v1/events", 200),
            ("POST", "/api/v1/auth/logout", 204),
        ] {
            let said = text.lines().any(|line| {
                line.contains("auditlog::access")
                    && line.contains(&format!("method={method} path={path}"))
                    && line.contains(&format!("status={status}"))
            });
            assert!(said, "{level}: the access log names method, path and status:\n{text}");
        }
        assert!(!text.contains('\u{1b}'), "{level}: terminal colours in a log file:\n{text}");
        let secret_part = secret.rsplit('_').next().unwrap();
        for (what, value) in [
            ("the right password", "correct horse battery"),
            ("a wrong password", wrong.as_str()),
            ("a new password", new_password.as_str()),
            ("an access token", access.as_str()),
            ("an access token's signature", access.rsplit('.').next().unwrap()),
            ("another access token", admin_token.as_str()),
            ("an API token's secret", secret_part),
        ] {
            assert!(!text.contains(value), "{level}: {what} is in the log:\n{text}");
        }
        if level == "info" {
            for personal in ["a@acme.test", "someone@customer.test", "private.person", "127.0.0.1 "] {
                assert!(!text.contains(personal), "info: {personal:?} is in the log:\n{text}");
            }
        }
        if level == "debug" {
            assert!(text.contains("127.0.0.1"), "debug: client addresses are logged:\n{text}");
        }
    }
}
