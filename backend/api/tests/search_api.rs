//! Search that finds what people type: the keyword covers related records, the user agent and
//! change values without telling a role what it may not see; events stored before the keyword
//! text had those parts are rewritten on upgrade and still verify.

mod common;

use auditlog_db::queries::reindex;
use auditlog_db::schema::{events, tenants};
use common::*;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::json;

/// Events of several actors; their ids in order: [0] the member's Heater→Boiler change, [1] a
/// manager's Boiler→Radiator change, [2] a manager's booking for Amelia Hughes, [3] someone
/// else's numeric and boolean change.
async fn seed<S, B>(app: &S, admin: &str) -> Vec<i64>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let events = json!([
        {
            "action": "booking.updated",
            "actor": {"id": "u1", "name": "Mia Member"},
            "entity": {"type": "booking", "id": "B1", "label": "BOK-1"},
            "description": "Changed the equipment",
            "changes": [{"field": "item", "old": "Heater", "new": "Boiler"}],
            "ip": "10.9.8.7",
            "user_agent": "Mozilla/5.0 Quokkabrowser/3.1",
        },
        {
            "action": "booking.updated",
            "actor": {"id": "m1", "name": "Max Manager"},
            "entity": {"type": "booking", "id": "B2", "label": "BOK-2"},
            "description": "Changed the equipment",
            "changes": [{"field": "item", "old": "Boiler", "new": "Radiator"}],
        },
        {
            "action": "booking.created",
            "actor": {"id": "m1", "name": "Max Manager"},
            "entity": {"type": "booking", "id": "B3", "label": "BOK-3"},
            "related": [{"type": "customer", "id": "C-77", "label": "Amelia Hughes"}],
            "description": "Created a booking",
        },
        {
            "action": "booking.updated",
            "actor": {"id": "x9", "name": "Xavier"},
            "entity": {"type": "booking", "id": "B4", "label": "BOK-4"},
            "description": "Changed the seats",
            "changes": [{"field": "seats", "old": 7654321, "new": {"count": 8, "confirmed": true}}],
        },
    ]);
    post(app, admin, "/api/v1/events", &json!({ "events": events })).await.expect(201).ids()
}

fn found(reply: &Reply) -> Vec<i64> {
    let mut ids: Vec<i64> =
        reply.body["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()).collect();
    ids.sort_unstable();
    ids
}

/// The keyword text as it was stored before it had related records, user agent and changes.
fn old_search_text(row: &auditlog_db::models::EventRow) -> String {
    let ip = Some(row.ip.as_str()).filter(|ip| !ip.is_empty());
    let parts = [
        Some(row.description.as_str()),
        row.entity_label.as_deref(),
        row.entity_id.as_deref(),
        Some(row.actor_name.as_str()),
        row.actor_email.as_deref(),
        Some(row.action.as_str()),
        ip,
    ];
    parts.into_iter().flatten().collect::<Vec<_>>().join("\u{1f}").to_lowercase()
}

/// Runs `sql` as the owner through the door only the owner may open.
fn as_owner_reindexing(conn: &mut auditlog_db::DbConnection, sql: &str) {
    conn.batch_execute(&format!(
        "INSERT INTO mutation_guard (mode) VALUES ('reindex'); {sql}; DELETE FROM mutation_guard WHERE mode = 'reindex'"
    ))
    .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

both_backends! {
    async fn the_keyword_finds_change_values_related_records_and_user_agents(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ids = seed(&app, &admin).await;
        let manager = ctx.token(&ctx.manager);
        for (q, expected) in [
            ("boiler", vec![ids[0], ids[1]]),
            ("BOILER", vec![ids[0], ids[1]]),
            ("heater", vec![ids[0]]),
            ("amelia%20hughes", vec![ids[2]]),
            ("c-77", vec![ids[2]]),
            ("quokkabrowser", vec![ids[0]]),
            ("7654321", vec![ids[3]]),
            ("true", vec![ids[3]]),
            // Field names are not searched.
            ("seats", vec![ids[3]]),
            ("item", vec![]),
        ] {
            let reply = get(&app, &admin, &format!("/api/v1/events?module=booking&q={q}")).await.expect(200);
            assert_eq!(found(&reply), expected, "q={q} as admin");
            let reply = get(&app, &manager, &format!("/api/v1/events?module=booking&q={q}")).await.expect(200);
            assert_eq!(found(&reply), expected, "q={q} as manager");
        }
        // Export and stats read the same filter.
        let (status, _, csv) = download(&app, &admin, "/api/v1/events/export?format=csv&q=amelia%20hughes").await;
        assert_eq!(status, 200);
        assert_eq!(String::from_utf8_lossy(&csv).lines().count(), 2, "header and the one booking");
    }

    async fn a_member_finds_only_their_own_events_and_fields_they_see(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ids = seed(&app, &admin).await;
        let member = ctx.token(&ctx.member);
        let search = |q: &'static str, token: String| {
            let app = &app;
            async move { found(&get(app, &token, &format!("/api/v1/events?module=booking&q={q}")).await.expect(200)) }
        };
        assert_eq!(search("boiler", member.clone()).await, vec![ids[0]], "not the manager's Boiler");
        assert_eq!(search("amelia", member.clone()).await, Vec::<i64>::new(), "not the manager's booking");
        // By default members do not see user agents: their own event is not found by one.
        assert_eq!(search("quokkabrowser", member.clone()).await, Vec::<i64>::new());
        assert_eq!(search("quokkabrowser", ctx.token(&ctx.manager)).await, vec![ids[0]]);
        let history = get(&app, &member, "/api/v1/entities/booking/B1/history?q=quokkabrowser").await.expect(200).body;
        assert_eq!((history["total"].clone(), history["hidden"].clone()), (json!(0), json!(0)), "{history}");

        // Changes hidden from members: a change value no longer finds; the record's id still does.
        put(&app, &admin, "/api/v1/settings/fields", &json!({"changes": "members"})).await.expect(200);
        assert_eq!(search("boiler", member.clone()).await, Vec::<i64>::new());
        assert_eq!(search("b1", member.clone()).await, vec![ids[0]]);
        assert_eq!(search("boiler", ctx.token(&ctx.manager)).await, vec![ids[0], ids[1]]);
        // From managers too; admins always see everything.
        put(
            &app,
            &admin,
            "/api/v1/settings/fields",
            &json!({"changes": "members_and_managers", "user_agent": "members_and_managers", "ip": "members_and_managers"}),
        )
        .await
        .expect(200);
        let manager = ctx.token(&ctx.manager);
        for q in ["boiler", "heater", "7654321", "quokkabrowser", "10.9.8"] {
            assert_eq!(search(q, manager.clone()).await, Vec::<i64>::new(), "q={q} as manager");
        }
        assert_eq!(search("boiler", admin.clone()).await, vec![ids[0], ids[1]]);
        assert_eq!(search("amelia", manager.clone()).await, vec![ids[2]], "related records are never hidden");
        let history = get(&app, &manager, "/api/v1/entities/booking/B1/history?q=heater").await.expect(200).body;
        assert_eq!((history["total"].clone(), history["hidden"].clone()), (json!(0), json!(0)), "{history}");
    }

    async fn events_stored_before_the_upgrade_are_rewritten_found_and_verified(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ids = seed(&app, &admin).await;
        // A tombstone, whose derived columns stay blank.
        let deleted = post(&app, &admin, "/api/v1/events", &json!({"action": "note.added", "description": "to be removed", "ip": "10.1.1.1"})).await.expect(201).ids()[0];
        let deletion = actix_web::test::TestRequest::delete()
            .uri("/api/v1/events")
            .insert_header(("authorization", format!("Bearer {admin}")))
            .set_json(json!({"ids": [deleted], "reason": "a data subject asked for erasure"}));
        send(&app, deletion).await.expect(200);
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        let t = ctx.acme_id;

        // The database as the earlier version left it: old keyword text, no IP key, tenant not
        // yet rewritten.
        let rows: Vec<auditlog_db::models::EventRow> = events::table
            .filter(events::tenant_id.eq(t))
            .filter(events::deleted_at.is_null())
            .select(auditlog_db::models::EventRow::as_select())
            .load(&mut conn)
            .unwrap();
        for row in &rows {
            let old = old_search_text(row).replace('\'', "''");
            as_owner_reindexing(&mut conn, &format!("UPDATE events SET search_text = '{old}', ip_key = 'z' WHERE id = {}", row.id));
        }
        diesel::update(tenants::table).set(tenants::derived_format.eq(1)).execute(&mut conn).unwrap();
        assert_eq!(found(&get(&app, &admin, "/api/v1/events?q=boiler").await.expect(200)), Vec::<i64>::new());
        let before = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(before["ok"], false, "{before}");

        let rewritten = reindex::run(&mut conn).unwrap();
        assert_eq!(rewritten.iter().find(|(slug, _)| slug == "acme").map(|(_, n)| *n), Some(rows.len()), "{rewritten:?}");
        assert_eq!(reindex::run(&mut conn).unwrap(), vec![], "done once");
        assert_eq!(found(&get(&app, &admin, "/api/v1/events?q=boiler").await.expect(200)), vec![ids[0], ids[1]]);
        assert_eq!(found(&get(&app, &admin, "/api/v1/events?q=amelia%20hughes").await.expect(200)), vec![ids[2]]);
        assert_eq!(found(&get(&app, &admin, "/api/v1/events?ip=10.9.0.0/16").await.expect(200)), vec![ids[0]]);
        let after = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(after["ok"], true, "{after}");

        // An insider who slips a word into an event's keyword text through the same door is found.
        as_owner_reindexing(&mut conn, &format!("UPDATE events SET search_text = search_text || ' innocent' WHERE id = {}", ids[2]));
        let edited = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(edited["ok"], false, "{edited}");
        assert!(edited["reason"].as_str().unwrap().contains("keyword text"), "{edited}");
        // The door lets nothing else through.
        let sneaked = conn.batch_execute(&format!(
            "INSERT INTO mutation_guard (mode) VALUES ('reindex'); UPDATE events SET description = 'nothing' WHERE id = {}",
            ids[2]
        ));
        assert!(sneaked.unwrap_err().to_string().contains("immutable"));
    }

    async fn the_application_cannot_rewrite_derived_columns(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ids = seed(&app, &admin).await;
        if ctx.db.backend == auditlog_db::Backend::Sqlite {
            return; // One role: the file's owner is the application.
        }
        let mut conn = ctx.pool.get().unwrap();
        let attempt = conn.batch_execute(&format!(
            "INSERT INTO mutation_guard (mode) VALUES ('reindex'); UPDATE events SET search_text = 'x' WHERE id = {}",
            ids[0]
        ));
        let error = attempt.unwrap_err().to_string();
        assert!(error.contains("permission denied"), "{error}");
    }

    async fn the_ip_filter_takes_addresses_leading_octets_and_networks(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let ips = ["9.1.1.1", "10.0.0.1", "10.0.0.2", "86.52.3.4", "86.53.0.1", "2001:db8::1", "2001:db9::1", ""];
        let events: Vec<_> = ips
            .iter()
            .map(|ip| {
                let mut event = json!({"action": "net.checked", "actor": {"id": "u1", "name": "Mia Member"}});
                if !ip.is_empty() {
                    event["ip"] = json!(ip);
                }
                event
            })
            .collect();
        let ids = post(&app, &admin, "/api/v1/events", &json!({ "events": events })).await.expect(201).ids();
        let pick = |indexes: &[usize]| -> Vec<i64> {
            let mut picked: Vec<i64> = indexes.iter().map(|i| ids[*i]).collect();
            picked.sort_unstable();
            picked
        };
        for (ip, expected) in [
            ("10.0.0.1", pick(&[1])),
            ("10", pick(&[1, 2])),
            ("10.", pick(&[1, 2])),
            ("86.52", pick(&[3])),
            ("86.52.", pick(&[3])),
            ("86.52.0.0/16", pick(&[3])),
            ("86.0.0.0/8", pick(&[3, 4])),
            ("86.52.3", pick(&[3])),
            ("0.0.0.0/0", pick(&[0, 1, 2, 3, 4])),
            ("2001:db8::/32", pick(&[5])),
            ("2001:DB8:0::1", pick(&[5])),
            ("2001:db8::/31", pick(&[5, 6])),
            ("::/0", pick(&[5, 6])),
            ("11", pick(&[])),
        ] {
            let reply = get(&app, &admin, &format!("/api/v1/events?module=net&per_page=100&ip={ip}")).await.expect(200);
            assert_eq!(found(&reply), expected, "ip={ip}");
            // Stats and export read the same parser.
            let stats = get(&app, &admin, &format!("/api/v1/stats/timeline?range=last_7_days&module=net&ip={ip}")).await.expect(200).body;
            let counted: i64 = stats["buckets"].as_array().unwrap().iter().map(|b| b["count"].as_i64().unwrap()).sum();
            assert_eq!(counted, expected.len() as i64, "stats for ip={ip}: {stats}");
            let (status, _, csv) = download(&app, &admin, &format!("/api/v1/events/export?format=csv&module=net&ip={ip}")).await;
            assert_eq!((status, String::from_utf8_lossy(&csv).lines().count()), (200, expected.len() + 1), "export for ip={ip}");
        }
        for (ip, says) in [
            ("86.52.0.0/33", "must have a prefix length from 0 to 32 after the `/` of an IPv4 network, not `/33`"),
            ("2001:db8::/129", "from 0 to 128 after the `/` of an IPv6 network"),
            ("86.52.1.7.", "must be an IPv4 or IPv6 address"),
            ("086.52", "must be an IPv4 or IPv6 address"),
            ("bogus", "must be an IPv4 or IPv6 address"),
            ("10.0/8", "must have a whole IPv4 or IPv6 address before the `/`"),
        ] {
            let reply = get(&app, &admin, &format!("/api/v1/events?ip={}", ip.replace('/', "%2F"))).await.problem(400);
            assert_eq!(reply.pointers(), ["ip"], "{ip}");
            assert!(reply.body.to_string().contains(says), "{ip}: {}", reply.body);
        }
        // Hidden from members by default: refused, whatever its form.
        let member = ctx.token(&ctx.member);
        for ip in ["10", "10.0.0.0/8", "10.0.0.1"] {
            get(&app, &member, &format!("/api/v1/events?ip={ip}")).await.problem(403);
        }
        get(&app, &member, "/api/v1/events?sort=ip").await.problem(403);
    }

    async fn the_ip_sort_is_numeric_and_cursor_pages_follow_it(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // 25 events: addresses in an order text would get wrong, some repeated, some absent.
        let ips = [
            "10.0.0.1", "9.255.255.255", "", "2001:db8::1", "100.0.0.1", "10.0.0.1", "::1", "", "1.2.3.4",
            "192.168.0.1", "10.0.0.10", "10.0.0.9", "fe80::1", "2001:db8::a", "", "255.255.255.255", "0.0.0.0",
            "10.0.0.1", "::ffff:1.2.3.4", "20.0.0.1", "2.0.0.1", "", "2001:db8::1", "11.0.0.0", "9.0.0.0",
        ];
        let events: Vec<_> = ips
            .iter()
            .map(|ip| {
                let mut event = json!({"action": "net.checked", "actor": {"id": "u1", "name": "Mia Member"}});
                if !ip.is_empty() {
                    event["ip"] = json!(ip);
                }
                event
            })
            .collect();
        let ids = post(&app, &admin, "/api/v1/events", &json!({ "events": events })).await.expect(201).ids();
        let sort_key = |ip: &str| -> (u8, u128) {
            match ip.parse::<std::net::IpAddr>() {
                Ok(std::net::IpAddr::V4(v4)) => (4, u128::from(u32::from(v4))),
                Ok(std::net::IpAddr::V6(v6)) => (6, u128::from(v6)),
                Err(_) => (9, 0),
            }
        };
        // Ties fall back to occurred_at (all the same here, to the microsecond or not) and id.
        let occurred: std::collections::HashMap<i64, String> = get(&app, &admin, "/api/v1/events?module=net&per_page=100").await.expect(200).body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| (e["id"].as_i64().unwrap(), e["occurred_at"].as_str().unwrap().to_string()))
            .collect();
        let mut expected: Vec<(usize, i64)> = ids.iter().copied().enumerate().collect();
        expected.sort_by(|(a, ida), (b, idb)| {
            sort_key(ips[*a]).cmp(&sort_key(ips[*b])).then(occurred[ida].cmp(&occurred[idb])).then(ida.cmp(idb))
        });
        let expected: Vec<i64> = expected.into_iter().map(|(_, id)| id).collect();
        for (order, expected) in [("asc", expected.clone()), ("desc", expected.iter().rev().copied().collect())] {
            let mut seen = Vec::new();
            let mut cursor = String::new();
            loop {
                let page = get(&app, &admin, &format!("/api/v1/events?module=net&sort=ip&order={order}&per_page=10&cursor={cursor}")).await.expect(200).body;
                seen.extend(page["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
                match page["next_cursor"].as_str() {
                    Some(next) => cursor = next.to_string(),
                    None => break,
                }
            }
            assert_eq!(seen, expected, "sort=ip order={order}");
            // Page mode agrees.
            let mut paged = Vec::new();
            for page in 1..=3 {
                let body = get(&app, &admin, &format!("/api/v1/events?module=net&sort=ip&order={order}&per_page=10&page={page}")).await.expect(200).body;
                paged.extend(body["items"].as_array().unwrap().iter().map(|e| e["id"].as_i64().unwrap()));
            }
            assert_eq!(paged, expected, "pages of sort=ip order={order}");
        }
    }
}
