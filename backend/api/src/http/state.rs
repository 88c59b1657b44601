use auditlog_db::TenantId;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{web, HttpResponse};
use auditlog_db::checkpoints::Notary;
use auditlog_db::connection::DbConnection;
use auditlog_db::visibility::Viewer;
use auditlog_db::DbPool;
use serde::Serialize;
use tokio::sync::watch;

use crate::aggregates::{json_body, Read, ReadCache};
use crate::auth::credentials::JwtKeys;
use crate::config::Settings;
use crate::http::error::ApiError;
use crate::http::metrics::Metrics;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub pool: DbPool,
    pub keys: Arc<JwtKeys>,
    pub settings: Arc<Settings>,
    /// Signs checkpoints and keeps their logs.
    pub notary: Arc<Notary>,
    /// Facet counts and the activity chart, computed once per distinct request, and estimated
    /// page totals, answered again for a short while.
    pub reads: Arc<ReadCache>,
    /// Bumped whenever this process stores events, so live tails look without waiting.
    events_stored: Arc<watch::Sender<u64>>,
    /// Live streams open now, per caller and per tenant.
    pub streams: Arc<StreamSlots>,
    /// What `GET /metrics` reports.
    pub metrics: Arc<Metrics>,
}

/// Counts the live streams open in this process, per caller and per tenant, so that one of
/// either cannot hold every worker and connection.
#[derive(Default)]
pub struct StreamSlots {
    open: std::sync::Mutex<std::collections::HashMap<String, usize>>,
}

/// One open stream; its counts are given back when it is dropped (the stream ended or the client
/// went away).
pub struct StreamSlot {
    slots: Arc<StreamSlots>,
    keys: [String; 2],
}

impl StreamSlots {
    /// A slot for a stream of `caller` in `tenant_id`, or 429 when either has its limit open.
    pub fn open(
        self: &Arc<Self>,
        tenant_id: TenantId,
        caller: &str,
        per_caller: usize,
        per_tenant: usize,
    ) -> Result<StreamSlot, ApiError> {
        let keys = [format!("caller:{tenant_id}:{caller}"), format!("tenant:{tenant_id}")];
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let count = |key: &str| open.get(key).copied().unwrap_or(0);
        let refused = if count(&keys[0]) >= per_caller {
            Some(format!("you have {per_caller} live streams open already: close one first"))
        } else if count(&keys[1]) >= per_tenant {
            Some(format!("this tenant has {per_tenant} live streams open already: close one first"))
        } else {
            None
        };
        if let Some(detail) = refused {
            return Err(ApiError::TooManyRequests { detail, retry_after: 10 });
        }
        for key in &keys {
            *open.entry(key.clone()).or_insert(0) += 1;
        }
        Ok(StreamSlot { slots: self.clone(), keys })
    }

    /// Streams open now for `caller` of `tenant_id`.
    pub fn open_for(&self, tenant_id: TenantId, caller: &str) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.get(&format!("caller:{tenant_id}:{caller}")).copied().unwrap_or(0)
    }

    /// Streams open now in this process, every tenant's.
    pub fn total(&self) -> usize {
        let open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        open.iter().filter(|(key, _)| key.starts_with("tenant:")).map(|(_, count)| count).sum()
    }
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            if let Some(count) = open.get_mut(key) {
                *count -= 1;
                if *count == 0 {
                    open.remove(key);
                }
            }
        }
    }
}

impl AppState {
    pub fn new(pool: DbPool, keys: JwtKeys, notary: Notary, settings: Settings) -> Self {
        AppState {
            pool,
            notary: Arc::new(notary),
            reads: Arc::new(ReadCache::new(
                settings.db_pool_size,
                Duration::from_secs(settings.estimate_reuse_seconds),
            )),
            keys: Arc::new(keys),
            settings: Arc::new(settings),
            events_stored: Arc::new(watch::channel(0).0),
            streams: Arc::default(),
            metrics: Arc::default(),
        }
    }

    /// Runs blocking database work on the thread pool, with a pooled connection.
    pub async fn db<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        F: FnOnce(&mut DbConnection) -> Result<T, ApiError> + Send + 'static,
        T: Send + 'static,
    {
        let (pool, metrics) = (self.pool.clone(), self.metrics.clone());
        // A child of the request's span, entered on the blocking thread: what the work logs
        // carries the request's id, and at debug level each call says how long it took.
        let span = tracing::debug_span!("db");
        web::block(move || {
            let _entered = span.enter();
            let waited = pool.state().idle_connections == 0;
            let asked = std::time::Instant::now();
            let conn = pool.get();
            let wait = asked.elapsed();
            metrics.pool_get(waited, wait, conn.is_err());
            let mut conn = conn.map_err(|e| ApiError::Unavailable(e.to_string()))?;
            let started = std::time::Instant::now();
            let result = work(&mut conn);
            tracing::debug!(
                wait_ms = wait.as_secs_f64() * 1000.0,
                elapsed_ms = started.elapsed().as_secs_f64() * 1000.0,
                ok = result.is_ok(),
                "database call"
            );
            result
        })
        .await
        .map_err(|e| ApiError::internal(format!("blocking task failed: {e}")))?
    }

    /// A dashboard aggregate as `viewer` sees it: `work` runs on a pooled connection unless the
    /// answer is shared (see [`crate::aggregates`]), perhaps after this response, to refresh a
    /// stale one; `read` names the aggregate and everything it depends on.
    pub async fn aggregate<T, F>(&self, viewer: Viewer, read: Read, work: F) -> Result<HttpResponse, ApiError>
    where
        F: FnOnce(&mut DbConnection, &Viewer) -> Result<T, ApiError> + Send + 'static,
        T: Serialize + Send + 'static,
    {
        let state = self.clone();
        let kind = match read {
            Read::Timeline { .. } => "chart",
            _ => "facets",
        };
        let key = read.by(&viewer);
        let served = self
            .reads
            .get(key, move || async move { json_body(&state.db(move |conn| work(conn, &viewer)).await?) })
            .await?;
        self.metrics.read(kind, served.age.is_some());
        Ok(served.respond())
    }

    /// Tells live tails that new events are stored.
    pub fn announce_events(&self) {
        self.events_stored.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver that wakes when [`announce_events`](Self::announce_events) is called.
    pub fn watch_events(&self) -> watch::Receiver<u64> {
        self.events_stored.subscribe()
    }
}
