//! Archives in an S3-compatible object store: moto's server, started here (`scripts/ensure-s3`
//! installs it; `AUDITLOG_MOTO_SERVER` names it), behind a proxy that can cut uploads short.
//! Retention removes no event until its archive is stored and read back; any process serves and
//! verifies every archive, fetching what it did not write; checkpoint logs are copied.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditlog_api::retention::store::ArchiveStore;
use common::*;
use serde_json::json;
use sha2::{Digest, Sha256};

const BUCKET: &str = "archives";

struct Moto {
    child: Child,
    addr: SocketAddr,
}

impl Moto {
    fn start() -> Moto {
        let command = std::env::var("AUDITLOG_MOTO_SERVER")
            .expect("AUDITLOG_MOTO_SERVER: the path of moto_server (scripts/ensure-s3 installs it; scripts/test sets it)");
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(command)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto { child, addr: format!("127.0.0.1:{port}").parse().unwrap() };
        let deadline = Instant::now() + Duration::from_secs(60);
        while ureq::get(&moto.url()).call().is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        ureq::put(&format!("{}/{BUCKET}", moto.url())).call().expect("create the bucket");
        moto
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The stored object at `key`, read straight from the server.
    fn object(&self, key: &str) -> Option<Vec<u8>> {
        let response = ureq::get(&format!("{}/{BUCKET}/{key}", self.url())).call().ok()?;
        let mut bytes = Vec::new();
        response.into_reader().read_to_end(&mut bytes).unwrap();
        Some(bytes)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy to the store. While `cut` is set, a connection that has sent more than 4 KiB (an
/// upload's body, not a small request) is closed there, as a network failure mid-upload would.
struct Proxy {
    url: String,
    cut: Arc<AtomicBool>,
}

impl Proxy {
    fn start(target: SocketAddr) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let cut = Arc::new(AtomicBool::new(false));
        let cutting = cut.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let cutting = cutting.clone();
                std::thread::spawn(move || {
                    let Ok(upstream) = TcpStream::connect(target) else { return };
                    let (mut from_store, mut to_client) =
                        (upstream.try_clone().unwrap(), client.try_clone().unwrap());
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from_store, &mut to_client);
                        let _ = to_client.shutdown(std::net::Shutdown::Both);
                    });
                    let (mut from_client, mut to_store) = (client, upstream);
                    let mut sent = 0usize;
                    let mut buffer = [0u8; 1024];
                    while let Ok(read @ 1..) = from_client.read(&mut buffer) {
                        sent += read;
                        if cutting.load(Ordering::SeqCst) && sent > 4096 {
                            break;
                        }
                        if to_store.write_all(&buffer[..read]).is_err() {
                            break;
                        }
                    }
                    let _ = to_store.shutdown(std::net::Shutdown::Both);
                    let _ = from_client.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy { url, cut }
    }
}

fn store_through(endpoint: &str) -> Arc<ArchiveStore> {
    let retry = object_store::RetryConfig {
        max_retries: 2,
        retry_timeout: Duration::from_secs(5),
        ..Default::default()
    };
    Arc::new(
        ArchiveStore::configured(
            &format!("s3://{BUCKET}/activity-log"),
            &[
                ("aws_endpoint", endpoint),
                ("aws_access_key_id", "test"),
                ("aws_secret_access_key", "test"),
                ("aws_region", "us-east-1"),
                ("aws_allow_http", "true"),
            ],
            retry,
        )
        .unwrap(),
    )
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

async fn archives_live_in_the_object_store(backend: auditlog_db::Backend) {
    let moto = Moto::start();
    let proxy = Proxy::start(moto.addr);
    let store = store_through(&proxy.url);
    let dir = unique_dir("archive-store-writer");
    let ctx = Ctx::with(backend, |s| {
        s.archive_dir = dir.clone();
        s.archive_store = Some(store.clone());
    });
    let app = ctx.app().await;
    let admin = ctx.token(&ctx.admin);
    seed_recorded(&ctx, 600, 40);
    seed_recorded(&ctx, 10, 0);
    auditlog_db::archive::set_retention(&mut ctx.pool.get().unwrap(), ctx.acme_id, Some(30)).unwrap();
    let total = |body: &serde_json::Value| body["total"].as_i64().unwrap();
    // A retention run, as the server's schedule makes it: on a thread of its own.
    let run = || {
        let (pool, notary, settings) =
            (ctx.pool.clone(), ctx.state.notary.clone(), ctx.state.settings.clone());
        actix_web::rt::task::spawn_blocking(move || {
            auditlog_api::retention::run_all(&mut pool.get().unwrap(), &notary, &settings)
        })
    };

    // The store fails mid-upload: the run fails and every event stays, still verifiable.
    proxy.cut.store(true, Ordering::SeqCst);
    let failed = run().await.unwrap();
    assert!(failed.is_err(), "a run whose upload failed reported success");
    proxy.cut.store(false, Ordering::SeqCst);
    assert_eq!(total(&get(&app, &admin, "/api/v1/events?per_page=10").await.expect(200).body), 610);
    assert_eq!(get(&app, &admin, "/api/v1/archives").await.expect(200).body["items"], json!([]));
    assert_eq!(get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body["ok"], true);

    // Healed: archived, stored, and the stored object is the file the database records.
    let archives = run().await.unwrap().unwrap();
    assert_eq!(archives.len(), 1);
    let archive = &archives[0];
    assert_eq!(archive.event_count, 600);
    let stored =
        moto.object(&format!("activity-log/acme/{}", archive.file_name)).expect("the archive in the store");
    assert_eq!(sha256(&stored), archive.sha256);
    // The checkpoint log went along, as it is on disk.
    let log_name = auditlog_db::checkpoints::log_file_name("acme");
    let local_log = std::fs::read(ctx.state.notary.dir().join(&log_name)).unwrap();
    let copy = unique_dir("archive-store-log").with_extension("log");
    let fetched = {
        let (store, copy) = (store.clone(), copy.clone());
        actix_web::rt::task::spawn_blocking(move || store.fetch(&store.key("checkpoints", &log_name), &copy))
    };
    fetched.await.unwrap().expect("the checkpoint log in the store");
    assert_eq!(std::fs::read(&copy).unwrap(), local_log);

    // Another process, with an empty archive folder, serves and verifies the archive from the
    // store (its local copy is fetched on first use).
    let other_dir = unique_dir("archive-store-reader");
    let mut settings = (*ctx.state.settings).clone();
    settings.archive_dir = other_dir.clone();
    let mut other = ctx.state.clone();
    other.settings = Arc::new(settings);
    let other_app = actix_web::test::init_service(auditlog_api::http::app::build(other)).await;
    let download = actix_web::test::call_service(
        &other_app,
        actix_web::test::TestRequest::get()
            .uri(&format!("/api/v1/archives/{}", archive.id))
            .insert_header(("authorization", format!("Bearer {admin}")))
            .to_request(),
    )
    .await;
    assert_eq!(download.status(), 200);
    let served = actix_web::test::read_body(download).await;
    assert_eq!(sha256(&served), archive.sha256);
    let verified = get(&other_app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
    assert_eq!(verified["ok"], true, "{verified}");
    let left =
        get(&other_app, &admin, "/api/v1/events?action=booking.updated&per_page=10").await.expect(200).body;
    assert_eq!(total(&left), 10, "only the young events are left in the database");

    // A store that cannot be reached: the reader answers 503, never a path or a panic.
    std::fs::remove_dir_all(&other_dir).unwrap();
    drop(moto);
    let unreachable = get(&other_app, &admin, &format!("/api/v1/archives/{}", archive.id)).await.problem(503);
    assert!(!unreachable.body["detail"].as_str().unwrap().contains(&other_dir.display().to_string()));
}

mod archives_are_stored_read_back_and_served_by_any_process {
    #[actix_web::test]
    async fn sqlite() {
        super::archives_live_in_the_object_store(auditlog_db::Backend::Sqlite).await
    }

    #[actix_web::test]
    async fn postgres() {
        super::archives_live_in_the_object_store(auditlog_db::Backend::Postgres).await
    }
}
