//! Test harness: every test gets its own database (an SQLite file, or a PostgreSQL schema), so
//! tests run in parallel against real servers. `both_backends!` runs each test on both.

#![allow(dead_code)]

use std::path::PathBuf;

use actix_http::Request;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::test;
use auditlog_api::auth::JwtKeys;
use auditlog_api::config::Settings;
use auditlog_api::http::state::AppState;
use auditlog_db::models::{Role, User};
use auditlog_db::queries::{tenants, users};
use auditlog_db::{Backend, DatabaseUrl, DbPool};
use serde_json::Value;

pub const SECRET: &[u8] = b"test-secret-that-is-long-enough-for-hs256";
/// The deployment name of test servers: their key's name and origins' first part.
pub const LOG_NAME: &str = "activity-log.test";

pub use auditlog_db::testing::TestDatabase;

/// A folder of its own for each test (tests run in parallel), empty: one left by an earlier run
/// whose process had the same id (checkpoint logs signed by another key) is removed first.
pub fn unique_dir(what: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("auditlog-{what}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub fn settings(url: &str) -> Settings {
    Settings {
        database_url: DatabaseUrl::parse(url).unwrap(),
        migration_database_url: None,
        signing_key_file: None,
        log_name: LOG_NAME.into(),
        checkpoint_dir: unique_dir("checkpoints"),
        checkpoint_interval_seconds: 60,
        verify_interval_seconds: 0,
        bind: "127.0.0.1:0".into(),
        static_dir: PathBuf::from("/nonexistent"),
        data_dir: std::env::temp_dir(),
        token_ttl_seconds: 3600,
        max_body_bytes: 2 * 1024 * 1024,
        max_batch_events: 1000,
        db_pool_size: 4,
        archive_dir: unique_dir("archives"),
        archive_interval_seconds: 0,
        estimate_reuse_seconds: 30,
        max_streams_per_user: 5,
        max_streams_per_tenant: 100,
        dev_mode: false,
        trusted_proxies: Vec::new(),
        cors_allowed_origins: Vec::new(),
        // Test receivers listen on loopback; retries come fast.
        deliveries: auditlog_api::config::DeliverySettings {
            allow_private: true,
            retry_base_seconds: 1,
            timeout_seconds: 2,
            lease_seconds: 5,
            ..Default::default()
        },
        metrics_token: None,
        archive_store: None,
    }
}

/// A migrated database with two tenants: `acme` (admin, manager, member) and `globex` (admin).
pub struct Ctx {
    pub db: TestDatabase,
    pub state: AppState,
    pub pool: DbPool,
    pub acme_id: auditlog_db::TenantId,
    pub admin: User,
    pub manager: User,
    pub member: User,
    pub other_admin: User,
}

impl Ctx {
    pub fn new(backend: Backend) -> Self {
        Self::with(backend, |_| {})
    }

    pub fn with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> Self {
        let db = TestDatabase::new(backend);
        let mut settings = settings(&db.url);
        adjust(&mut settings);
        let pool = db.migrated_pool(settings.db_pool_size);
        let mut conn = pool.get().expect("connection");
        let acme =
            tenants::ensure(&mut conn, &auditlog_db::TenantSlug::parse("acme").unwrap(), "Acme", "UTC")
                .unwrap();
        let globex = tenants::ensure(
            &mut conn,
            &auditlog_db::TenantSlug::parse("globex").unwrap(),
            "Globex",
            "America/New_York",
        )
        .unwrap();
        // A cheap hash keeps tests fast; real hashing is covered by the login test.
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        let mut user = |tenant_id: auditlog_db::TenantId,
                        email: &str,
                        name: &str,
                        role: Role,
                        actor: &str| {
            users::create(
                &mut conn,
                &users::NewUser { tenant_id, email, name, password_hash: &hash, role, actor_id: Some(actor) },
            )
            .unwrap()
        };
        let admin = user(acme.id, "admin@acme.test", "Ada Admin", Role::Admin, "a1");
        let manager = user(acme.id, "manager@acme.test", "Max Manager", Role::Manager, "m1");
        let member = user(acme.id, "member@acme.test", "Mia Member", Role::Member, "u1");
        let other_admin = user(globex.id, "admin@globex.test", "Gus Globex", Role::Admin, "a1");
        drop(conn);
        let keys = JwtKeys::new(SECRET, settings.token_ttl_seconds);
        let signer = auditlog_tlog::note::Signer::generate(LOG_NAME).unwrap();
        let notary = auditlog_db::checkpoints::Notary::new(signer, settings.checkpoint_dir.clone());
        let state = AppState::new(pool.clone(), keys, notary, settings);
        Ctx { db, state, pool, acme_id: acme.id, admin, manager, member, other_admin }
    }

    pub fn token(&self, user: &User) -> String {
        self.state.keys.issue(user).unwrap()
    }

    pub async fn app(
        &self,
    ) -> impl Service<Request, Response = ServiceResponse<impl MessageBody>, Error = actix_web::Error> {
        test::init_service(auditlog_api::http::app::build(self.state.clone())).await
    }

    /// The app behind a real HTTP server on a free local port, with several workers, for tests that
    /// need real concurrency from client threads. Stops when the handle is dropped.
    pub async fn serve(&self) -> Served {
        let state = self.state.clone();
        let server = actix_web::HttpServer::new(move || auditlog_api::http::app::build(state.clone()))
            .workers(4)
            .bind(("127.0.0.1", 0))
            .expect("bind a free port");
        let url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        // The server starts once this runtime polls it: wait here (not blocking the runtime) until
        // it answers, so that blocking clients can be used from then on.
        let ready = format!("{url}/readyz");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while ureq::get(&ready).timeout(std::time::Duration::from_millis(200)).call().is_err() {
            assert!(std::time::Instant::now() < deadline, "the test server did not start");
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        Served { url, handle }
    }
}

/// A running server; see [`Ctx::serve`].
pub struct Served {
    pub url: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Served {
    fn drop(&mut self) {
        // Not awaited: the workers stop on their own once told.
        drop(self.handle.stop(false));
    }
}

/// Runs `count` blocking client calls at once on their own threads, released together.
pub async fn at_once<T: Send + 'static>(
    count: usize,
    call: impl Fn(usize) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let call = std::sync::Arc::new(call);
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(count));
    let threads: Vec<_> = (0..count)
        .map(|i| {
            let (call, barrier) = (call.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                call(i)
            })
        })
        .collect();
    actix_web::rt::task::spawn_blocking(move || {
        threads.into_iter().map(|t| t.join().expect("client thread")).collect()
    })
    .await
    .expect("client threads")
}

/// A blocking JSON call with ureq: the status and the body (JSON, or Null).
pub fn call(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut request = ureq::request(method, url).timeout(std::time::Duration::from_secs(60));
    if let Some(token) = token {
        request = request.set("authorization", &format!("Bearer {token}"));
    }
    let result = match body {
        Some(body) => request.send_json(body.clone()),
        None => request.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    (status, response.into_json().unwrap_or(Value::Null))
}

/// The token with one character of its signature or secret changed: the third from the end, so
/// the change always alters the decoded bytes (a base64 signature's last character carries unused
/// bits) and never leaves the text as it was.
pub fn tampered(token: &str) -> String {
    let at = token.len() - 3;
    let with = if &token[at..at + 1] == "a" { "b" } else { "a" };
    format!("{}{with}{}", &token[..at], &token[at + 1..])
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: actix_web::http::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn content_type(&self) -> &str {
        self.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    /// Asserts the status, with the body in the message when it differs.
    pub fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.body);
        self
    }

    /// Asserts an RFC 9457 problem with this status.
    pub fn problem(self, status: u16) -> Self {
        let reply = self.expect(status);
        assert_eq!(reply.content_type(), "application/problem+json", "body: {}", reply.body);
        assert_eq!(reply.body["status"], status);
        assert!(reply.body["title"].is_string() && reply.body["detail"].is_string(), "{}", reply.body);
        reply
    }

    /// Pointers of the problem's `errors`.
    pub fn pointers(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| a.iter().map(|e| e["pointer"].as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }

    pub fn ids(&self) -> Vec<i64> {
        let list = if self.body["items"].is_array() { &self.body["items"] } else { &self.body["ids"] };
        list.as_array()
            .unwrap_or_else(|| panic!("no items or ids in {}", self.body))
            .iter()
            .map(|v| if v.is_object() { v["id"].as_i64().unwrap() } else { v.as_i64().unwrap() })
            .collect()
    }
}

/// An app under test, as [`Ctx::app`] makes it: a name for the bound helpers take it by.
pub trait TestApp<B>: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

impl<S, B> TestApp<B> for S where S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error> {}

pub async fn send<S, B>(app: &S, req: test::TestRequest) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let response = test::call_service(app, req.to_request()).await;
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = test::read_body(response).await;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).to_string()))
    };
    Reply { status, headers, body }
}

pub async fn get<S, B>(app: &S, token: &str, uri: &str) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, test::TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {token}"))))
        .await
}

pub async fn post<S, B>(app: &S, token: &str, uri: &str, body: &Value) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, with_json(test::TestRequest::post(), token, uri, body)).await
}

/// `request` to `uri` as the bearer of `token`, with `body` as JSON.
fn with_json(request: test::TestRequest, token: &str, uri: &str, body: &Value) -> test::TestRequest {
    request.uri(uri).insert_header(("authorization", format!("Bearer {token}"))).set_json(body)
}

/// A download: status, headers and the body's bytes as sent (not read as JSON).
#[allow(dead_code)]
pub async fn download<S, B>(
    app: &S,
    token: &str,
    uri: &str,
) -> (u16, actix_web::http::header::HeaderMap, Vec<u8>)
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    let req = test::TestRequest::get().uri(uri).insert_header(("authorization", format!("Bearer {token}")));
    let response = test::call_service(app, req.to_request()).await;
    let (status, headers) = (response.status().as_u16(), response.headers().clone());
    (status, headers, test::read_body(response).await.to_vec())
}

#[allow(dead_code)]
pub async fn put<S, B>(app: &S, token: &str, uri: &str, body: &Value) -> Reply
where
    S: Service<Request, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    send(app, with_json(test::TestRequest::put(), token, uri, body)).await
}

/// Runs each test body on SQLite and on PostgreSQL, as `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! both_backends {
    ($(async fn $name:ident($ctx:ident: Ctx) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                async fn run($ctx: Ctx) $body

                #[actix_web::test]
                async fn sqlite() {
                    run(Ctx::new(auditlog_db::Backend::Sqlite)).await
                }

                #[actix_web::test]
                async fn postgres() {
                    run(Ctx::new(auditlog_db::Backend::Postgres)).await
                }
            }
        )*
    };
}

/// Runs one of poppler's tools on a PDF (`pdftotext`, `pdftoppm`, `pdfinfo`, `pdffonts`): its
/// output, or a panic with its complaint. The tools are installed by `scripts/ensure-packages`.
pub fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let dir = unique_dir("poppler");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("in.pdf");
    std::fs::File::create(&input).and_then(|mut f| f.write_all(pdf)).unwrap();
    let mut command = std::process::Command::new(tool);
    command.args(args).arg(&input);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let output = command.output().unwrap_or_else(|e| {
        panic!("{tool} could not run ({e}): install poppler-utils (scripts/ensure-packages does)")
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        output.status.success() && !String::from_utf8_lossy(&output.stderr).contains("Error"),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// The text of a PDF, page by page, as poppler extracts it.
pub fn pdf_pages(pdf: &[u8]) -> Vec<String> {
    let text = String::from_utf8(poppler("pdftotext", &["-enc", "UTF-8"], pdf)).unwrap();
    let mut pages: Vec<String> = text.split('\u{c}').map(String::from).collect();
    // pdftotext ends every page with a form feed: the last piece is empty.
    if pages.last().is_some_and(|p| p.trim().is_empty()) {
        pages.pop();
    }
    pages
}

/// The next chunk of a streaming body, or `None` after a few seconds without one.
pub async fn next_text<B: MessageBody>(body: &mut std::pin::Pin<Box<B>>) -> Option<String> {
    let chunk = tokio::time::timeout(
        std::time::Duration::from_secs(5),
        futures_util::future::poll_fn(|cx| body.as_mut().poll_next(cx)),
    )
    .await
    .ok()??;
    Some(String::from_utf8_lossy(&chunk.ok()?).to_string())
}

/// A plain event of the host application, the `i`th of a batch.
pub fn event_draft(i: usize) -> auditlog_db::models::EventDraft {
    auditlog_db::models::EventDraft {
        external_id: None,
        occurred_at: chrono::Utc::now().naive_utc(),
        actor: auditlog_db::models::Actor {
            id: "s1".into(),
            name: "Sam".into(),
            email: None,
            role: None,
            actor_type: "user".into(),
        },
        action: "booking.updated".into(),
        module: "booking".into(),
        verb: "updated".into(),
        entity: None,
        related: Vec::new(),
        description: format!("change {i}"),
        changes: Vec::new(),
        ip: Some("10.0.0.1".into()),
        user_agent: None,
        metadata: Default::default(),
    }
}

/// Stores `count` events into acme as if recorded `days_ago` days ago (for retention).
pub fn seed_recorded(ctx: &Ctx, count: usize, days_ago: i64) {
    let drafts: Vec<_> = (0..count).map(event_draft).collect();
    let recorded = chrono::Utc::now().naive_utc() - chrono::TimeDelta::days(days_ago);
    auditlog_db::queries::ingest::store_events(
        &mut ctx.pool.get().unwrap(),
        ctx.acme_id,
        None,
        &drafts,
        recorded,
    )
    .unwrap();
}
