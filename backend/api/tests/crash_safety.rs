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
const BATCHES: usize = 12;
const PER_BATCH: usize = 25;
const KILLS: usize = 3;

struct Server {
    child: Child,
    url: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(database_url: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .arg("serve")
        .env("DATABASE_URL", database_url)
        .env("BIND", format!("127.0.0.1:{port}"))
        .env("JWT_SECRET", SECRET)
        .env("ARCHIVE_INTERVAL_SECONDS", "0")
        .env("STATIC_DIR", "/nonexistent")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
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
    let tenant = tenants::ensure(&mut conn, "acme", "Acme", "UTC").unwrap();
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
    let mut server = start(&db.url, port);
    let url = server.url.clone();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                let mut acknowledged: HashMap<usize, Vec<i64>> = HashMap::new();
                for b in 0..BATCHES {
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
    for _ in 0..KILLS {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(150 + seed % 400));
        server.child.kill().expect("SIGKILL");
        server.child.wait().unwrap();
        server = start(&db.url, port);
    }
    let acknowledged: Vec<HashMap<usize, Vec<i64>>> =
        clients.into_iter().map(|c| c.join().unwrap()).collect();

    // Every acknowledged batch is stored exactly once, with the ids it was acknowledged with.
    let mut conn = pool.get().unwrap();
    let result = verify_chain(&mut conn, tenant.id, |_, _| {}).unwrap();
    assert!(result.ok, "{result:?}");
    assert_eq!(result.events_checked as usize, CLIENTS * BATCHES * PER_BATCH, "no event lost or doubled");
    for (client, batches) in acknowledged.iter().enumerate() {
        assert_eq!(batches.len(), BATCHES, "client {client}");
        for (b, ids) in batches {
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
    let mut server = start(&db.url, free_port());
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
