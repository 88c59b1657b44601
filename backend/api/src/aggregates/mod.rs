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

//!
//! The same cache keeps estimated page totals ([`ReadCache::recent_total`]): paging through a
//! large result shows one total instead of a new estimate on every page (an estimate read from a
//! sample moves a little each time it is made), and each further page costs only its own rows.
//! Exact totals are never kept: they are cheap by definition, and always current.
//!
//! Every answer is kept under a [`ReadKey`]: the reader (everything visibility depends on, so no
//! viewer is served another's answer) and the read with everything its answer depends on.

pub mod facets;
pub mod stats;

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::header::{self, ContentType};
use actix_web::web::Bytes;
use actix_web::HttpResponse;
use auditlog_db::queries::events::EventFilter;
use auditlog_db::visibility::Viewer;
use chrono_tz::Tz;
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
/// Estimated totals remembered at most; beyond it, expired ones are forgotten, then all.
const MAX_TOTALS: usize = 4096;

/// What a kept answer answers: who reads, and what.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ReadKey {
    pub viewer: Viewer,
    pub read: Read,
}

/// The reads whose answers are kept, each with everything its answer depends on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Read {
    /// The estimated number of events matching a resolved filter (relative date ranges are
    /// resolved to whole days, so "last 7 days" keeps its key all day).
    Total(EventFilter),
    /// The module facet.
    Modules,
    /// The action facet.
    Actions,
    /// The actor facet for a search text (trimmed) and a number of actors.
    Actors { q: Option<String>, limit: i64 },
    /// The activity chart: the filter as resolved before an open end is closed (by the data's
    /// own span and the clock, which a reused answer may trail by its `Age`), the bucket asked
    /// for (`None`: chosen to fit the span), in a zone.
    Timeline { filter: EventFilter, bucket: Option<stats::Bucket>, tz: Tz },
}

impl Read {
    /// This read as `viewer` makes it.
    pub fn by(self, viewer: &Viewer) -> ReadKey {
        ReadKey { viewer: viewer.clone(), read: self }
    }
}

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

type Slot = Arc<tokio::sync::Mutex<Option<Answer>>>;

/// Shared, single-flight aggregate answers, and recent estimated totals.
pub struct ReadCache {
    slots: Mutex<HashMap<ReadKey, Slot>>,
    computing: Arc<Semaphore>,
    /// One background refresh at a time.
    refreshing: Arc<Semaphore>,
    totals: Mutex<HashMap<ReadKey, (i64, Instant)>>,
    /// How long an estimated total is answered again (`ESTIMATE_REUSE_SECONDS`); zero keeps none.
    keep_totals_for: Duration,
}

/// An aggregate's body and, when it was reused, its age.
pub struct Served {
    pub body: Bytes,
    pub age: Option<Duration>,
}

impl ReadCache {
    /// `pool_size` is the database pool's; aggregates may hold half of it (at least one).
    /// Estimated totals are answered again for `keep_totals_for`.
    pub fn new(pool_size: u32, keep_totals_for: Duration) -> Self {
        ReadCache {
            slots: Mutex::new(HashMap::new()),
            computing: Arc::new(Semaphore::new((pool_size as usize / 2).max(1))),
            refreshing: Arc::new(Semaphore::new(1)),
            totals: Mutex::default(),
            keep_totals_for,
        }
    }

    /// The answer for `key`, computed by `compute` unless a fresh one is kept (or a stale one may
    /// be served while `compute` runs in the background).
    pub async fn get<F, Fut>(&self, key: ReadKey, compute: F) -> Result<Served, ApiError>
    where
        F: FnOnce() -> Fut + 'static,
        Fut: Future<Output = Result<Bytes, ApiError>> + 'static,
    {
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

    /// An estimated total made less than `keep_totals_for` ago.
    pub fn recent_total(&self, key: &ReadKey) -> Option<i64> {
        let kept = self.totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.get(key).filter(|(_, made)| made.elapsed() < self.keep_totals_for).map(|(total, _)| *total)
    }

    /// Keeps an estimated total just made.
    pub fn keep_total(&self, key: ReadKey, total: i64) {
        if self.keep_totals_for.is_zero() {
            return;
        }
        let mut kept = self.totals.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() >= MAX_TOTALS {
            let keep_for = self.keep_totals_for;
            kept.retain(|_, (_, made)| made.elapsed() < keep_for);
            if kept.len() >= MAX_TOTALS {
                kept.clear();
            }
        }
        kept.insert(key, (total, Instant::now()));
    }

    /// Makes a kept total older, as if time had passed.
    #[cfg(test)]
    fn backdate_total(&self, key: &ReadKey, by: Duration) {
        let mut kept = self.totals.lock().unwrap();
        if let Some((_, made)) = kept.get_mut(key) {
            *made -= by;
        }
    }

    fn slot(&self, key: ReadKey) -> Slot {
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
        Viewer {
            tenant_id: auditlog_db::TenantId(1),
            role,
            actor_id: actor.into(),
            fields: Default::default(),
        }
    }

    /// A read named for the tests.
    fn read(name: &str) -> Read {
        match name {
            "modules" => Read::Modules,
            "actions" => Read::Actions,
            "actors" => Read::Actors { q: None, limit: 20 },
            _ => Read::Timeline { filter: EventFilter::default(), bucket: None, tz: Tz::UTC },
        }
    }

    fn cache(pool_size: u32) -> ReadCache {
        ReadCache::new(pool_size, KEEP_TOTALS_FOR)
    }

    const KEEP_TOTALS_FOR: Duration = Duration::from_secs(30);

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
        let aggregates = cache(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let admin = viewer(Role::Admin, "a");
        for _ in 0..3 {
            let served =
                aggregates.get(read("modules").by(&admin), job(&calls, Duration::ZERO, "x")).await.unwrap();
            assert!(served.age.is_none());
        }
        assert_eq!(count(&calls), 3);
        // Quick answers are never served stale either.
        aggregates.backdate(Duration::from_secs(1)).await;
        aggregates.get(read("modules").by(&admin), job(&calls, Duration::ZERO, "x")).await.unwrap();
        assert_eq!(count(&calls), 4);
    }

    #[actix_web::test]
    async fn callers_waiting_for_a_quick_answer_share_it() {
        let aggregates = cache(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let admin = viewer(Role::Admin, "a");
        let quick = Duration::from_millis(20);
        let (first, second, third) = futures_util::join!(
            aggregates.get(read("modules").by(&admin), job(&calls, quick, "one")),
            aggregates.get(read("modules").by(&admin), job(&calls, quick, "two")),
            aggregates.get(read("modules").by(&admin), job(&calls, quick, "three")),
        );
        assert_eq!(count(&calls), 1, "the waiters did not compute it again");
        for served in [first, second, third] {
            assert_eq!(served.unwrap().body, "one");
        }
        // A later request is not served the quick answer.
        let later = aggregates.get(read("modules").by(&admin), job(&calls, quick, "four")).await.unwrap();
        assert_eq!(later.body, "four");
        assert_eq!(count(&calls), 2);
    }

    #[actix_web::test]
    async fn slow_answers_are_shared_per_visibility_and_query() {
        let aggregates = cache(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        // Concurrent callers of one slow aggregate: one computes, the others get its answer.
        let (first, second) = futures_util::join!(
            aggregates.get(read("modules").by(&admin), job(&calls, slow, "all")),
            aggregates.get(read("modules").by(&admin), job(&calls, slow, "again")),
        );
        assert_eq!(count(&calls), 1);
        assert_eq!(first.unwrap().body, second.unwrap().body);
        // A later request gets the kept answer, with its age.
        let later = aggregates.get(read("modules").by(&admin), job(&calls, slow, "later")).await.unwrap();
        assert_eq!(later.body, "all");
        assert!(later.age.is_some());
        // Another query, role or actor is computed for itself.
        let member = viewer(Role::Member, "m");
        let served =
            aggregates.get(read("modules").by(&member), job(&calls, Duration::ZERO, "own")).await.unwrap();
        assert_eq!(served.body, "own");
        let other = viewer(Role::Member, "n");
        let served =
            aggregates.get(read("modules").by(&other), job(&calls, Duration::ZERO, "theirs")).await.unwrap();
        assert_eq!(served.body, "theirs");
        let served =
            aggregates.get(read("actions").by(&admin), job(&calls, Duration::ZERO, "acts")).await.unwrap();
        assert_eq!(served.body, "acts");
        assert_eq!(count(&calls), 4);
    }

    #[actix_web::test]
    async fn stale_slow_answers_are_served_while_computed_again() {
        let aggregates = cache(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        aggregates.get(read("actions").by(&admin), job(&calls, slow, "old")).await.unwrap();
        // Past its freshness: served at once, with its age, while one refresh runs.
        aggregates.backdate(LONGEST_REUSE).await;
        let started = Instant::now();
        let stale = aggregates.get(read("actions").by(&admin), job(&calls, slow, "new")).await.unwrap();
        let again = aggregates.get(read("actions").by(&admin), job(&calls, slow, "newer")).await.unwrap();
        assert!(started.elapsed() < REUSE_AFTER, "nobody waited for the refresh");
        assert_eq!((stale.body.as_ref(), again.body.as_ref()), (b"old".as_ref(), b"old".as_ref()));
        assert!(stale.age.is_some_and(|age| age >= LONGEST_REUSE));
        tokio::time::sleep(slow * 2).await;
        assert_eq!(count(&calls), 2, "one refresh for both callers");
        let refreshed =
            aggregates.get(read("actions").by(&admin), job(&calls, slow, "unused")).await.unwrap();
        assert_eq!(refreshed.body, "new");
        assert!(refreshed.age.is_some_and(|age| age < LONGEST_REUSE));
        // Too old to serve: computed while the caller waits.
        aggregates.backdate(SERVE_STALE_FOR).await;
        let current = aggregates.get(read("actions").by(&admin), job(&calls, slow, "current")).await.unwrap();
        assert_eq!(current.body, "current");
        assert!(current.age.is_none());
        assert_eq!(count(&calls), 3);
    }

    #[actix_web::test]
    async fn background_refreshes_run_one_at_a_time() {
        let aggregates = cache(8);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        let names = ["modules", "actions", "actors"];
        for name in names {
            aggregates.get(read(name).by(&admin), job(&calls, slow, "old")).await.unwrap();
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
            assert_eq!(aggregates.get(read(name).by(&admin), tracked).await.unwrap().body, "old");
        }
        tokio::time::sleep(slow * 4).await;
        assert_eq!(most.load(Ordering::SeqCst), 1, "refreshes overlapped");
        for name in names {
            assert_eq!(
                aggregates.get(read(name).by(&admin), job(&calls, slow, "unused")).await.unwrap().body,
                "new"
            );
        }
        // Someone waiting for an answer does not queue behind them.
        let started = Instant::now();
        aggregates.backdate(LONGEST_REUSE).await;
        for name in names {
            aggregates.get(read(name).by(&admin), job(&calls, slow, "again")).await.unwrap();
        }
        let waited =
            aggregates.get(read("timeline").by(&admin), job(&calls, Duration::ZERO, "now")).await.unwrap();
        assert_eq!(waited.body, "now");
        assert!(started.elapsed() < slow, "waited for the refreshes");
    }

    #[actix_web::test]
    async fn a_failed_refresh_keeps_the_answer_and_is_tried_again() {
        let aggregates = cache(2);
        let calls = Arc::new(AtomicUsize::new(0));
        let slow = REUSE_AFTER + Duration::from_millis(20);
        let admin = viewer(Role::Admin, "a");
        aggregates.get(read("actions").by(&admin), job(&calls, slow, "kept")).await.unwrap();
        aggregates.backdate(LONGEST_REUSE).await;
        let failing: Job = Box::new(|| Box::pin(async { Err(ApiError::Unavailable("down".into())) }));
        assert_eq!(aggregates.get(read("actions").by(&admin), failing).await.unwrap().body, "kept");
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(
            aggregates.get(read("actions").by(&admin), job(&calls, slow, "back")).await.unwrap().body,
            "kept"
        );
        tokio::time::sleep(slow * 2).await;
        assert_eq!(
            aggregates.get(read("actions").by(&admin), job(&calls, slow, "unused")).await.unwrap().body,
            "back"
        );
    }

    #[actix_web::test]
    async fn failures_are_not_kept() {
        let aggregates = cache(2);
        let admin = viewer(Role::Admin, "a");
        let failed = aggregates
            .get(read("modules").by(&admin), || async { Err(ApiError::Unavailable("down".into())) })
            .await;
        assert!(failed.is_err());
        let served = aggregates
            .get(read("modules").by(&admin), || async { Ok(Bytes::from_static(b"up")) })
            .await
            .unwrap();
        assert_eq!(served.body, "up");
    }

    #[test]
    fn estimates_are_kept_per_reader_and_filter_for_a_while() {
        let estimates = cache(8);
        let manager = viewer(Role::Manager, "m");
        let invoices = EventFilter { module: Some("invoice".into()), ..Default::default() };
        let bookings = EventFilter { module: Some("booking".into()), ..Default::default() };
        let key = Read::Total(invoices.clone()).by(&manager);
        assert_eq!(estimates.recent_total(&key), None);
        estimates.keep_total(key.clone(), 120_000);
        assert_eq!(estimates.recent_total(&key), Some(120_000));
        // Another filter, or another reader's visibility, is another key.
        for other in [
            Read::Total(bookings).by(&manager),
            Read::Total(invoices.clone()).by(&Viewer { role: Role::Admin, ..manager.clone() }),
            Read::Total(invoices.clone()).by(&Viewer { actor_id: "n".into(), ..manager.clone() }),
            Read::Total(invoices.clone())
                .by(&Viewer { tenant_id: auditlog_db::TenantId(2), ..manager.clone() }),
        ] {
            assert_eq!(estimates.recent_total(&other), None);
        }
        estimates.backdate_total(&key, KEEP_TOTALS_FOR);
        assert_eq!(estimates.recent_total(&key), None, "expired");
        // Kept for no time: never kept.
        let never = ReadCache::new(8, Duration::ZERO);
        never.keep_total(key.clone(), 120_000);
        assert_eq!((never.recent_total(&key), never.totals.lock().unwrap().len()), (None, 0));
    }

    #[test]
    fn a_full_store_forgets_expired_estimates_first() {
        let estimates = cache(8);
        let key = |n: usize| {
            Read::Total(EventFilter { verb: Some(format!("v{n}")), ..Default::default() })
                .by(&viewer(Role::Admin, "a"))
        };
        for n in 0..MAX_TOTALS {
            estimates.keep_total(key(n), n as i64);
        }
        estimates.backdate_total(&key(0), KEEP_TOTALS_FOR);
        estimates.keep_total(key(MAX_TOTALS), 7);
        assert_eq!(estimates.totals.lock().unwrap().len(), MAX_TOTALS);
        assert_eq!(
            (estimates.recent_total(&key(1)), estimates.recent_total(&key(MAX_TOTALS))),
            (Some(1), Some(7))
        );
    }
}
