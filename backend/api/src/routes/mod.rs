//! One module per resource. Each handler carries its own `#[utoipa::path]`.

pub mod auth;
pub mod exports;
pub mod facets;
pub mod health;
pub mod retention;
pub mod stats;
pub mod stream;
pub mod tokens;
pub mod users;

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(auth::login)
        .service(auth::me)
        .service(auth::logout)
        .service(auth::change_password)
        .service(users::list)
        .service(users::create)
        .service(users::update)
        .service(tokens::list)
        .service(tokens::create)
        .service(tokens::revoke)
        .service(crate::integrity::routes::verify)
        .service(crate::integrity::routes::status)
        .service(crate::integrity::routes::public_key)
        .service(crate::integrity::routes::latest_checkpoint)
        .service(crate::integrity::routes::checkpoints)
        .service(crate::integrity::routes::consistency)
        .service(retention::get_retention)
        .service(retention::set_retention)
        .service(retention::list_archives)
        .service(retention::download_archive)
        .service(crate::events::routes::ingest)
        .service(exports::export)
        .service(stream::stream)
        .service(stats::timeline)
        .service(crate::events::routes::list)
        .service(crate::events::routes::delete_events)
        .service(crate::integrity::routes::inclusion)
        .service(crate::events::routes::get)
        .service(crate::events::routes::history)
        .service(facets::actors)
        .service(facets::modules)
        .service(facets::actions);
}
