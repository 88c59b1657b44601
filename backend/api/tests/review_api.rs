//! The security review: flags raised as events are stored, the `flag` filter and summary, the
//! tenant's review settings, and reads of the log recorded in it.

mod common;

use actix_web::test::TestRequest;
use auditlog_db::flags::{set_settings, ReviewSettings};
use chrono::NaiveTime;
use common::*;
use serde_json::{json, Value};

const FIREFOX: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
const SAFARI_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/// Settings written straight to the tenant (no record of the change: tests count events).
fn settings(ctx: &Ctx, settings: ReviewSettings) {
    set_settings(&mut ctx.pool.get().unwrap(), ctx.acme_id, &settings).unwrap();
}

/// Reads are not logged, and every hour of every day is business hours (bar the last minute):
/// only the flag under test is raised.
fn quiet() -> ReviewSettings {
    ReviewSettings {
        working_days: (1..=7).collect(),
        day_starts: NaiveTime::from_hms_opt(0, 0, 0).unwrap(),
        day_ends: NaiveTime::from_hms_opt(23, 59, 0).unwrap(),
        log_views: false,
        ..ReviewSettings::default()
    }
}

fn event(actor: &str, ip: &str, user_agent: &str, occurred_at: &str) -> Value {
    json!({
        "action": "booking.updated",
        "actor": {"id": actor, "name": actor},
        "ip": ip,
        "user_agent": user_agent,
        "occurred_at": occurred_at,
    })
}

/// The kinds of flag on each listed event, by id.
fn kinds(list: &Reply) -> std::collections::BTreeMap<i64, Vec<String>> {
    list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let kinds =
                e["flags"].as_array().unwrap().iter().map(|f| f["kind"].as_str().unwrap().to_string());
            (e["id"].as_i64().unwrap(), kinds.collect())
        })
        .collect()
}

fn reason(list: &Reply, id: i64, kind: &str) -> String {
    let event = list.body["items"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap();
    let flag = event["flags"].as_array().unwrap().iter().find(|f| f["kind"] == kind).unwrap();
    flag["reason"].as_str().unwrap().to_string()
}

fn actions(list: &Reply) -> Vec<String> {
    list.body["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

both_backends! {
    async fn networks_browsers_and_hours_are_flagged_with_reasons(ctx: Ctx) {
        settings(&ctx, ReviewSettings { log_views: false, ..ReviewSettings::default() });
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // Tuesday 1 December 2026, within business hours (UTC, the tenant's zone), and a Saturday night.
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [
            event("ann", "10.1.2.3", FIREFOX, "2026-12-01T10:00:00Z"),
            event("ann", "10.1.2.99", FIREFOX, "2026-12-01T10:05:00Z"),
            event("ann", "10.7.7.7", FIREFOX, "2026-12-01T10:10:00Z"),
            event("ann", "10.7.7.8", SAFARI_IOS, "2026-12-01T10:15:00Z"),
            event("bob", "10.7.7.7", FIREFOX, "2026-12-05T03:00:00Z"),
        ]})).await.expect(201).ids();
        let list = get(&app, &admin, "/api/v1/events?actor_id=ann&actor_id=bob&per_page=100").await.expect(200);
        let found = kinds(&list);
        assert_eq!(found[&ids[0]], Vec::<String>::new(), "an actor's first event is nothing new");
        assert_eq!(found[&ids[1]], Vec::<String>::new(), "the same /24 and browser");
        assert_eq!(found[&ids[2]], ["new_ip"]);
        assert_eq!(reason(&list, ids[2], "new_ip"), "ann's first event from the network 10.7.7.0/24 (address 10.7.7.7) in 90 days");
        assert_eq!(found[&ids[3]], ["new_user_agent"], "a new browser; the network was seen a moment ago");
        assert_eq!(reason(&list, ids[3], "new_user_agent"), "ann's first event from Safari on iOS in 90 days");
        assert_eq!(found[&ids[4]], ["odd_hours"], "bob is new altogether: only the hour is odd");
        assert_eq!(reason(&list, ids[4], "odd_hours"), "Sat 03:00 in UTC, outside business hours (Mon–Fri 07:00–20:00)");

        // A network is remembered for `new_ip_days`: past it, it is new again.
        settings(&ctx, ReviewSettings { new_ip_days: 1, log_views: false, ..ReviewSettings::default() });
        let later = post(&app, &admin, "/api/v1/events", &json!({"events": [
            event("ann", "10.7.7.7", FIREFOX, "2026-12-02T10:00:00Z"),
            event("ann", "10.1.2.3", FIREFOX, "2026-12-03T10:00:00Z"),
        ]})).await.expect(201).ids();
        let list = get(&app, &admin, "/api/v1/events?actor_id=ann&per_page=100").await.expect(200);
        assert_eq!(kinds(&list)[&later[0]], Vec::<String>::new(), "seen the day before");
        assert_eq!(kinds(&list)[&later[1]], ["new_ip"], "last seen two days before");

        // The filter, on its own and with others, and the summary.
        let flagged = get(&app, &admin, "/api/v1/events?flag=any&actor_id=ann&actor_id=bob").await.expect(200);
        assert_eq!(flagged.ids(), [ids[4], later[1], ids[3], ids[2]]);
        let new_ip = get(&app, &admin, "/api/v1/events?flag=new_ip&actor_id=ann&from=2026-11-01&to=2026-12-31&tz=UTC").await.expect(200);
        assert_eq!(new_ip.ids(), [later[1], ids[2]]);
        assert_eq!(get(&app, &admin, "/api/v1/events?flag=new_ip&actor_id=bob").await.expect(200).body["total"], 0);
        let cursor = get(&app, &admin, "/api/v1/events?flag=new_user_agent&cursor=").await.expect(200);
        assert_eq!(cursor.ids(), [ids[3]]);
        let bad = get(&app, &admin, "/api/v1/events?flag=suspicious").await.problem(400);
        assert_eq!(bad.pointers(), ["flag"]);
        assert!(bad.body["errors"][0]["message"].as_str().unwrap().contains("`any` or one of `odd_hours`"), "{}", bad.body);
        let summary = get(&app, &admin, "/api/v1/stats/flags?actor_id=ann&actor_id=bob").await.expect(200).body;
        assert_eq!(summary["total"], 4);
        let count = |kind: &str| summary["kinds"].as_array().unwrap().iter().find(|k| k["kind"] == kind).unwrap()["count"].clone();
        assert_eq!((count("new_ip"), count("new_user_agent"), count("odd_hours"), count("bulk_delete")), (json!(2), json!(1), json!(1), json!(0)));
        assert_eq!(summary["kinds"].as_array().unwrap().len(), 7, "every kind, zero included");
        // The export and the chart take the filter too.
        let (status, _, csv) = download(&app, &admin, "/api/v1/events/export?format=csv&flag=new_ip&actor_id=ann").await;
        let csv = String::from_utf8(csv).unwrap();
        assert_eq!((status, csv.lines().count()), (200, 3), "a header and the two rows:\n{csv}");
        let chart = get(&app, &admin, "/api/v1/stats/timeline?flag=any&actor_id=ann&from=2026-11-20&to=2026-12-06&tz=UTC").await.expect(200);
        assert_eq!(chart.body["total"], 3);
        // Members see the flags of what they may see, nothing else.
        let member = get(&app, &ctx.token(&ctx.member), "/api/v1/stats/flags").await.expect(200).body;
        assert_eq!(member["total"], 0);
    }

    async fn privileges_deletions_exports_and_failed_sign_ins_are_flagged(ctx: Ctx) {
        settings(&ctx, ReviewSettings { bulk_delete_events: 2, failed_logins: 3, bulk_export_rows: 5, ..quiet() });
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // A role change and a token that may write; a read-only token is no change of privilege.
        send(&app, TestRequest::patch().uri(&format!("/api/v1/users/{}", ctx.member.id)).insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"role": "manager"}))).await.expect(200);
        post(&app, &admin, "/api/v1/tokens", &json!({"name": "writer", "scopes": ["events:write"]})).await.expect(201);
        post(&app, &admin, "/api/v1/tokens", &json!({"name": "reader", "scopes": ["events:read"]})).await.expect(201);
        let privilege = get(&app, &admin, "/api/v1/events?flag=privilege_change").await.expect(200);
        assert_eq!(actions(&privilege), ["token.created", "user.role_changed"]);
        assert!(reason(&privilege, privilege.ids()[1], "privilege_change").ends_with("to manager"), "{}", privilege.body);
        let said: Vec<&str> = privilege.body["items"].as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
        assert_eq!(said, ["Created API token “writer” with scopes events:write", "Changed the role of Mia Member from member to manager"]);
        // Deleting one event is not bulk; two is.
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [{"action": "a.b"}, {"action": "a.b"}, {"action": "a.b"}]})).await.expect(201).ids();
        for (chosen, reason) in [(&ids[..1], "one"), (&ids[1..], "two")] {
            send(&app, TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"ids": chosen, "reason": reason}))).await.expect(200);
        }
        let bulk = get(&app, &admin, "/api/v1/events?flag=bulk_delete").await.expect(200);
        assert_eq!(bulk.ids().len(), 1);
        assert_eq!(reason(&bulk, bulk.ids()[0], "bulk_delete"), "Ada Admin deleted 2 events at once (the threshold is 2)");
        // Exports add up per actor within the window: 3 rows, then 3 more.
        post(&app, &admin, "/api/v1/events", &json!({"events": [{"action": "c.d"}, {"action": "c.d"}, {"action": "c.d"}]})).await.expect(201);
        for _ in 0..2 {
            let (status, _, _) = download(&app, &admin, "/api/v1/events/export?format=csv&action=c.d").await;
            assert_eq!(status, 200);
        }
        // The product's own records read as sentences, from what they carry.
        let deletions = get(&app, &admin, "/api/v1/events?action=auditlog.deleted").await.expect(200).body;
        let said: Vec<&str> = deletions["items"].as_array().unwrap().iter().map(|e| e["description"].as_str().unwrap()).collect();
        assert_eq!(said, [format!("Deleted 2 activities (#{}, #{}) — reason: two", ids[1], ids[2]), format!("Deleted 1 activity (#{}) — reason: one", ids[0])]);
        let exported = get(&app, &admin, "/api/v1/events?action=auditlog.exported").await.expect(200).body;
        assert_eq!(exported["items"][0]["description"], "Exported 3 activities as CSV (filters: action c.d)");
        let exports = get(&app, &admin, "/api/v1/events?flag=bulk_export").await.expect(200);
        assert_eq!(exports.ids().len(), 1, "only the export that reached 5 rows: {}", exports.body);
        assert!(reason(&exports, exports.ids()[0], "bulk_export").starts_with("Ada Admin exported 6 rows within 60 minutes"));
        // Three wrong passwords from one address, then the right one.
        let login = |password: &str| {
            TestRequest::post()
                .uri("/api/v1/auth/login")
                .peer_addr("198.51.100.7:5000".parse().unwrap())
                .set_json(json!({"email": "manager@acme.test", "password": password}))
        };
        for _ in 0..3 {
            send(&app, login("not it")).await.problem(401);
        }
        send(&app, login("correct horse battery")).await.expect(200);
        let burst = get(&app, &admin, "/api/v1/events?flag=failed_login_burst").await.expect(200);
        assert_eq!(actions(&burst), ["auth.login", "auth.login_failed"], "the third failure, and the sign-in after it");
        assert_eq!(reason(&burst, burst.ids()[1], "failed_login_burst"), "3 failed sign-ins for Max Manager or 198.51.100.7 within 15 minutes");
        assert!(reason(&burst, burst.ids()[0], "failed_login_burst").starts_with("signed in after 3 failed sign-ins"));
    }

    async fn a_backfill_of_sign_ins_finds_each_burst_across_requests(ctx: Ctx) {
        settings(&ctx, quiet());
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // 450 lone failures an hour apart (450 windows of their own, more than one query takes)
        // and, every 90 hours, an account failing five times in five minutes: three failures in
        // the first request, two in the second, found through the stored ones.
        let at = |hour: i64, minute: i64| {
            (chrono::DateTime::parse_from_rfc3339("2026-06-01T00:00:00Z").unwrap() + chrono::TimeDelta::minutes(hour * 60 + minute)).to_rfc3339()
        };
        let failure = |actor: String, ip: String, when: String| {
            json!({"action": "crm.login_failed", "actor": {"id": actor, "name": actor}, "ip": ip, "occurred_at": when})
        };
        let lone: Vec<Value> = (0..450).map(|h| failure(format!("lone{h}"), format!("10.9.{}.{}", h / 200, h % 200 + 1), at(h, 30))).collect();
        let burst = |b: i64, tries: std::ops::Range<i64>| -> Vec<Value> {
            tries.map(|m| failure(format!("burst{b}"), format!("192.0.2.{}", b + 1), at(b * 90 + 7, m))).collect()
        };
        let first: Vec<Value> = lone.iter().cloned().chain((0..5).flat_map(|b| burst(b, 0..3))).collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": first})).await.expect(201);
        assert_eq!(get(&app, &admin, "/api/v1/events?flag=failed_login_burst").await.expect(200).body["total"], 0);
        let second: Vec<Value> = (0..5).flat_map(|b| burst(b, 3..5)).collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": second})).await.expect(201);
        let flagged = get(&app, &admin, "/api/v1/events?flag=failed_login_burst&per_page=100&sort=occurred_at&order=asc").await.expect(200);
        let who: Vec<String> = flagged.body["items"].as_array().unwrap().iter().map(|e| format!("{} {}", e["actor"]["id"].as_str().unwrap(), e["occurred_at"].as_str().unwrap())).collect();
        let expected: Vec<String> = (0..5).map(|b| format!("burst{b} {}", at(b * 90 + 7, 4).replace("+00:00", "Z"))).collect();
        assert_eq!(who, expected, "the fifth failure of each burst, no lone one");
        assert_eq!(reason(&flagged, flagged.ids()[0], "failed_login_burst"), "5 failed sign-ins for burst0 or 192.0.2.1 within 15 minutes");
    }

    async fn parallel_requests_find_a_network_new_once(ctx: Ctx) {
        settings(&ctx, quiet());
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        post(&app, &admin, "/api/v1/events", &event("eve", "10.1.1.1", FIREFOX, "2026-12-01T09:00:00Z")).await.expect(201);
        let server = ctx.serve().await;
        let (url, token) = (server.url.clone(), admin.clone());
        let statuses = at_once(8, move |i| {
            let body = event("eve", &format!("10.9.9.{i}"), FIREFOX, "2026-12-01T09:30:00Z");
            call("POST", &format!("{url}/api/v1/events"), Some(&token), Some(&body)).0
        })
        .await;
        assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");
        let flagged = get(&app, &admin, "/api/v1/events?flag=new_ip&actor_id=eve").await.expect(200);
        assert_eq!(flagged.body["total"], 1, "one of eight requests found 10.9.9.0/24 new: {}", flagged.body);
    }

    async fn reads_are_recorded_once_per_reader_and_hour(ctx: Ctx) {
        let app = ctx.app().await;
        let (admin, manager) = (ctx.token(&ctx.admin), ctx.token(&ctx.manager));
        let staff = json!({"id": "s9", "name": "Sam Staff"});
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": [{"action": "a.b", "actor": staff}, {"action": "a.c", "actor": staff}]})).await.expect(201).ids();
        for token in [&admin, &admin, &manager] {
            get(&app, token, &format!("/api/v1/events/{}", ids[0])).await.expect(200);
        }
        let viewed = get(&app, &admin, "/api/v1/events?action=auditlog.viewed").await.expect(200);
        let who: Vec<&str> = viewed.body["items"].as_array().unwrap().iter().map(|e| e["actor"]["id"].as_str().unwrap()).collect();
        assert_eq!(who, ["m1", "a1"], "one record per reader: {}", viewed.body);
        assert!(viewed.body["items"].as_array().unwrap().iter().all(|e| e["entity"] == json!({"type": "event", "id": ids[0].to_string(), "label": "a.b"})));
        // Listing pages is not a read of each event.
        get(&app, &admin, "/api/v1/events?per_page=100").await.expect(200);
        // Parallel reads of one event by one reader: one record.
        let server = ctx.serve().await;
        let (url, token, id) = (server.url.clone(), admin.clone(), ids[1]);
        let statuses = at_once(6, move |_| call("GET", &format!("{url}/api/v1/events/{id}"), Some(&token), None).0).await;
        assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
        let total = |app_list: Reply| app_list.body["total"].as_i64().unwrap();
        assert_eq!(total(get(&app, &admin, "/api/v1/events?action=auditlog.viewed").await), 3);
        // A verification run and an archive download are reads too; a tenant may stop logging views.
        get(&app, &admin, "/api/v1/integrity/verify").await.expect(200);
        assert_eq!(total(get(&app, &admin, "/api/v1/events?action=integrity.verified").await), 1);
        put(&app, &admin, "/api/v1/settings/review", &json!({"log_views": false})).await.expect(200);
        get(&app, &manager, &format!("/api/v1/events/{}", ids[1])).await.expect(200);
        assert_eq!(total(get(&app, &admin, "/api/v1/events?action=auditlog.viewed").await), 3, "not logged once turned off");
    }

    async fn review_settings_are_checked_kept_and_recorded(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let defaults = get(&app, &admin, "/api/v1/settings/review").await.expect(200).body;
        assert_eq!(defaults, json!({
            "working_days": [1, 2, 3, 4, 5], "day_starts": "07:00", "day_ends": "20:00", "new_ip_days": 90,
            "failed_logins": 5, "failed_login_minutes": 15, "bulk_delete_events": 100, "bulk_export_rows": 10000,
            "bulk_export_minutes": 60, "log_views": true
        }));
        for (body, pointer) in [
            (json!({"day_starts": "21:00", "day_ends": "08:00"}), "/day_starts"),
            (json!({"day_starts": "7am"}), "/day_starts"),
            (json!({"working_days": [1, 8]}), "/working_days"),
            (json!({"working_days": []}), "/working_days"),
            (json!({"failed_logins": 0}), "/failed_logins"),
            (json!({"bulk_export_minutes": 1441}), "/bulk_export_minutes"),
            (json!({"colour": "red"}), "/colour"),
            (json!({"log_views": "no"}), "/log_views"),
            (json!({"day_ends": "24:01"}), "/day_ends"),
            (json!({"day_starts": "24:00", "day_ends": "24:00"}), "/day_starts"),
        ] {
            let reply = put(&app, &admin, "/api/v1/settings/review", &body).await.problem(422);
            assert_eq!(reply.pointers(), [pointer], "{body}: {}", reply.body);
        }
        let several = put(&app, &admin, "/api/v1/settings/review", &json!({"working_days": [9], "new_ip_days": 0})).await.problem(422);
        assert_eq!(several.pointers(), ["/working_days", "/new_ip_days"], "every problem at once");
        put(&app, &ctx.token(&ctx.manager), "/api/v1/settings/review", &json!({})).await.problem(403);
        get(&app, &ctx.token(&ctx.member), "/api/v1/settings/review").await.problem(403);
        assert_eq!(get(&app, &admin, "/api/v1/settings/review").await.body, defaults, "refusals change nothing");
        let kept = put(&app, &admin, "/api/v1/settings/review", &json!({"day_starts": "08:30", "working_days": [4, 2, 1, 3, 1]})).await.expect(200).body;
        assert_eq!(kept["working_days"], json!([1, 2, 3, 4]), "in order, each once");
        assert_eq!((kept["day_starts"].as_str(), kept["failed_logins"].as_i64()), (Some("08:30"), Some(5)), "left out: the default");
        assert_eq!(get(&app, &admin, "/api/v1/settings/review").await.body, kept);
        let changed = get(&app, &admin, "/api/v1/events?action=auditlog.review_settings_changed").await.expect(200);
        let changes = &changed.body["items"][0]["changes"];
        assert_eq!(changed.body["items"][0]["description"], "Changed the security review settings: day starts, working days");
        assert_eq!(changes, &json!([
            {"field": "day_starts", "old": "07:00", "new": "08:30"},
            {"field": "working_days", "old": [1, 2, 3, 4, 5], "new": [1, 2, 3, 4]}
        ]));
        // The same settings again: nothing changed, nothing recorded.
        put(&app, &admin, "/api/v1/settings/review", &kept).await.expect(200);
        assert_eq!(get(&app, &admin, "/api/v1/events?action=auditlog.review_settings_changed").await.body["total"], 1);
        // A working day may run until midnight, written 24:00 both ways.
        let late = put(&app, &admin, "/api/v1/settings/review", &json!({"day_ends": "24:00"})).await.expect(200).body;
        assert_eq!(late["day_ends"], "24:00");
        assert_eq!(get(&app, &admin, "/api/v1/settings/review").await.body["day_ends"], "24:00");
    }

    async fn flags_stay_outside_the_signed_record(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        post(&app, &admin, "/api/v1/events", &event("ann", "10.1.2.3", FIREFOX, "2026-12-05T03:00:00Z")).await.expect(201);
        // An insider clears every flag: the record still verifies (flags are the server's opinion,
        // computed again from the record, not evidence), and the event is no longer flagged.
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        let clear = "UPDATE events SET flags = 0, flag_reasons = NULL";
        let script = match conn.backend() {
            auditlog_db::Backend::Postgres => format!("SET session_replication_role = replica; {clear}; SET session_replication_role = DEFAULT;"),
            auditlog_db::Backend::Sqlite => format!("DROP TRIGGER IF EXISTS events_no_update; {clear};"),
        };
        diesel::connection::SimpleConnection::batch_execute(&mut conn, &script).unwrap();
        let verify = get(&app, &admin, "/api/v1/integrity/verify").await.expect(200).body;
        assert_eq!(verify["ok"], true, "{verify}");
        assert_eq!(get(&app, &admin, "/api/v1/events?flag=any&actor_id=ann").await.body["total"], 0);
    }
}
