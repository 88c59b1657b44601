//! One module per resource. Each handler carries its own `#[utoipa::path]`.

pub mod auth;
pub mod entities;
pub mod events;
pub mod exports;
pub mod facets;
pub mod health;
pub mod integrity;
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
        .service(integrity::verify)
        .service(retention::get_retention)
        .service(retention::set_retention)
        .service(retention::list_archives)
        .service(retention::download_archive)
        .service(events::ingest)
        .service(exports::export)
        .service(stream::stream)
        .service(stats::timeline)
        .service(events::list)
        .service(events::delete_events)
        .service(events::get)
        .service(entities::history)
        .service(facets::actors)
        .service(facets::modules)
        .service(facets::actions);
}
