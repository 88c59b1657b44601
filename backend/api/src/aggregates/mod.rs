//! The dashboard's aggregates (facet counts for the filter pickers, the activity chart) can read
//! many rows on a large tenant (most are answered from counts kept as events are written, but not
//! a chart with filters beside its dates). Each distinct request — same viewer visibility, same query — is
//! computed by one caller at a time, and whoever waited for it gets that answer (it was computed
//! while they waited); aggregates together use at most half of the database pool, so lists and
//! ingest always find a connection; and an answer that took long to compute is reused for a
//! while: [`REUSE_AFTER`] or more of work buys twenty times that, between 5 and 60 seconds.
//! After that, for up to [`SERVE_STALE_FOR`], the next request starts computing it again in the
//! background and every request meanwhile gets the kept answer (its `Age` says how old it is):
//! nobody waits for a slow aggregate twice. Those background computations run one at a time, so
//! they never take more than one core from the requests someone is waiting for. Quick answers
//! are not reused by later requests, so on a small tenant every answer is current.

pub mod facets;
pub mod stats;
pub mod totals;

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

use crate::http::error::ApiError;

/// Computations at least this slow are reused.
pub const REUSE_AFTER: Duration = Duration::from_millis(100);
const SHORTEST_REUSE: Duration = Duration::from_secs(5);
const LONGEST_REUSE: Duration = Duration::from_secs(60);
/// How old a slow answer may be and still be served while a new one is computed.
pub const SERVE_STALE_FOR: Duration = Duration::from_secs(600);
/// Distinct requests remembered; beyond it, answers no longer fresh are forgotten first.
const MAX_KEYS: usize = 1024;

struct Answer {
    body: Bytes,
    computed: Instant,
    /// Zero for a quick answer: only those who waited for it get it.
    fresh_for: Duration,
    /// A new answer is being computed in the background.
    refreshing: bool,
}

impl Answer {
    fn new(body: Bytes, took: Duration) -> Self {
        let fresh_for = if took >= REUSE_AFTER {
            (took * 20).clamp(SHORTEST_REUSE, LONGEST_REUSE)
        } else {
            Duration::ZERO
        };
        Answer { body, computed: Instant::now(), fresh_for, refreshing: false }
    }

    fn fresh(&self) -> bool {
        self.computed.elapsed() < self.fresh_for
    }

    /// A slow answer no longer fresh, but young enough to serve while a new one is computed.
    fn servable(&self) -> bool {
        !self.fresh_for.is_zero() && self.computed.elapsed() < SERVE_STALE_FOR
    }
}

/// Everything visibility depends on, as part of a cache key: no viewer is served another's answer.
pub fn visibility_key(viewer: &Viewer) -> String {
    format!("{}\u{1f}{:?}\u{1f}{}", viewer.tenant_id, viewer.role, viewer.actor_id)
}

type Slot = Arc<tokio::sync::Mutex<Option<Answer>>>;

/// Shared, single-flight aggregate answers.
pub struct Aggregates {
    slots: Mutex<HashMap<String, Slot>>,
    computing: Arc<Semaphore>,
    /// One background refresh at a time.
    refreshing: Arc<Semaphore>,
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
            computing: Arc::new(Semaphore::new((pool_size as usize / 2).max(1))),
            refreshing: Arc::new(Semaphore::new(1)),
        }
    }

    /// The answer for `what` as `viewer` sees it, computed by `compute` unless a fresh one is kept
    /// (or a stale one may be served while `compute` runs in the background). `what` names the
    /// aggregate and everything its answer depends on besides the viewer.
    pub async fn get<F, Fut>(&self, viewer: &Viewer, what: &str, compute: F) -> Result<Served, ApiError>
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<Bytes, ApiError>> + 'static,
    {
        let key = format!("{}\u{1f}{what}", visibility_key(viewer));
        let slot = self.slot(key);
        let arrived = Instant::now();
        let mut answer = slot.lock().await;
        if let Some(kept) = answer.as_mut() {
            // Computed while this caller waited: as current as computing it again.
            if kept.computed >= arrived {
                return Ok(Served { body: kept.body.clone(), age: None });
            }
            if kept.fresh() || kept.servable() {
                if !kept.fresh() && !kept.refreshing {
                    kept.refreshing = true;
                    let limits = [self.refreshing.clone(), self.computing.clone()];
                    actix_web::rt::spawn(refresh(slot.clone(), limits, compute));
                }
                return Ok(Served { body: kept.body.clone(), age: Some(kept.computed.elapsed()) });
            }
        }
        let _permit =
            self.computing.acquire().await.map_err(|_| ApiError::internal("aggregate limiter closed"))?;
        let started = Instant::now();
        let body = compute().await?;
        *answer = Some(Answer::new(body.clone(), started.elapsed()));
        Ok(Served { body, age: None })
    }

    #[cfg(test)]
    /// Makes every kept answer `by` older, as if time had passed.
    async fn backdate(&self, by: Duration) {
        let slots: Vec<Slot> = self.slots.lock().unwrap().values().cloned().collect();
        for slot in slots {
            if let Some(answer) = slot.lock().await.as_mut() {
                answer.computed -= by;
            }
        }
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

/// Computes a kept answer again in the background once it holds a permit of each of `limits`
/// (one refresh at a time, within the aggregates' share of the pool); callers meanwhile get the
/// kept one. A failure keeps it (and the next caller tries again).
async fn refresh<F, Fut>(slot: Slot, [refreshing, computing]: [Arc<Semaphore>; 2], compute: F)
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<Bytes, ApiError>>,
{
    let outcome = match (refreshing.acquire_owned().await, computing.acquire_owned().await) {
        (Ok(_refreshing), Ok(_computing)) => {
            let started = Instant::now();
            compute().await.map(|body| Answer::new(body, started.elapsed()))
        }
        _ => Err(ApiError::internal("aggregate limiter closed")),
    };
    let mut answer = slot.lock().await;
    match outcome {
        Ok(fresh) => *answer = Some(fresh),
        Err(e) => {
            log::warn!("refreshing an aggregate failed: {e}");
            if let Some(kept) = answer.as_mut() {
                kept.refreshing = false;
            }
        }
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
    use futures_util::future::LocalBoxFuture;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn viewer(role: Role, actor: &str) -> Viewer {
        Viewer { tenant_id: 1, role, actor_id: actor.into() }
    }

    type Job = Box<dyn FnOnce() -> LocalBoxFuture<'static, Result<Bytes, ApiError>>>;

    /// A computation that counts its calls, takes `delay` and answers `body`.
    fn job(calls: &Arc<AtomicUsize>, delay: Duration, body: &'static str) -> Job {
        let calls = calls.clone();
        Box::new(move || {
            Box::pin(async move {
                calls.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(delay).await;
                Ok(Bytes::from_static(body.as_bytes()))
            })
        })
    }

    fn count(calls: &Arc<AtomicUsize>) -> usize {
        calls.load(Ordering::SeqCst)
    }

    #[actix_web::test]
    async fn quick_answers_are_recomputed_for_later_requests() {
        let aggregates = Aggregates::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let admin = viewer(Role::Admin, "a");
        for _ in 0..3 {
            let served = aggregates.get(&admin, "modules", job(&calls, Duration::ZERO, "x")).await.unwrap();
            assert!(served.age.is_none());
        }
        assert_eq!(count(&calls), 3);
        // Quick answers are never served stale either.
        aggregates.backdate(Duration::from_secs(1)).await;
        aggregates.get(&admin, "modules", job(&calls, Duration::ZERO, "x")).await.unwrap();
        assert_eq!(count(&calls), 4);
    }

    #[actix_web::test]
    async fn callers_waiting_for_a_quick_answer_share_it() {
        let aggregates = Aggregates::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let admin = viewer(Role::Admin, "a");
        let quick = Duration::from_millis(20);
        let (first, second, third) = futures_util::join!(
            aggregates.get(&admin, "modules", job(&calls, quick, "one")),
            aggregates.get(&admin, "modules", job(&calls, quick, "two")),
            aggregates.get(&admin, "modules", job(&calls, quick, "three")),
        );
        assert_eq!(count(&calls), 1, "the waiters did not compute it again");
        for served in [first, second, third] {
            assert_eq!(served.unwrap().body, "one");
        }
        // A later request is not served the quick answer.
        let later = aggregates.get(&admin, "modules", job(&calls, quick, "four")).await.unwrap();
        assert_eq!(later.body, "four");
        assert_eq!(count(&calls), 2);
    }

    #[actix_web::test]
    async fn slow_answers_are_shared_per_visibility_and_query() {
        let aggregates = Aggregates::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        // Concurrent callers of one slow aggregate: one computes, the others get its answer.
        let (first, second) = futures_util::join!(
            aggregates.get(&admin, "modules", job(&calls, slow, "all")),
            aggregates.get(&admin, "modules", job(&calls, slow, "again")),
        );
        assert_eq!(count(&calls), 1);
        assert_eq!(first.unwrap().body, second.unwrap().body);
        // A later request gets the kept answer, with its age.
        let later = aggregates.get(&admin, "modules", job(&calls, slow, "later")).await.unwrap();
        assert_eq!(later.body, "all");
        assert!(later.age.is_some());
        // Another query, role or actor is computed for itself.
        let member = viewer(Role::Member, "m");
        let served = aggregates.get(&member, "modules", job(&calls, Duration::ZERO, "own")).await.unwrap();
        assert_eq!(served.body, "own");
        let other = viewer(Role::Member, "n");
        let served = aggregates.get(&other, "modules", job(&calls, Duration::ZERO, "theirs")).await.unwrap();
        assert_eq!(served.body, "theirs");
        let served = aggregates.get(&admin, "actions", job(&calls, Duration::ZERO, "acts")).await.unwrap();
        assert_eq!(served.body, "acts");
        assert_eq!(count(&calls), 4);
    }

    #[actix_web::test]
    async fn stale_slow_answers_are_served_while_computed_again() {
        let aggregates = Aggregates::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        aggregates.get(&admin, "actions", job(&calls, slow, "old")).await.unwrap();
        // Past its freshness: served at once, with its age, while one refresh runs.
        aggregates.backdate(LONGEST_REUSE).await;
        let started = Instant::now();
        let stale = aggregates.get(&admin, "actions", job(&calls, slow, "new")).await.unwrap();
        let again = aggregates.get(&admin, "actions", job(&calls, slow, "newer")).await.unwrap();
        assert!(started.elapsed() < REUSE_AFTER, "nobody waited for the refresh");
        assert_eq!((stale.body.as_ref(), again.body.as_ref()), (b"old".as_ref(), b"old".as_ref()));
        assert!(stale.age.is_some_and(|age| age >= LONGEST_REUSE));
        tokio::time::sleep(slow * 2).await;
        assert_eq!(count(&calls), 2, "one refresh for both callers");
        let refreshed = aggregates.get(&admin, "actions", job(&calls, slow, "unused")).await.unwrap();
        assert_eq!(refreshed.body, "new");
        assert!(refreshed.age.is_some_and(|age| age < LONGEST_REUSE));
        // Too old to serve: computed while the caller waits.
        aggregates.backdate(SERVE_STALE_FOR).await;
        let current = aggregates.get(&admin, "actions", job(&calls, slow, "current")).await.unwrap();
        assert_eq!(current.body, "current");
        assert!(current.age.is_none());
        assert_eq!(count(&calls), 3);
    }

    #[actix_web::test]
    async fn background_refreshes_run_one_at_a_time() {
        let aggregates = Aggregates::new(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        let names = ["modules", "actions", "actors"];
        for name in names {
            aggregates.get(&admin, name, job(&calls, slow, "old")).await.unwrap();
        }
        aggregates.backdate(LONGEST_REUSE).await;
        // Each refresh notes how many run beside it.
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        for name in names {
            let (running, most) = (running.clone(), most.clone());
            let tracked: Job = Box::new(move || {
                Box::pin(async move {
                    most.fetch_max(running.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    tokio::time::sleep(slow).await;
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(Bytes::from_static(b"new"))
                })
            });
            assert_eq!(aggregates.get(&admin, name, tracked).await.unwrap().body, "old");
        }
        tokio::time::sleep(slow * 4).await;
        assert_eq!(most.load(Ordering::SeqCst), 1, "refreshes overlapped");
        for name in names {
            assert_eq!(aggregates.get(&admin, name, job(&calls, slow, "unused")).await.unwrap().body, "new");
        }
        // Someone waiting for an answer does not queue behind them.
        let started = Instant::now();
        aggregates.backdate(LONGEST_REUSE).await;
        for name in names {
            aggregates.get(&admin, name, job(&calls, slow, "again")).await.unwrap();
        }
        let waited = aggregates.get(&admin, "timeline", job(&calls, Duration::ZERO, "now")).await.unwrap();
        assert_eq!(waited.body, "now");
        assert!(started.elapsed() < slow, "waited for the refreshes");
    }

    #[actix_web::test]
    async fn a_failed_refresh_keeps_the_answer_and_is_tried_again() {
        let aggregates = Aggregates::new(2);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        aggregates.get(&admin, "actions", job(&calls, slow, "kept")).await.unwrap();
        aggregates.backdate(LONGEST_REUSE).await;
        let failing: Job = Box::new(|| Box::pin(async { Err(ApiError::Unavailable("down".into())) }));
        assert_eq!(aggregates.get(&admin, "actions", failing).await.unwrap().body, "kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(aggregates.get(&admin, "actions", job(&calls, slow, "back")).await.unwrap().body, "kept");
        tokio::time::sleep(slow * 2).await;
        assert_eq!(
            aggregates.get(&admin, "actions", job(&calls, slow, "unused")).await.unwrap().body,
            "back"
        );
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
