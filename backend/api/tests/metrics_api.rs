//! `GET /metrics`: the Prometheus text a scraper reads, what it counts, who may read it, and that
//! no label carries a tenant or anything a client sent.

mod common;

use std::collections::HashMap;

use actix_web::test;
use common::*;
use serde_json::json;

/// The samples of a text exposition: `name{labels}` → value. Every line must be a comment or a
/// sample, as Prometheus' parser requires.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines().filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix("# ") {
            assert!(comment.starts_with("HELP ") || comment.starts_with("TYPE "), "odd comment: {line}");
            continue;
        }
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("not a number: {line}"));
        assert!(out.insert(series.to_string(), value).is_none(), "a series twice: {series}");
    }
    out
}

async fn scrape<B: actix_web::body::MessageBody>(
    app: &impl TestApp<B>,
    token: Option<&str>,
) -> (u16, String) {
    let mut req = test::TestRequest::get().uri("/metrics");
    if let Some(token) = token {
        req = req.insert_header(("authorization", format!("Bearer {token}")));
    }
    let reply = send(app, req).await;
    if reply.status == 200 {
        assert!(reply.content_type().starts_with("text/plain; version=0.0.4"), "{}", reply.content_type());
    }
    (reply.status.as_u16(), reply.body.as_str().map(str::to_string).unwrap_or_default())
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    samples.get(series).copied().unwrap_or(0.0)
}

both_backends! {
    async fn requests_ingest_and_reads_are_counted_by_template_never_by_tenant(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let before = samples(&scrape(&app, None).await.1);
        let events: Vec<_> = (0..3)
            .map(|i| json!({"action": "booking.updated", "entity": {"type": "booking", "id": i}}))
            .collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let id = get(&app, &token, "/api/v1/events?per_page=10").await.expect(200).ids()[0];
        get(&app, &token, &format!("/api/v1/events/{id}")).await.expect(200);
        get(&app, &token, "/api/v1/events/999999999").await.expect(404);
        get(&app, &token, "/api/v1/facets/modules").await.expect(200);
        get(&app, &token, "/api/v1/facets/modules").await.expect(200);
        get(&app, &token, "/api/v1/no-such-thing/acme-secret").await.expect(404);

        let (status, text) = scrape(&app, None).await;
        assert_eq!(status, 200);
        let after = samples(&text);
        let delta = |series: &str| value(&after, series) - value(&before, series);
        assert_eq!(delta(r#"auditlog_http_requests_total{method="POST",route="/api/v1/events",status="201"}"#), 1.0);
        assert_eq!(delta(r#"auditlog_http_requests_total{method="GET",route="/api/v1/events/{id}",status="200"}"#), 1.0);
        assert_eq!(delta(r#"auditlog_http_requests_total{method="GET",route="/api/v1/events/{id}",status="404"}"#), 1.0);
        assert_eq!(delta(r#"auditlog_http_requests_total{method="GET",route="unmatched",status="404"}"#), 1.0);
        assert_eq!(
            delta(r#"auditlog_http_request_duration_seconds_count{method="GET",route="/api/v1/events/{id}",status="200"}"#),
            1.0
        );
        assert_eq!(
            value(&after, r#"auditlog_http_request_duration_seconds_bucket{method="GET",route="/api/v1/events/{id}",status="200",le="+Inf"}"#),
            value(&after, r#"auditlog_http_request_duration_seconds_count{method="GET",route="/api/v1/events/{id}",status="200"}"#),
        );
        assert_eq!(delta(r#"auditlog_events_ingested_total{tenant_size="small"}"#), 3.0);
        assert_eq!(delta("auditlog_ingest_batch_events_count"), 1.0);
        assert_eq!(delta("auditlog_ingest_batch_events_sum"), 3.0);
        // Each facet read is counted, computed or kept (a quick answer is not kept).
        assert_eq!(
            delta(r#"auditlog_read_cache_total{kind="facets",outcome="miss"}"#)
                + delta(r#"auditlog_read_cache_total{kind="facets",outcome="hit"}"#),
            2.0
        );
        // Nothing a client sent or a tenant's id becomes a label.
        let labels: Vec<&str> = after
            .keys()
            .filter_map(|series| series.split_once('{').map(|(_, labels)| labels.trim_end_matches('}')))
            .flat_map(|labels| labels.split(','))
            .filter_map(|pair| pair.split_once('='))
            .filter(|(name, _)| *name != "le")
            .map(|(_, v)| v.trim_matches('"'))
            .collect();
        for value in ["acme", "no-such-thing", "/api/v1/no-such-thing/acme-secret", "999999999", &ctx.acme_id.get().to_string()] {
            assert!(!labels.contains(&value), "{value} is a label value");
        }
        assert!(!text.contains("acme"), "a tenant's name in the metrics");
        assert!(value(&after, "auditlog_db_pool_max_connections") >= 1.0);
        assert!(value(&after, "auditlog_db_pool_wait_seconds_count") > value(&before, "auditlog_db_pool_wait_seconds_count"));
    }

    async fn exports_streams_and_throttled_sign_ins_are_counted(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let events: Vec<_> = (0..4).map(|i| json!({"action": "invoice.sent", "entity": {"type": "invoice", "id": i}})).collect();
        post(&app, &token, "/api/v1/events", &json!({"events": events})).await.expect(201);
        let before = samples(&scrape(&app, None).await.1);
        let response = test::call_service(
            &app,
            test::TestRequest::get()
                .uri("/api/v1/events/export?format=csv&action=invoice.sent")
                .insert_header(("authorization", format!("Bearer {token}")))
                .to_request(),
        )
        .await;
        assert_eq!(response.status(), 200);
        let csv = test::read_body(response).await;
        // The export's job counts once the body is sent; it logs itself after the last chunk.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        let after = loop {
            let now = samples(&scrape(&app, None).await.1);
            if value(&now, r#"auditlog_export_rows_total{format="csv"}"#) > value(&before, r#"auditlog_export_rows_total{format="csv"}"#)
                || std::time::Instant::now() > deadline
            {
                break now;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        let delta = |series: &str| value(&after, series) - value(&before, series);
        assert_eq!(delta(r#"auditlog_export_rows_total{format="csv"}"#), 4.0);
        assert_eq!(delta(r#"auditlog_export_bytes_total{format="csv"}"#), csv.len() as f64);

        // A guessing burst: the throttle refuses some sign-ins with 429, each counted.
        let mut refused = 0.0;
        for _ in 0..12 {
            let reply = send(&app, test::TestRequest::post().uri("/api/v1/auth/login").set_json(
                json!({"email": "admin@acme.test", "password": "wrong guess of a password"}),
            ))
            .await;
            if reply.status == 429 {
                refused += 1.0;
            }
        }
        assert!(refused > 0.0, "the throttle never answered 429");
        let last = samples(&scrape(&app, None).await.1);
        assert_eq!(value(&last, "auditlog_sign_ins_throttled_total") - value(&after, "auditlog_sign_ins_throttled_total"), refused);
        assert_eq!(value(&last, "auditlog_streams_open"), 0.0);
    }

    async fn a_verification_sets_the_last_result(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        let first = samples(&scrape(&app, None).await.1);
        assert_eq!(value(&first, "auditlog_verification_last_ok"), -1.0, "before any run");
        post(&app, &token, "/api/v1/events", &json!({"action": "booking.created"})).await.expect(201);
        get(&app, &token, "/api/v1/integrity/verify").await.expect(200);
        let after = samples(&scrape(&app, None).await.1);
        assert_eq!(value(&after, r#"auditlog_verifications_total{result="ok",trigger="request"}"#), 1.0);
        assert_eq!(value(&after, "auditlog_verification_last_ok"), 1.0);
        assert!(value(&after, "auditlog_verification_last_timestamp_seconds") > 1.7e9);
    }
}

#[actix_web::test]
async fn a_metrics_token_is_required_once_set() {
    let ctx = Ctx::with(auditlog_db::Backend::Sqlite, |s| s.metrics_token = Some("scrape-secret-1".into()));
    let app = ctx.app().await;
    assert_eq!(scrape(&app, None).await.0, 401);
    assert_eq!(scrape(&app, Some("scrape-secret-2")).await.0, 401);
    // A user's access token is not the metrics token.
    assert_eq!(scrape(&app, Some(&ctx.token(&ctx.admin))).await.0, 401);
    let (status, text) = scrape(&app, Some("scrape-secret-1")).await;
    assert_eq!(status, 200);
    assert!(text.contains("auditlog_http_requests_total"), "{text}");
    // Not the dashboard, and not a problem under a path below it either.
    let below = test::call_service(&app, test::TestRequest::get().uri("/metrics/extra").to_request()).await;
    assert_eq!(below.status(), 404);
}

/// Two scrapes while requests run in parallel from threads against a real server: every series
/// still parses, and counts only grow.
#[actix_web::test]
async fn scrapes_during_parallel_requests_parse_and_only_grow() {
    let ctx = Ctx::new(auditlog_db::Backend::Sqlite);
    let served = ctx.serve().await;
    let token = ctx.token(&ctx.admin);
    let url = served.url.clone();
    let scrape = |url: &str| ureq::get(&format!("{url}/metrics")).call().unwrap().into_string().unwrap();
    let first = samples(&scrape(&url));
    let workers: Vec<_> = (0..4)
        .map(|i| {
            let (url, token) = (url.clone(), token.clone());
            std::thread::spawn(move || {
                for j in 0..10 {
                    let body = json!({"action": "booking.updated", "entity": {"type": "booking", "id": i * 100 + j}});
                    let (status, _) = call("POST", &format!("{url}/api/v1/events"), Some(&token), Some(&body));
                    assert_eq!(status, 201);
                }
            })
        })
        .collect();
    let during = samples(&scrape(&url));
    for worker in workers {
        worker.join().unwrap();
    }
    let last = samples(&scrape(&url));
    for (series, value) in &first {
        if series.contains("_total") || series.ends_with("_count") {
            assert!(during.get(series).is_some_and(|v| v >= value), "{series} went down");
        }
    }
    assert_eq!(
        value(&last, r#"auditlog_events_ingested_total{tenant_size="small"}"#)
            - value(&first, r#"auditlog_events_ingested_total{tenant_size="small"}"#),
        40.0
    );
}

/// The shipped Grafana dashboard reads only series the server has: a renamed metric would leave
/// a panel silently empty.
#[actix_web::test]
async fn the_grafana_dashboard_reads_only_series_that_exist() {
    let ctx = Ctx::new(auditlog_db::Backend::Sqlite);
    let app = ctx.app().await;
    // Request series exist once a request was answered (the first scrape is counted after it).
    scrape(&app, None).await;
    let text = scrape(&app, None).await.1;
    let declared: Vec<&str> =
        text.lines().filter_map(|l| l.strip_prefix("# TYPE ")).filter_map(|l| l.split(' ').next()).collect();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/activity-log.json");
    let dashboard: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut used = Vec::new();
    for panel in dashboard["panels"].as_array().unwrap() {
        for target in panel["targets"].as_array().unwrap() {
            let expr = target["expr"].as_str().unwrap();
            let mut rest = expr;
            while let Some(at) = rest.find("auditlog_") {
                let name: String =
                    rest[at..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                rest = &rest[at + name.len()..];
                let base = ["_bucket", "_count", "_sum"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix).filter(|b| declared.contains(b)))
                    .unwrap_or(&name)
                    .to_string();
                used.push(base);
            }
        }
    }
    assert!(used.len() > 15, "the dashboard reads {} series", used.len());
    for name in &used {
        assert!(
            declared.contains(&name.as_str()),
            "the dashboard reads {name}, which the server does not have"
        );
    }
}
