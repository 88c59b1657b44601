//! Roles, visibility, sessions, throttling, user and API-token administration, and the events the
//! server records about them — through the HTTP layer, on SQLite and PostgreSQL.

mod common;

use std::collections::BTreeSet;

use actix_web::test::TestRequest;
use chrono::Utc;
use common::*;
use serde_json::{json, Value};

fn login_request(email: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/login")
        .peer_addr("198.51.100.7:5000".parse().unwrap())
        .insert_header(("user-agent", "TestBrowser/1.0"))
        .set_json(json!({"email": email, "password": password}))
}

/// Events of the tenant with this action, newest first, as the admin sees them.
async fn trail<S, B>(app: &S, ctx: &Ctx, action: &str) -> Vec<Value>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let reply =
        get(app, &ctx.token(&ctx.admin), &format!("/api/v1/events?action={action}&per_page=100")).await;
    reply.expect(200).body["items"].as_array().unwrap().clone()
}

fn ids(reply: &Reply) -> BTreeSet<i64> {
    reply.ids().into_iter().collect()
}

both_backends! {
    // A stored role that is none of the three (a superuser dropped the check) is an error
    // wherever the user is read, never read as some default role.
    async fn an_unknown_stored_role_is_an_error_not_a_default(ctx: Ctx) {
        use diesel::connection::SimpleConnection;
        let app = ctx.app().await;
        let token = ctx.token(&ctx.manager);
        assert_eq!(get(&app, &token, "/api/v1/auth/me").await.expect(200).body["role"], "manager");
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        let id = ctx.manager.id;
        conn.batch_execute(&match conn.backend() {
            auditlog_db::Backend::Postgres => format!(
                "ALTER TABLE users DROP CONSTRAINT users_role_check; UPDATE users SET role = 'owner' WHERE id = {id}"
            ),
            auditlog_db::Backend::Sqlite => format!(
                "PRAGMA ignore_check_constraints = ON; UPDATE users SET role = 'owner' WHERE id = {id}; \
                 PRAGMA ignore_check_constraints = OFF"
            ),
        })
        .unwrap();
        for reply in [
            get(&app, &token, "/api/v1/auth/me").await,
            get(&app, &token, "/api/v1/events").await,
            get(&app, &ctx.token(&ctx.admin), "/api/v1/users").await,
            send(&app, login_request(&ctx.manager.email, "correct horse battery")).await,
        ] {
            let reply = reply.problem(500);
            assert!(!reply.body.to_string().contains("owner"), "no internals: {}", reply.body);
        }
    }

    async fn every_read_path_applies_the_visibility_rule(ctx: Ctx) {
        let app = ctx.app().await;
        // Own events of each role, another staffer's, an admin-private one (by role claim), all on
        // one customer; and the same shapes in the other tenant.
        let post_as = |who: &str, role: Option<&str>| json!({
            "action": "customer.updated",
            "actor": {"id": who, "name": format!("Name {who}"), "role": role},
            "entity": {"type": "customer", "id": "c1", "label": "Jane"},
            "related": [{"type": "account", "id": "acc1"}]
        });
        let acme = [post_as("a1", None), post_as("m1", None), post_as("u1", None), post_as("s9", None), post_as("x7", Some("admin"))];
        let reply = post(&app, &ctx.token(&ctx.admin), "/api/v1/events", &json!({"events": acme})).await.expect(201);
        let [admin_own, manager_own, member_own, staff, private]: [i64; 5] = reply.ids().try_into().unwrap();
        let other = post(&app, &ctx.token(&ctx.other_admin), "/api/v1/events", &json!({"events": [post_as("a1", None), post_as("u1", None)]})).await.expect(201).ids();
        // Reading an event is logged, which would add events to what each role sees: off here
        // (`review_api` tests the reads' own records).
        let quiet = auditlog_db::flags::ReviewSettings { log_views: false, ..Default::default() };
        auditlog_db::flags::set_settings(&mut ctx.pool.get().unwrap(), ctx.acme_id, &quiet).unwrap();

        let expectations = [
            (&ctx.admin, vec![admin_own, manager_own, member_own, staff, private]),
            (&ctx.manager, vec![manager_own, member_own, staff]),
            (&ctx.member, vec![member_own]),
        ];
        for (user, visible) in expectations {
            let token = ctx.token(user);
            let visible: BTreeSet<i64> = visible.into_iter().collect();
            let all = [admin_own, manager_own, member_own, staff, private];
            // List, and every filter path through it.
            assert_eq!(ids(&get(&app, &token, "/api/v1/events?per_page=100").await), visible, "list as {}", user.role);
            assert_eq!(ids(&get(&app, &token, "/api/v1/events?per_page=100&cursor=").await), visible, "cursor list as {}", user.role);
            assert_eq!(ids(&get(&app, &token, "/api/v1/events?per_page=100&q=name").await), visible, "keyword as {}", user.role);
            // History, by entity and through `related`.
            assert_eq!(ids(&get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=100").await), visible, "history as {}", user.role);
            assert_eq!(ids(&get(&app, &token, "/api/v1/entities/account/acc1/history?per_page=100").await), visible, "related history as {}", user.role);
            // Detail: visible ones found, the rest and the other tenant's not.
            for id in all.iter().chain(other.iter()) {
                let status = get(&app, &token, &format!("/api/v1/events/{id}")).await.status.as_u16();
                assert_eq!(status, if visible.contains(id) { 200 } else { 404 }, "event {id} as {}", user.role);
            }
            // Facets count only visible events.
            let actors = get(&app, &token, "/api/v1/facets/actors?limit=100").await.body;
            let count: i64 = actors["items"].as_array().unwrap().iter().map(|a| a["count"].as_i64().unwrap()).sum();
            assert_eq!(count as usize, visible.len(), "actor facet as {}", user.role);
            let modules = get(&app, &token, "/api/v1/facets/modules").await.body;
            assert_eq!(modules["items"], json!([{"value": "customer", "count": visible.len()}]), "module facet as {}", user.role);
            let actions = get(&app, &token, "/api/v1/facets/actions").await.body;
            assert_eq!(actions["items"][0]["count"], visible.len(), "action facet as {}", user.role);
            // "My dashboard" is everyone's own events.
            let mine = get(&app, &token, "/api/v1/events?per_page=100&scope=mine").await;
            let own = match user.role.as_str() { "admin" => admin_own, "manager" => manager_own, _ => member_own };
            assert_eq!(ids(&mine), BTreeSet::from([own]), "scope=mine as {}", user.role);
        }
    }

    async fn signed_out_expired_foreign_and_forged_tokens_are_refused(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.manager);
        get(&app, &token, "/api/v1/auth/me").await.expect(200);
        let logout = TestRequest::post().uri("/api/v1/auth/logout").insert_header(("authorization", format!("Bearer {token}")));
        send(&app, logout).await.expect(204);
        get(&app, &token, "/api/v1/auth/me").await.problem(401);
        // Still refused by a fresh server on the same database.
        let restarted = actix_web::test::init_service(auditlog_api::http::app::build(ctx.state.clone())).await;
        get(&restarted, &token, "/api/v1/events").await.problem(401);
        assert_eq!(trail(&app, &ctx, "auth.logout").await.len(), 1);

        let key = jsonwebtoken::EncodingKey::from_secret(SECRET);
        let now = Utc::now().timestamp();
        let claims = |sub: i64, tenant: i64, exp: i64| json!({"sub": sub.to_string(), "tenant": tenant, "role": "admin", "iat": now, "exp": exp, "jti": "j"});
        let sign = |claims: &Value, alg| jsonwebtoken::encode(&jsonwebtoken::Header::new(alg), claims, &key).unwrap();
        use jsonwebtoken::Algorithm::{HS256, HS384};
        // The admin's id claimed in the other tenant, an expired token, another algorithm.
        get(&app, &sign(&claims(ctx.admin.id.get(), ctx.other_admin.tenant_id.get(), now + 60), HS256), "/api/v1/events").await.problem(401);
        get(&app, &sign(&claims(ctx.admin.id.get(), ctx.acme_id.get(), now - 120), HS256), "/api/v1/events").await.problem(401);
        get(&app, &sign(&claims(ctx.admin.id.get(), ctx.acme_id.get(), now + 60), HS384), "/api/v1/events").await.problem(401);
        let wrong_key = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims(ctx.admin.id.get(), ctx.acme_id.get(), now + 60), &jsonwebtoken::EncodingKey::from_secret(b"another-secret-of-enough-length-0000")).unwrap();
        get(&app, &wrong_key, "/api/v1/events").await.problem(401);
        // `alg: none`, unsigned.
        use base64::Engine;
        let b64 = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims(ctx.admin.id.get(), ctx.acme_id.get(), now + 60)));
        get(&app, &none, "/api/v1/events").await.problem(401);
        // A token without exp.
        let no_exp = sign(&json!({"sub": ctx.admin.id.to_string(), "tenant": ctx.acme_id, "role": "admin", "jti": "x"}), HS256);
        get(&app, &no_exp, "/api/v1/events").await.problem(401);
    }

    async fn password_change_rules_and_effect(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.member);
        let change = |current: &str, new: &str| {
            TestRequest::post()
                .uri("/api/v1/auth/password")
                .insert_header(("authorization", format!("Bearer {token}")))
                .set_json(json!({"current_password": current, "new_password": new}))
        };
        assert_eq!(send(&app, change("wrong one", "a much better passphrase")).await.problem(422).pointers(), ["/current_password"]);
        assert_eq!(send(&app, change("correct horse battery", "short")).await.problem(422).pointers(), ["/new_password"]);
        assert_eq!(send(&app, change("wrong one", "short")).await.problem(422).pointers(), ["/current_password", "/new_password"], "both at once");
        assert_eq!(send(&app, change("correct horse battery", "correct horse battery")).await.problem(422).pointers(), ["/new_password"]);
        send(&app, change("correct horse battery", "a much better passphrase")).await.expect(200);
        send(&app, login_request("member@acme.test", "correct horse battery")).await.problem(401);
        send(&app, login_request("member@acme.test", "a much better passphrase")).await.expect(200);
        let events = trail(&app, &ctx, "auth.password_changed").await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0]["actor"]["id"], "u1");
        assert!(!events[0].to_string().contains("passphrase"), "no password in the trail");
    }

    async fn repeated_failures_are_throttled_per_account(ctx: Ctx) {
        let app = ctx.app().await;
        for _ in 0..5 {
            send(&app, login_request("manager@acme.test", "guess")).await.problem(401);
        }
        // Locked now, even with the right password.
        let locked = send(&app, login_request("manager@acme.test", "correct horse battery")).await.problem(429);
        let retry: u64 = locked.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
        assert!(retry > 0 && retry <= 900, "Retry-After {retry}");
        // Other accounts from the same address still get in (the IP limit is higher).
        send(&app, login_request("member@acme.test", "correct horse battery")).await.expect(200);
        // Each failure is in the trail with the e-mail tried and the request's address, never the password.
        let failures = trail(&app, &ctx, "auth.login_failed").await;
        assert_eq!(failures.len(), 5);
        assert_eq!(failures[0]["metadata"]["email"], "manager@acme.test");
        assert_eq!(failures[0]["ip"], "198.51.100.7");
        assert_eq!(failures[0]["user_agent"], "TestBrowser/1.0");
        assert!(!failures[0].to_string().contains("guess"));
        let logins = trail(&app, &ctx, "auth.login").await;
        assert_eq!(logins.len(), 1);
        assert_eq!(logins[0]["actor"]["id"], "u1");
    }

    async fn the_ip_limit_holds_across_accounts(ctx: Ctx) {
        let app = ctx.app().await;
        for i in 0..20 {
            send(&app, login_request(&format!("nobody{i}@acme.test"), "guess")).await.problem(401);
        }
        send(&app, login_request("admin@acme.test", "correct horse battery")).await.problem(429);
        // A spoofed X-Forwarded-For from an untrusted peer changes nothing.
        let spoofed = login_request("admin@acme.test", "correct horse battery").insert_header(("x-forwarded-for", "192.0.2.1"));
        send(&app, spoofed).await.problem(429);
    }

    async fn admins_manage_users_but_never_the_last_admin(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        for user in [&ctx.manager, &ctx.member] {
            get(&app, &ctx.token(user), "/api/v1/users").await.problem(403);
            post(&app, &ctx.token(user), "/api/v1/tokens", &json!({"name": "x", "scopes": ["events:read"]})).await.problem(403);
        }
        let list = get(&app, &admin, "/api/v1/users").await.expect(200).body;
        let names: Vec<&str> = list["items"].as_array().unwrap().iter().map(|u| u["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["Ada Admin", "Max Manager", "Mia Member"], "only this tenant's users, by name");

        let new_user = json!({"email": "New@Acme.test", "name": "Nora New", "password": "a sturdy passphrase", "role": "member", "actor_id": "crm-77"});
        let created = post(&app, &admin, "/api/v1/users", &new_user).await.expect(201).body;
        assert_eq!((created["email"].as_str(), created["actor_id"].as_str(), created["active"].as_bool()), (Some("new@acme.test"), Some("crm-77"), Some(true)));
        post(&app, &admin, "/api/v1/users", &new_user).await.problem(409);
        let weak = post(&app, &admin, "/api/v1/users", &json!({"email": "w@acme.test", "name": "W", "password": "123", "role": "member"})).await.problem(422);
        assert_eq!(weak.pointers(), ["/password"]);
        post(&app, &admin, "/api/v1/users", &json!({"email": "w@acme.test", "name": "W", "password": "a sturdy passphrase", "role": "owner"})).await.problem(422);

        let id = created["id"].as_i64().unwrap();
        let patch = |id: i64, body: Value| {
            TestRequest::patch().uri(&format!("/api/v1/users/{id}")).insert_header(("authorization", format!("Bearer {admin}"))).set_json(body)
        };
        let promoted = send(&app, patch(id, json!({"role": "manager", "name": "Nora N."}))).await.expect(200).body;
        assert_eq!((promoted["role"].as_str(), promoted["name"].as_str()), (Some("manager"), Some("Nora N.")));
        // The new user signs in, then is deactivated: the live token and sign-in both stop working.
        let last_sign_in = |list: &Value| list["items"].as_array().unwrap().iter().find(|u| u["id"] == id).unwrap()["last_sign_in_at"].clone();
        assert_eq!(last_sign_in(&get(&app, &admin, "/api/v1/users").await.body), Value::Null, "never signed in");
        let session = send(&app, login_request("new@acme.test", "a sturdy passphrase")).await.expect(200).body["access_token"].as_str().unwrap().to_string();
        get(&app, &session, "/api/v1/events").await.expect(200);
        let signed_in = last_sign_in(&get(&app, &admin, "/api/v1/users").await.body);
        let at = chrono::DateTime::parse_from_rfc3339(signed_in.as_str().unwrap()).unwrap();
        assert!((chrono::Utc::now() - at.to_utc()).num_seconds() < 60, "{signed_in}");
        // A wrong password is no sign-in.
        send(&app, login_request("new@acme.test", "not the passphrase")).await.problem(401);
        assert_eq!(last_sign_in(&get(&app, &admin, "/api/v1/users").await.body), signed_in);
        send(&app, patch(id, json!({"active": false}))).await.expect(200);
        get(&app, &session, "/api/v1/events").await.problem(401);
        send(&app, login_request("new@acme.test", "a sturdy passphrase")).await.problem(401);

        // Another tenant's user is not found.
        send(&app, patch(ctx.other_admin.id.get(), json!({"name": "x"}))).await.problem(404);
        // The only admin can be neither demoted nor deactivated — by anyone.
        send(&app, patch(ctx.admin.id.get(), json!({"role": "member"}))).await.problem(409);
        send(&app, patch(ctx.admin.id.get(), json!({"active": false}))).await.problem(409);
        send(&app, patch(ctx.manager.id.get(), json!({"role": "admin"}))).await.expect(200);
        // With a second admin, still not by the admin themselves: another admin must.
        let own = send(&app, patch(ctx.admin.id.get(), json!({"role": "member"}))).await.problem(409);
        assert!(own.body["detail"].as_str().unwrap().contains("your own role"), "{}", own.body);
        send(&app, patch(ctx.admin.id.get(), json!({"active": false}))).await.problem(409);
        send(&app, patch(ctx.admin.id.get(), json!({"name": "Ada A.", "role": "admin"}))).await.expect(200);
        let second = ctx.token(&ctx.manager);
        let by_other = TestRequest::patch().uri(&format!("/api/v1/users/{}", ctx.admin.id.get())).insert_header(("authorization", format!("Bearer {second}"))).set_json(json!({"role": "member"}));
        send(&app, by_other).await.expect(200);
        // Roles are read on every request: the demoted admin's token no longer manages users.
        get(&app, &admin, "/api/v1/users").await.problem(403);
        let back = TestRequest::patch().uri(&format!("/api/v1/users/{}", ctx.admin.id.get())).insert_header(("authorization", format!("Bearer {second}"))).set_json(json!({"role": "admin"}));
        send(&app, back).await.expect(200);

        // Every change is in the trail, with the admin as actor and the user as record.
        assert_eq!(trail(&app, &ctx, "user.created").await[0]["entity"], json!({"type": "user", "id": id.to_string(), "label": "Nora New"}));
        let roles = trail(&app, &ctx, "user.role_changed").await;
        assert_eq!(roles.len(), 4);
        assert_eq!(roles[3]["changes"], json!([{"field": "role", "old": "member", "new": "manager"}]));
        assert_eq!(roles[3]["actor"]["id"], "a1");
        assert_eq!(roles[0]["actor"]["id"], ctx.manager.actor_id, "the other admin put the first one back");
        assert_eq!(trail(&app, &ctx, "user.deactivated").await.len(), 1);
        assert_eq!(trail(&app, &ctx, "user.updated").await[0]["changes"][0]["field"], "name");
    }

    async fn api_tokens_do_what_their_scopes_allow(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let create = |name: &str, scopes: Value| {
            let body = json!({"name": name, "scopes": scopes, "expires_in_days": 30});
            let (app, admin) = (&app, admin.clone());
            async move { post(app, &admin, "/api/v1/tokens", &body).await }
        };
        let writer = create("CRM writer", json!(["events:write"])).await.expect(201).body;
        let reader = create("BI reader", json!(["events:read"])).await.expect(201).body;
        let writer_secret = writer["secret"].as_str().unwrap().to_string();
        let reader_secret = reader["secret"].as_str().unwrap().to_string();
        assert!(writer_secret.starts_with("alt_"));
        create("", json!(["events:read"])).await.problem(422);
        create("none", json!([])).await.problem(422);
        create("bad", json!(["events:delete"])).await.problem(422);

        // The list never shows a secret again.
        let list = get(&app, &admin, "/api/v1/tokens").await.expect(200).body;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        assert!(!list.to_string().contains(&writer_secret[20..]), "secret not listed");
        assert_eq!(list["items"][1]["scopes"], json!(["events:write"]));

        // A write-only token posts (as an `api` actor unless the event names one) but cannot read.
        let posted = post(&app, &writer_secret, "/api/v1/events", &json!({"events": [
            {"action": "booking.created"},
            {"action": "booking.updated", "actor": {"id": "u1", "name": "Mia Member"}}
        ]})).await.expect(201).ids();
        get(&app, &writer_secret, "/api/v1/events").await.problem(403);
        get(&app, &writer_secret, "/api/v1/auth/me").await.problem(403);
        let event = get(&app, &admin, &format!("/api/v1/events/{}", posted[0])).await.body;
        assert_eq!(event["actor"]["type"], "api");
        assert_eq!(event["actor"]["name"], "CRM writer");
        let on_behalf = get(&app, &admin, &format!("/api/v1/events/{}", posted[1])).await.body;
        assert_eq!((on_behalf["actor"]["id"].as_str(), on_behalf["actor"]["type"].as_str()), (Some("u1"), Some("user")));

        // A read token reads as a manager would: the admin's own events stay hidden. It cannot write.
        post(&app, &admin, "/api/v1/events", &json!({"action": "settings.updated"})).await.expect(201);
        let seen = get(&app, &reader_secret, "/api/v1/events?per_page=100").await.expect(200);
        assert!(seen.body["items"].as_array().unwrap().iter().all(|e| e["actor"]["id"] != "a1"), "no admin-private events");
        assert!(seen.ids().contains(&posted[1]));
        post(&app, &reader_secret, "/api/v1/events", &json!({"action": "a.b"})).await.problem(403);

        // Tampered, unknown and revoked tokens are refused; revoking is logged.
        get(&app, &tampered(&reader_secret), "/api/v1/events").await.problem(401);
        get(&app, "alt_1_999_abc", "/api/v1/events").await.problem(401);
        let reader_id = reader["token"]["id"].as_i64().unwrap();
        let revoke = |id: i64, token: &str| TestRequest::delete().uri(&format!("/api/v1/tokens/{id}")).insert_header(("authorization", format!("Bearer {token}")));
        send(&app, revoke(reader_id, &ctx.token(&ctx.other_admin))).await.problem(404);
        send(&app, revoke(reader_id, &admin)).await.expect(204);
        send(&app, revoke(reader_id, &admin)).await.expect(204);
        get(&app, &reader_secret, "/api/v1/events").await.problem(401);
        assert_eq!(trail(&app, &ctx, "token.created").await.len(), 2);
        assert_eq!(trail(&app, &ctx, "token.revoked").await.len(), 1, "revoking twice logs once");
    }
}

/// `auditlog create-user` for ada@example.com on `db` with `args` added, `stdin` written to it.
fn create_user_with(db: &TestDatabase, args: &[&str], stdin: &str) -> std::process::Output {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditlog"))
        .args(["create-user", "--email", "ada@example.com", "--name", "Ada", "--role", "admin"])
        .args(args)
        .envs(db.server_env())
        .env("DATABASE_URL", &db.url)
        .env("RUST_LOG", "error")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run auditlog");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().expect("auditlog ends")
}

/// `auditlog create-user --tenant SLUG` on `db`: whether it succeeded, what it wrote to stderr,
/// and the tenants the database then holds.
fn create_user(db: &TestDatabase, slug: &str) -> (bool, String, Vec<String>) {
    let done =
        create_user_with(db, &[&format!("--tenant={slug}"), "--password-stdin"], "correct horse battery\n");
    let mut conn = db.owner_pool(1).get().unwrap();
    let slugs = auditlog_db::queries::tenants::all(&mut conn).unwrap().into_iter().map(|t| t.slug).collect();
    (done.status.success(), String::from_utf8_lossy(&done.stderr).into_owned(), slugs)
}

/// Slugs name folders and files and go into headers: the command creates no tenant whose slug
/// breaks the rule, and says what the rule is.
fn create_user_takes_only_valid_slugs(backend: auditlog_db::Backend) {
    let db = TestDatabase::new(backend);
    drop(db.migrated_pool(1));
    for bad in [
        "../../evil",
        "..",
        "a/b",
        "Acme",
        "a\"b",
        "a\nb",
        "",
        "-acme",
        "ac me",
        "caf\u{E9}",
        "x".repeat(64).as_str(),
    ] {
        let (ok, stderr, slugs) = create_user(&db, bad);
        assert!(!ok, "{bad:?} was taken");
        assert!(stderr.contains("^[a-z0-9][a-z0-9-]{0,62}$"), "{bad:?}: {stderr}");
        assert!(slugs.is_empty(), "{bad:?}: {slugs:?}");
    }
    let (ok, stderr, slugs) = create_user(&db, "acme-2");
    assert!(ok, "{stderr}");
    assert_eq!(slugs, ["acme-2"]);
}

mod create_user_refuses_bad_slugs {
    #[test]
    fn sqlite() {
        super::create_user_takes_only_valid_slugs(auditlog_db::Backend::Sqlite)
    }

    #[test]
    fn postgres() {
        super::create_user_takes_only_valid_slugs(auditlog_db::Backend::Postgres)
    }
}

/// `create-user` takes the password from standard input or a file (the command line only with a
/// warning); the password it stored is the one given, spaces and all, and nothing is created
/// when none is given.
fn create_user_reads_the_password_off_the_command_line(backend: auditlog_db::Backend) {
    let db = TestDatabase::new(backend);
    drop(db.migrated_pool(1));
    let signs_in = |slug: &str, password: &str| {
        let mut conn = db.owner_pool(1).get().unwrap();
        let found = auditlog_db::queries::users::find_active_by_email(&mut conn, "ada@example.com").unwrap();
        found.iter().any(|(user, tenant)| {
            tenant.slug == slug && auditlog_api::auth::verify_password(password, &user.password_hash)
        })
    };
    // Still taken from the command line, for scripts, with a warning that does not repeat it.
    let warned = create_user_with(&db, &["--tenant=initech", "--password", "hunter-two-2026"], "");
    assert!(warned.status.success(), "{}", String::from_utf8_lossy(&warned.stderr));
    let said = String::from_utf8_lossy(&warned.stderr);
    assert!(
        said.contains("warning") && said.contains("--password-stdin") && !said.contains("hunter-two-2026"),
        "{said}"
    );
    let both = create_user_with(
        &db,
        &["--tenant=initech", "--password", "hunter-two-2026", "--password-stdin"],
        "x\n",
    );
    assert!(!both.status.success(), "two sources of the password were taken");
    let nothing = create_user_with(&db, &["--tenant=acme"], "");
    assert!(!nothing.status.success(), "created without a password");
    assert!(!signs_in("acme", ""));

    let piped =
        create_user_with(&db, &["--tenant=acme", "--password-stdin"], "  spaced pass phrase \r\nignored\n");
    assert!(piped.status.success(), "{}", String::from_utf8_lossy(&piped.stderr));
    assert!(signs_in("acme", "  spaced pass phrase "));
    assert!(signs_in("initech", "hunter-two-2026"));

    let dir = common::unique_dir("password-file");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("password");
    std::fs::write(&file, "from a mounted secret\n").unwrap();
    let path = format!("--password-file={}", file.display());
    let from_file = create_user_with(&db, &["--tenant=globex", &path], "");
    assert!(from_file.status.success(), "{}", String::from_utf8_lossy(&from_file.stderr));
    let mut conn = db.owner_pool(1).get().unwrap();
    let globex: Vec<_> = auditlog_db::queries::users::find_active_by_email(&mut conn, "ada@example.com")
        .unwrap()
        .into_iter()
        .filter(|(_, tenant)| tenant.slug == "globex")
        .collect();
    assert!(auditlog_api::auth::verify_password("from a mounted secret", &globex[0].0.password_hash));
    let short = create_user_with(&db, &["--tenant=hooli", "--password-stdin"], "short\n");
    assert!(!short.status.success(), "a 5-character password was taken");
}

mod create_user_reads_no_password_from_argv {
    #[test]
    fn sqlite() {
        super::create_user_reads_the_password_off_the_command_line(auditlog_db::Backend::Sqlite)
    }

    #[test]
    fn postgres() {
        super::create_user_reads_the_password_off_the_command_line(auditlog_db::Backend::Postgres)
    }
}
