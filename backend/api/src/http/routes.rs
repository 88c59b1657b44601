//! The route table: every handler under `/api/v1`, each carrying its own `#[utoipa::path]`.

use utoipa_actix_web::service_config::ServiceConfig;

/// Everything under `/api/v1`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(crate::accounts::sign_in::login)
        .service(crate::accounts::sign_in::me)
        .service(crate::accounts::sign_in::logout)
        .service(crate::accounts::sign_in::change_password)
        .service(crate::accounts::users::list)
        .service(crate::accounts::users::create)
        .service(crate::accounts::users::update)
        .service(crate::accounts::tokens::list)
        .service(crate::accounts::tokens::create)
        .service(crate::accounts::tokens::revoke)
        .service(crate::integrity::routes::verify)
        .service(crate::integrity::routes::status)
        .service(crate::integrity::routes::public_key)
        .service(crate::integrity::routes::latest_checkpoint)
        .service(crate::integrity::routes::checkpoints)
        .service(crate::integrity::routes::consistency)
        .service(crate::review::routes::get_settings)
        .service(crate::review::routes::set_settings)
        .service(crate::review::routes::summary)
        .service(crate::retention::routes::get_retention)
        .service(crate::retention::routes::set_retention)
        .service(crate::retention::routes::list_archives)
        .service(crate::retention::routes::download_archive)
        .service(crate::events::routes::ingest)
        .service(crate::exports::routes::export)
        .service(crate::stream::routes::stream)
        .service(crate::aggregates::stats::timeline)
        .service(crate::events::routes::list)
        .service(crate::events::routes::delete_events)
        .service(crate::integrity::routes::inclusion)
        .service(crate::events::routes::get)
        .service(crate::events::routes::history)
        .service(crate::aggregates::facets::actors)
        .service(crate::aggregates::facets::modules)
        .service(crate::aggregates::facets::actions);
}
