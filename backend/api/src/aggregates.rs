//! The dashboard's aggregates (facet counts for the filter pickers, the activity chart) read many
//! rows on a large tenant. Each distinct request — same viewer visibility, same query — is
//! computed by one caller at a time, and whoever waited for it gets that answer (it was computed
//! while they waited); aggregates together use at most half of the database pool, so lists and
//! ingest always find a connection; and an answer that took long to compute is reused for a
//! while: [`REUSE_AFTER`] or more of work buys twenty times that, between 5 and 60 seconds.
//! Quick answers are not reused by later requests, so on a small tenant every answer is current.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use auditlog_db::visibility::Viewer;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::error::ApiError;

/// Computations at least this slow are reused.
pub const REUSE_AFTER: Duration = Duration::from_millis(250);
const SHORTEST_REUSE: Duration = Duration::from_secs(5);
const LONGEST_REUSE: Duration = Duration::from_secs(60);
/// Distinct requests remembered; beyond it, answers no longer fresh are forgotten first.
const MAX_KEYS: usize = 1024;

struct Answer {
    body: Bytes,
    computed: Instant,
    /// Zero for a quick answer: only those who waited for it get it.
    fresh_for: Duration,
}

impl Answer {
    fn fresh(&self) -> bool {
        self.computed.elapsed() < self.fresh_for
    }
}

type Slot = Arc<tokio::sync::Mutex<Option<Answer>>>;

/// Shared, single-flight aggregate answers.
pub struct Aggregates {
    slots: Mutex<HashMap<String, Slot>>,
    computing: Semaphore,
}

/// An aggregate's body and, when it was reused, its age.
pub struct Served {
    pub body: Bytes,
    pub age: Option<Duration>,
}

impl Aggregates {
    /// `pool_size` is the database pool's; aggregates may hold half of it (at least one).
    pub fn new(pool_size: u32) -> Self {
        Aggregates {
            slots: Mutex::new(HashMap::new()),
            computing: Semaphore::new((pool_size as usize / 2).max(1)),
        }
    }

    /// The answer for `what` as `viewer` sees it, computed by `compute` unless a fresh one is kept.
    /// `what` names the aggregate and everything its answer depends on besides the viewer.
    pub async fn get<F, Fut>(&self, viewer: &Viewer, what: &str, compute: F) -> Result<Served, ApiError>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Bytes, ApiError>>,
    {
        // Everything visibility depends on is in the key: no viewer is served another's answer.
        let key = format!("{}\u{1f}{:?}\u{1f}{}\u{1f}{what}", viewer.tenant_id, viewer.role, viewer.actor_id);
        let slot = self.slot(key);
        let arrived = Instant::now();
        let mut answer = slot.lock().await;
        if let Some(kept) = answer.as_ref() {
            // Computed while this caller waited: as current as computing it again.
            if kept.computed >= arrived {
                return Ok(Served { body: kept.body.clone(), age: None });
            }
            if kept.fresh() {
                return Ok(Served { body: kept.body.clone(), age: Some(kept.computed.elapsed()) });
            }
        }
        let _permit =
            self.computing.acquire().await.map_err(|_| ApiError::internal("aggregate limiter closed"))?;
        let started = Instant::now();
        let body = compute().await?;
        let took = started.elapsed();
        let fresh_for = if took >= REUSE_AFTER {
            (took * 20).clamp(SHORTEST_REUSE, LONGEST_REUSE)
        } else {
            Duration::ZERO
        };
        *answer = Some(Answer { body: body.clone(), computed: Instant::now(), fresh_for });
        Ok(Served { body, age: None })
    }

    fn slot(&self, key: String) -> Slot {
        let mut slots = self.slots.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slots.len() >= MAX_KEYS && !slots.contains_key(&key) {
            // Keep what is in use or still fresh; if that is everything, start over.
            slots.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map(|a| a.as_ref().is_some_and(Answer::fresh)).unwrap_or(true)
            });
            if slots.len() >= MAX_KEYS {
                slots.retain(|_, slot| Arc::strong_count(slot) > 1);
            }
        }
        slots.entry(key).or_default().clone()
    }
}

impl Served {
    /// The JSON answer; a reused one says how old it is (`Age`, seconds).
    pub fn respond(self) -> HttpResponse {
        let mut response = HttpResponse::Ok();
        response.content_type(ContentType::json());
        if let Some(age) = self.age {
            response.insert_header((header::AGE, age.as_secs().to_string()));
        }
        response.body(self.body)
    }
}

/// `value` as the JSON body of an aggregate.
pub fn json_body<T: Serialize>(value: &T) -> Result<Bytes, ApiError> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|e| ApiError::internal(format!("encoding an aggregate: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditlog_db::models::Role;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn viewer(role: Role, actor: &str) -> Viewer {
        Viewer { tenant_id: 1, role, actor_id: actor.into() }
    }

    async fn compute(calls: &AtomicUsize, delay: Duration, body: &'static str) -> Result<Bytes, ApiError> {
        calls.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(delay).await;
        Ok(Bytes::from_static(body.as_bytes()))
    }

    #[actix_web::test]
    async fn quick_answers_are_recomputed_for_later_requests() {
        let aggregates = Aggregates::new(8);
        let calls = AtomicUsize::new(0);
        let admin = viewer(Role::Admin, "a");
        for _ in 0..3 {
            let served =
                aggregates.get(&admin, "modules", || compute(&calls, Duration::ZERO, "x")).await.unwrap();
            assert!(served.age.is_none());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[actix_web::test]
    async fn callers_waiting_for_a_quick_answer_share_it() {
        let aggregates = Aggregates::new(8);
        let calls = AtomicUsize::new(0);
        let admin = viewer(Role::Admin, "a");
        let quick = Duration::from_millis(20);
        let (first, second, third) = futures_util::join!(
            aggregates.get(&admin, "modules", || compute(&calls, quick, "one")),
            aggregates.get(&admin, "modules", || compute(&calls, quick, "two")),
            aggregates.get(&admin, "modules", || compute(&calls, quick, "three")),
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the waiters did not compute it again");
        for served in [first, second, third] {
            assert_eq!(served.unwrap().body, "one");
        }
        // A later request is not served the quick answer.
        let later = aggregates.get(&admin, "modules", || compute(&calls, quick, "four")).await.unwrap();
        assert_eq!(later.body, "four");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[actix_web::test]
    async fn slow_answers_are_shared_per_visibility_and_query() {
        let aggregates = Aggregates::new(8);
        let calls = AtomicUsize::new(0);
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        // Concurrent callers of one slow aggregate: one computes, the others get its answer.
        let (first, second) = futures_util::join!(
            aggregates.get(&admin, "modules", || compute(&calls, slow, "all")),
            aggregates.get(&admin, "modules", || compute(&calls, slow, "again")),
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(first.unwrap().body, second.unwrap().body);
        // A later request gets the kept answer, with its age.
        let later = aggregates.get(&admin, "modules", || compute(&calls, slow, "later")).await.unwrap();
        assert_eq!(later.body, "all");
        assert!(later.age.is_some());
        // Another query, role or actor is computed for itself.
        let member = viewer(Role::Member, "m");
        let served =
            aggregates.get(&member, "modules", || compute(&calls, Duration::ZERO, "own")).await.unwrap();
        assert_eq!(served.body, "own");
        let other = viewer(Role::Member, "n");
        let served =
            aggregates.get(&other, "modules", || compute(&calls, Duration::ZERO, "theirs")).await.unwrap();
        assert_eq!(served.body, "theirs");
        let served =
            aggregates.get(&admin, "actions", || compute(&calls, Duration::ZERO, "acts")).await.unwrap();
        assert_eq!(served.body, "acts");
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[actix_web::test]
    async fn failures_are_not_kept() {
        let aggregates = Aggregates::new(2);
        let admin = viewer(Role::Admin, "a");
        let failed =
            aggregates.get(&admin, "modules", || async { Err(ApiError::Unavailable("down".into())) }).await;
        assert!(failed.is_err());
        let served =
            aggregates.get(&admin, "modules", || async { Ok(Bytes::from_static(b"up")) }).await.unwrap();
        assert_eq!(served.body, "up");
    }
}
