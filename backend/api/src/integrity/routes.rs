//! The integrity endpoints: public key, checkpoints, proofs, verification.

use actix_web::{get, web, HttpRequest, HttpResponse};
use auditlog_db::checkpoints::{CheckpointKind, LoggedCheckpoint};
use auditlog_db::queries::{events as event_queries, tenants, tree, verifications};
use auditlog_db::visibility::{self, HiddenField};
use auditlog_tlog::merkle::leaf_hash;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::{verify_tenant, CheckpointOut, VerificationOut};
use crate::audit::AuditEvent;
use crate::auth::{Admin, Caller};
use crate::filters::parse_query;
use crate::http::error::{AdminOnly, ApiError, Problem};
use crate::http::state::AppState;

/// The most checkpoints one page lists.
const MAX_CHECKPOINTS: usize = 100;

/// Verify the tenant's history against every signed checkpoint.
///
/// Recomputes the tenant's Merkle tree from the stored events and checks it against every signed
/// checkpoint in the log (not against what the database says of itself), naming the first bad seq.
/// Detects edited fields (derived ones too), deleted, inserted and reordered events, a whole
/// database rebuilt consistently (by someone without the signing key), a retention boundary moved
/// without a signed one, and deleted entries without their deletion record. Each run is stored
/// (`GET /integrity/status`) and recorded: a pass as an `integrity.verified` event naming who ran
/// it, a failure as an `integrity.failed` event.
#[utoipa::path(operation_id = "verifyIntegrity", tag = "integrity", security(("bearer" = [])), responses(
    (status = 200, body = VerificationOut),
    AdminOnly,
))]
#[get("/integrity/verify")]
pub async fn verify(
    state: web::Data<AppState>,
    caller: Admin,
) -> Result<web::Json<VerificationOut>, ApiError> {
    let (tenant, notary, settings) = (caller.tenant.clone(), state.notary.clone(), state.settings.clone());
    let request = caller.request();
    let actor = caller.actor();
    let result = state
        .db(move |conn| {
            let result = verify_tenant(
                conn,
                notary.verifier(),
                notary.dir(),
                &settings,
                &tenant,
                "request",
                |_, _| {},
            )?;
            // Who ran it, in the trail; a failed run is recorded as `integrity.failed` already.
            if result.ok {
                AuditEvent::new("integrity.verified", actor)
                    .meta("events_checked", result.events_checked)
                    .meta("checkpoints_checked", result.checkpoints_checked)
                    .record(conn, tenant.id, &request)?;
            }
            Ok(result)
        })
        .await?;
    state.metrics.verified("request", result.ok);
    Ok(web::Json(VerificationOut::new(result, Utc::now())))
}

/// A stored verification run.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationRunOut {
    pub ok: bool,
    /// When it finished.
    pub checked_at: DateTime<Utc>,
    /// The tenant's events at the time (its head seq).
    pub tree_size: i64,
    pub events_checked: i64,
    pub checkpoints_checked: i64,
    pub first_bad_seq: Option<i64>,
    pub reason: Option<String>,
    /// What started it: `request`, `schedule` or `command`.
    pub trigger: String,
}

/// Where the tenant's tamper evidence stands.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrityStatus {
    /// The latest signed checkpoint of the tenant's tree, if any.
    pub latest_checkpoint: Option<CheckpointOut>,
    /// The latest verification run, if any.
    pub last_verification: Option<VerificationRunOut>,
}

/// The latest checkpoint and the last verification.
///
/// What the dashboard's integrity badge shows ("verified 3 h ago"): the latest signed checkpoint of
/// the caller's tenant and the outcome of the last verification run, whoever started it.
#[utoipa::path(operation_id = "integrityStatus", tag = "integrity", security(("bearer" = [])), responses(
    (status = 200, body = IntegrityStatus),
    AdminOnly,
))]
#[get("/integrity/status")]
pub async fn status(
    state: web::Data<AppState>,
    caller: Admin,
) -> Result<web::Json<IntegrityStatus>, ApiError> {
    let latest = state.notary.latest(&caller.tenant.slug)?;
    let tenant_id = caller.tenant.id;
    let run = state.db(move |conn| Ok(verifications::latest(conn, tenant_id)?)).await?;
    Ok(web::Json(IntegrityStatus {
        latest_checkpoint: latest.as_ref().map(CheckpointOut::from),
        last_verification: run.map(|r| VerificationRunOut {
            ok: r.ok,
            checked_at: r.finished_at.and_utc(),
            tree_size: r.tree_size,
            events_checked: r.events_checked,
            checkpoints_checked: r.checkpoints_checked,
            first_bad_seq: r.first_bad_seq,
            reason: r.reason,
            trigger: r.trigger,
        }),
    }))
}

/// The public key that signs checkpoints.
///
/// The verifier key as c2sp.org/signed-note writes it: `<name>+<key id>+<base64 of 0x01 ‖ Ed25519
/// public key>`. Public, no sign-in needed: compare it with the key published out of band before
/// trusting a proof.
#[utoipa::path(operation_id = "getPublicKey", tag = "integrity", security(()), responses(
    (status = 200, description = "The verifier key, one line", body = String, content_type = "text/plain"),
))]
#[get("/integrity/public-key")]
pub async fn public_key(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/plain; charset=utf-8")
        .body(format!("{}\n", state.notary.verifier()))
}

/// The latest signed checkpoint.
///
/// The newest checkpoint of the caller's tenant, as a signed note (c2sp.org/tlog-checkpoint) and
/// its parsed fields. A checkpoint is signed for every ingest request and regularly while events
/// arrive.
#[utoipa::path(operation_id = "getCheckpoint", tag = "integrity", security(("bearer" = [])), responses(
    (status = 200, body = CheckpointOut),
    (status = 404, description = "Nothing signed yet (no events)", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integrity/checkpoint")]
pub async fn latest_checkpoint(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<web::Json<CheckpointOut>, ApiError> {
    let latest = state.notary.latest(&caller.tenant.slug)?;
    let latest = latest.ok_or_else(|| ApiError::NotFound("no checkpoint has been signed yet".into()))?;
    Ok(web::Json(CheckpointOut::from(&latest)))
}

/// Which checkpoints to list.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CheckpointParams {
    /// Only checkpoints of more events than this (default 0).
    #[param(minimum = 0)]
    pub after: Option<i64>,
    /// At most this many (1 to 100, default 100).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<usize>,
}

/// A page of signed checkpoints, oldest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointList {
    /// Oldest first.
    pub items: Vec<CheckpointOut>,
    /// Pass as `after` for the next page; null on the last.
    pub next_after: Option<i64>,
}

/// The tenant's signed checkpoints, oldest first.
///
/// Every checkpoint in the tenant's log, paged with `after` and `limit`. Any of them can be the older side of a
/// consistency proof (`GET /integrity/consistency`).
#[utoipa::path(operation_id = "listCheckpoints", tag = "integrity", security(("bearer" = [])), params(CheckpointParams), responses(
    (status = 200, body = CheckpointList),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integrity/checkpoints")]
pub async fn checkpoints(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<CheckpointList>, ApiError> {
    let params: CheckpointParams = parse_query(req.query_string())?;
    let after = params.after.unwrap_or(0);
    if after < 0 {
        return Err(ApiError::bad_parameter("after", "must be 0 or more"));
    }
    let limit = params.limit.unwrap_or(MAX_CHECKPOINTS);
    if !(1..=MAX_CHECKPOINTS).contains(&limit) {
        return Err(ApiError::bad_parameter("limit", "must be between 1 and 100"));
    }
    let items = state.notary.list_after(&caller.tenant.slug, after as u64, limit + 1)?;
    let more = items.len() > limit;
    let items: Vec<CheckpointOut> = items.iter().take(limit).map(CheckpointOut::from).collect();
    let next_after = if more { items.last().map(|c| c.tree_size) } else { None };
    Ok(web::Json(CheckpointList { items, next_after }))
}

/// The signed checkpoint of `size` events, or the latest when `size` is absent.
fn checkpoint_for(
    state: &AppState,
    slug: &str,
    size: Option<i64>,
    name: &str,
) -> Result<LoggedCheckpoint, ApiError> {
    match size {
        None => state
            .notary
            .latest(slug)?
            .ok_or_else(|| ApiError::NotFound("no checkpoint has been signed yet".into())),
        Some(size) if size < 1 => Err(ApiError::bad_parameter(name, "must be 1 or more")),
        Some(size) => state.notary.at_size(slug, size as u64)?.ok_or_else(|| {
            ApiError::NotFound(format!(
                "no checkpoint of {size} events was signed; GET /integrity/checkpoints lists the signed sizes"
            ))
        }),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct InclusionParams {
    /// The size of a signed checkpoint (from a receipt or `GET /integrity/checkpoints`); default:
    /// the latest.
    #[param(minimum = 1)]
    pub tree_size: Option<i64>,
}

/// An RFC 9162 inclusion proof: the event's leaf is in the signed tree.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionProofOut {
    /// The event's place in the tree: `seq − 1`.
    pub leaf_index: i64,
    pub tree_size: i64,
    /// SHA-256(0x00 ‖ leaf), standard base64.
    pub leaf_hash: String,
    /// The leaf bytes (canonical JSON, docs/INTEGRITY.md) that hash to `leaf_hash`; null for a
    /// deleted entry of leaf format 2, whose content is gone.
    pub leaf: Option<String>,
    /// The salt of the event's personal-data digests (hex), to check them against the served
    /// values; null when gone, and when fields are withheld from the caller's role: with it, the
    /// digest of a hidden IP address or user agent could be matched against guesses.
    pub salt: Option<String>,
    /// The fields withheld from the caller's role (see `EventOut.withheld`); absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<HiddenField>,
    /// Sibling hashes from the leaf up, standard base64 (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
    /// The signed checkpoint of `tree_size` events.
    pub checkpoint: CheckpointOut,
}

/// Prove that an event is in a signed checkpoint.
///
/// An RFC 9162 §2.1.3.1 inclusion proof of the event's leaf in the tree of a signed checkpoint (the
/// latest, or the one of `tree_size`). Any RFC 9162 verifier checks it with the checkpoint's root,
/// and the checkpoint's signature with the public key. The event must be visible to the caller, as
/// for `GET /events/{id}`.
#[utoipa::path(operation_id = "getInclusionProof", tag = "integrity", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Event id"), InclusionParams),
    responses(
        (status = 200, body = InclusionProofOut),
        (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such visible event, no checkpoint of that size, or the event is newer than it", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/{id}/proof")]
pub async fn inclusion(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<i64>,
    req: HttpRequest,
) -> Result<web::Json<InclusionProofOut>, ApiError> {
    let params: InclusionParams = parse_query(req.query_string())?;
    let id = id.into_inner();
    let viewer = caller.viewer()?;
    let checkpoint = checkpoint_for(&state, &caller.tenant.slug, params.tree_size, "tree_size")?;
    let size = checkpoint.size();
    let tenant_id = caller.tenant.id;
    let (row, proof, withheld) = state
        .db(move |conn| {
            let viewer = visibility::current(conn, &viewer)?;
            let row =
                event_queries::get_row(conn, &viewer, auditlog_db::EventId(id)).map_err(|e| match e {
                    auditlog_db::StoreError::NotFound => ApiError::NotFound(format!("event {id} not found")),
                    other => other.into(),
                })?;
            if row.seq as u64 > size {
                return Err(ApiError::NotFound(format!(
                    "event {id} (seq {}) is newer than the checkpoint of {size} events",
                    row.seq
                )));
            }
            let proof = tree::inclusion_proof(conn, tenant_id, row.seq as u64 - 1, size)?;
            Ok((row, proof, viewer.withheld()))
        })
        .await?;
    let leaf = row.leaf_bytes().map_err(ApiError::internal)?;
    let hash = row.tree_leaf().ok_or_else(|| ApiError::internal("the event's hash is not a hash"))?;
    if leaf.as_ref().is_some_and(|bytes| leaf_hash(bytes) != hash) {
        return Err(ApiError::Conflict(format!(
            "event {id}'s content does not match its hash: run a verification"
        )));
    }
    Ok(web::Json(InclusionProofOut {
        leaf_index: row.seq - 1,
        tree_size: size as i64,
        leaf_hash: BASE64.encode(hash),
        leaf: leaf.map(|bytes| String::from_utf8_lossy(&bytes).into_owned()),
        salt: row.salt.clone().filter(|s| !s.starts_with('{') && withheld.is_empty()),
        withheld,
        proof: proof.iter().map(|h| BASE64.encode(h)).collect(),
        checkpoint: CheckpointOut::from(&checkpoint),
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ConsistencyParams {
    /// The older tree size (e.g. a receipt's `tree_size`), 1 to `second` (above it: 404).
    #[param(minimum = 1)]
    pub first: i64,
    /// The size of a signed checkpoint; default: the latest.
    #[param(minimum = 1)]
    pub second: Option<i64>,
}

/// An RFC 9162 consistency proof: the tree of `first` events is a prefix of the signed tree of
/// `second`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsistencyProofOut {
    pub first: i64,
    pub second: i64,
    /// Standard base64 hashes (RFC 9162 §2.1.4); empty when `first` equals `second`.
    pub proof: Vec<String>,
    /// The signed checkpoint of `second` events.
    pub checkpoint: CheckpointOut,
}

/// Prove that an older checkpoint's history is unchanged.
///
/// An RFC 9162 §2.1.4.1 consistency proof that the tree of an older checkpoint (a receipt's, say) is
/// a prefix of a later signed one: nothing it covered was changed, removed or reordered since.
#[utoipa::path(operation_id = "getConsistencyProof", tag = "integrity", security(("bearer" = [])), params(ConsistencyParams), responses(
    (status = 200, body = ConsistencyProofOut),
    (status = 400, description = "Invalid parameter", body = Problem, content_type = "application/problem+json"),
    (status = 404, description = "No checkpoint of that size, or `first` above it", body = Problem, content_type = "application/problem+json"),
    (status = 409, description = "The older part of the tree was archived", body = Problem, content_type = "application/problem+json"),
))]
#[get("/integrity/consistency")]
pub async fn consistency(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
) -> Result<web::Json<ConsistencyProofOut>, ApiError> {
    let params: ConsistencyParams = parse_query(req.query_string())?;
    if params.first < 1 {
        return Err(ApiError::bad_parameter("first", "must be 1 or more"));
    }
    let checkpoint = checkpoint_for(&state, &caller.tenant.slug, params.second, "second")?;
    let (first, second) = (params.first as u64, checkpoint.size());
    if first > second {
        return Err(ApiError::NotFound(format!(
            "the checkpoint of {second} events does not hold {first}: ask for a later `second`"
        )));
    }
    let tenant_id = caller.tenant.id;
    let proof = state
        .db(move |conn| {
            tree::consistency_proof(conn, tenant_id, first, second).map_err(|e| match e {
                auditlog_db::StoreError::Corrupt(_) => ApiError::Conflict(
                    "the tree nodes this proof needs were archived with their events: use the archive's signed boundary".into(),
                ),
                other => other.into(),
            })
        })
        .await?;
    Ok(web::Json(ConsistencyProofOut {
        first: first as i64,
        second: second as i64,
        proof: proof.iter().map(|h| BASE64.encode(h)).collect(),
        checkpoint: CheckpointOut::from(&checkpoint),
    }))
}

/// The receipt of an ingest: a checkpoint covering `seqs` (signing one when needed), and their
/// leaf indexes.
pub async fn receipt(
    state: &AppState,
    caller: &Caller,
    seqs: &[i64],
    tree: Option<auditlog_db::queries::ingest::TreeHead>,
) -> Result<super::Receipt, ApiError> {
    let needed = seqs.iter().copied().max().unwrap_or(0).max(1) as u64;
    let (notary, tenant) = (state.notary.clone(), caller.tenant.clone());
    let logged = state
        .db(move |conn| {
            // A fresh batch signs its own tree, grown from the one it extended; a replay is
            // covered by any later checkpoint.
            Ok(match tree {
                Some(head) => notary.cover_grown(
                    conn,
                    &tenant,
                    head.size,
                    Some(head.root),
                    head.extends,
                    CheckpointKind::Ingest,
                )?,
                None => {
                    let tenant = tenants::get(conn, tenant.id)?;
                    let size = needed.max(tenant.head_seq as u64);
                    notary.cover(conn, &tenant, size, None, CheckpointKind::Ingest)?
                }
            })
        })
        .await?;
    Ok(super::Receipt {
        checkpoint: CheckpointOut::from(&logged),
        leaf_indexes: seqs.iter().map(|s| s - 1).collect(),
    })
}
