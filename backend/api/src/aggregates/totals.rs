//! Estimated page totals, kept for a short while per reader and filter. Paging through a large
//! result shows one total instead of a new estimate on every page (an estimate read from a sample
//! moves a little each time it is made), and each further page costs only its own rows. Exact
//! totals are never kept: they are cheap by definition, and always current.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use auditlog_db::queries::events::EventFilter;
use auditlog_db::visibility::Viewer;

use crate::aggregates::visibility_key;

/// Estimates remembered at most; beyond it, expired ones are forgotten, then all.
const MAX_KEPT: usize = 4096;

pub struct KeptEstimates {
    kept: Mutex<HashMap<String, (i64, Instant)>>,
    /// How long an estimate is answered again (`ESTIMATE_REUSE_SECONDS`); zero keeps none.
    keep_for: Duration,
}

impl KeptEstimates {
    pub fn new(keep_for: Duration) -> Self {
        KeptEstimates { kept: Mutex::default(), keep_for }
    }

    /// What an estimate depends on: the reader's visibility and the whole filter (relative date
    /// ranges are resolved to whole days, so "last 7 days" keeps its key all day).
    pub fn key(viewer: &Viewer, filter: &EventFilter) -> String {
        format!("{}\u{1f}{filter:?}", visibility_key(viewer))
    }

    /// An estimate made less than `keep_for` ago.
    pub fn recent(&self, key: &str) -> Option<i64> {
        let kept = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.get(key).filter(|(_, made)| made.elapsed() < self.keep_for).map(|(total, _)| *total)
    }

    /// Keeps an estimate just made.
    pub fn keep(&self, key: String, total: i64) {
        if self.keep_for.is_zero() {
            return;
        }
        let mut kept = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() >= MAX_KEPT {
            let keep_for = self.keep_for;
            kept.retain(|_, (_, made)| made.elapsed() < keep_for);
            if kept.len() >= MAX_KEPT {
                kept.clear();
            }
        }
        kept.insert(key, (total, Instant::now()));
    }

    /// Makes a kept estimate older, as if time had passed.
    #[cfg(test)]
    fn backdate(&self, key: &str, by: Duration) {
        let mut kept = self.kept.lock().unwrap();
        if let Some((_, made)) = kept.get_mut(key) {
            *made -= by;
        }
    }
}

#[cfg(test)]
mod tests {
    use auditlog_db::models::Role;

    use super::*;

    const KEEP_FOR: Duration = Duration::from_secs(30);

    #[test]
    fn an_estimate_is_kept_for_its_reader_and_filter_only_for_a_while() {
        let estimates = KeptEstimates::new(KEEP_FOR);
        let manager = Viewer { tenant_id: 1, role: Role::Manager, actor_id: "m".into() };
        let invoices = EventFilter { module: Some("invoice".into()), ..Default::default() };
        let key = KeptEstimates::key(&manager, &invoices);
        assert_eq!(estimates.recent(&key), None);
        estimates.keep(key.clone(), 120_000);
        assert_eq!(estimates.recent(&key), Some(120_000));

        // Another filter, role, reader or tenant has its own.
        let bookings = EventFilter { module: Some("booking".into()), ..Default::default() };
        let others = [
            KeptEstimates::key(&manager, &bookings),
            KeptEstimates::key(&Viewer { role: Role::Admin, ..manager.clone() }, &invoices),
            KeptEstimates::key(&Viewer { actor_id: "n".into(), ..manager.clone() }, &invoices),
            KeptEstimates::key(&Viewer { tenant_id: 2, ..manager.clone() }, &invoices),
        ];
        for other in others {
            assert_ne!(other, key);
            assert_eq!(estimates.recent(&other), None);
        }

        estimates.backdate(&key, KEEP_FOR);
        assert_eq!(estimates.recent(&key), None, "expired");

        // Kept for no time: never kept.
        let never = KeptEstimates::new(Duration::ZERO);
        never.keep(key.clone(), 120_000);
        assert_eq!((never.recent(&key), never.kept.lock().unwrap().len()), (None, 0));
    }

    #[test]
    fn a_full_store_forgets_expired_estimates_first() {
        let estimates = KeptEstimates::new(KEEP_FOR);
        for n in 0..MAX_KEPT {
            estimates.keep(format!("k{n}"), n as i64);
        }
        estimates.backdate("k0", KEEP_FOR);
        estimates.keep("new".into(), 7);
        assert_eq!(estimates.kept.lock().unwrap().len(), MAX_KEPT);
        assert_eq!((estimates.recent("k1"), estimates.recent("new")), (Some(1), Some(7)));
    }
}
