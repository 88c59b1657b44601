//! What the server counts for Prometheus (`GET /metrics`, docs/OPERATIONS.md lists every series).
//!
//! One [`Metrics`] per application state, not a process-wide registry: two servers in one process
//! (the test suite runs many) each count their own. No label takes a value from a request's
//! content or a tenant's id, so the number of series stays bounded whatever clients send.

use std::time::Duration;

use prometheus::{
    Encoder, Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

/// Latency buckets in seconds, from a cached read to a slow export's first byte.
const LATENCY_BUCKETS: [f64; 14] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];
/// Events per ingest request, up to the largest batch a request may carry.
const BATCH_BUCKETS: [f64; 9] = [1.0, 5.0, 10.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0];
/// Waits for a pooled connection, in seconds.
const WAIT_BUCKETS: [f64; 10] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0];

/// The HTTP methods counted by name; any other is counted as `OTHER`.
const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Every series the server exposes.
pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    events_ingested: IntCounterVec,
    ingest_batch: Histogram,
    export_rows: IntCounterVec,
    export_bytes: IntCounterVec,
    streams_open: IntGauge,
    pool_connections: IntGaugeVec,
    pool_max: IntGauge,
    pool_waits: IntCounter,
    pool_wait: Histogram,
    pool_timeouts: IntCounter,
    reads: IntCounterVec,
    verifications: IntCounterVec,
    verification_last_ok: IntGauge,
    verification_last_time: IntGauge,
    archive_runs: IntCounterVec,
    archives_written: IntCounter,
    sign_ins_throttled: IntCounter,
    deliveries: IntCounterVec,
}

/// How large a tenant is, by the events it holds: a label with three values, never its id.
pub fn tenant_size_class(events: i64) -> &'static str {
    match events {
        ..100_000 => "small",
        100_000..10_000_000 => "medium",
        _ => "large",
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
            registry.register(Box::new(metric.clone())).expect("a counter registered once");
            metric
        }
        fn single(registry: &Registry, name: &str, help: &str) -> IntCounter {
            let metric = IntCounter::new(name, help).expect("a valid counter");
            registry.register(Box::new(metric.clone())).expect("a counter registered once");
            metric
        }
        fn gauge(registry: &Registry, name: &str, help: &str) -> IntGauge {
            let metric = IntGauge::new(name, help).expect("a valid gauge");
            registry.register(Box::new(metric.clone())).expect("a gauge registered once");
            metric
        }
        fn histogram(registry: &Registry, name: &str, help: &str, buckets: &[f64]) -> Histogram {
            let metric = Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.to_vec()))
                .expect("a histogram");
            registry.register(Box::new(metric.clone())).expect("a histogram registered once");
            metric
        }
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "auditlog_http_request_duration_seconds",
                "Time from a request's arrival to its response's head, by route template, method and status",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["route", "method", "status"],
        )
        .expect("a histogram");
        registry.register(Box::new(http_duration.clone())).expect("registered once");
        let pool_connections = IntGaugeVec::new(
            Opts::new(
                "auditlog_db_pool_connections",
                "Database connections of the pool, by state (idle, in_use)",
            ),
            &["state"],
        )
        .expect("a gauge");
        registry.register(Box::new(pool_connections.clone())).expect("registered once");
        Metrics {
            http_requests: counter(
                &registry,
                "auditlog_http_requests_total",
                "Requests answered, by route template, method and status",
                &["route", "method", "status"],
            ),
            http_duration,
            events_ingested: counter(
                &registry,
                "auditlog_events_ingested_total",
                "Events stored through POST /events (duplicates not counted), by the tenant's size class",
                &["tenant_size"],
            ),
            ingest_batch: histogram(
                &registry,
                "auditlog_ingest_batch_events",
                "Events per ingest request",
                &BATCH_BUCKETS,
            ),
            export_rows: counter(&registry, "auditlog_export_rows_total", "Rows exported, by format", &["format"]),
            export_bytes: counter(
                &registry,
                "auditlog_export_bytes_total",
                "Bytes of export files sent, by format",
                &["format"],
            ),
            streams_open: gauge(&registry, "auditlog_streams_open", "Live event streams (SSE) open now"),
            pool_connections,
            pool_max: gauge(&registry, "auditlog_db_pool_max_connections", "The database pool's size"),
            pool_waits: single(
                &registry,
                "auditlog_db_pool_waits_total",
                "Requests for a pooled connection that found none idle",
            ),
            pool_wait: histogram(
                &registry,
                "auditlog_db_pool_wait_seconds",
                "Time to get a pooled connection",
                &WAIT_BUCKETS,
            ),
            pool_timeouts: single(
                &registry,
                "auditlog_db_pool_timeouts_total",
                "Requests for a pooled connection that timed out (answered 503)",
            ),
            reads: counter(
                &registry,
                "auditlog_read_cache_total",
                "Chart, facet and estimated-total reads, by kind and whether a kept answer served them (hit) or one was computed (miss)",
                &["kind", "outcome"],
            ),
            verifications: counter(
                &registry,
                "auditlog_verifications_total",
                "Integrity verifications run by this process, by trigger and result",
                &["trigger", "result"],
            ),
            verification_last_ok: gauge(
                &registry,
                "auditlog_verification_last_ok",
                "1 when the last verification this process ran passed, 0 when it failed, -1 before any",
            ),
            verification_last_time: gauge(
                &registry,
                "auditlog_verification_last_timestamp_seconds",
                "When the last verification this process ran finished (Unix time; 0 before any)",
            ),
            archive_runs: counter(
                &registry,
                "auditlog_archive_runs_total",
                "Retention runs, by result",
                &["result"],
            ),
            archives_written: single(
                &registry,
                "auditlog_archives_written_total",
                "Archive files written and read back by retention runs",
            ),
            sign_ins_throttled: single(
                &registry,
                "auditlog_sign_ins_throttled_total",
                "Sign-in attempts refused with 429 by the guessing throttle",
            ),
            deliveries: counter(
                &registry,
                "auditlog_deliveries_total",
                "Alert deliveries attempted, by destination kind and outcome",
                &["kind", "outcome"],
            ),
            registry,
        }
        .starting()
    }

    /// Series that read as zero before anything happens, so dashboards and alerts see them.
    fn starting(self) -> Self {
        self.verification_last_ok.set(-1);
        for outcome in ["hit", "miss"] {
            for kind in ["chart", "facets", "total"] {
                self.reads.with_label_values(&[kind, outcome]);
            }
        }
        for result in ["ok", "failed"] {
            self.archive_runs.with_label_values(&[result]);
            for trigger in ["request", "schedule"] {
                self.verifications.with_label_values(&[trigger, result]);
            }
        }
        for size in ["small", "medium", "large"] {
            self.events_ingested.with_label_values(&[size]);
        }
        for format in ["csv", "xlsx", "pdf", "manifest"] {
            self.export_rows.with_label_values(&[format]);
            self.export_bytes.with_label_values(&[format]);
        }
        for kind in ["webhook", "email"] {
            for outcome in ["delivered", "failed", "given_up"] {
                self.deliveries.with_label_values(&[kind, outcome]);
            }
        }
        self
    }

    /// A request answered: `route` is the matched route's template (never the path itself).
    pub fn request(&self, route: Option<&str>, method: &str, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched");
        let method = METHODS.iter().find(|m| **m == method).copied().unwrap_or("OTHER");
        let status = status.to_string();
        let labels = [route, method, status.as_str()];
        self.http_requests.with_label_values(&labels).inc();
        self.http_duration.with_label_values(&labels).observe(took.as_secs_f64());
    }

    /// An ingest request that stored `accepted` of `batch` events into a tenant now holding `events`.
    pub fn ingested(&self, batch: usize, accepted: usize, events: i64) {
        self.ingest_batch.observe(batch as f64);
        self.events_ingested.with_label_values(&[tenant_size_class(events)]).inc_by(accepted as u64);
    }

    /// Rows and bytes of an export sent as `format` (`csv`, `json`, `xlsx`, `pdf`).
    pub fn exported(&self, format: &str, rows: u64, bytes: u64) {
        self.export_rows.with_label_values(&[format]).inc_by(rows);
        self.export_bytes.with_label_values(&[format]).inc_by(bytes);
    }

    /// A pooled connection obtained (or not) after `took`; `waited` when none was idle.
    pub fn pool_get(&self, waited: bool, took: Duration, timed_out: bool) {
        if waited {
            self.pool_waits.inc();
        }
        if timed_out {
            self.pool_timeouts.inc();
        }
        self.pool_wait.observe(took.as_secs_f64());
    }

    /// A chart, facets or total read (`kind`) answered from a kept answer or computed.
    pub fn read(&self, kind: &str, hit: bool) {
        self.reads.with_label_values(&[kind, if hit { "hit" } else { "miss" }]).inc();
    }

    /// A verification run finished.
    pub fn verified(&self, trigger: &str, ok: bool) {
        self.verifications.with_label_values(&[trigger, if ok { "ok" } else { "failed" }]).inc();
        self.verification_last_ok.set(i64::from(ok));
        self.verification_last_time.set(chrono::Utc::now().timestamp());
    }

    /// A retention run finished, having written `archives` files, or failed.
    pub fn archive_run(&self, archives: Option<usize>) {
        self.archive_runs.with_label_values(&[if archives.is_some() { "ok" } else { "failed" }]).inc();
        self.archives_written.inc_by(archives.unwrap_or(0) as u64);
    }

    pub fn sign_in_throttled(&self) {
        self.sign_ins_throttled.inc();
    }

    /// A delivery attempt to a `kind` destination (`webhook`, `email`) ended as `outcome`.
    pub fn delivery(&self, kind: &str, outcome: &str) {
        self.deliveries.with_label_values(&[kind, outcome]).inc();
    }

    /// The text exposition of every series, with the gauges read now: `streams` open, and the
    /// pool's `connections` of which `idle`, out of `max`.
    pub fn render(&self, streams: usize, connections: u32, idle: u32, max: u32) -> String {
        self.streams_open.set(streams as i64);
        self.pool_connections.with_label_values(&["idle"]).set(i64::from(idle));
        self.pool_connections.with_label_values(&["in_use"]).set(i64::from(connections.saturating_sub(idle)));
        self.pool_max.set(i64::from(max));
        let mut text = Vec::new();
        if let Err(e) = TextEncoder::new().encode(&self.registry.gather(), &mut text) {
            log::error!("metrics could not be encoded: {e}");
        }
        String::from_utf8(text).unwrap_or_default()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tenant_is_labelled_by_its_size_never_its_id() {
        assert_eq!(tenant_size_class(0), "small");
        assert_eq!(tenant_size_class(99_999), "small");
        assert_eq!(tenant_size_class(100_000), "medium");
        assert_eq!(tenant_size_class(10_000_000), "large");
    }

    #[test]
    fn unknown_methods_and_unmatched_paths_share_one_series() {
        let metrics = Metrics::new();
        metrics.request(None, "BREW", 404, Duration::from_millis(2));
        metrics.request(None, "PROPFIND", 404, Duration::from_millis(2));
        let text = metrics.render(0, 0, 0, 0);
        assert!(
            text.contains(r#"auditlog_http_requests_total{method="OTHER",route="unmatched",status="404"} 2"#),
            "{text}"
        );
        assert!(!text.contains("BREW"));
    }
}
