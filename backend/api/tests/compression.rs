//! Responses are compressed for clients that accept it, except what is compressed already or
//! must arrive event by event.

mod common;

use std::io::Read;

use actix_web::test::{call_service, read_body, TestRequest};
use common::*;
use serde_json::json;

both_backends! {
    async fn text_is_compressed_and_files_and_streams_are_not(ctx: Ctx) {
        let app = ctx.app().await;
        let token = ctx.token(&ctx.admin);
        post(&app, &token, "/api/v1/events", &json!({"action": "booking.created", "entity": {"type": "booking", "id": 1}}))
            .await
            .expect(201);
        let ask = |uri: &str| {
            TestRequest::get()
                .uri(uri)
                .insert_header(("authorization", format!("Bearer {token}")))
                .insert_header(("accept-encoding", "gzip"))
                .to_request()
        };

        let plain = read_body(call_service(&app, TestRequest::get().uri("/openapi.json").to_request()).await).await;
        let response = call_service(&app, ask("/openapi.json")).await;
        assert_eq!(response.headers().get("content-encoding").unwrap(), "gzip");
        let gzipped = read_body(response).await;
        assert!(gzipped.len() * 3 < plain.len(), "{} of {} bytes", gzipped.len(), plain.len());
        let mut unzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzipped[..]).read_to_end(&mut unzipped).unwrap();
        assert_eq!(unzipped, plain.to_vec());

        let list = call_service(&app, ask("/api/v1/events?per_page=10")).await;
        assert_eq!(list.headers().get("content-encoding").unwrap(), "gzip");

        let pdf = call_service(&app, ask("/api/v1/events/export?format=pdf")).await;
        assert_eq!(pdf.status(), 200);
        assert!(pdf.headers().get("content-encoding").is_none(), "a PDF compressed again");
        assert!(read_body(pdf).await.starts_with(b"%PDF"));

        let stream = call_service(&app, ask("/api/v1/events/stream")).await;
        assert_eq!(stream.status(), 200);
        assert!(stream.headers().get("content-type").unwrap().to_str().unwrap().starts_with("text/event-stream"));
        assert!(stream.headers().get("content-encoding").is_none(), "a live stream held back by compression");
    }
}

/// The dashboard's hashed assets are kept by browsers for a year and compressed; `index.html`,
/// which names them, is asked for again each time.
#[actix_web::test]
async fn hashed_assets_are_cached_long_and_the_page_not_at_all() {
    let dist = unique_dir("dist");
    std::fs::create_dir_all(dist.join("assets")).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><script src=\"/assets/index-3f2a9c.js\"></script>",
    )
    .unwrap();
    let script = "export const answer = 42;\n".repeat(200);
    std::fs::write(dist.join("assets/index-3f2a9c.js"), &script).unwrap();
    let ctx = Ctx::with(auditlog_db::Backend::Sqlite, |s| s.static_dir = dist.clone());
    let app = ctx.app().await;
    let asset = call_service(
        &app,
        TestRequest::get()
            .uri("/assets/index-3f2a9c.js")
            .insert_header(("accept-encoding", "gzip"))
            .to_request(),
    )
    .await;
    assert_eq!(asset.status(), 200);
    assert_eq!(asset.headers().get("cache-control").unwrap(), "public, max-age=31536000, immutable");
    assert_eq!(asset.headers().get("content-encoding").unwrap(), "gzip");
    let mut unzipped = String::new();
    flate2::read::GzDecoder::new(&read_body(asset).await[..]).read_to_string(&mut unzipped).unwrap();
    assert_eq!(unzipped, script);
    for page in ["/", "/activity?module=booking"] {
        let index = call_service(&app, TestRequest::get().uri(page).to_request()).await;
        assert_eq!(index.status(), 200, "{page}");
        assert_eq!(index.headers().get("cache-control").unwrap(), "no-cache", "{page}");
    }
    let missing = call_service(&app, TestRequest::get().uri("/assets/gone-000000.js").to_request()).await;
    assert_eq!(missing.status(), 404);
}
