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
