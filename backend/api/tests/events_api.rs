//! The events API through the HTTP layer, on SQLite and PostgreSQL.

mod common;

use actix_web::test::{self, TestRequest};
use auditlog_db::models::{Actor, EventDraft};
use auditlog_db::queries::ingest::store_events;
use chrono::{Duration, SecondsFormat, Utc};
use common::*;
use serde_json::{json, Value};

fn ago(days: i64, hours: i64) -> String {
    (Utc::now() - Duration::days(days) - Duration::hours(hours)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A small, fully known data set. Returns the ids in posting order.
async fn fixture<S, B>(app: &S, ctx: &Ctx) -> Vec<i64>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let customer = json!({"type": "customer", "id": "c1", "label": "Jane Doe"});
    let events = json!({"events": [
        // 0: member creates booking 10 for customer c1, 40 days ago
        {"action": "booking.created", "occurred_at": ago(40, 0), "ip": "10.0.0.1",
         "actor": {"id": "u1", "name": "Mia Member", "email": "member@acme.test"},
         "entity": {"type": "booking", "id": "10", "label": "BOK-10"}, "related": [customer],
         "after": {"status": "new", "price": 100}},
        // 1: manager updates booking 10, 10 days ago
        {"action": "booking.updated", "occurred_at": ago(10, 0), "ip": "10.0.0.2",
         "actor": {"id": "m1", "name": "Max Manager"},
         "entity": {"type": "booking", "id": "10", "label": "BOK-10"}, "related": [customer],
         "before": {"status": "new", "price": 100}, "after": {"status": "confirmed", "price": 100}},
        // 2: admin deletes invoice 7, 2 days ago
        {"action": "invoice.deleted", "occurred_at": ago(2, 0), "ip": "2001:db8::7",
         "actor": {"id": "a1", "name": "Ada Admin", "email": "admin@acme.test"},
         "entity": {"type": "invoice", "id": "7", "label": "INV-7"}, "related": [customer],
         "before": {"total": 120, "status": "sent"}},
        // 3: host-app staffer (no dashboard account) logs in, now
        {"action": "session.login", "ip": "10.0.0.1", "actor": {"id": "s9", "name": "Zed Staff", "email": "zed@acme.test"}},
        // 4: member updates customer c1, just now (before 3), with a described change
        {"action": "customer.updated", "occurred_at": ago(0, 0), "ip": "10.0.0.3",
         "actor": {"id": "u1", "name": "Mia Member"}, "description": "Changed the phone of Jane Doe",
         "entity": customer, "changes": [{"field": "phone", "old": "123", "new": "456"}]},
        // 5: an external admin (by role) exports settings, 5 days ago
        {"action": "settings.updated", "occurred_at": ago(5, 0), "ip": "10.0.0.2",
         "actor": {"id": "x7", "name": "Xena External", "role": "admin"},
         "entity": {"type": "settings", "id": "company"}}
    ]});
    let reply = post(app, &ctx.token(&ctx.admin), "/api/v1/events", &events).await.expect(201);
    assert_eq!(reply.body["accepted"], 6);
    reply.ids()
}

fn sorted(mut ids: Vec<i64>) -> Vec<i64> {
    ids.sort();
    ids
}

both_backends! {
    async fn ingest_single_event_and_read_it_back(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let reply = post(&app, &token, "/api/v1/events", &json!({
            "action": "booking.updated",
            "entity": {"type": "booking", "id": 12345, "label": "BOK-12345"},
            "before": {"status": "new", "price": 10, "notes": null},
            "after": {"status": "paid", "price": 10, "notes": null, "paid_by": "card"},
            "ip": "192.168.1.20", "user_agent": "curl/8", "metadata": {"source": "test"}
        })).await.expect(201);
        assert_eq!(reply.body["accepted"], 1);
        assert_eq!(reply.body["duplicates"], 0);
        let id = reply.ids()[0];

        let event = get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200).body;
        assert_eq!(event["seq"], 1);
        assert_eq!(event["prev_hash"], "0".repeat(64));
        assert_eq!(event["hash"].as_str().unwrap().len(), 64);
        assert_eq!(event["module"], "booking");
        assert_eq!(event["verb"], "updated");
        assert_eq!(event["entity"], json!({"type": "booking", "id": "12345", "label": "BOK-12345"}));
        // The caller is the actor when the event names none.
        assert_eq!(event["actor"], json!({"id": "a1", "name": "Ada Admin", "email": "admin@acme.test", "role": "admin", "type": "user"}));
        assert_eq!(event["description"], "Ada Admin updated booking BOK-12345");
        assert_eq!(event["changes"], json!([
            {"field": "paid_by", "old": null, "new": "card"},
            {"field": "status", "old": "new", "new": "paid"}
        ]));
        assert_eq!(event["ip"], "192.168.1.20");
        assert_eq!(event["metadata"], json!({"source": "test"}));
        assert!(event["occurred_at"].as_str().unwrap().ends_with('Z'));

        // Reading the first was logged (`auditlog.viewed`, seq 2): the next event links to that.
        let viewed = get(&app, &token, "/api/v1/events?action=auditlog.viewed").await.expect(200).body;
        assert_eq!((viewed["total"].as_i64(), viewed["items"][0]["entity"]["id"].as_str()), (Some(1), Some(id.to_string().as_str())));
        let second = post(&app, &token, "/api/v1/events", &json!({"action": "booking.deleted"})).await.expect(201);
        let second = get(&app, &token, &format!("/api/v1/events/{}", second.ids()[0])).await.body;
        assert_eq!(second["seq"], 3);
        assert_eq!(second["prev_hash"], viewed["items"][0]["hash"], "each event links to its predecessor");
    }

    async fn a_batch_is_stored_whole_or_not_at_all(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let bad = json!({"events": [
            {"action": "booking.created"},
            {"action": "booking.created"},
            {"action": "booking.created", "ip": "not-an-ip"}
        ]});
        let reply = post(&app, &token, "/api/v1/events", &bad).await.problem(422);
        assert_eq!(reply.pointers(), ["/events/2/ip"]);
        let list = get(&app, &token, "/api/v1/events").await.expect(200);
        assert_eq!(list.body["total"], 0, "nothing of a rejected batch is stored");

        let events: Vec<Value> = (0..1000)
            .map(|i| json!({"action": "booking.created", "entity": {"type": "booking", "id": i}, "related": [{"type": "customer", "id": i % 7}]}))
            .collect();
        let reply = post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        assert_eq!(reply.body["accepted"], 1000);
        let ids = reply.ids();
        assert_eq!(ids.len(), 1000);
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "ids follow request order");

        // Walk everything by cursor in ascending time: seq runs 1..=1000 without gaps.
        let mut seqs = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let uri = match &cursor {
                Some(c) => format!("/api/v1/events?per_page=100&sort=occurred_at&order=asc&cursor={c}"),
                None => "/api/v1/events?per_page=100&sort=occurred_at&order=asc&cursor=".to_string(),
            };
            let page = get(&app, &token, &uri).await.expect(200).body;
            seqs.extend(page["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_string()),
                None => break,
            }
        }
        assert_eq!(sorted(seqs), (1..=1000).collect::<Vec<i64>>());
    }

    async fn idempotency_key_and_external_id_store_nothing_twice(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let body = json!({"events": [
            {"action": "invoice.sent", "external_id": "evt-1"},
            {"action": "invoice.paid", "external_id": "evt-2"}
        ]});
        let request = |body: &Value, key: &str| {
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("Idempotency-Key", key.to_string()))
                .set_json(body)
        };
        let first = send(&app, request(&body, "key-1")).await.expect(201);
        assert!(first.headers.get("idempotent-replayed").is_none());
        let again = send(&app, request(&body, "key-1")).await.expect(201);
        assert_eq!(again.body, first.body, "a retry gets the first response");
        assert_eq!(again.headers.get("idempotent-replayed").unwrap(), "true");

        let other = json!({"events": [{"action": "invoice.voided"}]});
        send(&app, request(&other, "key-1")).await.problem(409);

        // Without a key, external ids still dedupe — across requests and within one batch.
        let mixed = json!({"events": [
            {"action": "invoice.sent", "external_id": "evt-2"},
            {"action": "invoice.sent", "external_id": "evt-3"},
            {"action": "invoice.sent", "external_id": "evt-3"}
        ]});
        let reply = post(&app, &token, "/api/v1/events", &mixed).await.expect(201);
        assert_eq!(reply.body["accepted"], 1);
        assert_eq!(reply.body["duplicates"], 2);
        let ids = reply.ids();
        assert_eq!(ids[0], first.ids()[1]);
        assert_eq!(ids[1], ids[2]);
        let total = get(&app, &token, "/api/v1/events").await.body["total"].clone();
        assert_eq!(total, 3);
    }

    async fn invalid_input_gets_a_precise_problem(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let cases = [
            (json!({"action": "booking.created", "colour": "red"}), "/colour"),
            (json!({"action": "Booking-Created"}), "/action"),
            (json!({"action": "booking"}), "/action"),
            (json!({"action": "a.b", "occurred_at": "2999-01-01T00:00:00Z"}), "/occurred_at"),
            (json!({"action": "a.b", "occurred_at": "yesterday"}), "/occurred_at"),
            (json!({"action": "a.b", "ip": "1.2.3"}), "/ip"),
            (json!({"action": "a.b", "description": "x".repeat(1001)}), "/description"),
            (json!({"action": "a.b", "actor": {"id": "1", "type": "robot"}}), "/actor/type"),
            (json!({"action": "a.b", "entity": {"type": "booking"}}), "/entity/id"),
            // Ids are one line: filters and record history match them.
            (json!({"action": "a.b", "entity": {"type": "booking", "id": "B\t1"}}), "/entity/id"),
            (json!({"action": "a.b", "actor": {"id": "u\n1"}}), "/actor/id"),
            (json!({"action": "a.b", "changes": [{"field": "x"}]}), "/changes/0"),
            (json!({"action": "a.b", "changes": [], "after": {}}), "/changes"),
            (json!({"action": "a.b", "metadata": {"blob": "x".repeat(17 * 1024)}}), "/metadata"),
        ];
        for (body, pointer) in cases {
            let reply = post(&app, &token, "/api/v1/events", &body).await.problem(422);
            assert_eq!(reply.pointers(), [pointer], "{body}");
        }
        // Not JSON at all, or not sent as JSON.
        let raw = |body: &'static str, content_type: &'static str| {
            TestRequest::post()
                .uri("/api/v1/events")
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("content-type", content_type))
                .set_payload(body)
        };
        send(&app, raw("{\"action\":", "application/json")).await.problem(400);
        send(&app, raw("{\"action\":\"a.b\"}", "text/plain")).await.problem(415);
        // Over the batch limit, and over the body limit.
        let many: Vec<Value> = (0..1001).map(|_| json!({"action": "a.b"})).collect();
        post(&app, &token, "/api/v1/events", &json!({"events": many})).await.problem(413);
        let huge: Vec<Value> = (0..900).map(|_| json!({"action": "a.b", "description": "y".repeat(999)})).collect();
        let huge = json!({"events": huge, "pad": "z".repeat(2 * 1024 * 1024)});
        post(&app, &token, "/api/v1/events", &huge).await.problem(413);
        // Nothing of any of it was stored.
        assert_eq!(get(&app, &token, "/api/v1/events").await.body["total"], 0);
        // Bad Idempotency-Key.
        let req = TestRequest::post()
            .uri("/api/v1/events")
            .insert_header(("authorization", format!("Bearer {token}")))
            .insert_header(("Idempotency-Key", "k".repeat(300)))
            .set_json(json!({"action": "a.b"}));
        send(&app, req).await.problem(400);
    }

    async fn only_admins_may_post_events(ctx: Ctx) {
        let app = ctx.app().await;
        for user in [&ctx.manager, &ctx.member] {
            post(&app, &ctx.token(user), "/api/v1/events", &json!({"action": "a.b"})).await.problem(403);
        }
        send(&app, TestRequest::post().uri("/api/v1/events").set_json(json!({"action": "a.b"}))).await.problem(401);
    }

    async fn every_filter_selects_exactly_its_events(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let token = ctx.token(&ctx.admin);
        let pick = |indexes: &[usize]| sorted(indexes.iter().map(|i| ids[*i]).collect());
        let today = Utc::now().date_naive();
        let cases: Vec<(String, Vec<usize>)> = vec![
            ("".into(), vec![0, 1, 2, 3, 4, 5]),
            ("module=booking".into(), vec![0, 1]),
            ("verb=updated".into(), vec![1, 4, 5]),
            ("action=invoice.deleted".into(), vec![2]),
            ("actor_id=u1".into(), vec![0, 4]),
            ("actor_id=u1&actor_id=a1".into(), vec![0, 2, 4]),
            ("entity_type=booking&entity_id=10".into(), vec![0, 1]),
            ("entity_id=7".into(), vec![2]),
            ("ip=10.0.0.1".into(), vec![0, 3]),
            ("ip=2001:DB8:0::7".into(), vec![2]),
            ("ip=10.0".into(), vec![0, 1, 3, 4, 5]),
            ("ip=10.0.0.0/31".into(), vec![0, 3]),
            ("ip=2001:db8::/32".into(), vec![2]),
            // The customer's label, on its own event and on the three that relate to it.
            ("q=jane%20doe".into(), vec![0, 1, 2, 4]),
            ("q=456".into(), vec![4]),
            ("q=CHANGED%20THE%20PHONE".into(), vec![4]),
            ("q=BOK-10".into(), vec![0, 1]),
            ("q=zed@ACME".into(), vec![3]),
            ("q=2001:db8".into(), vec![2]),
            ("q=session.login".into(), vec![3]),
            // The id, and any event whose text holds its digits (event 4's change value 456).
            (format!("q={}", ids[5]), if "456".contains(&ids[5].to_string()) { vec![4, 5] } else { vec![5] }),
            ("q=100%25".into(), vec![]),
            ("range=today".into(), vec![3, 4]),
            ("range=last_7_days".into(), vec![2, 3, 4, 5]),
            ("range=last_30_days".into(), vec![1, 2, 3, 4, 5]),
            (format!("from={}", today - Duration::days(11)), vec![1, 2, 3, 4, 5]),
            (format!("from={}&to={}", today - Duration::days(11), today - Duration::days(3)), vec![1, 5]),
            (format!("to={}", ago(5, 0).replace('+', "%2B")), vec![0, 1, 5]),
            ("scope=mine".into(), vec![2]),
            ("scope=all".into(), vec![0, 1, 2, 3, 4, 5]),
            ("module=booking&verb=updated&actor_id=m1&ip=10.0.0.2&range=last_30_days".into(), vec![1]),
            ("module=booking&actor_id=a1".into(), vec![]),
        ];
        for (query, expected) in cases {
            let reply = get(&app, &token, &format!("/api/v1/events?per_page=100&{query}")).await.expect(200);
            assert_eq!(sorted(reply.ids()), pick(&expected), "filter {query:?}");
            assert_eq!(reply.body["total"], expected.len(), "total for {query:?}");
        }
        // Bad parameters are named.
        for (query, name) in [("colour=red", "colour"), ("range=fortnight", "range"), ("per_page=20", "per_page"), ("tz=Nowhere", "tz"), ("from=2026-13-01", "from")] {
            let reply = get(&app, &token, &format!("/api/v1/events?{query}")).await.problem(400);
            assert_eq!(reply.pointers(), [name], "{query}");
        }
    }

    async fn visibility_depends_on_role_and_tenant(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let list = |user| {
            let token = ctx.token(user);
            let app = &app;
            async move { sorted(get(app, &token, "/api/v1/events?per_page=100").await.expect(200).ids()) }
        };
        // A member sees their own events; a manager everything but admins' (by account or by role).
        assert_eq!(list(&ctx.member).await, sorted(vec![ids[0], ids[4]]));
        assert_eq!(list(&ctx.manager).await, sorted(vec![ids[0], ids[1], ids[3], ids[4]]));
        assert_eq!(list(&ctx.admin).await.len(), 6);
        // The other tenant sees none of it, not even by id, history or facets — although its admin
        // has the same actor id.
        assert!(list(&ctx.other_admin).await.is_empty());
        let other = ctx.token(&ctx.other_admin);
        for id in &ids {
            get(&app, &other, &format!("/api/v1/events/{id}")).await.problem(404);
        }
        assert_eq!(get(&app, &other, "/api/v1/entities/customer/c1/history").await.expect(200).body["total"], 0);
        assert_eq!(get(&app, &other, "/api/v1/facets/actors").await.body["items"], json!([]));
        assert_eq!(get(&app, &other, "/api/v1/facets/modules").await.body["items"], json!([]));
        // Invisible within the tenant is not found either.
        get(&app, &ctx.token(&ctx.member), &format!("/api/v1/events/{}", ids[1])).await.problem(404);
        get(&app, &ctx.token(&ctx.manager), &format!("/api/v1/events/{}", ids[2])).await.problem(404);
        get(&app, &ctx.token(&ctx.admin), "/api/v1/events/999999").await.problem(404);
        get(&app, &ctx.token(&ctx.admin), "/api/v1/events/abc").await.problem(400);
    }

    async fn sorting_is_stable_for_every_key(ctx: Ctx) {
        let app = ctx.app().await;
        fixture(&app, &ctx).await;
        let token = ctx.token(&ctx.admin);
        let all = get(&app, &token, "/api/v1/events?per_page=100").await.body["items"].as_array().unwrap().clone();
        for (sort, field) in [("occurred_at", None), ("actor", Some("/actor/name")), ("module", Some("/module")), ("verb", Some("/verb")), ("action", Some("/action")), ("ip", Some("/ip"))] {
            for order in ["asc", "desc"] {
                let mut expected = all.clone();
                let key = |e: &Value| {
                    let column = field.map(|f| e.pointer(f).and_then(Value::as_str).unwrap_or("").to_string()).unwrap_or_default();
                    (column, e["occurred_at"].as_str().unwrap().to_string(), e["id"].as_i64().unwrap())
                };
                expected.sort_by_key(key);
                if order == "desc" {
                    expected.reverse();
                }
                let expected: Vec<i64> = expected.iter().map(|e| e["id"].as_i64().unwrap()).collect();
                let got = get(&app, &token, &format!("/api/v1/events?per_page=100&sort={sort}&order={order}")).await.expect(200).ids();
                assert_eq!(got, expected, "sort={sort} order={order}");
            }
        }
        // Default: newest first.
        let default = get(&app, &token, "/api/v1/events").await.body["items"][0]["action"].clone();
        assert_eq!(default, "session.login");
    }

    async fn page_and_cursor_paging_agree(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        // 57 events, many sharing a timestamp, so ties must be broken by id.
        let events: Vec<Value> = (0..57)
            .map(|i| json!({"action": format!("{}.created", ["booking", "invoice", "quote"][i % 3]),
                "occurred_at": ago(i as i64 % 4, 0), "actor": {"id": format!("p{}", i % 5), "name": format!("Person {}", i % 5)}}))
            .collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        for sort in ["occurred_at", "module", "actor"] {
            let full = get(&app, &token, &format!("/api/v1/events?per_page=100&sort={sort}")).await.ids();
            assert_eq!(full.len(), 57);
            let mut by_page = Vec::new();
            for page in 1..=6 {
                let reply = get(&app, &token, &format!("/api/v1/events?per_page=10&page={page}&sort={sort}")).await.expect(200);
                assert_eq!(reply.body["total"], 57);
                assert_eq!(reply.body["page"], page);
                assert_eq!(reply.body["next_cursor"].is_string(), page < 6);
                by_page.extend(reply.ids());
            }
            assert_eq!(by_page, full, "page mode, sort {sort}");
            let mut by_cursor = Vec::new();
            let mut uri = format!("/api/v1/events?per_page=10&sort={sort}&cursor=");
            loop {
                let reply = get(&app, &token, &uri).await.expect(200);
                assert!(reply.body["total"].is_null() && reply.body["page"].is_null());
                by_cursor.extend(reply.ids());
                match reply.body["next_cursor"].as_str() {
                    Some(next) => uri = format!("/api/v1/events?per_page=10&sort={sort}&cursor={next}"),
                    None => break,
                }
            }
            assert_eq!(by_cursor, full, "cursor mode, sort {sort}");
        }
        // A cursor is tied to its sort; page 0 and both modes at once are refused.
        let first = get(&app, &token, "/api/v1/events?per_page=10&cursor=").await.body["next_cursor"].as_str().unwrap().to_string();
        get(&app, &token, &format!("/api/v1/events?per_page=10&sort=module&cursor={first}")).await.problem(400);
        get(&app, &token, "/api/v1/events?page=0").await.problem(400);
        get(&app, &token, &format!("/api/v1/events?page=2&cursor={first}")).await.problem(400);
        // A page past the end is empty, not an error.
        let past = get(&app, &token, "/api/v1/events?per_page=100&page=9").await.expect(200);
        assert_eq!(past.ids(), Vec::<i64>::new());
        assert_eq!(past.body["total"], 57);
    }

    async fn a_large_total_is_estimated_once_while_paging(ctx: Ctx) {
        let app = ctx.app().await;
        let store_invoices = |count: usize| {
            let draft = EventDraft {
                external_id: None,
                occurred_at: Utc::now().naive_utc(),
                actor: Actor { id: "s1".into(), name: "Sam".into(), email: None, role: None, actor_type: "user".into() },
                action: "invoice.sent".into(),
                module: "invoice".into(),
                verb: "sent".into(),
                entity: None,
                related: Vec::new(),
                description: "Sam sent invoice".into(),
                changes: Vec::new(),
                ip: None,
                user_agent: None,
                metadata: Default::default(),
            };
            let drafts = vec![draft; count];
            let mut conn = ctx.pool.get().unwrap();
            for batch in drafts.chunks(1_000) {
                store_events(&mut conn, ctx.acme_id, None, batch, Utc::now().naive_utc()).unwrap();
            }
        };
        // More matches than are counted, in a tenant larger than an estimate's sample, with a date
        // bound (which the kept facet counts cannot answer) that every event meets.
        store_invoices(10_500);
        let manager = ctx.token(&ctx.manager);
        let dated = "/api/v1/events?module=invoice&from=2000-01-01";
        let first = get(&app, &manager, &format!("{dated}&per_page=10")).await.expect(200).body;
        assert_eq!(first["total_is_estimate"], true);
        let estimate = first["total"].as_i64().unwrap();
        assert!((9_500..=11_500).contains(&estimate), "{estimate}");

        // Paging on answers the same total, although 6 000 more events match now…
        store_invoices(6_000);
        let next = get(&app, &manager, &format!("{dated}&per_page=10&page=2")).await.expect(200).body;
        assert_eq!((&next["total"], &next["total_is_estimate"]), (&json!(estimate), &json!(true)));
        assert_eq!(next["items"].as_array().unwrap().len(), 10);
        // …and never less than the pages up to it hold (and the one event read to see there is more).
        let deep = get(&app, &manager, &format!("{dated}&per_page=100&page=120")).await.expect(200).body;
        assert_eq!((&deep["total"], &deep["total_is_estimate"]), (&json!(12_001), &json!(true)));
        // Another reader, or another filter, is estimated afresh and sees them.
        let admin = get(&app, &ctx.token(&ctx.admin), &format!("{dated}&per_page=10")).await.body;
        let fresh = admin["total"].as_i64().unwrap();
        assert!(admin["total_is_estimate"] == true && (15_500..=17_500).contains(&fresh), "{fresh}");
        let sent = get(&app, &manager, "/api/v1/events?verb=sent&from=2001-01-01&per_page=10").await.body;
        assert!((15_500..=17_500).contains(&sent["total"].as_i64().unwrap()), "{}", sent["total"]);
        // The last page still counts itself exactly.
        let last = get(&app, &manager, &format!("{dated}&per_page=100&page=165")).await.expect(200).body;
        assert_eq!((&last["total"], &last["total_is_estimate"]), (&json!(16_500), &json!(false)));
        // What the kept facet counts hold (actor, module, verb, action) is exact at any size.
        for filter in ["module=invoice", "actor_id=s1&verb=sent", "action=invoice.sent"] {
            let page = get(&app, &manager, &format!("/api/v1/events?{filter}&per_page=10")).await.expect(200).body;
            assert_eq!((&page["total"], &page["total_is_estimate"]), (&json!(16_500), &json!(false)), "{filter}");
        }
    }

    async fn date_bounds_with_nanoseconds_select_the_same_events_on_both_backends(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let at = "2026-11-21T09:30:00.123456Z";
        let id = post(&app, &token, "/api/v1/events", &json!({"action": "a.b", "occurred_at": at})).await.expect(201).ids()[0];
        for (query, expected) in [
            ("from=2026-11-21T09:30:00.1234559Z", vec![id]),
            ("from=2026-11-21T09:30:00.123456001Z", vec![]),
            ("to=2026-11-21T09:30:00.1234569Z", vec![id]),
            ("to=2026-11-21T09:30:00.1234559Z", vec![]),
        ] {
            let found = get(&app, &token, &format!("/api/v1/events?action=a.b&{query}")).await.expect(200).ids();
            assert_eq!(found, expected, "{query}");
        }
    }

    async fn record_history_includes_related_events(ctx: Ctx) {
        let app = ctx.app().await;
        let ids = fixture(&app, &ctx).await;
        let token = ctx.token(&ctx.admin);
        let customer = get(&app, &token, "/api/v1/entities/customer/c1/history?per_page=100").await.expect(200);
        // Newest first: its own update, then the invoice and bookings that name it.
        assert_eq!(customer.ids(), vec![ids[4], ids[2], ids[1], ids[0]]);
        let booking = get(&app, &token, "/api/v1/entities/booking/10/history").await.expect(200);
        assert_eq!(booking.ids(), vec![ids[1], ids[0]]);
        let filtered = get(&app, &token, "/api/v1/entities/customer/c1/history?module=booking&verb=created").await;
        assert_eq!(filtered.ids(), vec![ids[0]]);
        // History respects visibility too.
        let member = get(&app, &ctx.token(&ctx.member), "/api/v1/entities/customer/c1/history").await;
        assert_eq!(member.ids(), vec![ids[4], ids[0]]);
        // ...and says how many entries the role hides (never which), with the same filters.
        assert_eq!(member.body["hidden"], 2, "{}", member.body);
        let member_bookings = get(&app, &ctx.token(&ctx.member), "/api/v1/entities/customer/c1/history?module=booking").await;
        assert_eq!((member_bookings.ids(), member_bookings.body["hidden"].clone()), (vec![ids[0]], json!(1)));
        assert_eq!(customer.body["hidden"], 0, "an admin sees everything");
        assert_eq!(get(&app, &token, "/api/v1/entities/customer/none/history").await.body["total"], 0);
    }

    async fn facets_list_visible_values_with_counts(ctx: Ctx) {
        let app = ctx.app().await;
        fixture(&app, &ctx).await;
        let token = ctx.token(&ctx.admin);
        let actors = get(&app, &token, "/api/v1/facets/actors").await.expect(200).body;
        assert_eq!(actors["items"][0], json!({"id": "u1", "name": "Mia Member", "email": "member@acme.test", "count": 2}));
        assert_eq!(actors["items"].as_array().unwrap().len(), 5);
        let found = get(&app, &token, "/api/v1/facets/actors?q=MAX").await.body;
        assert_eq!(found["items"], json!([{"id": "m1", "name": "Max Manager", "email": null, "count": 1}]));
        let by_email = get(&app, &token, "/api/v1/facets/actors?q=zed%40").await.body;
        assert_eq!(by_email["items"][0]["id"], "s9");
        assert_eq!(get(&app, &token, "/api/v1/facets/actors?q=100%25").await.body["items"], json!([]));
        get(&app, &token, "/api/v1/facets/actors?limit=0").await.problem(400);

        let modules = get(&app, &token, "/api/v1/facets/modules").await.expect(200).body;
        assert_eq!(modules["items"], json!([
            {"value": "booking", "count": 2}, {"value": "customer", "count": 1},
            {"value": "invoice", "count": 1}, {"value": "session", "count": 1}, {"value": "settings", "count": 1}
        ]));
        let actions = get(&app, &token, "/api/v1/facets/actions").await.expect(200).body;
        assert_eq!(actions["items"][0], json!({"action": "booking.created", "module": "booking", "verb": "created", "count": 1}));
        // A member's facets only count their own events.
        let member = get(&app, &ctx.token(&ctx.member), "/api/v1/facets/modules").await.body;
        assert_eq!(member["items"], json!([{"value": "booking", "count": 1}, {"value": "customer", "count": 1}]));
    }

    async fn login_issues_tokens_that_the_api_accepts(ctx: Ctx) {
        let app = ctx.app().await;
        let login = |email: &str, password: &str| {
            TestRequest::post().uri("/api/v1/auth/login").set_json(json!({"email": email, "password": password}))
        };
        let reply = send(&app, login("Admin@Acme.test", "correct horse battery")).await.expect(200);
        assert_eq!(reply.body["token_type"], "Bearer");
        assert_eq!(reply.body["expires_in"], 3600);
        assert_eq!(reply.body["user"]["role"], "admin");
        assert_eq!(reply.body["user"]["tenant"]["slug"], "acme");
        let token = reply.body["access_token"].as_str().unwrap().to_string();
        let me = get(&app, &token, "/api/v1/auth/me").await.expect(200);
        assert_eq!(me.body["email"], "admin@acme.test");
        assert_eq!(me.body["actor_id"], "a1");

        send(&app, login("admin@acme.test", "wrong")).await.problem(401);
        send(&app, login("nobody@acme.test", "correct horse battery")).await.problem(401);
        send(&app, TestRequest::post().uri("/api/v1/auth/login").set_json(json!({"email": "x"}))).await.problem(422);
        send(&app, TestRequest::post().uri("/api/v1/auth/login").insert_header(("content-type", "application/json")).set_payload("{")).await.problem(400);

        // Missing, malformed, tampered and foreign-algorithm tokens are all 401.
        send(&app, TestRequest::get().uri("/api/v1/events")).await.problem(401);
        get(&app, "not.a.token", "/api/v1/events").await.problem(401);
        get(&app, &tampered(&token), "/api/v1/events").await.problem(401);
        let claims = jsonwebtoken::decode::<Value>(&token, &jsonwebtoken::DecodingKey::from_secret(SECRET), &jsonwebtoken::Validation::default()).unwrap().claims;
        let hs512 = jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512), &claims, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap();
        get(&app, &hs512, "/api/v1/events").await.problem(401);
        let mut expired = claims.clone();
        expired["exp"] = json!(Utc::now().timestamp() - 3600);
        let expired = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &expired, &jsonwebtoken::EncodingKey::from_secret(SECRET)).unwrap();
        get(&app, &expired, "/api/v1/events").await.problem(401);
    }

    async fn cors_answers_only_the_allowlisted_origins(ctx: Ctx) {
        let mut ctx = ctx;
        std::sync::Arc::make_mut(&mut ctx.state.settings).cors_allowed_origins =
            vec!["https://crm.example.com".into()];
        let app = ctx.app().await;
        let preflight = |origin: &str| {
            TestRequest::default()
                .method(actix_web::http::Method::OPTIONS)
                .uri("/api/v1/events")
                .insert_header(("origin", origin))
                .insert_header(("access-control-request-method", "POST"))
                .insert_header(("access-control-request-headers", "authorization, content-type, idempotency-key"))
        };
        let allowed = send(&app, preflight("https://crm.example.com")).await;
        assert_eq!(allowed.status, 200);
        assert_eq!(allowed.headers.get("access-control-allow-origin").unwrap(), "https://crm.example.com");
        let methods = allowed.headers.get("access-control-allow-methods").unwrap().to_str().unwrap().to_string();
        assert!(methods.contains("POST") && methods.contains("DELETE"), "{methods}");
        let refused = send(&app, preflight("https://evil.example.net")).await;
        assert!(refused.headers.get("access-control-allow-origin").is_none(), "an unlisted origin gets no grant");
        // A real request from the listed origin is answered with the grant and the exposed headers.
        let token = ctx.token(&ctx.admin);
        let listed = send(
            &app,
            TestRequest::get()
                .uri("/api/v1/events")
                .insert_header(("origin", "https://crm.example.com"))
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
        .expect(200);
        assert_eq!(listed.headers.get("access-control-allow-origin").unwrap(), "https://crm.example.com");
        // Same-origin calls (the dashboard's browser sends an Origin too) still work, without a grant.
        let other = send(
            &app,
            TestRequest::get()
                .uri("/api/v1/events")
                .insert_header(("origin", "http://localhost:8080"))
                .insert_header(("authorization", format!("Bearer {token}"))),
        )
        .await
        .expect(200);
        assert!(other.headers.get("access-control-allow-origin").is_none());
    }

    async fn service_endpoints_answer(ctx: Ctx) {
        let app = ctx.app().await;
        assert_eq!(send(&app, TestRequest::get().uri("/healthz")).await.expect(200).body["status"], "ok");
        assert_eq!(send(&app, TestRequest::get().uri("/readyz")).await.expect(200).body["status"], "ready");
        let spec = send(&app, TestRequest::get().uri("/openapi.json")).await.expect(200).body;
        assert_eq!(spec["openapi"], "3.1.0");
        assert!(spec["paths"]["/api/v1/events"]["get"].is_object());
        let docs = send(&app, TestRequest::get().uri("/docs/")).await.expect(200);
        assert!(docs.body.as_str().unwrap_or_default().contains("swagger"), "Swagger UI is served locally");
        let missing = send(&app, TestRequest::get().uri("/api/v1/nothing-here")).await.problem(404);
        // Security headers on every response; inline script allowed on the API docs page only.
        let csp = missing.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
        assert!(csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self';"), "{csp}");
        assert_eq!(missing.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(missing.headers.get("referrer-policy").unwrap(), "no-referrer");
        assert!(missing.headers.get("access-control-allow-origin").is_none(), "CORS is off");
        // A documented path with another method is a 405 naming the allowed ones.
        let wrong = send(&app, TestRequest::put().uri("/api/v1/events")).await.problem(405);
        assert_eq!(wrong.headers.get("allow").unwrap(), "GET, POST, DELETE");
        let wrong = send(&app, TestRequest::default().method(actix_web::http::Method::TRACE).uri("/api/v1/events/12")).await.problem(405);
        assert_eq!(wrong.headers.get("allow").unwrap(), "GET");
        let docs_csp = docs.headers.get("content-security-policy").unwrap().to_str().unwrap().to_string();
        assert!(docs_csp.contains("'unsafe-inline'"), "{docs_csp}");

        // With a built dashboard, client routes get its page, but the service's own paths never
        // do: `/docs` goes to `/docs/`, and a path below `/metrics` or a probe of `/healthz/x` is
        // a 404 problem, not the dashboard's 200.
        let dist = unique_dir("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<!doctype html><title>dashboard</title>").unwrap();
        let mut state = ctx.state.clone();
        let mut settings = (*state.settings).clone();
        settings.static_dir = dist;
        state.settings = std::sync::Arc::new(settings);
        let app = test::init_service(auditlog_api::http::app::build(state)).await;
        let page = test::call_service(&app, TestRequest::get().uri("/records/customer/c1").to_request()).await;
        assert_eq!(page.status(), 200);
        assert!(String::from_utf8(test::read_body(page).await.to_vec()).unwrap().contains("dashboard"));
        let docs = test::call_service(&app, TestRequest::get().uri("/docs").to_request()).await;
        assert_eq!(docs.status(), 308);
        assert_eq!(docs.headers().get("location").unwrap(), "/docs/");
        for path in ["/metrics/", "/metrics/x", "/api/v1/events/", "/healthz/", "/healthz/x", "/readyz/deep", "/openapi.json/x", "/api/v2"] {
            send(&app, TestRequest::get().uri(path)).await.problem(404);
        }
        // A scrape reads the metrics, never the dashboard's page.
        let scrape = send(&app, TestRequest::get().uri("/metrics")).await.expect(200);
        assert!(scrape.content_type().starts_with("text/plain"), "{}", scrape.content_type());
        assert!(scrape.body.as_str().unwrap().contains("# TYPE auditlog_http_requests_total counter"));
    }
}
