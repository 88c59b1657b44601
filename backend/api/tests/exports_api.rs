//! Exports, the activity timeline and the live tail, on SQLite and PostgreSQL.

mod common;

use actix_web::body::MessageBody;
use actix_web::test::{self, TestRequest};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{Duration as Days, SecondsFormat, Utc};
use common::*;
use diesel::prelude::*;
use serde_json::{json, Value};

fn ago(days: i64) -> String {
    (Utc::now() - Days::days(days)).to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The grey levels of a binary PGM image (`P5`) as pdftoppm writes it.
fn pgm_pixels(image: &[u8]) -> &[u8] {
    // Header: "P5", width, height, max value, each followed by whitespace.
    let mut fields = 0;
    let mut i = 0;
    while fields < 4 {
        while image[i].is_ascii_whitespace() {
            i += 1;
        }
        while !image[i].is_ascii_whitespace() {
            i += 1;
        }
        fields += 1;
    }
    &image[i + 1..]
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = reader.headers().unwrap().iter().map(String::from).collect();
    let rows = reader.records().map(|r| r.unwrap().iter().map(String::from).collect()).collect();
    (headers, rows)
}

async fn seed<S, B>(app: &S, ctx: &Ctx, count: usize)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    let events: Vec<Value> = (0..count)
        .map(|i| {
            let (action, actor) =
                [("booking.created", "u1"), ("invoice.sent", "s2"), ("customer.updated", "s3")][i % 3];
            json!({
                "action": action,
                "occurred_at": ago((i % 5) as i64),
                "actor": {"id": actor, "name": format!("Person {}", i % 3)},
                "entity": {"type": "booking", "id": format!("{i}"), "label": format!("BOK-{i}")},
                "description": format!("Event number {i}, with a comma and \"quotes\""),
                "changes": [{"field": "note", "old": "a\nb", "new": "ü"}]
            })
        })
        .collect();
    for chunk in events.chunks(1000) {
        post(app, &ctx.token(&ctx.admin), "/api/v1/events", &json!({"events": chunk})).await.expect(201);
    }
}

both_backends! {
    async fn csv_export_matches_the_list_row_for_row(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 2500).await;
        let token = ctx.token(&ctx.admin);
        for filters in ["", "module=booking", "actor_id=s2&sort=actor&order=asc", "range=last_7_days&q=number%201"] {
            // The same ids, in the same order, as walking the list with the same filters (walked first:
            // each export adds its own `auditlog.exported` event).
            let mut listed = Vec::new();
            let mut uri = format!("/api/v1/events?per_page=100&cursor=&{filters}");
            loop {
                let page = get(&app, &token, &uri).await.expect(200);
                listed.extend(page.ids());
                match page.body["next_cursor"].as_str() {
                    Some(next) => uri = format!("/api/v1/events?per_page=100&cursor={next}&{filters}"),
                    None => break,
                }
            }
            let (status, headers, body) = download(&app, &token, &format!("/api/v1/events/export?format=csv&{filters}")).await;
            assert_eq!(status, 200, "{filters}");
            assert_eq!(headers.get("content-type").unwrap(), "text/csv; charset=utf-8");
            let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
            assert!(disposition.starts_with("attachment; filename=\"acme_activity_"), "{disposition}");
            let (columns, rows) = csv_rows(std::str::from_utf8(&body).unwrap());
            assert_eq!(&columns[..4], ["id", "seq", "occurred_at", "occurred_at_local (UTC)"]);
            let exported: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
            assert_eq!(exported, listed, "filters {filters:?}");
        }
        // Cells survive quoting: commas, quotes, newlines and non-ASCII.
        let (_, _, body) = download(&app, &token, "/api/v1/events/export?format=csv&q=number%2042").await;
        let (columns, rows) = csv_rows(std::str::from_utf8(&body).unwrap());
        let description = columns.iter().position(|c| c == "description").unwrap();
        let changes = columns.iter().position(|c| c == "changes").unwrap();
        let row = rows.iter().find(|r| r[description].starts_with("Event number 42,")).unwrap();
        assert_eq!(row[description], "Event number 42, with a comma and \"quotes\"");
        assert_eq!(serde_json::from_str::<Value>(&row[changes]).unwrap(), json!([{"field": "note", "old": "a\nb", "new": "ü"}]));
        // The export itself is in the trail.
        let exports = get(&app, &token, "/api/v1/events?action=auditlog.exported&per_page=100").await.body;
        assert_eq!(exports["total"], 5);
        let last = &exports["items"][0];
        assert_eq!(last["actor"]["id"], "a1");
        assert_eq!(last["metadata"]["format"], "csv");
        assert_eq!(last["metadata"]["completed"], true);
        assert_eq!(last["metadata"]["filters"], "format=csv&q=number%2042");

        // File names say what is inside.
        let name = |headers: &actix_web::http::header::HeaderMap| {
            let disposition = headers.get("content-disposition").unwrap().to_str().unwrap().to_string();
            disposition.split('"').nth(1).unwrap().to_string()
        };
        let (status, headers, body) = download(&app, &token, "/api/v1/events/export?format=csv&from=2026-11-01&to=2026-11-30&tz=Europe/London").await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(name(&headers), "acme_activity_2026-11-01_to_2026-11-30.csv");
        let some = get(&app, &token, "/api/v1/events?per_page=10").await.expect(200).ids();
        let (status, headers, body) = download(&app, &token, &format!("/api/v1/events/export?format=pdf&ids={},{}", some[0], some[1])).await;
        assert_eq!(status, 200, "{}", String::from_utf8_lossy(&body));
        assert_eq!(name(&headers), "acme_activity_selected-2.pdf");
        let (_, headers, _) = download(&app, &token, "/api/v1/events/export?format=csv").await;
        assert_eq!(name(&headers), format!("acme_activity_until_{}.csv", chrono::Utc::now().format("%Y-%m-%d")));
    }

    async fn csv_cells_cannot_run_as_formulas(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        // (stored, exported): formulas behind invisible characters or in full-width forms too.
        let cells = [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("\u{FF1D}1+1", "'\u{FF1D}1+1"),
            ("\u{FF0B}1", "'\u{FF0B}1"),
            ("\u{FF0D}1", "'\u{FF0D}1"),
            ("\u{FF20}SUM(A1)", "'\u{FF20}SUM(A1)"),
            ("\u{202E}=1", "'\u{202E}=1"),
            ("\u{2066}@x", "'\u{2066}@x"),
            ("\u{200B} =1", "'\u{200B} =1"),
            ("\u{FEFF}-1", "'\u{FEFF}-1"),
            ("\u{061C}+1", "'\u{061C}+1"),
            ("\u{200E}\u{A0}\u{3000}=1", "'\u{200E}\u{A0}\u{3000}=1"),
            // An apostrophe of its own before a formula gets one more: one is always the export's.
            ("'=1", "''=1"),
            // Safe first visible characters stay as they are.
            ("\u{202E}txt", "\u{202E}txt"),
            ("'plain", "'plain"),
            ("1-2", "1-2"),
        ];
        let events: Vec<Value> = cells
            .iter()
            .map(|(d, _)| json!({"action": "a.b", "description": d, "actor": {"id": "=1", "name": "\u{200B}@evil"}}))
            .collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let (_, _, body) = download(&app, &token, "/api/v1/events/export?format=csv&bom=1&sort=occurred_at&order=asc").await;
        assert!(body.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
        let (columns, rows) = csv_rows(std::str::from_utf8(&body).unwrap());
        let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
        assert_eq!(rows.len(), cells.len());
        for (row, (stored, exported)) in rows.iter().zip(cells) {
            assert_eq!(row[at("description")], exported, "description {stored:?}");
            assert_eq!(row[at("actor_id")], "'=1");
            assert_eq!(row[at("actor_name")], "'\u{200B}@evil");
        }
    }

    async fn selected_rows_visibility_and_bad_requests(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 30).await;
        let admin = ctx.token(&ctx.admin);
        let ids = get(&app, &admin, "/api/v1/events?per_page=10").await.ids();
        let pick = format!("{},{},{}", ids[0], ids[3], ids[5]);
        let (_, _, body) = download(&app, &admin, &format!("/api/v1/events/export?format=csv&ids={pick}")).await;
        let exported: Vec<i64> = csv_rows(std::str::from_utf8(&body).unwrap()).1.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(exported, vec![ids[0], ids[3], ids[5]]);
        // A member exports only their own events, even when naming others' ids.
        let member = ctx.token(&ctx.member);
        let (_, _, body) = download(&app, &member, "/api/v1/events/export?format=csv").await;
        let rows = csv_rows(std::str::from_utf8(&body).unwrap()).1;
        assert_eq!(rows.len(), 10);
        assert!(rows.iter().all(|r| r[5] == "u1"));
        let (_, _, body) = download(&app, &member, &format!("/api/v1/events/export?format=csv&ids={pick}")).await;
        let own: Vec<String> = csv_rows(std::str::from_utf8(&body).unwrap()).1.iter().map(|r| r[5].clone()).collect();
        assert!(own.iter().all(|a| a == "u1"));
        // The other tenant gets an empty file.
        let (_, _, body) = download(&app, &ctx.token(&ctx.other_admin), "/api/v1/events/export?format=csv").await;
        assert_eq!(csv_rows(std::str::from_utf8(&body).unwrap()).1.len(), 0);
        for bad in ["format=xls", "", "format=csv&ids=1,x", "format=csv&per_page=10", "format=csv&range=forever"] {
            get(&app, &admin, &format!("/api/v1/events/export?{bad}")).await.problem(400);
        }
    }

    async fn exports_take_the_columns_asked_for_and_xlsx_opens_in_a_spreadsheet(ctx: Ctx) {
        use calamine::{Data, Reader};
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let event = |i: usize| json!({
            "action": "booking.updated",
            "occurred_at": ago(i as i64),
            "actor": {"id": "p1", "name": "Łukasz Żółć"},
            "entity": {"type": "booking", "id": format!("{i}"), "label": format!("Zimmer {i}")},
            "related": [{"type": "customer", "id": "c7", "label": "Amelia Hughes"}],
            "metadata": {"channel": "phone", "n": i},
            "description": "=HYPERLINK(\"http://evil.example\") 张伟 <b>&",
        });
        post(&app, &token, "/api/v1/events", &json!({"events": (0..3).map(event).collect::<Vec<_>>()})).await.expect(201);
        let listed = get(&app, &token, "/api/v1/events?module=booking").await.expect(200).ids();
        let columns = "id,occurred_at_local,actor_name,description,related,metadata";

        // CSV: exactly those columns, in that order.
        let (status, _, body) = download(&app, &token, &format!("/api/v1/events/export?format=csv&module=booking&tz=Europe/Warsaw&columns={columns}")).await;
        assert_eq!(status, 200);
        let (headers, rows) = csv_rows(std::str::from_utf8(&body).unwrap());
        assert_eq!(headers, ["id", "occurred_at_local (Europe/Warsaw)", "actor_name", "description", "related", "metadata"]);
        assert_eq!(rows.iter().map(|r| r[0].parse::<i64>().unwrap()).collect::<Vec<_>>(), listed);
        let related: Value = serde_json::from_str(&rows[0][4]).unwrap();
        assert_eq!(related[0]["label"], "Amelia Hughes");
        let metadata: Value = serde_json::from_str(&rows[0][5]).unwrap();
        assert_eq!(metadata["channel"], "phone");
        assert!(rows[0][3].starts_with("'=HYPERLINK"), "CSV cells still cannot run: {}", rows[0][3]);

        // XLSX: a workbook a spreadsheet opens, same rows; numbers, dates, and the text as typed
        // (an inline string is never a formula, so it needs no quote).
        let (status, headers, body) = download(&app, &token, &format!("/api/v1/events/export?format=xlsx&module=booking&tz=Europe/Warsaw&columns={columns}")).await;
        assert_eq!(status, 200);
        assert_eq!(headers.get("content-type").unwrap(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet");
        let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
        assert!(disposition.contains("acme_activity_until_") && disposition.contains(".xlsx"), "{disposition}");
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(body)).expect("a workbook");
        let sheet = book.worksheet_range("Activity").unwrap();
        let rows: Vec<&[Data]> = sheet.rows().collect();
        assert_eq!(rows[0].iter().map(|c| c.to_string()).collect::<Vec<_>>(), ["id", "occurred_at_local (Europe/Warsaw)", "actor_name", "description", "related", "metadata"]);
        assert_eq!(rows[1..].iter().map(|r| r[0].clone()).collect::<Vec<_>>(), listed.iter().map(|id| Data::Float(*id as f64)).collect::<Vec<_>>());
        assert!(matches!(rows[1][1], Data::DateTime(_)), "{:?}", rows[1][1]);
        assert_eq!(rows[1][2], Data::String("Łukasz Żółć".into()));
        assert_eq!(rows[1][3], Data::String("=HYPERLINK(\"http://evil.example\") 张伟 <b>&".into()));
        assert!(rows[1][4].to_string().contains("Amelia Hughes"));
        // The default columns, without related and metadata.
        let (_, _, body) = download(&app, &token, "/api/v1/events/export?format=xlsx&module=booking").await;
        let mut book = calamine::Xlsx::new(std::io::Cursor::new(body)).unwrap();
        let sheet = book.worksheet_range("Activity").unwrap();
        let header: Vec<String> = sheet.rows().next().unwrap().iter().map(|c| c.to_string()).collect();
        assert_eq!(header.len(), 22);
        assert!(!header.contains(&"related".to_string()) && header.contains(&"hash".to_string()));
        let exported = get(&app, &token, "/api/v1/events?action=auditlog.exported&per_page=10").await.expect(200);
        assert_eq!(exported.body["items"][0]["metadata"]["format"], "xlsx");
        assert_eq!(exported.body["items"][0]["metadata"]["rows"], 3);

        // Bad lists are refused, and nothing is exported or recorded.
        let before = get(&app, &token, "/api/v1/events?per_page=10").await.body["total"].clone();
        for bad in ["format=csv&columns=nope", "format=xlsx&columns=id,", "format=pdf&columns=id", "format=manifest&columns=id"] {
            let reply = get(&app, &token, &format!("/api/v1/events/export?{bad}")).await.problem(400);
            assert_eq!(reply.pointers(), ["columns"], "{bad}: {}", reply.body);
        }
        let reply = get(&app, &token, "/api/v1/events/export?format=csv&columns=id,nope").await.problem(400);
        assert!(reply.body["detail"].as_str().unwrap().contains(r#""nope" is not one"#), "{}", reply.body);
        assert_eq!(get(&app, &token, "/api/v1/events?per_page=10").await.body["total"], before);
        // A column named again keeps its first place (the schema's pattern cannot forbid it).
        let (status, _, body) = download(&app, &token, "/api/v1/events/export?format=csv&module=booking&columns=seq,id,seq").await;
        assert_eq!(status, 200);
        assert_eq!(csv_rows(std::str::from_utf8(&body).unwrap()).0, ["seq", "id"]);
    }

    async fn a_download_link_streams_the_export_while_its_session_holds(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 30).await;
        let admin = ctx.token(&ctx.admin);
        let anonymous = |uri: &str| TestRequest::get().uri(uri).to_request();
        let link = |token: &str, query: &str| {
            let (token, query) = (token.to_string(), query.to_string());
            let app = &app;
            async move { post(app, &token, &format!("/api/v1/events/export/link?{query}"), &json!({})).await }
        };

        // The link downloads without an Authorization header: the same file as a direct export.
        let made = link(&admin, "format=csv&module=booking&tz=UTC").await.expect(200);
        let url = made.body["url"].as_str().unwrap().to_string();
        assert!(url.starts_with("/api/v1/downloads/"), "{url}");
        let expires = chrono::DateTime::parse_from_rfc3339(made.body["expires_at"].as_str().unwrap()).unwrap();
        assert!((expires.timestamp() - Utc::now().timestamp() - 60).abs() <= 2, "a minute: {expires}");
        let response = test::call_service(&app, anonymous(&url)).await;
        assert_eq!(response.status(), 200);
        let disposition = response.headers().get("content-disposition").unwrap().to_str().unwrap().to_string();
        assert!(disposition.starts_with("attachment; filename=\"acme_activity_until_"), "{disposition}");
        let via_link = csv_rows(std::str::from_utf8(&test::read_body(response).await).unwrap()).1;
        let (_, _, direct) = download(&app, &admin, "/api/v1/events/export?format=csv&module=booking&tz=UTC").await;
        let direct = csv_rows(std::str::from_utf8(&direct).unwrap()).1;
        assert_eq!(via_link.iter().map(|r| &r[0]).collect::<Vec<_>>(), direct.iter().map(|r| &r[0]).collect::<Vec<_>>());
        assert_eq!(via_link.len(), 10);
        let exported = get(&app, &admin, "/api/v1/events?action=auditlog.exported&per_page=10").await.expect(200);
        assert_eq!(exported.body["total"], 2, "both downloads are recorded");
        assert_eq!(exported.body["items"][1]["actor"]["id"], ctx.admin.actor_id);

        // Bad parameters are refused when the link is asked for, and no link is made.
        let reply = link(&admin, "format=pdf&columns=id").await.problem(400);
        assert_eq!(reply.pointers(), ["columns"]);
        link(&admin, "format=csv&module=booking&nope=1").await.problem(400);
        link(&admin, "format=csv&ids=1,x").await.problem(400);
        // API tokens download directly.
        let api = post(&app, &admin, "/api/v1/tokens", &json!({"name": "x", "scopes": ["events:read"]})).await.expect(201);
        link(api.body["secret"].as_str().unwrap(), "format=csv").await.problem(403);

        // A forged, altered or foreign link, or a session token used as a link, is refused.
        let forged = format!("{url}x");
        for bad in [forged.as_str(), "/api/v1/downloads/abc", &format!("/api/v1/downloads/{admin}")] {
            let response = test::call_service(&app, anonymous(bad)).await;
            assert_eq!(response.status(), 401, "{bad}");
        }
        // A link is not a session token either.
        let token = url.trim_start_matches("/api/v1/downloads/");
        get(&app, token, "/api/v1/events").await.problem(401);

        // The role is read when the link is used: a manager demoted to member in between gets
        // only their own events.
        let manager = ctx.token(&ctx.manager);
        post(&app, &admin, "/api/v1/events", &json!({"action": "booking.created", "actor": {"id": ctx.manager.actor_id, "name": "M"}})).await.expect(201);
        let made = link(&manager, "format=csv").await.expect(200);
        let patch = TestRequest::patch().uri(&format!("/api/v1/users/{}", ctx.manager.id)).insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"role": "member"}));
        send(&app, patch).await.expect(200);
        let response = test::call_service(&app, anonymous(made.body["url"].as_str().unwrap())).await;
        assert_eq!(response.status(), 200);
        let rows = csv_rows(std::str::from_utf8(&test::read_body(response).await).unwrap()).1;
        assert_eq!(rows.len(), 1, "only the (now) member's own event: {rows:?}");
        assert_eq!(rows[0][5], ctx.manager.actor_id);

        // Signing out ends the links of the session.
        let made = link(&admin, "format=csv").await.expect(200);
        let logout = TestRequest::post().uri("/api/v1/auth/logout").insert_header(("authorization", format!("Bearer {admin}")));
        send(&app, logout).await;
        let response = test::call_service(&app, anonymous(made.body["url"].as_str().unwrap())).await;
        assert_eq!(response.status(), 401);
    }

    async fn an_export_names_the_fields_withheld_from_its_reader(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let event = json!({"action": "booking.updated", "actor": {"id": ctx.member.actor_id, "name": "Mia"}, "ip": "203.0.113.77", "user_agent": "Agent/7"});
        post(&app, &admin, "/api/v1/events", &event).await.expect(201);
        let member = ctx.token(&ctx.member);
        for format in ["csv", "xlsx", "pdf"] {
            let (status, headers, body) = download(&app, &member, &format!("/api/v1/events/export?format={format}")).await;
            assert_eq!(status, 200);
            assert_eq!(headers.get("x-withheld-fields").unwrap(), "ip, user_agent", "{format}");
            // Read as its readers would (the PDF and the workbook are compressed).
            let text = match format {
                "csv" => String::from_utf8(body).unwrap(),
                "pdf" => pdf_pages(&body).join("\n"),
                _ => {
                    use calamine::Reader;
                    let mut book = calamine::Xlsx::new(std::io::Cursor::new(body)).unwrap();
                    let sheet = book.worksheet_range("Activity").unwrap();
                    sheet.rows().flat_map(|r| r.iter().map(|c| c.to_string())).collect::<Vec<_>>().join(",")
                }
            };
            assert!(text.contains("booking.updated"), "{format}: the event is there: {text}");
            assert!(!text.contains("203.0.113.77") && !text.contains("Agent/7"), "{format}: withheld values stay out");
            if format == "pdf" {
                assert!(text.contains("Withheld") && text.contains("ip, user_agent: hidden from the exporter's role"), "{text}");
            }
            let (_, headers, body) = download(&app, &admin, &format!("/api/v1/events/export?format={format}")).await;
            assert!(headers.get("x-withheld-fields").is_none(), "{format}: an admin sees every field");
            if format == "csv" {
                assert!(std::str::from_utf8(&body).unwrap().contains("203.0.113.77"));
            }
        }
    }

    async fn an_export_stops_when_its_callers_role_changes(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 6000).await;
        let admin = ctx.token(&ctx.admin);
        let manager = ctx.token(&ctx.manager);
        post(&app, &admin, "/api/v1/events", &json!({"action": "booking.created", "actor": {"id": ctx.manager.actor_id, "name": "M"}})).await.expect(201);
        let req = TestRequest::get().uri("/api/v1/events/export?format=csv").insert_header(("authorization", format!("Bearer {manager}")));
        let response = test::call_service(&app, req.to_request()).await;
        assert_eq!(response.status(), 200);
        let mut body = Box::pin(response.into_body());
        let mut text = next_text(&mut body).await.expect("the header row");
        // The manager becomes a member while the file is being written: the export stops at the
        // next page instead of going on with a manager's sight.
        let patch = TestRequest::patch().uri(&format!("/api/v1/users/{}", ctx.manager.id)).insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"role": "member"}));
        send(&app, patch).await.expect(200);
        while let Some(chunk) = next_text(&mut body).await {
            text.push_str(&chunk);
        }
        let rows = text.lines().count() - 1;
        assert!(rows < 6000, "stopped early: {rows} rows");
        let mut record = Value::Null;
        for _ in 0..50 {
            record = get(&app, &admin, "/api/v1/events?action=auditlog.exported&per_page=10").await.expect(200).body["items"][0].clone();
            if !record.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(record["metadata"]["completed"], false, "{record}");
        assert_eq!(record["actor"]["id"], ctx.manager.actor_id);
        // Its next export runs as what it is now: its own events only.
        let (status, _, body) = download(&app, &manager, "/api/v1/events/export?format=csv").await;
        assert_eq!(status, 200);
        let own = csv_rows(std::str::from_utf8(&body).unwrap()).1;
        assert!(!own.is_empty() && own.iter().all(|r| r[5] == ctx.manager.actor_id), "{} rows", own.len());
    }

    async fn a_record_history_export_is_named_for_its_record(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        let event = json!({"action": "customer.updated", "entity": {"type": "customer", "id": "C/7 ü"}});
        post(&app, &admin, "/api/v1/events", &event).await.expect(201);
        for (format, extension) in [("csv", "csv"), ("xlsx", "xlsx"), ("pdf", "pdf")] {
            let uri = format!("/api/v1/events/export?format={format}&record_type=customer&record_id=C%2F7%20%C3%BC&from=2026-11-01&to=2026-11-30");
            let (status, headers, _) = download(&app, &admin, &uri).await;
            assert_eq!(status, 200);
            let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
            assert!(disposition.contains("acme_customer-C-7-%C3%BC_history_2026-11-01_to_2026-11-30.") || disposition.contains("acme_customer-C-7-ü_history_2026-11-01_to_2026-11-30."), "{disposition}");
            assert!(disposition.contains(&format!(".{extension}")), "{disposition}");
        }
    }

    async fn pdf_export_prints_every_script_with_a_cover_and_changes(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        // The fixtures' names in six scripts, and a change an auditor must be able to read.
        let people = [
            ("p1", "Łukasz Żółć"),
            ("p2", "Ελένη Παπαδοπούλου"),
            ("p3", "Дмитрий Соболев"),
            ("p4", "张伟"),
            ("p5", "山田 花子"),
            ("p6", "محمد"),
        ];
        let events: Vec<Value> = people
            .iter()
            .enumerate()
            .map(|(i, (id, name))| {
                json!({
                    "action": "booking.updated",
                    "occurred_at": ago(i as i64),
                    "actor": {"id": id, "name": name},
                    "entity": {"type": "booking", "id": format!("{}", 40 + i), "label": format!("Zimmer {i} — 120 €")},
                    "description": format!("{name} changed a booking"),
                    "changes": [{"field": "status", "old": "pending", "new": "confirmed"}, {"field": "price", "old": null, "new": 120}],
                    "ip": "203.0.113.9"
                })
            })
            .collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let (status, headers, pdf) = download(&app, &token, "/api/v1/events/export?format=pdf&module=booking&range=last_30_days&tz=Europe/Warsaw").await;
        assert_eq!(status, 200);
        assert_eq!(headers.get("content-type").unwrap(), "application/pdf");
        let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
        assert!(disposition.contains("acme_activity_") && disposition.contains(".pdf"), "{disposition}");

        let pages = pdf_pages(&pdf);
        assert_eq!(pages.len(), 1);
        let text = &pages[0];
        for (_, name) in people {
            // Arabic is drawn letter by letter, left to right: its letters must all be there.
            if name == "محمد" {
                assert!(name.chars().all(|c| text.contains(c)), "{name} in {text}");
            } else {
                assert!(text.contains(name), "{name} in {text}");
            }
        }
        for expected in [
            "Activity Log — Acme",
            "Exported by",
            "admin",
            "Filters",
            "module booking, last 30 days",
            "Activities",
            "Checkpoint",
            "activity-log.test/acme",
            "Verifier key",
            "Times in",
            "Europe/Warsaw",
            "status: pending → confirmed",
            "price: ∅ → 120",
            "120 €",
            "203.0.113.9",
            "Page 1 of 1",
            "End of export: 6 activities.",
        ] {
            assert!(text.contains(expected), "{expected:?} in {text}");
        }
        // The cover's count is drawn once the end is known; it says 6.
        let layout = String::from_utf8(poppler("pdftotext", &["-layout", "-enc", "UTF-8"], &pdf)).unwrap();
        let count = layout.lines().find(|l| l.trim_start().starts_with("Activities")).unwrap();
        assert_eq!(count.split_whitespace().collect::<Vec<_>>(), ["Activities", "6"], "{layout}");
        let key = &ctx.state.notary.verifier();
        assert!(text.contains(&format!("{}+{:08x}", key.name(), key.key_id())), "{text}");

        // Embedded, subset fonts only (no built-in font standing in for a script).
        let fonts = String::from_utf8(poppler("pdffonts", &[], &pdf)).unwrap();
        assert!(fonts.contains("DejaVuSans") && fonts.contains("DroidSansFallback"), "{fonts}");
        for line in fonts.lines().skip(2) {
            let columns: Vec<&str> = line.split_whitespace().collect();
            assert!(columns.contains(&"CID") && columns.iter().filter(|c| **c == "yes").count() >= 2, "embedded, subset: {line}");
        }
        let info = String::from_utf8(poppler("pdfinfo", &[], &pdf)).unwrap();
        assert!(info.lines().any(|l| l.starts_with("Title:") && l.ends_with(" Activity Log — Acme")), "{info}");
        // Rendered, the page has ink where the text is (a PDF with missing fonts renders blank
        // boxes or nothing).
        let image = poppler("pdftoppm", &["-r", "40", "-gray", "-f", "1", "-l", "1"], &pdf);
        let pixels = pgm_pixels(&image);
        let dark = pixels.iter().filter(|p| **p < 128).count();
        assert!(dark > 1000, "{dark} dark pixels of {}", pixels.len());
    }

    async fn pdf_export_repeats_its_header_and_numbers_its_pages(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 230).await;
        let token = ctx.token(&ctx.admin);
        let (status, _, pdf) = download(&app, &token, "/api/v1/events/export?format=pdf&module=booking").await;
        assert_eq!(status, 200);
        let pages = pdf_pages(&pdf);
        assert!(pages.len() > 2, "{} pages", pages.len());
        let total = pages.len();
        for (i, page) in pages.iter().enumerate() {
            assert!(page.contains("Date/Time") && page.contains("Changes"), "header row on page {}", i + 1);
            assert!(page.contains(&format!("Page {} of {total}", i + 1)), "page {}: {page}", i + 1);
            if i > 0 {
                assert!(page.contains("(continued)"), "page {}", i + 1);
            }
        }
        // Every row, once, in the list's order (newest first).
        let all = pages.join("\n");
        let labels: Vec<usize> = all
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .filter_map(|w| w.strip_prefix("BOK-").and_then(|n| n.parse().ok()))
            .collect();
        let listed: Vec<usize> = {
            let mut ids = Vec::new();
            let mut uri = "/api/v1/events?module=booking&per_page=100&cursor=".to_string();
            loop {
                let page = get(&app, &token, &uri).await.expect(200);
                ids.extend(page.body["items"].as_array().unwrap().iter().map(|e| e["entity"]["label"].as_str().unwrap()[4..].parse::<usize>().unwrap()));
                match page.body["next_cursor"].as_str() {
                    Some(next) => uri = format!("/api/v1/events?module=booking&per_page=100&cursor={next}"),
                    None => break,
                }
            }
            ids
        };
        assert_eq!(labels, listed);
        assert!(pages[total - 1].contains(&format!("End of export: {} activities.", listed.len())));
        // No row limit any more: the whole log in one PDF (the 230 and the first export's
        // record), and the export is recorded.
        let (status, _, pdf) = download(&app, &token, "/api/v1/events/export?format=pdf").await;
        assert_eq!(status, 200);
        let last = pdf_pages(&pdf).pop().unwrap();
        assert!(last.contains("End of export: 231 activities."), "{last}");
        let exported = get(&app, &token, "/api/v1/events?action=auditlog.exported&per_page=10").await.expect(200);
        assert_eq!(exported.body["items"][0]["metadata"]["rows"], 231);
        assert_eq!(exported.body["items"][0]["metadata"]["completed"], true);
        // Nothing matching: one page that says so.
        let (_, _, pdf) = download(&app, &token, "/api/v1/events/export?format=pdf&module=nothing").await;
        let pages = pdf_pages(&pdf);
        assert_eq!(pages.len(), 1);
        assert!(pages[0].contains("No activity matches these filters.") && pages[0].contains("Page 1 of 1"), "{}", pages[0]);
    }

    async fn timeline_counts_per_bucket_with_filters(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 50).await;
        let token = ctx.token(&ctx.admin);
        let reply = get(&app, &token, "/api/v1/stats/timeline?range=last_7_days&tz=UTC").await.expect(200).body;
        assert_eq!(reply["bucket"], "day");
        let buckets = reply["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), 7, "empty days included");
        let today = Utc::now().date_naive();
        for days in 0..5 {
            let label = (today - Days::days(days)).format("%Y-%m-%d").to_string();
            let bucket = buckets.iter().find(|b| b["label"] == label).unwrap();
            assert_eq!(bucket["count"], 10, "{label}");
        }
        assert_eq!(reply["total"], 50);
        let booking = get(&app, &token, "/api/v1/stats/timeline?range=last_7_days&module=booking").await.body;
        assert_eq!(booking["total"], 17);
        let hours = get(&app, &token, "/api/v1/stats/timeline?range=today&bucket=hour&tz=UTC").await.body;
        assert_eq!(hours["buckets"].as_array().unwrap().len(), 24);
        assert_eq!(hours["total"], 10);
        // Visibility: the member counts only their own.
        let member = get(&app, &ctx.token(&ctx.member), "/api/v1/stats/timeline?range=last_7_days").await.body;
        assert_eq!(member["total"], 17);
        get(&app, &token, "/api/v1/stats/timeline?bucket=minute").await.problem(400);
        get(&app, &token, "/api/v1/stats/timeline?bucket=hour&from=2020-01-01").await.problem(422);
        // Today is not over: its bucket is partial; the days before are whole.
        let days = reply["buckets"].as_array().unwrap();
        assert_eq!(days.last().unwrap()["partial"], true);
        assert!(days[..6].iter().all(|b| b["partial"] == false), "{days:?}");
        assert_eq!(hours["bucket"], "hour");

        // "Any time" counts what the list shows: the data's own span, here four months, by week.
        let old = ago(120);
        let events = json!({"events": [
            {"action": "booking.created", "occurred_at": old, "entity": {"type": "booking", "id": "b-old"}},
            {"action": "booking.updated", "occurred_at": old, "entity": {"type": "booking", "id": "b-old"}},
        ]});
        post(&app, &token, "/api/v1/events", &events).await.expect(201);
        let any = get(&app, &token, "/api/v1/stats/timeline?tz=UTC").await.expect(200).body;
        let listed = get(&app, &token, "/api/v1/events?per_page=10").await.expect(200).body;
        assert_eq!(any["total"], listed["total"], "the chart counts what the list counts");
        assert_eq!(any["bucket"], "week");
        let weeks = any["buckets"].as_array().unwrap();
        assert!(weeks[0]["count"].as_i64().unwrap() >= 2 && weeks[0]["partial"] == false, "{:?}", weeks[0]);
        assert_eq!(any["from"], weeks[0]["start"]);
        assert_eq!(weeks.last().unwrap()["partial"], true);
        // The same with a filter; and a bucket asked for is kept.
        let bookings = get(&app, &token, "/api/v1/stats/timeline?module=booking&bucket=day").await.expect(200).body;
        let listed = get(&app, &token, "/api/v1/events?module=booking&per_page=10").await.expect(200).body;
        assert_eq!((bookings["total"].clone(), bookings["bucket"].clone()), (listed["total"].clone(), json!("day")));
        assert!(bookings["buckets"].as_array().unwrap().len() >= 120);
        // An event from 1971: days since then are too many bars, so an open range widens the
        // bucket asked for and still counts everything; a closed range says it is too long.
        let ancient = json!({"events": [{"action": "booking.created", "occurred_at": "1971-06-01T00:00:00Z"}]});
        post(&app, &token, "/api/v1/events", &ancient).await.expect(201);
        let widened = get(&app, &token, "/api/v1/stats/timeline?bucket=day").await.expect(200).body;
        let listed = get(&app, &token, "/api/v1/events?per_page=10").await.expect(200).body;
        assert_eq!((widened["bucket"].clone(), widened["total"].clone()), (json!("month"), listed["total"].clone()));
        get(&app, &token, "/api/v1/stats/timeline?bucket=day&from=1971-01-01&to=2026-01-01").await.problem(422);
    }

    async fn live_tail_delivers_resumes_and_respects_visibility(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        post(&app, &admin, "/api/v1/events", &json!({"action": "booking.created", "actor": {"id": "u1", "name": "M"}})).await.expect(201);
        let open = |token: &str, last: Option<&str>| {
            let mut req = TestRequest::get().uri("/api/v1/events/stream?module=booking").insert_header(("authorization", format!("Bearer {token}")));
            if let Some(last) = last {
                req = req.insert_header(("last-event-id", last.to_string()));
            }
            test::call_service(&app, req.to_request())
        };
        let member_stream = open(&ctx.token(&ctx.member), None).await;
        let admin_stream = open(&admin, None).await;
        assert_eq!(admin_stream.headers().get("content-type").unwrap(), "text/event-stream");
        let mut member_body = Box::pin(member_stream.into_body());
        let mut admin_body = Box::pin(admin_stream.into_body());
        // Events stored before connecting are not replayed without Last-Event-ID.
        assert!(next_text(&mut admin_body).await.unwrap().contains("connected"));
        assert!(next_text(&mut member_body).await.unwrap().contains("connected"));

        post(&app, &admin, "/api/v1/events", &json!({"events": [
            {"action": "booking.updated", "actor": {"id": "s9", "name": "Staff"}},
            {"action": "invoice.sent", "actor": {"id": "u1", "name": "M"}},
            {"action": "booking.deleted", "actor": {"id": "u1", "name": "M"}}
        ]})).await.expect(201);
        let first = next_text(&mut admin_body).await.expect("delivered within the timeout");
        assert!(first.starts_with("id: 2\nevent: activity\ndata: "), "{first}");
        let event: Value = serde_json::from_str(first.lines().nth(2).unwrap().trim_start_matches("data: ")).unwrap();
        assert_eq!(event["action"], "booking.updated");
        let second = next_text(&mut admin_body).await.unwrap();
        assert!(second.starts_with("id: 4\n"), "the invoice event is filtered out: {second}");
        // The member sees only their own booking event.
        let mine = next_text(&mut member_body).await.unwrap();
        assert!(mine.starts_with("id: 4\n") && mine.contains("booking.deleted"), "{mine}");

        // Reconnecting after seq 1 replays exactly what followed.
        let resumed = open(&admin, Some("1")).await;
        let mut resumed = Box::pin(resumed.into_body());
        next_text(&mut resumed).await.unwrap();
        assert!(next_text(&mut resumed).await.unwrap().starts_with("id: 2\n"));
        assert!(next_text(&mut resumed).await.unwrap().starts_with("id: 4\n"));
        let bad = test::call_service(&app, TestRequest::get().uri("/api/v1/events/stream").insert_header(("authorization", format!("Bearer {admin}"))).insert_header(("last-event-id", "x")).to_request()).await;
        assert_eq!(bad.status(), 400);
    }

    async fn a_manifest_proves_an_export_offline(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 60).await;
        let admin = ctx.token(&ctx.admin);
        let key = ctx.state.notary.verifier().clone();
        let check = |csv: &str, manifest: &str| auditlog_api::exports::check::verify(csv, manifest, &key);
        // A filtered export: a line per exported row, proven against the signed root.
        let (csv, manifest) = export_pair(&app, &admin, "module=invoice&bom=1").await;
        let proof = check(&csv, &manifest).expect("a faithful export verifies");
        assert_eq!(proof.rows, 20);
        assert_eq!((proof.first_seq, proof.last_seq), (2, 59));
        let parsed = Manifest::parse(&manifest);
        assert_eq!(parsed.header["format"], "activity-log-manifest/3");
        assert_eq!(parsed.seqs(), (0..20).map(|i| 2 + 3 * i).collect::<Vec<i64>>());
        // A seq far beyond the head covers up to the head, and says so (it used to fail the
        // manifest halfway, asking for tree nodes that cannot exist).
        let beyond = "/api/v1/events/export?format=manifest&module=invoice&through_seq=1686363556662724608";
        let head = auditlog_db::queries::tenants::get(&mut ctx.pool.get().unwrap(), ctx.acme_id).unwrap().head_seq;
        let (status, headers, far) = download(&app, &admin, beyond).await;
        assert_eq!((status, headers.get("x-through-seq").unwrap().to_str().unwrap()), (200, head.to_string().as_str()));
        let far = String::from_utf8(far).unwrap();
        let (csv_to_head, _) = export_pair(&app, &admin, "module=invoice").await;
        assert_eq!(check(&csv_to_head, &far).expect("it proves the export up to the head").rows, 20);
        // Nothing exported: the end line's nodes alone recompute the root.
        let (empty_csv, empty_manifest) = export_pair(&app, &admin, "module=nothing").await;
        assert_eq!(check(&empty_csv, &empty_manifest).unwrap().rows, 0);
        assert_eq!(Manifest::parse(&empty_manifest).lines.len(), 1);
        // A member's export. With fields withheld from members (the default) a manifest carries no
        // salt and its personal cells cannot be checked (docs/SECURITY.md): here members see every
        // field.
        let everything = auditlog_db::visibility::FieldVisibility {
            ip: auditlog_db::visibility::HiddenFrom::Nobody,
            user_agent: auditlog_db::visibility::HiddenFrom::Nobody,
            ..Default::default()
        };
        auditlog_db::queries::tenants::set_field_visibility(&mut ctx.pool.get().unwrap(), ctx.acme_id, &everything).unwrap();
        let (member_csv, member_manifest) = export_pair(&app, &ctx.token(&ctx.member), "").await;
        assert_eq!(check(&member_csv, &member_manifest).unwrap().rows, 20);
        assert!(!member_manifest.contains("Person 1"), "no content of events the member may not see");
        // With the defaults (IP address and user agent withheld from members) the member's export
        // still proves every row is in the signed tree and unaltered in its plain cells; its
        // personal cells are reported unchecked, and a withheld cell filled in is caught.
        auditlog_db::queries::tenants::set_field_visibility(&mut ctx.pool.get().unwrap(), ctx.acme_id, &Default::default()).unwrap();
        let (member_csv, member_manifest) = export_pair(&app, &ctx.token(&ctx.member), "").await;
        assert!(!member_manifest.contains("\"salt\""), "no salt for a reader with fields withheld");
        let proof = check(&member_csv, &member_manifest).unwrap();
        // Its 20 events and the records of its own two earlier exports.
        assert_eq!((proof.rows, proof.unchecked_personal), (22, 22));
        let (header, rows) = csv_rows(&member_csv);
        let ip = header.iter().position(|h| h == "ip").unwrap();
        assert!(rows.iter().all(|r| r[ip].is_empty()), "the IP cells are blank");
        let mut writer = csv::Writer::from_writer(Vec::new());
        writer.write_record(&header).unwrap();
        for (n, row) in rows.iter().enumerate() {
            let mut row = row.clone();
            if n == 0 {
                row[ip] = "203.0.113.7".into();
            }
            writer.write_record(&row).unwrap();
        }
        let filled = String::from_utf8(writer.into_inner().unwrap()).unwrap();
        assert!(check(&filled, &member_manifest).unwrap_err().contains("withheld"), "a withheld cell filled in");
        let action = header.iter().position(|h| h == "action").unwrap();
        let renamed = member_csv.replacen(&rows[0][action], "booking.deleted", 1);
        assert!(check(&renamed, &member_manifest).is_err(), "a plain cell edited");
        let mut lines: Vec<&str> = member_csv.lines().collect();
        lines.remove(2);
        assert!(check(&lines.join("\n"), &member_manifest).unwrap_err().contains("lacks"));

        // Any alteration is caught: an edited cell, a dropped row.
        let edited = csv.replacen("Event number 4,", "Event number 5,", 1);
        assert!(check(&edited, &manifest).unwrap_err().contains("description"));
        let mut rows: Vec<&str> = csv.lines().collect();
        rows.remove(3);
        assert!(check(&rows.join("\n"), &manifest).unwrap_err().contains("lacks"));
        // A leaf edited, a line dropped, two lines swapped, a gap's hash changed, a gap's node moved
        // to the next gap, the end line cut, or another key.
        let forged = manifest.replacen("\\\"action\\\":\\\"invoice.", "\\\"action\\\":\\\"invoicf.", 1);
        assert_ne!(forged, manifest);
        assert!(check(&csv, &forged).unwrap_err().contains("does not hash"));
        let mut lines = parsed.lines.clone();
        lines.remove(5);
        assert!(check(&csv, &parsed.with_lines(&lines)).is_err(), "a manifest line dropped");
        let mut lines = parsed.lines.clone();
        lines.swap(4, 5);
        let swapped = check(&csv, &parsed.with_lines(&lines)).unwrap_err();
        assert!(swapped.contains("gap") || swapped.contains("out of order"), "{swapped}");
        let (at, node) = parsed.first_gap_node();
        let flipped = format!("{}{}", if node.starts_with('A') { 'B' } else { 'A' }, &node[1..]);
        let mut lines = parsed.lines.clone();
        lines[at]["gap"][0] = json!(flipped);
        assert!(check(&csv, &parsed.with_lines(&lines)).unwrap_err().contains("signed root"));
        let mut lines = parsed.lines.clone();
        let moved = lines[at]["gap"].as_array_mut().unwrap().remove(0);
        lines[at + 1]["gap"].as_array_mut().unwrap().insert(0, moved);
        assert!(check(&csv, &parsed.with_lines(&lines)).unwrap_err().contains("gap"));
        let mut lines = parsed.lines.clone();
        lines[at]["gap"].as_array_mut().unwrap().push(json!(node));
        assert!(check(&csv, &parsed.with_lines(&lines)).unwrap_err().contains("gap"));
        let mut lines = parsed.lines.clone();
        lines.pop();
        assert!(check(&csv, &parsed.with_lines(&lines)).unwrap_err().contains("cut short"));
        let other = auditlog_tlog::note::Signer::generate(LOG_NAME).unwrap().verifier();
        assert!(auditlog_api::exports::check::verify(&csv, &manifest, &other).unwrap_err().contains("checkpoint"));

        // A deleted entry between the exported rows changes nothing they prove.
        let ids = get(&app, &admin, "/api/v1/events?module=booking&per_page=10").await.ids();
        let req = TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"ids": [ids[4]], "reason": "test"}));
        test::call_service(&app, req.to_request()).await;
        let (csv, manifest) = export_pair(&app, &admin, "module=invoice").await;
        assert!(!manifest.contains("\"deleted\""), "only exported events have lines");
        assert_eq!(check(&csv, &manifest).unwrap().rows, 20);
        // An admin's export that holds the deleted entry itself (a blank row) proves too.
        let (csv, manifest) = export_pair(&app, &admin, "module=booking").await;
        assert!(manifest.contains("\"deleted\":true"));
        let proof = check(&csv, &manifest).expect("an export with a deleted entry");
        assert_eq!(proof.rows, 20);
        let filled = csv.replacen(",,,,", ",x,,,", 1);
        assert!(check(&filled, &manifest).is_err(), "content put into a deleted row");

        // Cells neutralised against formulas, in every kind of column, are read back by the
        // export's own rule: the export proves, and an apostrophe added to a safe cell does not.
        let formulas = ["\u{FF1D}1+1", "\u{202E}=1", "\u{200B} @x", "'=1", "''+1", "-1"];
        let events: Vec<Value> = formulas
            .iter()
            .map(|f| {
                json!({
                    "action": "sheet.exported",
                    "actor": {"id": f, "name": f, "email": "=x@example.com", "role": f},
                    "entity": {"type": "sheet", "id": f, "label": f},
                    "description": f,
                    "user_agent": f,
                    "changes": [{"field": "note", "old": f, "new": null}]
                })
            })
            .collect();
        post(&app, &admin, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let (csv, manifest) = export_pair(&app, &admin, "module=sheet").await;
        assert!(csv.contains(",'\u{FF1D}1+1,") && csv.contains(",''=1,") && csv.contains(",'''+1,"), "{csv}");
        let proof = check(&csv, &manifest).expect("neutralised cells verify");
        assert_eq!(proof.rows, formulas.len());
        let quoted = csv.replacen(",sheet,", ",'sheet,", 1);
        assert_ne!(quoted, csv);
        assert!(check(&quoted, &manifest).unwrap_err().contains("module"));
    }

    async fn an_export_survives_any_stored_slug(ctx: Ctx) {
        let app = ctx.app().await;
        seed(&app, &ctx, 3).await;
        let admin = ctx.token(&ctx.admin);
        // A slug stored before the slug rule, as only SQL can write it now: a quote, a newline,
        // non-ASCII and path separators.
        let owner = ctx.db.owner_pool(1);
        let mut conn = owner.get().unwrap();
        diesel::update(auditlog_db::schema::tenants::table.find(ctx.acme_id))
            .set(auditlog_db::schema::tenants::slug.eq("ac\"me\n\u{FC}\\x/y"))
            .execute(&mut conn)
            .unwrap();
        for format in ["csv", "pdf"] {
            let (status, headers, body) = download(&app, &admin, &format!("/api/v1/events/export?format={format}")).await;
            assert_eq!(status, 200, "{format}: {}", String::from_utf8_lossy(&body));
            let disposition = headers.get("content-disposition").unwrap().to_str().unwrap();
            assert!(disposition.starts_with("attachment; filename=\"ac_me___x_y_activity_"), "{disposition}");
            assert!(disposition.contains("\"; filename*=UTF-8''ac%22me_%C3%BC_x_y_activity_"), "{disposition}");
            assert!(disposition.ends_with(&format!(".{format}")), "{disposition}");
            assert_eq!(disposition.matches('"').count(), 2, "{disposition}");
        }
        let (_, _, body) = download(&app, &admin, "/api/v1/events/export?format=csv").await;
        assert_eq!(csv_rows(std::str::from_utf8(&body).unwrap()).1.len(), 3 + 2, "the events and both exports");
    }

    async fn manifests_and_proofs_answer_only_for_visible_events(ctx: Ctx) {
        let app = ctx.app().await;
        let admin = ctx.token(&ctx.admin);
        // Every field shown to every role, so that each role's export verifies in full (a manifest
        // with fields withheld carries no salt: field_visibility_api.rs).
        let everything = auditlog_db::visibility::FieldVisibility {
            ip: auditlog_db::visibility::HiddenFrom::Nobody,
            user_agent: auditlog_db::visibility::HiddenFrom::Nobody,
            ..Default::default()
        };
        auditlog_db::queries::tenants::set_field_visibility(&mut ctx.pool.get().unwrap(), ctx.acme_id, &everything).unwrap();
        // The member's own events (u1) between others' (s2), admin-private ones (x7, an admin by
        // role) and, later, a deleted one of the member's.
        let actors = ["u1", "s2", "x7", "s2", "u1", "x7", "x7", "s2", "s2", "u1", "x7", "u1", "s2", "u1", "x7", "x7", "x7", "u1"];
        let events: Vec<Value> = actors
            .iter()
            .enumerate()
            .map(|(i, actor)| {
                let role = if *actor == "x7" { json!("admin") } else { json!(null) };
                json!({"action": "booking.updated", "actor": {"id": actor, "name": format!("Name of {actor}"), "role": role},
                       "entity": {"type": "booking", "id": format!("{i}"), "label": format!("Label {i} only")},
                       "description": format!("Event {i}")})
            })
            .collect();
        let ids = post(&app, &admin, "/api/v1/events", &json!({"events": events})).await.expect(201).ids();
        let req = TestRequest::delete().uri("/api/v1/events").insert_header(("authorization", format!("Bearer {admin}"))).set_json(json!({"ids": [ids[9]], "reason": "test"}));
        assert_eq!(test::call_service(&app, req.to_request()).await.status(), 200);
        post(&app, &admin, "/api/v1/events", &json!({"action": "booking.updated", "actor": {"id": "s2", "name": "Name of s2"}})).await.expect(201);
        let key = ctx.state.notary.verifier().clone();
        for (who, user) in [("member", &ctx.member), ("manager", &ctx.manager), ("admin", &ctx.admin)] {
            let token = ctx.token(user);
            // Every event and what the role sees, through the list (read before exporting: each
            // export is an event itself, after the export's end).
            let all = get(&app, &admin, "/api/v1/events?per_page=100").await.expect(200).body;
            let hash_of: std::collections::HashMap<i64, String> = all["items"].as_array().unwrap().iter()
                .map(|e| (e["seq"].as_i64().unwrap(), e["hash"].as_str().unwrap().to_string()))
                .collect();
            let listed = get(&app, &token, "/api/v1/events?per_page=100").await.expect(200).body;
            let mut visible: Vec<i64> = listed["items"].as_array().unwrap().iter().map(|e| e["seq"].as_i64().unwrap()).collect();
            visible.sort_unstable();
            let hidden: Vec<i64> = (1..=hash_of.len() as i64).filter(|s| !visible.contains(s)).collect();
            let (csv, manifest) = export_pair(&app, &token, "").await;
            let parsed = Manifest::parse(&manifest);
            let size = parsed.checkpoint_size();
            if who != "admin" {
                assert!(hidden.len() >= 8, "{who}: the fixture hides events between the visible ones: {hidden:?}");
            }
            // Exactly a line per exported row, the header's count says so, nothing of any other seq.
            let rows = csv_rows(&csv).1;
            let mut exported: Vec<i64> = rows.iter().map(|r| r[1].parse().unwrap()).collect();
            exported.sort_unstable();
            assert_eq!(exported, visible, "{who}: the CSV holds what the role sees");
            assert_eq!(parsed.seqs(), visible, "{who}: a line per exported row, no other seq");
            assert_eq!(parsed.header["exported"], json!(visible.len()), "{who}");
            let keys: Vec<&str> = parsed.header.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(keys, ["checkpoint", "exported", "filters", "format", "generated_at", "tenant", "tenant_id"], "{who}");
            for line in &parsed.lines {
                let allowed = ["seq", "hash", "leaf", "salt", "legacy", "prev_hash", "deleted", "withheld", "gap", "end"];
                assert!(line.as_object().unwrap().keys().all(|k| allowed.contains(&k.as_str())), "{who}: {line}");
                if let Some(seq) = line["seq"].as_i64() {
                    assert_eq!(line["hash"].as_str(), hash_of.get(&seq).map(String::as_str), "{who}: its own hash");
                }
            }
            // The gaps hold opaque hashes only, as many as the exported rows' places and the
            // checkpoint's size call for.
            let mut previous = None;
            for line in &parsed.lines {
                let here = line["seq"].as_i64().map(|s| s as u64 - 1);
                let gap = line["gap"].as_array().unwrap();
                assert_eq!(gap.len(), auditlog_tlog::merkle::multi_inclusion_gap(previous, here, size).len(), "{who}");
                for node in gap {
                    assert_eq!(BASE64.decode(node.as_str().unwrap()).unwrap().len(), 32, "{who}: {node}");
                }
                previous = here;
            }
            for seq in &hidden {
                assert!(!manifest.contains(&hash_of[seq]) || visible.contains(&(seq + 1)), "{who}: the hash of seq {seq} appears outside the leaf that follows it");
                let label = format!("Label {} only", seq - 1);
                assert!(!manifest.contains(&label) && !csv.contains(&label), "{who}: content of seq {seq}");
            }
            let proof = auditlog_api::exports::check::verify(&csv, &manifest, &key).unwrap_or_else(|e| panic!("{who}: {e}"));
            assert_eq!(proof.rows, visible.len(), "{who}");
            // Tampering fails for every role: a row edited, a row dropped, two lines swapped.
            let edited = csv.replacen("Event ", "Evend ", 1);
            assert!(auditlog_api::exports::check::verify(&edited, &manifest, &key).is_err(), "{who}: edited");
            let mut lines: Vec<&str> = csv.lines().collect();
            lines.remove(1);
            assert!(auditlog_api::exports::check::verify(&lines.join("\n"), &manifest, &key).is_err(), "{who}: dropped");
            let mut swapped = parsed.lines.clone();
            swapped.swap(0, 1);
            assert!(auditlog_api::exports::check::verify(&csv, &parsed.with_lines(&swapped), &key).is_err(), "{who}: swapped");
        }
        // A proof, like the event itself, only for whoever may see the event.
        let member = ctx.token(&ctx.member);
        let manager = ctx.token(&ctx.manager);
        for (token, id, status) in [
            (&member, ids[0], 200), (&member, ids[1], 404), (&member, ids[2], 404), (&member, ids[9], 404),
            (&manager, ids[1], 200), (&manager, ids[2], 404), (&manager, ids[9], 404),
            (&admin, ids[2], 200), (&admin, ids[9], 200),
        ] {
            let reply = get(&app, token, &format!("/api/v1/events/{id}/proof")).await;
            assert_eq!(reply.status.as_u16(), status, "proof of {id}: {}", reply.body);
            if status == 404 {
                assert!(!reply.body.to_string().contains("seq"), "a 404 says nothing of the event: {}", reply.body);
            }
        }
        // Counts answer for the visible events only: the member's own, the fixture's five left
        // and the member's two exports.
        assert_eq!(get(&app, &member, "/api/v1/events?per_page=100").await.ids().len(), 7);
        let actors = get(&app, &member, "/api/v1/facets/actors").await.expect(200).body;
        assert_eq!(actors["items"].as_array().unwrap().iter().map(|a| (a["id"].clone(), a["count"].clone())).collect::<Vec<_>>(), [(json!("u1"), json!(7))]);
        assert_eq!(get(&app, &member, "/api/v1/stats/timeline?range=today&tz=UTC").await.expect(200).body["total"], 7);
    }
}

/// A manifest split into its header and its other lines (event lines, then the end line).
struct Manifest {
    header: Value,
    lines: Vec<Value>,
}

impl Manifest {
    fn parse(text: &str) -> Self {
        let mut values = text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap());
        let header = values.next().unwrap();
        let lines: Vec<Value> = values.collect();
        assert_eq!(lines.last().unwrap()["end"], true, "the last line ends the manifest");
        Manifest { header, lines }
    }

    fn seqs(&self) -> Vec<i64> {
        self.lines.iter().filter_map(|l| l["seq"].as_i64()).collect()
    }

    fn checkpoint_size(&self) -> u64 {
        self.header["checkpoint"].as_str().unwrap().lines().nth(1).unwrap().parse().unwrap()
    }

    /// The first event line with a proof node in its gap (not the last event line), and the node.
    fn first_gap_node(&self) -> (usize, String) {
        let at = (0..self.lines.len() - 2)
            .find(|i| !self.lines[*i]["gap"].as_array().unwrap().is_empty())
            .unwrap();
        (at, self.lines[at]["gap"][0].as_str().unwrap().to_string())
    }

    fn with_lines(&self, lines: &[Value]) -> String {
        std::iter::once(&self.header).chain(lines).map(|l| l.to_string() + "\n").collect()
    }
}

/// A CSV export and its manifest for the same filters and `X-Through-Seq`.
async fn export_pair<S, B>(app: &S, token: &str, query: &str) -> (String, String)
where
    S: actix_web::dev::Service<
        actix_http::Request,
        Response = actix_web::dev::ServiceResponse<B>,
        Error = actix_web::Error,
    >,
    B: MessageBody,
{
    let (_, csv_headers, csv) =
        download(app, token, &format!("/api/v1/events/export?format=csv&{query}")).await;
    let through = csv_headers.get("x-through-seq").unwrap().to_str().unwrap().to_string();
    let (status, headers, manifest) =
        download(app, token, &format!("/api/v1/events/export?format=manifest&through_seq={through}&{query}"))
            .await;
    assert_eq!(status, 200);
    assert_eq!(headers.get("content-type").unwrap(), "application/x-ndjson");
    (String::from_utf8(csv).unwrap(), String::from_utf8(manifest).unwrap())
}
