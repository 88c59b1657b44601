//! A record's history through the shared filters (`record_type` + `record_id`): the list, the
//! export and the stats select what `GET /entities/{type}/{id}/history` shows, on SQLite and
//! PostgreSQL.

mod common;

use actix_web::test::TestRequest;
use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

fn ago(days: i64) -> String {
    (Utc::now() - Duration::days(days)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

fn csv_ids(body: &[u8]) -> Vec<i64> {
    let text = std::str::from_utf8(body).unwrap().trim_start_matches('\u{feff}');
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(reader.headers().unwrap().get(0), Some("id"));
    reader.records().map(|r| r.unwrap()[0].parse().unwrap()).collect()
}

/// Customer c1's own events and its bookings' (through `related`), by a member (u1), a manager
/// (m1) and admins (a1, and x7 by its role: admin-private), besides events of other records.
/// Returns the ids in posting order.
async fn fixture<S, B>(app: &S, ctx: &Ctx) -> Vec<i64>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let c1 = json!({"type": "customer", "id": "c1", "label": "Jane Doe"});
    let booking = json!({"type": "booking", "id": "10", "label": "BOK-10"});
    let events = json!({"events": [
        // 0: the member creates c1
        {"action": "customer.created", "occurred_at": ago(30), "actor": {"id": "u1", "name": "Mia Member"},
         "entity": c1, "after": {"name": "Jane Doe", "status": "lead"}},
        // 1: the manager books for c1
        {"action": "booking.created", "occurred_at": ago(20), "actor": {"id": "m1", "name": "Max Manager"},
         "entity": booking, "related": [c1], "after": {"status": "pending"}},
        // 2: the admin changes c1's status (admin-private)
        {"action": "customer.updated", "occurred_at": ago(10), "actor": {"id": "a1", "name": "Ada Admin"},
         "entity": c1, "changes": [{"field": "status", "old": "lead", "new": "active"}]},
        // 3: the member confirms the booking
        {"action": "booking.updated", "occurred_at": ago(5), "actor": {"id": "u1", "name": "Mia Member"},
         "entity": booking, "related": [c1], "changes": [{"field": "status", "old": "pending", "new": "confirmed"}]},
        // 4: an invoice of nobody's customer, and 5: another customer, by the manager
        {"action": "invoice.sent", "occurred_at": ago(4), "actor": {"id": "m1", "name": "Max Manager"},
         "entity": {"type": "invoice", "id": "7"}},
        {"action": "customer.updated", "occurred_at": ago(3), "actor": {"id": "m1", "name": "Max Manager"},
         "entity": {"type": "customer", "id": "c2"}, "related": [booking]},
        // 6: an external admin (by role) deletes the booking (admin-private)
        {"action": "booking.deleted", "occurred_at": ago(1), "actor": {"id": "x7", "name": "Xena", "role": "admin"},
         "entity": booking, "related": [c1], "before": {"status": "confirmed"}}
    ]});
    let reply = post(app, &ctx.token(&ctx.admin), "/api/v1/events", &events).await.expect(201);
    reply.ids()
}

const RECORD: &str = "record_type=customer&record_id=c1";

both_backends! {
    async fn the_record_filter_selects_what_the_history_shows(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let seen = |picks: &[usize]| picks.iter().map(|&i| ids[i]).collect::<Vec<_>>();
        for (user, visible, hidden) in [
            (&ctx.admin, seen(&[6, 3, 2, 1, 0]), 0),
            (&ctx.manager, seen(&[3, 1, 0]), 2),
            (&ctx.member, seen(&[3, 0]), 3),
        ] {
            let token = ctx.token(user);
            let history = get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=100").await.expect(200);
            assert_eq!((history.ids(), history.body["hidden"].clone()), (visible.clone(), json!(hidden)), "{}", user.role);
            let listed = get(&app, &token, &format!("/api/v1/events?per_page=100&{RECORD}")).await.expect(200);
            assert_eq!(listed.ids(), visible, "list as {}", user.role);
            assert_eq!(listed.body["total"], visible.len(), "{}", user.role);
            // The same with other filters, and surrounding spaces ignored as in every text filter.
            for filters in ["verb=created", "actor_id=u1", "actor_id=m1&verb=created", "range=last_7_days", "from=2000-01-01&module=customer"] {
                let history = get(&app, &token, &format!("/api/v1/entities/customer/c1/history?per_page=100&{filters}")).await.expect(200);
                let listed = get(&app, &token, &format!("/api/v1/events?per_page=100&{filters}&record_type=%20customer&record_id=c1%20")).await.expect(200);
                assert_eq!(listed.ids(), history.ids(), "{filters} as {}", user.role);
            }
            // The stats count the same events.
            let stats = get(&app, &token, &format!("/api/v1/stats/timeline?range=last_30_days&{RECORD}")).await.expect(200);
            let days = get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=100&range=last_30_days").await;
            assert_eq!(stats.body["total"], days.ids().len(), "{}", user.role);
        }
        // A record with no events, and a booking's own history, through the list.
        let admin = ctx.token(&ctx.admin);
        let none = get(&app, &admin, "/api/v1/events?record_type=customer&record_id=none").await.expect(200);
        assert_eq!(none.body["total"], 0);
        let booking = get(&app, &admin, "/api/v1/events?record_type=booking&record_id=10&per_page=100").await.expect(200);
        assert_eq!(booking.ids(), seen(&[6, 5, 3, 1]));
        // The SIEM feed hands over the same events, oldest first.
        let feed = get(&app, &ctx.token(&ctx.manager), &format!("/api/v1/events/feed?{RECORD}")).await.expect(200);
        let text = match &feed.body {
            Value::String(text) => text.clone(),
            one => format!("{one}\n"),
        };
        let fed: Vec<i64> = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["event"]["id"].as_i64().unwrap()).collect();
        assert_eq!(fed, seen(&[0, 1, 3]));
    }

    async fn a_record_is_named_by_both_its_type_and_id(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.manager);
        for endpoint in ["/api/v1/events?", "/api/v1/events/export?format=csv&", "/api/v1/stats/timeline?", "/api/v1/entities/customer/c1/history?"] {
            for (query, pointer) in [
                ("record_type=customer", "record_type"),
                ("record_id=c1", "record_id"),
                ("record_type=customer&record_id=%20%20", "record_type"),
                ("record_type=%0Acustomer&record_id=c1", "record_type"),
            ] {
                let reply = get(&app, &token, &format!("{endpoint}{query}")).await.problem(400);
                assert_eq!(reply.pointers(), vec![pointer], "{endpoint}{query}: {}", reply.body);
            }
        }
        let long = format!("/api/v1/events?record_type={}&record_id=c1", "t".repeat(65));
        assert_eq!(get(&app, &token, &long).await.problem(400).pointers(), vec!["record_type"]);
        // Both empty: no record filter.
        get(&app, &token, "/api/v1/events?record_type=&record_id=").await.expect(200);
        // On the history the path names the record; the query may repeat it, never contradict it.
        get(&app, &token, "/api/v1/entities/customer/c1/history?record_type=customer&record_id=c1").await.expect(200);
        let other = get(&app, &token, "/api/v1/entities/customer/c1/history?record_type=customer&record_id=c2").await;
        assert_eq!(other.problem(400).pointers(), vec!["record_id"]);
        let other = get(&app, &token, "/api/v1/entities/customer/c1/history?record_type=booking&record_id=c1").await;
        assert_eq!(other.problem(400).pointers(), vec!["record_type"]);
    }

    async fn the_export_of_a_record_holds_the_rows_of_its_history(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        // A deleted entry's tombstone keeps nothing of it, its record included: it leaves the
        // history, and so the export.
        let admin = ctx.token(&ctx.admin);
        let deletion = json!({"ids": [ids[1]], "reason": "entered twice"});
        send(&app, actix_web::test::TestRequest::delete().uri("/api/v1/events")
            .insert_header(("authorization", format!("Bearer {admin}"))).set_json(&deletion)).await.expect(200);
        for user in [&ctx.member, &ctx.manager, &ctx.admin] {
            let token = ctx.token(user);
            for filters in ["", "&verb=created", "&actor_id=u1", "&range=last_7_days&tz=Europe/London"] {
                let history = get(&app, &token, &format!("/api/v1/entities/customer/c1/history?per_page=100{filters}")).await.expect(200);
                let (status, _, body) = download(&app, &token, &format!("/api/v1/events/export?format=csv&bom=1&{RECORD}{filters}")).await;
                assert_eq!(status, 200, "{filters} as {}", user.role);
                assert_eq!(csv_ids(&body), history.ids(), "{filters} as {}", user.role);
            }
            let (status, headers, body) = download(&app, &token, &format!("/api/v1/events/export?format=pdf&{RECORD}")).await;
            assert_eq!((status, headers.get("content-type").unwrap().to_str().unwrap()), (200, "application/pdf"));
            assert!(body.starts_with(b"%PDF"), "{}", user.role);
        }
        let after = get(&app, &admin, "/api/v1/entities/customer/c1/history?per_page=100").await;
        assert_eq!(after.ids(), vec![ids[6], ids[3], ids[2], ids[0]]);
        let manager = get(&app, &ctx.token(&ctx.manager), "/api/v1/entities/customer/c1/history?per_page=100").await;
        assert_eq!((manager.ids(), manager.body["hidden"].clone()), (vec![ids[3], ids[0]], json!(2)));
    }

    async fn hidden_is_told_on_the_first_page_and_follows_the_filters(ctx: Ctx) {
        let app = ctx.app().await;
        fixture(&app, &ctx).await;
        let token = ctx.token(&ctx.member);
        let first = get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=10&cursor=").await.expect(200).body;
        assert_eq!(first["hidden"], 3);
        // Pages: the first one counts.
        assert_eq!(get(&app, &token, "/api/v1/entities/customer/c1/history?page=1").await.body["hidden"], 3);
        for (filters, hidden) in [("verb=created", 1), ("actor_id=u1", 0), ("module=booking", 2), ("scope=mine", 0)] {
            let reply = get(&app, &token, &format!("/api/v1/entities/customer/c1/history?{filters}")).await.expect(200);
            assert_eq!(reply.body["hidden"], hidden, "{filters}");
        }
        // A page reached by a cursor continues the first: the count is not repeated.
        let admin = ctx.token(&ctx.admin);
        for _ in 0..12 {
            post(&app, &admin, "/api/v1/events", &json!({"action": "booking.updated", "actor": {"id": "u1", "name": "Mia Member"},
                "entity": {"type": "booking", "id": "11"}, "related": [{"type": "customer", "id": "c1"}]})).await.expect(201);
        }
        let first = get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=10&cursor=").await.expect(200).body;
        assert_eq!(first["hidden"], 3);
        let cursor = first["next_cursor"].as_str().expect("a second page");
        let next = get(&app, &token, &format!("/api/v1/entities/customer/c1/history?per_page=10&cursor={cursor}")).await.expect(200).body;
        assert_eq!(next["items"].as_array().unwrap().len(), 4);
        assert_eq!(next.get("hidden"), None::<&Value>, "{next}");
    }

    async fn a_role_changed_mid_session_changes_what_the_history_and_its_export_hold(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let member = ctx.token(&ctx.member);
        let history = |token: String| {
            let app = &app;
            async move { get(app, &token, "/api/v1/entities/customer/c1/history?per_page=100").await.expect(200) }
        };
        let before = history(member.clone()).await;
        assert_eq!((before.ids(), before.body["hidden"].clone()), (vec![ids[3], ids[0]], json!(3)));
        // Promoted while signed in: the same token reads as a manager from the next request on.
        let promote = TestRequest::patch()
            .uri(&format!("/api/v1/users/{}", ctx.member.id.get()))
            .insert_header(("authorization", format!("Bearer {}", ctx.token(&ctx.admin))))
            .set_json(json!({"role": "manager"}));
        send(&app, promote).await.expect(200);
        let after = history(member.clone()).await;
        assert_eq!((after.ids(), after.body["hidden"].clone()), (vec![ids[3], ids[1], ids[0]], json!(2)));
        let (_, _, body) = download(&app, &member, &format!("/api/v1/events/export?format=csv&{RECORD}")).await;
        assert_eq!(csv_ids(&body), after.ids());
    }

    async fn a_bulk_load_is_in_the_record_filter_at_once(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let events: Vec<Value> = (0..1000)
            .map(|n| json!({"action": "booking.updated", "actor": {"id": "m1", "name": "Max Manager"},
                "entity": {"type": "booking", "id": format!("b{}", n % 7)},
                "related": [{"type": "customer", "id": if n % 2 == 0 { "c1" } else { "c2" }}]}))
            .collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": events})).await.expect(201);
        // Read right after the load: every event naming c1, exactly counted, exported in full.
        let listed = get(&app, &admin, &format!("/api/v1/events?per_page=10&{RECORD}")).await.expect(200);
        assert_eq!((listed.body["total"].clone(), listed.body["total_is_estimate"].clone()), (json!(500), json!(false)));
        let history = get(&app, &ctx.token(&ctx.member), "/api/v1/entities/customer/c1/history").await.expect(200);
        assert_eq!((history.body["total"].clone(), history.body["hidden"].clone()), (json!(0), json!(500)));
        let (_, _, body) = download(&app, &admin, &format!("/api/v1/events/export?format=csv&{RECORD}")).await;
        assert_eq!(csv_ids(&body).len(), 500);
        let stats = get(&app, &admin, &format!("/api/v1/stats/timeline?range=today&{RECORD}")).await.expect(200);
        assert_eq!(stats.body["total"], 500);
    }

    async fn a_link_written_by_hand_never_crosses_tenants(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let other = ctx.token(&ctx.other_admin);
        let theirs = post(&app, &other, "/api/v1/events", &json!({"action": "customer.updated",
            "entity": {"type": "customer", "id": "c9"}})).await.expect(201).ids()[0];
        // An insider links the other tenant's event to c1 in this tenant's rows, and back.
        let (acme, globex) = (ctx.acme_id.get(), ctx.other_admin.tenant_id.get());
        let links = format!(
            "INSERT INTO event_related (tenant_id, entity_type, entity_id, event_id) VALUES ({acme}, 'customer', 'c1', {theirs}); \
             INSERT INTO event_related (tenant_id, entity_type, entity_id, event_id) VALUES ({globex}, 'customer', 'c9', {});",
            ids[1]
        );
        // SQLite's foreign key names the tenant too: the insider turns it off for the moment.
        let script = match ctx.db.backend {
            auditlog_db::Backend::Sqlite => format!("PRAGMA foreign_keys = OFF; {links} PRAGMA foreign_keys = ON;"),
            auditlog_db::Backend::Postgres => links,
        };
        ctx.pool.get().unwrap().batch_execute(&script).unwrap();
        let admin = ctx.token(&ctx.admin);
        let listed = get(&app, &admin, &format!("/api/v1/events?per_page=100&{RECORD}")).await.expect(200);
        assert!(!listed.ids().contains(&theirs), "{:?}", listed.ids());
        let (_, _, body) = download(&app, &admin, &format!("/api/v1/events/export?format=csv&{RECORD}")).await;
        assert_eq!(csv_ids(&body), listed.ids());
        let history = get(&app, &ctx.token(&ctx.manager), "/api/v1/entities/customer/c1/history").await.expect(200);
        assert_eq!(history.body["hidden"], 2, "nothing of the other tenant is counted either");
        let mine = get(&app, &other, "/api/v1/events?record_type=customer&record_id=c9").await.expect(200);
        assert_eq!(mine.ids(), vec![theirs]);
    }

    async fn reads_during_concurrent_writes_stay_within_the_role_and_settle_exactly(ctx: Ctx) {
        let server = ctx.serve().await;
        let (admin, member) = (ctx.token(&ctx.admin), ctx.token(&ctx.member));
        let url = server.url.clone();
        // Four writers post batches naming c1 (by the member and the manager in turn) while four
        // readers read the member's history and the record filter's list on the real server.
        let results = at_once(8, move |i| {
            let mut seen = Vec::new();
            for round in 0..5 {
                if i < 4 {
                    let actor = if (i + round) % 2 == 0 { json!({"id": "u1", "name": "Mia Member"}) } else { json!({"id": "m1", "name": "Max Manager"}) };
                    let events: Vec<Value> = (0..20)
                        .map(|n| json!({"action": "booking.updated", "actor": actor,
                            "entity": {"type": "booking", "id": format!("{i}-{round}-{n}")},
                            "related": [{"type": "customer", "id": "c1"}]}))
                        .collect();
                    let (status, body) = call("POST", &format!("{url}/api/v1/events"), Some(&admin), Some(&json!({"events": events})));
                    assert_eq!(status, 201, "{body}");
                } else {
                    for uri in ["/api/v1/entities/customer/c1/history?per_page=100", "/api/v1/events?per_page=100&record_type=customer&record_id=c1"] {
                        let (status, body) = call("GET", &format!("{url}{uri}"), Some(&member), None);
                        assert_eq!(status, 200, "{uri}: {body}");
                        let items = body["items"].as_array().unwrap();
                        assert!(items.iter().all(|e| e["actor"]["id"] == "u1"), "only the member's own: {body}");
                        if let Some(hidden) = body.get("hidden") {
                            assert!(hidden.as_i64().unwrap() >= 0, "{body}");
                        }
                        seen.push(items.len());
                    }
                }
            }
            seen
        })
        .await;
        assert!(results.iter().skip(4).all(|seen| seen.len() == 10));
        // Once the writes are in, the counts add up exactly and the export holds the history.
        let app = ctx.app().await;
        let all = get(&app, &ctx.token(&ctx.admin), "/api/v1/entities/customer/c1/history?per_page=10").await.expect(200);
        assert_eq!(all.body["total"], 400);
        let mine = get(&app, &ctx.token(&ctx.member), "/api/v1/entities/customer/c1/history?per_page=100").await.expect(200);
        let (shown, hidden) = (mine.body["total"].as_i64().unwrap(), mine.body["hidden"].as_i64().unwrap());
        assert_eq!((shown, shown + hidden), (200, 400), "half of them are the member's");
        let (_, _, body) = download(&app, &ctx.token(&ctx.member), &format!("/api/v1/events/export?format=csv&{RECORD}")).await;
        let exported = csv_ids(&body);
        assert_eq!(exported.len() as i64, shown);
        assert_eq!(exported[..100], mine.ids()[..]);
    }
}
