//! The delivery worker: takes due deliveries from the outbox, sends them, records each attempt.
//!
//! One dispatcher per process leases due deliveries (never more than it has idle senders, and
//! never two of one rule at once, so a slow or dead receiver holds one sender at most) and hands
//! them to a fixed pool of sender threads. A webhook has [`DeliverySettings::timeout_seconds`] to
//! answer 2xx; anything else is retried after an exponentially growing wait with jitter, until
//! [`DeliverySettings::give_up_seconds`] after the delivery was written. A delivery given up on
//! disables its rule if the rule delivered nothing since, and records `alert_rule.disabled`.
//! Ingest never waits for any of it: it only writes the outbox row.

use std::collections::HashSet;
use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

use auditlog_db::models::{Actor, Event};
use auditlog_db::queries::alerts::{self, AlertRule, Attempt, Delivery};
use auditlog_db::queries::events::{self as event_queries, EventFilter};
use auditlog_db::visibility::Viewer;
use auditlog_db::DbPool;
use auditlog_tlog::note::Verifier;
use chrono::{NaiveDateTime, TimeDelta, Utc};
use rand::Rng;
use serde_json::json;

use super::{signature, BodyFormat, Destination};
use crate::audit::{AuditEvent, RequestMeta};
use crate::config::DeliverySettings;
use crate::feed::{ndjson, FeedLine};
use crate::http::error::ApiError;
use crate::http::metrics::Metrics;

/// The longest wait between two attempts.
const MAX_BACKOFF_SECONDS: u64 = 3600;
/// How often the dispatcher looks for due deliveries when it found none.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How often it looks for digests whose period ended.
const DIGEST_CHECK: Duration = Duration::from_secs(60);

/// Sends deliveries for one process.
pub struct Outbox {
    pool: DbPool,
    settings: DeliverySettings,
    agent: ureq::Agent,
    /// Rules with a delivery being sent by this process.
    in_flight: Mutex<HashSet<i64>>,
    busy: AtomicUsize,
    /// Checks each rule's seal before anything is sent for it.
    verifier: Verifier,
    metrics: Arc<Metrics>,
}

/// A leased delivery and its rule.
type Job = (Delivery, AlertRule);

impl Outbox {
    /// `verifier`: the public key of the deployment's signing key, which seals alert rules.
    pub fn new(
        pool: DbPool,
        settings: DeliverySettings,
        verifier: Verifier,
        metrics: Arc<Metrics>,
    ) -> Arc<Self> {
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(settings.timeout_seconds))
            .redirects(0)
            .user_agent("ActivityLog-Webhooks/1")
            .resolver(Guard { allow_private: settings.allow_private })
            .build();
        Arc::new(Outbox {
            pool,
            settings,
            agent,
            in_flight: Mutex::new(HashSet::new()),
            busy: AtomicUsize::new(0),
            metrics,
            verifier,
        })
    }

    /// Starts the dispatcher and its senders; they run for the life of the process.
    pub fn start(self: &Arc<Self>) {
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..self.settings.workers {
            let (outbox, queue) = (self.clone(), queue.clone());
            std::thread::spawn(move || loop {
                let job = match queue.lock().map(|q| q.recv()) {
                    Ok(Ok(job)) => job,
                    _ => return,
                };
                outbox.send(job);
            });
        }
        let outbox = self.clone();
        let mut digests_checked: Option<Instant> = None;
        std::thread::spawn(move || loop {
            if digests_checked.is_none_or(|at| at.elapsed() >= DIGEST_CHECK) {
                digests_checked = Some(Instant::now());
                if let Err(e) = outbox.schedule_digests(Utc::now()) {
                    log::error!("alerts: cannot schedule digests: {e}");
                }
            }
            let idle = outbox.settings.workers.saturating_sub(outbox.busy.load(Ordering::SeqCst));
            let claimed = if idle == 0 { Ok(Vec::new()) } else { outbox.claim(idle) };
            match claimed {
                Ok(claimed) if !claimed.is_empty() => {
                    for job in claimed {
                        if jobs.send(job).is_err() {
                            return;
                        }
                    }
                }
                Ok(_) => std::thread::sleep(IDLE_POLL),
                Err(e) => {
                    log::error!("alerts: cannot read the outbox: {e}");
                    std::thread::sleep(IDLE_POLL * 4);
                }
            }
        });
    }

    /// Sends every delivery due now and waits until all are sent (or failed): for tests and
    /// tools. Returns how many were sent.
    pub fn run_due(self: &Arc<Self>) -> Result<usize, ApiError> {
        let claimed = self.claim(self.settings.workers)?;
        let count = claimed.len();
        std::thread::scope(|scope| {
            for job in claimed {
                scope.spawn(move || self.send(job));
            }
        });
        Ok(count)
    }

    /// Owes every digest whose period ended by `now` its summary (see [`super::digest`]).
    pub fn schedule_digests(&self, now: chrono::DateTime<Utc>) -> Result<usize, ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        super::digest::schedule(&mut conn, now)
    }

    /// Leases up to `room` due deliveries, one per rule, skipping rules this process is sending.
    fn claim(&self, room: usize) -> Result<Vec<Job>, ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let now = Utc::now().naive_utc();
        let lease = now + TimeDelta::seconds(self.settings.lease_seconds as i64);
        let mut jobs = Vec::new();
        let mut in_flight = self.in_flight.lock().map_err(|_| ApiError::internal("alerts: lock poisoned"))?;
        let busy: Vec<i64> = in_flight.iter().copied().collect();
        for (delivery, rule) in alerts::due(&mut conn, now, &busy, room as i64)? {
            if alerts::claim(&mut conn, &delivery, now, lease)? {
                in_flight.insert(rule.id);
                self.busy.fetch_add(1, Ordering::SeqCst);
                jobs.push((delivery, rule));
            }
        }
        Ok(jobs)
    }

    /// Sends one leased delivery (if its rule's seal holds) and records what happened.
    fn send(&self, (delivery, rule): Job) {
        if alerts::sealed(&rule, &self.verifier) {
            self.deliver(&delivery, &rule);
        } else if let Err(e) = self.refuse(&delivery, &rule) {
            log::error!("alerts: cannot stop rule {} whose seal does not match: {e}", rule.id);
        }
        if let Ok(mut in_flight) = self.in_flight.lock() {
            in_flight.remove(&rule.id);
        }
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    /// A rule changed outside the product (or kept from before seals): nothing is sent, the rule
    /// is disabled with the reason and that is recorded; its deliveries wait until an admin
    /// saves the rule again.
    fn refuse(&self, delivery: &Delivery, rule: &AlertRule) -> Result<(), ApiError> {
        let reason = "its stored settings do not carry this server's seal: they were changed outside the \
                      product (or kept from before seals); review the rule and save it again";
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        conn.atomically(|conn| {
            alerts::release(conn, delivery.id)?;
            if alerts::disable(conn, rule.id, reason, Utc::now().naive_utc())? {
                log::error!("alerts: rule {} of tenant {} disabled: {reason}", rule.id, rule.tenant_id);
                AuditEvent::new("alert_rule.disabled", alerts_actor())
                    .on("alert_rule", rule.id, Some(rule.name.clone()))
                    .meta("reason", reason)
                    .meta("seal", "does not match")
                    .record(conn, rule.tenant_id, &RequestMeta::default())?;
            }
            Ok(())
        })
    }

    /// Sends one leased delivery and records the attempt.
    fn deliver(&self, delivery: &Delivery, rule: &AlertRule) {
        let (delivery, rule) = (delivery.clone(), rule.clone());
        let started = Instant::now();
        let outcome = self.attempt(&delivery, &rule);
        let now = Utc::now().naive_utc();
        let latency_ms = started.elapsed().as_millis().min(i32::MAX as u128) as i32;
        let (response_code, error) = match outcome {
            Ok(code) => (code, None),
            Err((code, error)) => (code, Some(error)),
        };
        let retry_at = error.as_ref().and_then(|_| self.retry_at(&delivery, now));
        let kind = match serde_json::from_str::<Destination>(&rule.destination) {
            Ok(Destination::Webhook { .. }) => "webhook",
            Ok(Destination::Email { .. }) => "email",
            Err(_) => "unknown",
        };
        let outcome = match (&error, retry_at) {
            (None, _) => "delivered",
            (Some(_), Some(_)) => "failed",
            (Some(_), None) => "given_up",
        };
        self.metrics.delivery(kind, outcome);
        let attempt = Attempt { at: now, response_code, latency_ms, error, retry_at };
        if let Err(e) = self.record(&delivery, &rule, &attempt) {
            // The lease runs out and the delivery is sent again: at least once.
            log::error!("alerts: cannot record delivery {} of rule {}: {e}", delivery.id, rule.id);
        }
    }

    fn record(&self, delivery: &Delivery, rule: &AlertRule, attempt: &Attempt) -> Result<(), ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        alerts::finish(&mut conn, delivery.id, attempt)?;
        let given_up = attempt.error.is_some() && attempt.retry_at.is_none();
        if given_up && !alerts::delivered_since(&mut conn, rule.id, delivery.created_at)? {
            let reason = format!(
                "no delivery succeeded for {}; last error: {}",
                span(self.settings.give_up_seconds),
                attempt.error.as_deref().unwrap_or_default()
            );
            conn.atomically(|conn| {
                if alerts::disable(conn, rule.id, &reason, attempt.at)? {
                    log::warn!("alerts: rule {} disabled: {reason}", rule.id);
                    AuditEvent::new("alert_rule.disabled", alerts_actor())
                        .on("alert_rule", rule.id, Some(rule.name.clone()))
                        .meta("reason", reason.clone())
                        .meta("delivery_id", delivery.id)
                        .record(conn, rule.tenant_id, &RequestMeta::default())?;
                }
                Ok::<_, ApiError>(())
            })?;
        }
        Ok(())
    }

    /// When to try a failed delivery again: the base wait doubled per attempt made, at most an
    /// hour, drawn between half and all of it (jitter); `None` once it is too old to retry.
    fn retry_at(&self, delivery: &Delivery, now: NaiveDateTime) -> Option<NaiveDateTime> {
        let give_up = delivery.created_at + TimeDelta::seconds(self.settings.give_up_seconds as i64);
        if now >= give_up {
            return None;
        }
        let exponent = delivery.attempts.clamp(0, 20) as u32;
        let full = self.settings.retry_base_seconds.saturating_mul(1 << exponent).min(MAX_BACKOFF_SECONDS);
        let wait_ms = rand::thread_rng().gen_range(full * 500..=full * 1000);
        Some((now + TimeDelta::milliseconds(wait_ms as i64)).min(give_up))
    }

    /// One attempt: `Ok` with the response code on success, else the code (if any) and why.
    fn attempt(&self, delivery: &Delivery, rule: &AlertRule) -> Result<Option<i32>, (Option<i32>, String)> {
        let content =
            self.content_of(delivery, rule).map_err(|e| (None, format!("cannot read what to send: {e}")))?;
        let destination: Destination = serde_json::from_str(&rule.destination)
            .map_err(|e| (None, format!("the rule's destination is unreadable: {e}")))?;
        match destination {
            Destination::Webhook { url, format, headers } => {
                let (body, content_type) = match (content, format) {
                    (Content::Events(events), BodyFormat::Json) => {
                        (json_body(rule, events), "application/json")
                    }
                    (Content::Events(events), BodyFormat::Ndjson) => (ndjson(events), "application/x-ndjson"),
                    (Content::Digest(summary), BodyFormat::Json) => {
                        (digest_body(rule, &summary), "application/json")
                    }
                    (Content::Digest(summary), BodyFormat::Ndjson) => {
                        (format!("{}\n", digest_body(rule, &summary)), "application/x-ndjson")
                    }
                };
                let timestamp = Utc::now().timestamp();
                let mut request = self
                    .agent
                    .post(url.as_str())
                    .set("content-type", content_type)
                    .set("webhook-id", &delivery.message_id)
                    .set("webhook-timestamp", &timestamp.to_string())
                    .set(
                        "webhook-signature",
                        &signature(&rule.secret, &delivery.message_id, timestamp, body.as_bytes()),
                    );
                for header in &headers {
                    request = request.set(header.name.as_str(), header.value.as_str());
                }
                match request.send_string(&body) {
                    Ok(response) => Ok(Some(response.status() as i32)),
                    Err(ureq::Error::Status(code, _)) => {
                        Err((Some(code as i32), format!("the receiver answered {code}")))
                    }
                    Err(ureq::Error::Transport(t)) => {
                        Err((None, transport_error(&t, self.settings.timeout_seconds)))
                    }
                }
            }
            Destination::Email { to } => {
                let to: Vec<String> = to.into_iter().map(|a| a.into_inner()).collect();
                let (subject, text) = match content {
                    Content::Events(events) => (
                        email_subject(rule, events.len()),
                        email_text(rule, &events, self.settings.public_url.as_deref()),
                    ),
                    Content::Digest(summary) => (
                        format!("[Activity Log] {} digest: {}", summary.schedule.as_str(), summary.tenant),
                        super::digest::text(&summary, Utc::now()),
                    ),
                };
                self.email(delivery, &to, subject, text).map(|_| None).map_err(|e| (None, e))
            }
        }
    }

    /// What a delivery carries: its events, or a digest's summary of its period.
    fn content_of(&self, delivery: &Delivery, rule: &AlertRule) -> Result<Content, ApiError> {
        match (delivery.period_start, delivery.period_end) {
            (Some(start), Some(end)) => {
                let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
                Ok(Content::Digest(Box::new(super::digest::summary(&mut conn, rule, start, end)?)))
            }
            _ => Ok(Content::Events(self.events_of(delivery, rule)?)),
        }
    }

    /// The delivery's events, as an admin sees them (a deleted one as its tombstone; one removed
    /// by retention since is left out).
    fn events_of(&self, delivery: &Delivery, rule: &AlertRule) -> Result<Vec<Event>, ApiError> {
        let mut conn = self.pool.get().map_err(|e| ApiError::Unavailable(e.to_string()))?;
        let ids = delivery.event_ids()?;
        let viewer = Viewer::admin(rule.tenant_id);
        let filter = EventFilter { ids: ids.clone(), ..EventFilter::default() };
        Ok(event_queries::after_seq(&mut conn, &viewer, &filter, 0, ids.len().max(1) as i64)?)
    }

    fn email(&self, delivery: &Delivery, to: &[String], subject: String, text: String) -> Result<(), String> {
        use lettre::message::header::ContentType;
        use lettre::{Message, SmtpTransport, Transport};
        let url = self.settings.smtp_url.as_deref().ok_or("no SMTP_URL is set on the server")?;
        let mut message = Message::builder()
            .from(self.settings.smtp_from.parse().map_err(|e| format!("SMTP_FROM: {e}"))?)
            .subject(subject)
            .message_id(Some(format!("<{}@activity-log>", delivery.message_id)))
            .header(ContentType::TEXT_PLAIN);
        for address in to {
            message = message.to(address.parse().map_err(|e| format!("{address}: {e}"))?);
        }
        let message = message.body(text).map_err(|e| format!("cannot write the message: {e}"))?;
        let mailer = SmtpTransport::from_url(url)
            .map_err(|e| format!("SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(self.settings.timeout_seconds)))
            .build();
        mailer.send(&message).map(|_| ()).map_err(|e| format!("the SMTP server refused it: {e}"))
    }
}

/// A span of seconds in words: "24 hours", "1 hour", "90 seconds".
fn span(seconds: u64) -> String {
    let (n, unit) = match seconds {
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

/// What a delivery carries.
enum Content {
    Events(Vec<Event>),
    Digest(Box<super::digest::DigestSummary>),
}

/// A digest's JSON body.
fn digest_body(rule: &AlertRule, summary: &super::digest::DigestSummary) -> String {
    json!({
        "type": "digest.ready",
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": {"rule": {"id": rule.id, "name": rule.name}, "summary": summary},
    })
    .to_string()
}

/// The actor of what the delivery worker records.
fn alerts_actor() -> Actor {
    Actor {
        id: "system:alerts".into(),
        name: "Alerts".into(),
        email: None,
        role: None,
        actor_type: "system".into(),
    }
}

/// The JSON body: Standard Webhooks' `type`, `timestamp`, `data`.
fn json_body(rule: &AlertRule, events: Vec<Event>) -> String {
    let events: Vec<FeedLine> = events.into_iter().map(FeedLine::from).collect();
    json!({
        "type": "alert.matched",
        "timestamp": Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": {"rule": {"id": rule.id, "name": rule.name}, "events": events},
    })
    .to_string()
}

fn email_subject(rule: &AlertRule, count: usize) -> String {
    let what = if count == 1 { "1 new activity".to_string() } else { format!("{count} new activities") };
    format!("[Activity Log] {what} matching “{}”", rule.name)
}

fn email_text(rule: &AlertRule, events: &[Event], public_url: Option<&str>) -> String {
    let mut text = format!("Alert rule “{}” matched:\n\n", rule.name);
    for event in events {
        let flags: Vec<&str> = event.flags.iter().map(|f| f.kind.as_str()).collect();
        text.push_str(&format!(
            "- {} UTC · {} · {}{} (#{})\n",
            event.draft.occurred_at.format("%Y-%m-%d %H:%M:%S"),
            event.draft.actor.name,
            event.draft.description,
            if flags.is_empty() { String::new() } else { format!(" [flagged: {}]", flags.join(", ")) },
            event.id,
        ));
        if let Some(base) = public_url {
            text.push_str(&format!("  {base}/?event={}\n", event.id));
        }
    }
    if events.is_empty() {
        text.push_str("(the events have since been removed by retention)\n");
    }
    text.push_str("\nYou receive this because an admin of your Activity Log set up this alert rule.\n");
    text
}

fn transport_error(error: &ureq::Transport, timeout: u64) -> String {
    let text = error.to_string();
    if text.contains("timed out") || text.contains("Timeout") {
        format!("no answer within {timeout} s")
    } else if let Some(message) = error.message() {
        message.to_string()
    } else {
        text
    }
}

/// Resolves a webhook's host and refuses addresses inside the server's own networks (loopback,
/// private, link-local, unique-local), so that an alert rule cannot be pointed at them, even
/// through a name that resolves there. Checked at connection time: a name cannot pass the check
/// and then resolve elsewhere.
struct Guard {
    allow_private: bool,
}

impl ureq::Resolver for Guard {
    fn resolve(&self, netloc: &str) -> io::Result<Vec<SocketAddr>> {
        let addresses: Vec<SocketAddr> = netloc.to_socket_addrs()?.collect();
        if self.allow_private {
            return Ok(addresses);
        }
        let public: Vec<SocketAddr> = addresses.into_iter().filter(|a| is_public(a.ip())).collect();
        if public.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "the receiver's address is private, loopback or link-local; webhooks go to public addresses only (WEBHOOK_ALLOW_PRIVATE)",
            ));
        }
        Ok(public)
    }
}

/// Whether a webhook may go to `ip`.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b)))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_public_addresses_are_receivers() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["8.8.8.8", "203.0.113.9", "2001:4860:4860::8888"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn loopback_receivers_are_refused_unless_allowed() {
        let error = ureq::Resolver::resolve(&Guard { allow_private: false }, "127.0.0.1:80").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::PermissionDenied);
        assert!(ureq::Resolver::resolve(&Guard { allow_private: true }, "127.0.0.1:80").is_ok());
    }
}
