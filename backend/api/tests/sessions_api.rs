//! Sessions, throttles and idempotency keys at their edges: parallel guesses against a real
//! server, sessions that change while a stream runs, password changes and deactivations that end
//! sessions for good, strangers who try to lock an admin out — on SQLite and PostgreSQL.

mod common;

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use actix_web::test::TestRequest;
use chrono::{TimeDelta, Utc};
use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};

fn login_from(ip: &str, email: &str, password: &str) -> TestRequest {
    TestRequest::post()
        .uri("/api/v1/auth/login")
        .peer_addr(format!("{ip}:5000").parse().unwrap())
        .set_json(json!({"email": email, "password": password}))
}

fn retry_after(reply: &Reply) -> i64 {
    reply.headers.get("retry-after").unwrap().to_str().unwrap().parse().unwrap()
}

/// How many events of `action` the tenant's trail holds.
fn trail_count(ctx: &Ctx, action: &str) -> i64 {
    use auditlog_db::schema::events;
    events::table
        .filter(events::tenant_id.eq(ctx.acme_id))
        .filter(events::action.eq(action))
        .count()
        .get_result(&mut ctx.pool.get().unwrap())
        .unwrap()
}

/// Moves a throttle key's last attempt `seconds` into the past, as if that time had passed.
fn age_throttle(ctx: &Ctx, key: &str, seconds: i64) {
    use auditlog_db::schema::login_throttle as lt;
    let last: chrono::NaiveDateTime = lt::table
        .filter(lt::throttle_key.eq(key))
        .select(lt::last_at)
        .first(&mut ctx.pool.get().unwrap())
        .unwrap();
    diesel::update(lt::table.filter(lt::throttle_key.eq(key)))
        .set(lt::last_at.eq(last - TimeDelta::seconds(seconds)))
        .execute(&mut ctx.pool.get().unwrap())
        .unwrap();
}

/// A live stream read line by line on its own thread: the lines arrive on the channel; the
/// status is the first message.
fn open_stream(url: &str, token: &str) -> (u16, mpsc::Receiver<String>) {
    let (tx, rx) = mpsc::channel();
    let (url, token) = (url.to_string(), token.to_string());
    std::thread::spawn(move || {
        let response = match ureq::get(&format!("{url}/api/v1/events/stream"))
            .set("authorization", &format!("Bearer {token}"))
            .call()
        {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("stream: {e}"),
        };
        let _ = tx.send(response.status().to_string());
        for line in BufReader::new(response.into_reader()).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
        let _ = tx.send("<closed>".into());
    });
    let status = rx.recv_timeout(Duration::from_secs(30)).expect("stream answers").parse().unwrap();
    (status, rx)
}

/// Lines of a stream until `stop` matches one (included) or `within` passes.
async fn lines_until(
    rx: mpsc::Receiver<String>,
    within: Duration,
    stop: fn(&str) -> bool,
) -> (Vec<String>, mpsc::Receiver<String>) {
    actix_web::rt::task::spawn_blocking(move || {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match rx.recv_timeout(left) {
                Ok(line) => {
                    let done = stop(&line);
                    seen.push(line);
                    if done {
                        break;
                    }
                }
                Err(_) => break,
            }
        }
        (seen, rx)
    })
    .await
    .unwrap()
}

both_backends! {
    async fn parallel_guesses_never_exceed_the_limit(ctx: Ctx) {
        let server = ctx.serve().await;
        let url = server.url.clone();
        // 40 wrong guesses at once against one account: only the 5 allowed are evaluated.
        let statuses = at_once(40, move |_| {
            call("POST", &format!("{url}/api/v1/auth/login"), None, Some(&json!({"email": "manager@acme.test", "password": "a wrong guess"}))).0
        })
        .await;
        let evaluated = statuses.iter().filter(|s| **s == 401).count();
        assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
        assert_eq!(evaluated, 5, "exactly the limit was evaluated: {statuses:?}");
        assert_eq!(trail_count(&ctx, "auth.login_failed"), 5, "each evaluated guess is in the trail, no other");
        // The right password right after is refused too: the account is in its back-off.
        let url = server.url.clone();
        let (status, body) = actix_web::rt::task::spawn_blocking(move || {
            call("POST", &format!("{url}/api/v1/auth/login"), None, Some(&json!({"email": "manager@acme.test", "password": "correct horse battery"})))
        })
        .await
        .unwrap();
        assert_eq!(status, 429, "{body}");

        // The per-IP limit holds the same way across many accounts at once.
        let url = server.url.clone();
        let statuses = at_once(50, move |i| {
            call("POST", &format!("{url}/api/v1/auth/login"), None, Some(&json!({"email": format!("nobody{i}@acme.test"), "password": "guess"}))).0
        })
        .await;
        let evaluated = statuses.iter().filter(|s| **s == 401).count();
        // 5 of the IP's 20 were spent above; at most the rest are evaluated now.
        assert!(evaluated <= 15, "{evaluated} guesses evaluated past the IP limit: {statuses:?}");
        assert!(evaluated >= 1, "some guesses were evaluated: {statuses:?}");
    }

    async fn the_back_off_doubles_and_a_success_ends_the_streak(ctx: Ctx) {
        let app = ctx.app().await;
        let key = format!("account:{}", ctx.manager.id);
        for _ in 0..5 {
            send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(401);
        }
        let first = send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(429);
        assert!((1..=60).contains(&retry_after(&first)), "first wait is up to a minute: {}", retry_after(&first));
        // A minute later one more guess is allowed; the next wait is two minutes.
        age_throttle(&ctx, &key, 61);
        send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(401);
        let second = send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(429);
        assert!((61..=120).contains(&retry_after(&second)), "the wait doubled: {}", retry_after(&second));
        age_throttle(&ctx, &key, 121);
        send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(401);
        let third = send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(429);
        assert!((121..=240).contains(&retry_after(&third)), "and doubled again: {}", retry_after(&third));
        // Once the wait is over the right password gets in, and the streak is gone.
        age_throttle(&ctx, &key, 241);
        send(&app, login_from("198.51.100.20", "manager@acme.test", "correct horse battery")).await.expect(200);
        for _ in 0..5 {
            send(&app, login_from("198.51.100.20", "manager@acme.test", "guess")).await.problem(401);
        }
        // Rows older than the longest window are pruned when new keys appear.
        {
            use auditlog_db::schema::login_throttle as lt;
            let mut conn = ctx.pool.get().unwrap();
            diesel::update(lt::table).set(lt::last_at.eq(Utc::now().naive_utc() - TimeDelta::hours(25))).execute(&mut conn).unwrap();
        }
        send(&app, login_from("198.51.100.21", "nobody@acme.test", "guess")).await.problem(401);
        let left: Vec<String> = {
            use auditlog_db::schema::login_throttle as lt;
            lt::table.select(lt::throttle_key).order(lt::throttle_key).load(&mut ctx.pool.get().unwrap()).unwrap()
        };
        assert_eq!(left, ["email:nobody@acme.test", "ip:198.51.100.21"], "stale rows pruned");
    }

    async fn strangers_cannot_lock_an_admin_out_of_a_known_address(ctx: Ctx) {
        let app = ctx.app().await;
        // The admin signs in from the office once.
        send(&app, login_from("198.51.100.1", "admin@acme.test", "correct horse battery")).await.expect(200);
        // Strangers fail five times from elsewhere: the account is locked for them ...
        for _ in 0..5 {
            send(&app, login_from("203.0.113.9", "admin@acme.test", "guess")).await.problem(401);
        }
        send(&app, login_from("203.0.113.9", "admin@acme.test", "correct horse battery")).await.problem(429);
        send(&app, login_from("203.0.113.10", "admin@acme.test", "correct horse battery")).await.problem(429);
        // ... but not from the office, where the admin's own streak counts.
        send(&app, login_from("198.51.100.1", "admin@acme.test", "correct horse battery")).await.expect(200);
        // The office's own streak is throttled too.
        for _ in 0..5 {
            send(&app, login_from("198.51.100.1", "admin@acme.test", "guess")).await.problem(401);
        }
        send(&app, login_from("198.51.100.1", "admin@acme.test", "correct horse battery")).await.problem(429);
    }

    async fn an_ambiguous_email_is_told_only_to_whoever_knows_the_password(ctx: Ctx) {
        let app = ctx.app().await;
        let create = |tenant_id: auditlog_db::TenantId, password: &str| {
            let hash = auditlog_api::auth::hash_password(password).unwrap();
            auditlog_db::queries::users::create(
                &mut ctx.pool.get().unwrap(),
                &auditlog_db::queries::users::NewUser {
                    tenant_id,
                    email: "member@acme.test",
                    name: "Mia at Globex",
                    password_hash: &hash,
                    role: auditlog_db::models::Role::Member,
                    actor_id: None,
                },
            )
            .unwrap()
        };
        create(ctx.other_admin.tenant_id, "another good passphrase");
        // A wrong password hears nothing about the e-mail having two accounts.
        let wrong = send(&app, login_from("198.51.100.30", "member@acme.test", "a wrong guess")).await.problem(401);
        assert!(!wrong.body.to_string().contains("tenant"), "{}", wrong.body);
        // Each password opens its own account.
        let globex = send(&app, login_from("198.51.100.30", "member@acme.test", "another good passphrase")).await.expect(200);
        assert_eq!(globex.body["user"]["tenant"]["slug"], "globex");
        let acme = send(&app, login_from("198.51.100.30", "member@acme.test", "correct horse battery")).await.expect(200);
        assert_eq!(acme.body["user"]["tenant"]["slug"], "acme");
        // Wrong guesses are throttled like any sign-in (both accounts count them).
        for _ in 0..5 {
            send(&app, login_from("198.51.100.31", "member@acme.test", "a wrong guess")).await.problem(401);
        }
        send(&app, login_from("198.51.100.31", "member@acme.test", "a wrong guess")).await.problem(429);
        assert_eq!(trail_count(&ctx, "auth.login_failed"), 6, "acme's trail holds its account's failures");
    }

    async fn the_same_password_in_two_tenants_needs_the_tenant(ctx: Ctx) {
        let app = ctx.app().await;
        let hash = auditlog_api::auth::hash_password("correct horse battery").unwrap();
        auditlog_db::queries::users::create(
            &mut ctx.pool.get().unwrap(),
            &auditlog_db::queries::users::NewUser {
                tenant_id: ctx.other_admin.tenant_id,
                email: "member@acme.test",
                name: "Mia at Globex",
                password_hash: &hash,
                role: auditlog_db::models::Role::Member,
                actor_id: None,
            },
        )
        .unwrap();
        let ambiguous = send(&app, login_from("198.51.100.40", "member@acme.test", "correct horse battery")).await.problem(422);
        assert_eq!(ambiguous.pointers(), ["/tenant"]);
        let chosen = TestRequest::post()
            .uri("/api/v1/auth/login")
            .set_json(json!({"email": "member@acme.test", "password": "correct horse battery", "tenant": "globex"}));
        assert_eq!(send(&app, chosen).await.expect(200).body["user"]["tenant"]["slug"], "globex");
        // Being told of the ambiguity is no failure: it never locks the account.
        for _ in 0..6 {
            send(&app, login_from("198.51.100.40", "member@acme.test", "correct horse battery")).await.problem(422);
        }
    }

    async fn a_password_change_ends_every_other_session(ctx: Ctx) {
        let app = ctx.app().await;
        let session = || async {
            send(&app, login_from("198.51.100.50", "member@acme.test", "correct horse battery")).await.expect(200).body["access_token"]
                .as_str()
                .unwrap()
                .to_string()
        };
        let (laptop, phone) = (session().await, session().await);
        let change = TestRequest::post()
            .uri("/api/v1/auth/password")
            .insert_header(("authorization", format!("Bearer {laptop}")))
            .set_json(json!({"current_password": "correct horse battery", "new_password": "a much better passphrase"}));
        let changed = send(&app, change).await.expect(200).body;
        let fresh = changed["access_token"].as_str().unwrap().to_string();
        assert_eq!(changed["user"]["email"], "member@acme.test");
        get(&app, &phone, "/api/v1/auth/me").await.problem(401);
        get(&app, &laptop, "/api/v1/auth/me").await.problem(401);
        get(&app, &fresh, "/api/v1/auth/me").await.expect(200);
        // Tokens issued before by anyone (the test harness's too) are void as well.
        get(&app, &ctx.token(&ctx.member), "/api/v1/auth/me").await.problem(401);
    }

    async fn deactivation_ends_sessions_for_good(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let before = ctx.token(&ctx.manager);
        get(&app, &before, "/api/v1/auth/me").await.expect(200);
        let patch = |body: Value| {
            TestRequest::patch()
                .uri(&format!("/api/v1/users/{}", ctx.manager.id))
                .insert_header(("authorization", format!("Bearer {admin}")))
                .set_json(body)
        };
        send(&app, patch(json!({"active": false}))).await.expect(200);
        get(&app, &before, "/api/v1/auth/me").await.problem(401);
        send(&app, patch(json!({"active": true}))).await.expect(200);
        // Re-activated: the old token stays dead; a new sign-in works.
        get(&app, &before, "/api/v1/auth/me").await.problem(401);
        let after = send(&app, login_from("198.51.100.60", "manager@acme.test", "correct horse battery")).await.expect(200);
        get(&app, after.body["access_token"].as_str().unwrap(), "/api/v1/auth/me").await.expect(200);
        // A role change alone ends nothing: the stored role is read on every request.
        let fresh = after.body["access_token"].as_str().unwrap().to_string();
        send(&app, patch(json!({"role": "member"}))).await.expect(200);
        assert_eq!(get(&app, &fresh, "/api/v1/auth/me").await.expect(200).body["role"], "member");
    }

    async fn password_change_guesses_are_throttled_and_logged(ctx: Ctx) {
        let server = ctx.serve().await;
        let (url, token) = (server.url.clone(), ctx.token(&ctx.member));
        // 20 wrong current passwords at once: only 5 are evaluated.
        let statuses = at_once(20, move |_| {
            call("POST", &format!("{url}/api/v1/auth/password"), Some(&token),
                Some(&json!({"current_password": "a wrong guess", "new_password": "a much better passphrase"}))).0
        })
        .await;
        assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 5, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
        assert_eq!(trail_count(&ctx, "auth.password_change_failed"), 5);
        // The right current password is refused while the back-off lasts.
        let (url, token) = (server.url.clone(), ctx.token(&ctx.member));
        let (status, _) = actix_web::rt::task::spawn_blocking(move || {
            call("POST", &format!("{url}/api/v1/auth/password"), Some(&token),
                Some(&json!({"current_password": "correct horse battery", "new_password": "a much better passphrase"})))
        })
        .await
        .unwrap();
        assert_eq!(status, 429);
        assert_eq!(trail_count(&ctx, "auth.password_changed"), 0);
    }

    async fn idempotency_keys_belong_to_their_caller(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let created = post(&app, &admin, "/api/v1/tokens", &json!({"name": "crm", "scopes": ["events:write", "events:read"]})).await.expect(201);
        let api_token = created.body["secret"].as_str().unwrap().to_string();
        let keyed = |token: &str, description: &str| {
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("idempotency-key", "order-42"))
                .set_json(json!({"action": "booking.created", "description": description}))
        };
        let first = send(&app, keyed(&admin, "the admin's")).await.expect(201);
        // Another caller with the same key: an independent request, neither a replay nor a conflict.
        let other = send(&app, keyed(&api_token, "the integration's")).await.expect(201);
        assert!(other.headers.get("idempotent-replayed").is_none_or(|v| v != "true"));
        assert_ne!(first.ids(), other.ids());
        let stored = get(&app, &admin, &format!("/api/v1/events/{}", other.ids()[0])).await.expect(200);
        assert_eq!(stored.body["description"], "the integration's");
        // Each caller's own retry is still a replay of its own first answer.
        let again = send(&app, keyed(&api_token, "the integration's")).await.expect(201);
        assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");
        assert_eq!(again.ids(), other.ids());
        assert_eq!(send(&app, keyed(&admin, "the admin's")).await.expect(201).ids(), first.ids());
        send(&app, keyed(&admin, "something else")).await.problem(409);
    }

    async fn a_stream_ends_when_its_caller_is_demoted(ctx: Ctx) {
        let server = ctx.serve().await;
        let admin = ctx.token(&ctx.admin);
        let (status, rx) = open_stream(&server.url, &ctx.token(&ctx.manager));
        assert_eq!(status, 200);
        let (seen, rx) = lines_until(rx, Duration::from_secs(10), |l| l == ": connected").await;
        assert!(seen.iter().any(|l| l == ": connected"), "{seen:?}");
        // A staffer's event reaches the manager.
        let url = server.url.clone();
        let admin_for = admin.clone();
        let post_event = move |actor: &str| {
            call("POST", &format!("{url}/api/v1/events"), Some(&admin_for),
                Some(&json!({"action": "booking.updated", "actor": {"id": actor, "name": actor}, "description": format!("by {actor}")})))
        };
        let poster = post_event.clone();
        actix_web::rt::task::spawn_blocking(move || assert_eq!(poster("s1").0, 201)).await.unwrap();
        let (seen, rx) = lines_until(rx, Duration::from_secs(15), |l| l.starts_with("data:")).await;
        assert!(seen.iter().any(|l| l.contains("by s1")), "the manager sees a staffer's event: {seen:?}");
        // Demoted to member: the next staffer's event must not arrive; the stream ends instead.
        let (url, manager_id) = (server.url.clone(), ctx.manager.id);
        let admin_for = admin.clone();
        actix_web::rt::task::spawn_blocking(move || {
            let (status, body) = call("PATCH", &format!("{url}/api/v1/users/{manager_id}"), Some(&admin_for), Some(&json!({"role": "member"})));
            assert_eq!(status, 200, "{body}");
            assert_eq!(post_event("s2").0, 201);
        })
        .await
        .unwrap();
        let (seen, _) = lines_until(rx, Duration::from_secs(20), |l| l == "<closed>").await;
        assert!(!seen.iter().any(|l| l.contains("by s2")), "a member received a staffer's event: {seen:?}");
        assert!(seen.iter().any(|l| l == "event: error"), "the stream ended with an error event: {seen:?}");
        let data = seen.iter().find(|l| l.starts_with("data:")).expect("the problem");
        let problem: Value = serde_json::from_str(data.trim_start_matches("data:").trim()).unwrap();
        assert_eq!(problem["status"], 403, "{problem}");
    }

    async fn a_stream_ends_after_logout_and_revocation(ctx: Ctx) {
        let server = ctx.serve().await;
        let app = ctx.app().await;
        // A session signed out while its stream is idle.
        let session = send(&app, login_from("198.51.100.70", "manager@acme.test", "correct horse battery")).await.expect(200).body["access_token"]
            .as_str()
            .unwrap()
            .to_string();
        let (status, rx) = open_stream(&server.url, &session);
        assert_eq!(status, 200);
        let logout = TestRequest::post().uri("/api/v1/auth/logout").insert_header(("authorization", format!("Bearer {session}")));
        send(&app, logout).await.expect(204);
        let started = Instant::now();
        let (seen, _) = lines_until(rx, Duration::from_secs(20), |l| l == "<closed>").await;
        assert!(seen.iter().any(|l| l == "event: error"), "{seen:?}");
        assert!(started.elapsed() < Duration::from_secs(12), "ended within a few seconds: {:?}", started.elapsed());
        let data = seen.iter().find(|l| l.starts_with("data:")).unwrap();
        assert!(data.contains("\"status\":401"), "{data}");

        // An API token revoked while its stream runs.
        let admin = ctx.token(&ctx.admin);
        let created = post(&app, &admin, "/api/v1/tokens", &json!({"name": "tail", "scopes": ["events:read"]})).await.expect(201).body;
        let (status, rx) = open_stream(&server.url, created["secret"].as_str().unwrap());
        assert_eq!(status, 200);
        let revoke = TestRequest::delete()
            .uri(&format!("/api/v1/tokens/{}", created["token"]["id"]))
            .insert_header(("authorization", format!("Bearer {admin}")));
        assert!(send(&app, revoke).await.status.is_success());
        let (seen, _) = lines_until(rx, Duration::from_secs(20), |l| l == "<closed>").await;
        assert!(seen.iter().any(|l| l == "event: error"), "{seen:?}");
    }

    async fn open_streams_are_capped_per_user(ctx: Ctx) {
        let server = ctx.serve().await;
        let token = ctx.token(&ctx.member);
        let mut open = Vec::new();
        for _ in 0..5 {
            let (status, rx) = open_stream(&server.url, &token);
            assert_eq!(status, 200);
            open.push(rx);
        }
        let (status, _) = open_stream(&server.url, &token);
        assert_eq!(status, 429, "a sixth stream of one user is refused");
        // Another user is not affected.
        let (status, _other) = open_stream(&server.url, &ctx.token(&ctx.manager));
        assert_eq!(status, 200);
        assert_eq!(ctx.state.streams.open_for(ctx.acme_id, &format!("user:{}", ctx.member.id)), 5);
    }
}
