use std::sync::Arc;

use actix_web::web;
use auditlog_db::connection::DbConnection;
use auditlog_db::DbPool;

use crate::auth::JwtKeys;
use crate::config::Settings;
use crate::error::ApiError;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
}

impl AppState {
    /// Runs blocking database work on the thread pool, with a pooled connection.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        web::block(move || {
            let mut conn = pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
            work(&mut conn)
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }
}
