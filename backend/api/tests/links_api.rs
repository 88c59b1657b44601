//! Links into the host application: who may read and set them, what a template may be, the
//! change recorded, concurrent changes, and templates written into the database by other means.

mod common;

use common::*;
use diesel::connection::SimpleConnection;
use serde_json::{json, Value};

const LINKS: &str = "/api/v1/settings/record-links";

fn acme_crm() -> Value {
    json!({
        "app_name": "Acme CRM",
        "templates": [
            {"entity_type": "booking", "url": "https://crm.acme.example/bookings/{id}"},
            {"entity_type": "credit_note", "url": "https://crm.acme.example/r?type={type}&id={id}"},
        ]
    })
}

/// A body with one template whose URL is `url`.
fn with_url(url: &str) -> Value {
    json!({"app_name": "Acme CRM", "templates": [{"entity_type": "booking", "url": url}]})
}

/// The recorded changes of the links, newest first: (description, changes).
async fn recorded<S, B>(app: &S, token: &str) -> Vec<(String, Value)>
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: actix_web::body::MessageBody,
{
    let list =
        get(app, token, "/api/v1/events?action=auditlog.record_links_changed&per_page=100").await.expect(200);
    let mut out = Vec::new();
    for id in list.ids() {
        let event = get(app, token, &format!("/api/v1/events/{id}")).await.expect(200).body;
        out.push((event["description"].as_str().unwrap().to_string(), event["changes"].clone()));
    }
    out
}

both_backends! {
    async fn every_role_reads_the_links_and_only_admins_set_them(ctx: Ctx) {
        let app = ctx.app().await;
        let (admin, manager, member) = (ctx.token(&ctx.admin), ctx.token(&ctx.manager), ctx.token(&ctx.member));
        let none = get(&app, &member, LINKS).await.expect(200).body;
        assert_eq!(none, json!({"app_name": "the host application", "templates": []}));
        for token in [&manager, &member] {
            put(&app, token, LINKS, &acme_crm()).await.problem(403);
        }
        assert_eq!(get(&app, &admin, LINKS).await.expect(200).body, none, "a refused change changes nothing");
        assert_eq!(put(&app, &admin, LINKS, &acme_crm()).await.expect(200).body, acme_crm());
        for token in [&admin, &manager, &member] {
            assert_eq!(get(&app, token, LINKS).await.expect(200).body, acme_crm());
        }
        // Another tenant's links are its own.
        let globex = ctx.token(&ctx.other_admin);
        assert_eq!(get(&app, &globex, LINKS).await.expect(200).body, none);
        // Without a session: 401.
        let anonymous = send(&app, actix_web::test::TestRequest::get().uri(LINKS)).await;
        assert_eq!(anonymous.problem(401).status, 401);
    }

    async fn an_admin_demoted_mid_session_can_no_longer_set_them(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        put(&app, &admin, LINKS, &acme_crm()).await.expect(200);
        ctx.pool.get().unwrap().batch_execute(&format!("UPDATE users SET role = 'manager' WHERE id = {}", ctx.admin.id)).unwrap();
        put(&app, &admin, LINKS, &with_url("https://other.example/{id}")).await.problem(403);
        assert_eq!(get(&app, &admin, LINKS).await.expect(200).body, acme_crm(), "still readable, unchanged");
    }

    async fn bad_templates_are_refused_naming_the_field_and_change_nothing(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        put(&app, &admin, LINKS, &acme_crm()).await.expect(200);
        let long = format!("https://crm.acme.example/{}/{{id}}", "a".repeat(500));
        let cases: Vec<(Value, &str, &str)> = vec![
            (with_url("http://crm.acme.example/{id}"), "/templates/0/url", "`https://`"),
            (with_url("javascript:alert(document.cookie)//{id}"), "/templates/0/url", "`https://`"),
            (with_url("data:text/html;base64,PHNjcmlwdD4={id}"), "/templates/0/url", "`https://`"),
            (with_url("https://user:secret@crm.acme.example/{id}"), "/templates/0/url", "user name or password"),
            (with_url("https://crm.acme.example/bookings"), "/templates/0/url", "must hold `{id}`"),
            (with_url("https://crm.acme.example/{record}/{id}"), "/templates/0/url", "found `{record}`"),
            (with_url(&long), "/templates/0/url", "at most 500 characters"),
            (json!({"app_name": "Acme", "templates": [{"entity_type": "Booking", "url": "https://a.example/{id}"}]}), "/templates/0/entity_type", "lower snake case"),
            (json!({"app_name": " ", "templates": []}), "/app_name", "must not be empty"),
            (json!({"app_name": "x".repeat(61), "templates": []}), "/app_name", "at most 60 characters"),
            (json!({"templates": []}), "/app_name", "required"),
            (json!({"app_name": "Acme", "templates": [], "extra": 1}), "/extra", "not a known field"),
            (json!({"app_name": "Acme", "templates": [
                {"entity_type": "booking", "url": "https://a.example/{id}"},
                {"entity_type": "booking", "url": "https://b.example/{id}"},
            ]}), "/templates", "`booking` is at 0 and 1"),
            (json!({"app_name": "Acme", "templates": (0..51).map(|i| json!({"entity_type": format!("type_{i}"), "url": "https://a.example/{id}"})).collect::<Vec<_>>()}), "/templates", "at most 50 templates"),
        ];
        for (body, pointer, said) in cases {
            let refused = put(&app, &admin, LINKS, &body).await.problem(422);
            assert_eq!(refused.pointers(), [pointer], "{body}: {}", refused.body);
            let message = refused.body["errors"][0]["message"].as_str().unwrap().to_string();
            assert!(message.contains(said), "{pointer}: {message}");
        }
        // Every bad member is named, not only the first (in a list, up to the first bad item).
        let two = json!({"app_name": "", "templates": [
            {"entity_type": "booking", "url": "http://a.example/{id}"},
            {"entity_type": "invoice", "url": "https://a.example/{id}"},
            {"entity_type": "ticket", "url": "https://a.example/{x}"},
        ]});
        let refused = put(&app, &admin, LINKS, &two).await.problem(422);
        assert_eq!(refused.pointers(), ["/app_name", "/templates/0/url"], "{}", refused.body);
        assert_eq!(get(&app, &admin, LINKS).await.expect(200).body, acme_crm(), "nothing changed");
        assert_eq!(recorded(&app, &admin).await.len(), 1, "only the first change was recorded");
    }

    async fn a_change_is_recorded_in_words(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        put(&app, &admin, LINKS, &acme_crm()).await.expect(200);
        put(&app, &admin, LINKS, &acme_crm()).await.expect(200);
        let changed = json!({"app_name": "Acme CRM 2", "templates": [
            {"entity_type": "booking", "url": "https://crm2.acme.example/b/{id}"},
            {"entity_type": "invoice", "url": "https://crm2.acme.example/i/{id}"},
        ]});
        put(&app, &admin, LINKS, &changed).await.expect(200);
        let events = recorded(&app, &admin).await;
        assert_eq!(events.len(), 2, "the same links again record nothing");
        assert_eq!(
            events[0].0,
            "Changed the links into Acme CRM 2: renamed it from “Acme CRM” to “Acme CRM 2”; added the link for \
             invoice; changed the link for booking; removed the link for credit note"
        );
        assert_eq!(events[1].0, "Changed the links into Acme CRM: renamed it from “the host application” to “Acme CRM”; added the links for booking and credit note");
        let booking = events[0].1.as_array().unwrap().iter().find(|c| c["field"] == "templates.booking").unwrap();
        assert_eq!(booking["old"], "https://crm.acme.example/bookings/{id}");
        assert_eq!(booking["new"], "https://crm2.acme.example/b/{id}");
        // A manager does not see an admin's change: it is admin-private like any admin event.
        let manager = ctx.token(&ctx.manager);
        assert!(recorded(&app, &manager).await.is_empty());
    }

    async fn concurrent_changes_leave_one_of_them_whole(ctx: Ctx) {
        let served = ctx.serve().await;
        let admin = ctx.token(&ctx.admin);
        let url = format!("{}{LINKS}", served.url);
        let bodies: Vec<Value> = (0..8)
            .map(|i| json!({"app_name": format!("CRM {i}"), "templates": (0..=i).map(|t| json!({
                "entity_type": format!("type_{t}"), "url": format!("https://crm{i}.example/{t}/{{id}}"),
            })).collect::<Vec<_>>()}))
            .collect();
        let sent = bodies.clone();
        let (token, target) = (admin.clone(), url.clone());
        let statuses = at_once(8, move |i| call("PUT", &target, Some(&token), Some(&sent[i])).0).await;
        assert_eq!(statuses, [200; 8]);
        let (status, now) = call("GET", &url, Some(&admin), None);
        assert_eq!(status, 200);
        assert!(bodies.contains(&now), "one whole setting, not a mix: {now}");
        // Each change was recorded from the one stored before it: replayed in order, they end
        // where the setting is.
        let app = ctx.app().await;
        let events = recorded(&app, &admin).await;
        assert_eq!(events.len(), 8);
        let mut replayed = std::collections::BTreeMap::from([("app_name".to_string(), json!("the host application"))]);
        for (_, changes) in events.iter().rev() {
            for change in changes.as_array().unwrap() {
                let field = change["field"].as_str().unwrap().to_string();
                assert_eq!(replayed.get(&field), change.get("old").filter(|v| !v.is_null()), "{field}");
                match change.get("new") {
                    Some(new) => replayed.insert(field, new.clone()),
                    None => replayed.remove(&field),
                };
            }
        }
        assert_eq!(replayed["app_name"], now["app_name"]);
        let templates = replayed.keys().filter(|k| k.starts_with("templates.")).count();
        assert_eq!(templates, now["templates"].as_array().unwrap().len());
    }

    async fn templates_written_by_an_insider_are_not_handed_out(ctx: Ctx) {
        let app = ctx.app().await;
        let member = ctx.token(&ctx.member);
        let stored = json!({"app_name": "Acme CRM", "templates": [
            {"entity_type": "booking", "url": "javascript:alert(document.cookie)//{id}"},
            {"entity_type": "invoice", "url": "https://crm.acme.example/invoices/{id}"},
            {"entity_type": "ticket", "url": "https://user:pw@crm.acme.example/t/{id}"},
            {"entity_type": "customer", "url": "data:text/html,<script>alert(1)</script>{id}"},
        ]});
        let sql = format!(
            "UPDATE tenants SET record_links = '{}' WHERE id = {}",
            stored.to_string().replace('\'', "''"),
            ctx.acme_id
        );
        ctx.pool.get().unwrap().batch_execute(&sql).unwrap();
        let read = get(&app, &member, LINKS).await.expect(200).body;
        assert_eq!(read, json!({"app_name": "Acme CRM", "templates": [
            {"entity_type": "invoice", "url": "https://crm.acme.example/invoices/{id}"},
        ]}));
        // Text that is not the links at all reads as no links.
        ctx.pool.get().unwrap().batch_execute(&format!("UPDATE tenants SET record_links = 'oops' WHERE id = {}", ctx.acme_id)).unwrap();
        assert_eq!(get(&app, &member, LINKS).await.expect(200).body["templates"], json!([]));
    }
}
