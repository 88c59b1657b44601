//! `GET /events/export`: the filtered events (or selected ids) as CSV, streamed from the
//! database to the socket page by page, or as a PDF report. Each export is itself logged.

use actix_web::http::header;
use actix_web::{get, post, web, HttpRequest, HttpResponse};
use auditlog_db::checkpoints::CheckpointKind;
use auditlog_db::models::Event;
use auditlog_db::queries::events::{self as event_queries, EventFilter, ListRequest, Paging, Sort};
use auditlog_db::visibility::Viewer;
use auditlog_db::TenantId;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::audit::{AuditEvent, RequestMeta};
use crate::auth::Caller;
use crate::exports::columns::{Column, ColumnList};
use crate::exports::formula::neutralise;
use crate::exports::pdf::{Cover, Fact, Report, Row as PdfRow};
use crate::exports::xlsx::{Cell, Workbook};
use crate::filters::{sort_of, EventFilterParams, Filtered};
use crate::http::error::{ApiError, Problem};
use crate::http::state::AppState;
use auditlog_db::queries::events::{SortKey, SortOrder};

/// Rows fetched per database round trip while exporting.
const EXPORT_PAGE: u32 = 1000;
const MAX_SELECTED_IDS: usize = 1000;

/// The export's format: `csv`, `xlsx`, `pdf`, or `manifest` (the proof of a CSV export).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Csv,
    /// An Excel workbook: one sheet per 1 048 575 rows, times as Excel dates.
    Xlsx,
    Pdf,
    /// The chain evidence for a CSV export with the same filters (JSON Lines), for
    /// `auditlog verify-export`.
    Manifest,
}

/// Export options; the filters are those of `GET /events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `csv`, `xlsx` or `pdf` (all streamed, no size limit), or `manifest`: the chain evidence
    /// for the CSV with the same filters, checked offline by
    /// `auditlog verify-export EXPORT.csv MANIFEST.jsonl`.
    pub format: ExportFormat,
    /// Only these event ids (comma-separated, at most 1000), e.g. the rows selected in the dashboard.
    #[param(pattern = r"^[0-9]{1,18}(,[0-9]{1,18}){0,999}$")]
    pub ids: Option<String>,
    /// Row order (default `occurred_at`).
    pub sort: Option<SortKey>,
    /// Default `desc`.
    pub order: Option<SortOrder>,
    /// `1` starts the CSV with a UTF-8 byte-order mark, for Excel; `0` (default) does not.
    #[param(minimum = 0, maximum = 1)]
    pub bom: Option<u8>,
    /// The CSV's or XLSX's columns, in order (default: every column but `related` and
    /// `metadata`). Not for `pdf` (a fixed layout) or `manifest` (which proves the full CSV).
    pub columns: Option<ColumnList>,
    /// Only events up to this seq. Default: the chain head when the request arrives, returned in
    /// the `X-Through-Seq` header; pass it to the manifest request so both cover the same events.
    /// A seq beyond the latest event covers up to the latest event (as the header then says).
    #[param(minimum = 0)]
    pub through_seq: Option<i64>,
}

/// `ids` as its `pattern` says: 1 to 1000 ids of 1 to 18 digits, separated by single commas.
fn parse_ids(text: &str) -> Result<Vec<auditlog_db::EventId>, ApiError> {
    let ids = text
        .split(',')
        .map(|s| match s.parse::<i64>() {
            Ok(id) if (1..=18).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(auditlog_db::EventId(id))
            }
            _ => Err(ApiError::bad_parameter("ids", format!("{s:?} is not an event id"))),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if ids.is_empty() || ids.len() > MAX_SELECTED_IDS {
        return Err(ApiError::bad_parameter("ids", format!("give 1 to {MAX_SELECTED_IDS} event ids")));
    }
    Ok(ids)
}

/// Writes one event as a CSV record of `columns`.
fn write_csv_record(
    writer: &mut csv::Writer<Vec<u8>>,
    event: &Event,
    tz: Tz,
    columns: &[Column],
) -> csv::Result<()> {
    for column in columns {
        writer.write_field(neutralise(&column.text(event, tz)).as_bytes())?;
    }
    writer.write_record(None::<&[u8]>)
}

/// One event as a row of XLSX cells: ids and seqs as numbers, times as dates (UTC, or the
/// export's zone for `occurred_at_local`), the rest as text.
fn xlsx_cells<'e>(event: &'e Event, tz: Tz, columns: &[Column]) -> Vec<(Column, std::borrow::Cow<'e, str>)> {
    columns.iter().map(|c| (*c, c.text(event, tz))).collect()
}

/// Everything an export job needs, moved onto a blocking thread.
struct Job {
    state: AppState,
    viewer: Viewer,
    filter: EventFilter,
    sort: Sort,
    tz: Tz,
    tenant_id: TenantId,
    caller: Caller,
    request: RequestMeta,
    query: String,
    format: ExportFormat,
    columns: ColumnList,
}

impl Job {
    /// Calls `each` with every page of matching events, in order, until it returns `false`. The
    /// next page is read from the database (on a second thread) while `each` handles this one.
    fn pages(
        &self,
        conn: &mut auditlog_db::DbConnection,
        mut each: impl FnMut(Vec<Event>) -> bool,
    ) -> Result<(), ApiError> {
        let (pages, received) = std::sync::mpsc::sync_channel::<Vec<Event>>(1);
        std::thread::scope(|scope| {
            let reader = scope.spawn(move || -> Result<(), ApiError> {
                let plan = event_queries::keyword_plan(conn, &self.filter)?;
                let mut cursor = None;
                loop {
                    self.still_allowed(conn)?;
                    let request = ListRequest {
                        filter: self.filter.clone(),
                        sort: self.sort,
                        per_page: EXPORT_PAGE,
                        paging: Paging::Cursor(cursor.take()),
                    };
                    let page = event_queries::list_planned(conn, &self.viewer, &request, &plan)?;
                    // A closed channel: the consumer has stopped, so the reader does too.
                    if pages.send(page.items).is_err() {
                        return Ok(());
                    }
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => return Ok(()),
                    }
                }
            });
            for page in &received {
                if !each(page) {
                    break;
                }
            }
            drop(received);
            reader.join().unwrap_or_else(|_| Err(ApiError::internal("the export's reader failed")))
        })
    }

    /// Whether the export may go on, asked before each page: the session or token still holds
    /// (not signed out, revoked, deactivated or expired) and the caller's role is the one it
    /// started with. A change stops the export there; the file is cut short and the export is
    /// recorded as not completed.
    fn still_allowed(&self, conn: &mut auditlog_db::DbConnection) -> Result<(), ApiError> {
        let now = self.caller.recheck(conn)?.viewer()?;
        if now.role != self.viewer.role || now.actor_id != self.viewer.actor_id {
            return Err(ApiError::Forbidden(
                "the caller's role changed during the export; it was stopped, start it again".into(),
            ));
        }
        Ok(())
    }

    fn format_name(&self) -> &'static str {
        match self.format {
            ExportFormat::Csv => "csv",
            ExportFormat::Xlsx => "xlsx",
            ExportFormat::Pdf => "pdf",
            ExportFormat::Manifest => "manifest",
        }
    }

    fn log(&self, conn: &mut auditlog_db::DbConnection, rows: u64, completed: bool) -> Result<(), ApiError> {
        AuditEvent::new("auditlog.exported", self.caller.actor())
            .meta("format", self.format_name())
            .meta("filters", self.query.clone())
            .meta("rows", rows)
            .meta("completed", completed)
            .record(conn, self.tenant_id, &self.request)
            .map(|_| ())
    }

    /// A name that says what is inside: `acme_activity_2026-11-01_to_2026-11-30.csv` (the
    /// filter's first and last day in its time zone), `acme_activity_until_2026-12-07.csv`
    /// without a start, `acme_activity_selected-12.csv` for rows picked by hand,
    /// `acme_customer-c1_history_until_2026-12-07.csv` for one record's history.
    fn filename(&self, extension: &str) -> String {
        let slug = &self.caller.tenant.slug;
        if !self.filter.ids.is_empty() {
            return format!("{slug}_activity_selected-{}.{extension}", self.filter.ids.len());
        }
        // One record's history: `acme_customer-c1_history_…`.
        let what = match &self.filter.record {
            Some(record) => format!("{}-{}_history", name_part(&record.entity_type), name_part(&record.id)),
            None => "activity".to_string(),
        };
        let day =
            |t: chrono::NaiveDateTime| t.and_utc().with_timezone(&self.tz).format("%Y-%m-%d").to_string();
        let last = day(self
            .filter
            .until
            .map(|t| t - chrono::TimeDelta::microseconds(1))
            .unwrap_or_else(|| chrono::Utc::now().naive_utc()));
        match self.filter.from {
            Some(from) => format!("{slug}_{what}_{}_to_{last}.{extension}", day(from)),
            None => format!("{slug}_{what}_until_{last}.{extension}"),
        }
    }
}

/// A record type or id as part of a file name: letters, digits, `-` and `.` kept, anything else a
/// `-`, at most 40 characters.
fn name_part(text: &str) -> String {
    let part: String = text
        .chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '.' { c } else { '-' })
        .take(40)
        .collect();
    part.trim_matches(|c| c == '-' || c == '.').to_string()
}

/// Export the events matching the list filters, or the `ids` given.
///
/// CSV is RFC 4180, UTF-8, streamed with no row limit, formula-injection safe: a cell starting
/// with tab or CR, or whose first visible character (after whitespace and invisible format
/// characters) is `=`, `+`, `-`, `@` or a full-width `＝`, `＋`, `－`, `＠`, gets a leading `'`, and so
/// does such a cell preceded by apostrophes of its own. The PDF (A4 landscape, every script
/// printed with embedded fonts) opens with a cover: tenant, who exported it and when, the filters
/// in words, the number of activities, and the signed checkpoint whose tree holds them with its
/// verifier key; then a table with a changes column (`field: old → new`), its header repeated
/// and numbered pages. Both are streamed page by page with no row limit. The export is logged
/// as `auditlog.exported` with the filters, format and row count.
#[utoipa::path(operation_id = "exportEvents", tag = "events", security(("bearer" = [])),
    params(EventFilterParams, ExportParams),
    responses(
        (status = 200, description = "The file, as an attachment", headers(
            ("X-Through-Seq" = i64, description = "The last seq the export may contain"),
            ("X-Withheld-Fields" = String, description = "Fields the tenant hides from the caller's role, left blank in the file (`ip, user_agent`); absent when none are"),
            ("Content-Disposition" = String, description = "`attachment` with a file name naming the tenant and the time of the export"),
        ), content(
            (String = "text/csv"),
            (inline(crate::http::download::BinaryFile) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(crate::http::download::BinaryFile) = "application/pdf"),
            (String = "application/x-ndjson"),
        )),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/events/export")]
pub async fn export(
    state: web::Data<AppState>,
    filtered: Filtered<ExportParams>,
) -> Result<HttpResponse, ApiError> {
    respond(&state, filtered)
}

/// What the parameters say beyond their types: refused before anything is read or recorded.
fn check(params: &ExportParams) -> Result<(), ApiError> {
    if params.bom.is_some_and(|bom| bom > 1) {
        return Err(ApiError::bad_parameter("bom", "must be 0 or 1"));
    }
    if params.columns.is_some() && matches!(params.format, ExportFormat::Pdf | ExportFormat::Manifest) {
        return Err(ApiError::bad_parameter(
            "columns",
            "only CSV and XLSX exports choose columns (a PDF has a fixed layout; a manifest proves the full CSV)",
        ));
    }
    if params.through_seq.is_some_and(|seq| seq < 0) {
        return Err(ApiError::bad_parameter("through_seq", "must be 0 or more"));
    }
    if let Some(ids) = &params.ids {
        parse_ids(ids)?;
    }
    Ok(())
}

/// The export `filtered` asks for, as a streamed response.
fn respond(state: &AppState, filtered: Filtered<ExportParams>) -> Result<HttpResponse, ApiError> {
    let Filtered { caller, mut filter, tz, params, query, .. } = filtered;
    check(&params)?;
    if let Some(ids) = &params.ids {
        filter.ids = parse_ids(ids)?;
    }
    // Nothing lies beyond the head: a later seq covers what the head covers.
    let through_seq = params.through_seq.unwrap_or(caller.tenant.head_seq).min(caller.tenant.head_seq);
    filter.through_seq = Some(through_seq);
    let viewer = caller.viewer()?;
    let withheld = viewer.withheld();
    let job = Job {
        state: state.clone(),
        viewer,
        filter,
        sort: sort_of(params.sort, params.order),
        tz,
        tenant_id: caller.tenant.id,
        request: caller.request(),
        query,
        caller,
        format: params.format,
        columns: params.columns.unwrap_or_default(),
    };
    let mut response = match params.format {
        ExportFormat::Csv => csv_response(job, params.bom == Some(1)),
        ExportFormat::Xlsx => xlsx_response(job),
        ExportFormat::Pdf => pdf_response(job),
        ExportFormat::Manifest => manifest_response(job),
    };
    if let Ok(value) = header::HeaderValue::from_str(&through_seq.to_string()) {
        response.headers_mut().insert(header::HeaderName::from_static("x-through-seq"), value);
    }
    if !withheld.is_empty() {
        let names: Vec<&str> = withheld.iter().map(|f| f.as_str()).collect();
        if let Ok(value) = header::HeaderValue::from_str(&names.join(", ")) {
            response.headers_mut().insert(header::HeaderName::from_static("x-withheld-fields"), value);
        }
    }
    Ok(response)
}

/// A link the browser downloads an export from by itself.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExportLink {
    /// Where to download it: a path on this server, to open without an `Authorization` header
    /// (a link with `download`, or a navigation), so the browser's download manager streams it
    /// to disk instead of the page holding it in memory.
    pub url: String,
    /// When the link stops working (a minute after it was made).
    pub expires_at: DateTime<Utc>,
}

/// A download link for an export.
///
/// The same parameters as `GET /events/export`, checked now: a bad one is a 400 here, not a
/// failed download. The link is signed, works for one minute, and only while the session that
/// made it does (signing out, a deactivation or a password change end it); the export runs when
/// it is opened, with the caller's role as it is then, and is recorded as any export is. Sessions
/// only: API tokens download from `GET /events/export` directly.
#[utoipa::path(operation_id = "createExportLink", tag = "events", security(("bearer" = [])),
    params(EventFilterParams, ExportParams),
    responses(
        (status = 200, body = ExportLink),
        (status = 403, body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/events/export/link")]
pub async fn export_link(
    state: web::Data<AppState>,
    filtered: Filtered<ExportParams>,
) -> Result<web::Json<ExportLink>, ApiError> {
    check(&filtered.params)?;
    let session = filtered.caller.session()?;
    let (token, exp) = state.keys.issue_download(session, &filtered.query)?;
    Ok(web::Json(ExportLink {
        url: format!("/api/v1/downloads/{token}"),
        expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_else(Utc::now),
    }))
}

/// Download an export through a link from `POST /events/export/link`.
///
/// No `Authorization` header: the link is the credential. It is refused (401) once expired, when
/// it was not made here, or when the session that made it has ended.
#[utoipa::path(operation_id = "downloadExport", tag = "events", security(()),
    params(("token" = String, Path, description = "The link's signed token")),
    responses(
        (status = 200, description = "The file, as an attachment", headers(
            ("X-Through-Seq" = i64, description = "The last seq the export may contain"),
            ("X-Withheld-Fields" = String, description = "Fields the tenant hides from the caller's role, left blank in the file; absent when none are"),
            ("Content-Disposition" = String, description = "`attachment` with a file name saying what is inside"),
        ), content(
            (String = "text/csv"),
            (inline(crate::http::download::BinaryFile) = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            (inline(crate::http::download::BinaryFile) = "application/pdf"),
            (String = "application/x-ndjson"),
        )),
        (status = 401, body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/downloads/{token}")]
pub async fn download(
    state: web::Data<AppState>,
    token: web::Path<String>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let (session, query) = state.keys.verify_download(&token)?;
    let caller = crate::auth::session_caller(&state, session, &req).await?;
    respond(&state, Filtered::resolve(caller, query)?)
}

fn attachment(name: &str) -> (header::HeaderName, header::HeaderValue) {
    (header::CONTENT_DISPOSITION, crate::http::download::attachment(name))
}

/// A response body fed from a blocking job. Two chunks in flight at most: memory stays flat, and a
/// slow reader slows the query down; `emit` returns `false` once the client has gone away.
fn blocking_stream(
    job: Job,
    produce: impl FnOnce(&Job, &mut auditlog_db::DbConnection, &mut dyn FnMut(Bytes) -> bool) -> Result<u64, ApiError>
        + Send
        + 'static,
) -> impl futures_util::Stream<Item = Result<Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(2);
    actix_web::rt::task::spawn_blocking(move || {
        let mut conn = match job.state.pool.get() {
            Ok(conn) => conn,
            Err(e) => {
                log::warn!("export could not get a database connection: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other("database unavailable")));
                return;
            }
        };
        let (mut connected, mut sent) = (true, 0u64);
        let mut emit = |bytes: Bytes| {
            let size = bytes.len() as u64;
            connected = connected && tx.blocking_send(Ok(bytes)).is_ok();
            sent += if connected { size } else { 0 };
            connected
        };
        let result = produce(&job, &mut conn, &mut emit);
        let (rows, completed) = match &result {
            Ok(rows) => (*rows, connected),
            Err(e) => {
                log::error!("export failed: {e}");
                let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
                (0, false)
            }
        };
        if !connected {
            log::info!("export stopped after {rows} rows: the client went away");
        }
        job.state.metrics.exported(job.format_name(), rows, sent);
        if let Err(e) = job.log(&mut conn, rows, completed) {
            log::error!("could not log an export: {e}");
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|item| (item, rx)) })
}

fn csv_response(job: Job, bom: bool) -> HttpResponse {
    let filename = job.filename("csv");
    let body = blocking_stream(job, move |job, conn, emit| {
        let mut head = csv::Writer::from_writer(if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() });
        let _ = head.write_record(job.columns.columns().iter().map(|c| c.header(job.tz).into_owned()));
        let mut connected = emit(Bytes::from(head.into_inner().unwrap_or_default()));
        let mut rows = 0u64;
        job.pages(conn, |events| {
            let mut writer = csv::Writer::from_writer(Vec::with_capacity(events.len() * 400));
            for event in &events {
                let _ = write_csv_record(&mut writer, event, job.tz, job.columns.columns());
            }
            connected = connected && emit(Bytes::from(writer.into_inner().unwrap_or_default()));
            if connected {
                rows += events.len() as u64;
            }
            connected
        })?;
        Ok(rows)
    });
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(attachment(&filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

fn xlsx_response(job: Job) -> HttpResponse {
    let filename = job.filename("xlsx");
    let body = blocking_stream(job, move |job, conn, emit| {
        let columns = job.columns.columns();
        let headers = columns.iter().map(|c| c.header(job.tz).into_owned()).collect();
        let mut book = Workbook::start(headers, emit).map_err(ApiError::internal)?;
        let mut rows = 0u64;
        let mut failed = None;
        job.pages(conn, |events| {
            for event in &events {
                let texts = xlsx_cells(event, job.tz, columns);
                let local = event.draft.occurred_at.and_utc().with_timezone(&job.tz).naive_local();
                let cells: Vec<Cell<'_>> = texts
                    .iter()
                    .map(|(column, text)| match column {
                        Column::Id => Cell::Number(event.id.get()),
                        Column::Seq => Cell::Number(event.seq),
                        Column::OccurredAt => Cell::Time(event.draft.occurred_at),
                        Column::OccurredAtLocal => Cell::Time(local),
                        Column::RecordedAt => Cell::Time(event.recorded_at),
                        _ => Cell::Text(text),
                    })
                    .collect();
                match book.row(&cells) {
                    Ok(true) => rows += 1,
                    Ok(false) => return false,
                    Err(e) => {
                        failed = Some(e);
                        return false;
                    }
                }
            }
            true
        })?;
        if let Some(e) = failed {
            return Err(ApiError::internal(e));
        }
        book.finish().map_err(ApiError::internal)?;
        Ok(rows)
    });
    HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(attachment(&filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

fn manifest_response(job: Job) -> HttpResponse {
    let filename = job.filename("manifest.jsonl");
    let body = blocking_stream(job, |job, conn, emit| {
        // The manifest describes the CSV export with the same filters: drop `format` (and `bom`).
        let filters: Vec<&str> =
            job.query.split('&').filter(|p| !p.starts_with("format=") && !p.starts_with("bom=")).collect();
        // A checkpoint holding every event up to the export's end (signed now if none does yet).
        let through = job.filter.through_seq.unwrap_or(0).max(0) as u64;
        let checkpoint = if through == 0 {
            None
        } else {
            Some(job.state.notary.cover(conn, &job.caller.tenant, through, None, CheckpointKind::Periodic)?)
        };
        let lines = auditlog_db::manifest::write(
            conn,
            &job.viewer,
            &job.filter,
            &job.caller.tenant.slug,
            &filters.join("&"),
            checkpoint.as_ref(),
            |line| emit(Bytes::from(line + "\n")),
        )?;
        Ok(lines as u64)
    });
    HttpResponse::Ok()
        .content_type("application/x-ndjson")
        .insert_header(attachment(&filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

/// A change as the PDF prints it: `status: pending → confirmed`; a value absent or null is `∅`.
fn change_line(change: &auditlog_db::models::Change) -> String {
    let value = |v: &Option<serde_json::Value>| match v {
        None | Some(serde_json::Value::Null) => "∅".to_string(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    format!("{}: {} → {}", change.field, value(&change.old), value(&change.new))
}

/// One event as a row of the PDF's table.
fn pdf_row(event: &Event, tz: Tz) -> PdfRow {
    let d = &event.draft;
    let when = d.occurred_at.and_utc().with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string();
    let record = d
        .entity
        .as_ref()
        .map(|x| match &x.label {
            Some(label) => format!("{label} ({} #{})", x.entity_type, x.id),
            None => format!("{} #{}", x.entity_type, x.id),
        })
        .unwrap_or_default();
    let changes: Vec<String> = d.changes.iter().map(change_line).collect();
    PdfRow {
        cells: [
            when,
            d.actor.name.clone(),
            d.action.clone(),
            record,
            d.description.clone(),
            changes.join("\n"),
            d.ip.clone().unwrap_or_default(),
        ],
    }
}

/// The PDF's cover: whose log, who exported it and when, the filters in words, how many
/// activities, and the signed checkpoint whose tree holds every one of them.
fn pdf_cover(job: &Job, checkpoint: Option<&auditlog_db::checkpoints::LoggedCheckpoint>) -> Cover {
    let tenant = &job.caller.tenant;
    let now = Utc::now();
    let by = match job.caller.user() {
        Ok(u) => format!("{} <{}>, {}", u.name, u.email, u.role().as_str()),
        Err(_) => format!("{} (API token)", job.caller.actor().name),
    };
    let filters = crate::audit::sentence::filters_in_words(&job.query);
    let verifier = job.state.notary.verifier();
    let covered = match checkpoint {
        Some(c) => format!(
            "{} — tree size {}, root hash {}, signed {}",
            c.checkpoint.origin,
            c.checkpoint.size,
            c.checkpoint.root_base64(),
            c.signed_at.with_timezone(&job.tz).format("%Y-%m-%d %H:%M:%S %Z")
        ),
        None => "none yet: the log is empty".to_string(),
    };
    let withheld: Vec<&str> = job.viewer.withheld().iter().map(|f| f.as_str()).collect();
    let mut facts = vec![
        ("Tenant", Fact::Text(format!("{} ({})", tenant.name, tenant.slug))),
        ("Exported by", Fact::Text(by.clone())),
        ("Exported at", Fact::Text(now.with_timezone(&job.tz).format("%Y-%m-%d %H:%M:%S %Z").to_string())),
        (
            "Filters",
            Fact::Text(if filters.is_empty() { "none: every activity you may see".into() } else { filters }),
        ),
        ("Activities", Fact::RowCount),
        (
            "Up to",
            Fact::Text(format!(
                "seq {}: the log's last event when the export began",
                job.filter.through_seq.unwrap_or(0)
            )),
        ),
        ("Checkpoint", Fact::Text(covered)),
        ("Verifier key", Fact::Text(format!("{}+{:08x}", verifier.name(), verifier.key_id()))),
        ("Times in", Fact::Text(job.tz.name().to_string())),
    ];
    if !withheld.is_empty() {
        facts.push((
            "Withheld",
            Fact::Text(format!("{}: hidden from the exporter's role, left blank", withheld.join(", "))),
        ));
    }
    Cover {
        title: format!("Activity Log — {}", tenant.name),
        facts,
        footer: format!(
            "{} · exported {} by {}",
            tenant.name,
            now.with_timezone(&job.tz).format("%Y-%m-%d %H:%M %Z"),
            by
        ),
        created: now,
    }
}

/// The PDF, streamed like the CSV: each page goes out once full, so memory stays flat and there
/// is no row limit.
fn pdf_response(job: Job) -> HttpResponse {
    let filename = job.filename("pdf");
    let body = blocking_stream(job, |job, conn, emit| {
        let through = job.filter.through_seq.unwrap_or(0).max(0) as u64;
        let checkpoint = if through == 0 {
            None
        } else {
            Some(job.state.notary.cover(conn, &job.caller.tenant, through, None, CheckpointKind::Periodic)?)
        };
        let cover = pdf_cover(job, checkpoint.as_ref());
        let mut report = Report::start(&cover, emit).map_err(ApiError::internal)?;
        let mut rows = 0u64;
        job.pages(conn, |events| {
            for event in &events {
                if !report.row(&pdf_row(event, job.tz)) {
                    return false;
                }
                rows += 1;
            }
            true
        })?;
        report.finish().map_err(ApiError::internal)?;
        Ok(rows)
    });
    HttpResponse::Ok()
        .content_type("application/pdf")
        .insert_header(attachment(&filename))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_names_its_file_in_safe_characters() {
        assert_eq!(name_part("customer"), "customer");
        assert_eq!(name_part("../admin?x=1"), "admin-x-1");
        assert_eq!(name_part("Zoë 東京"), "Zoë-東京");
        assert_eq!(name_part(&"x".repeat(100)).len(), 40);
    }

    #[test]
    fn selected_ids_are_checked() {
        assert_eq!(parse_ids("3,1,2").unwrap(), [3, 1, 2].map(auditlog_db::EventId));
        // Exactly the parameter's pattern: digits and single commas, 1 to 18 digits an id.
        for bad in ["1,x", "", "3, 1", "1,,2", "+1", "-1", "1234567890123456789"] {
            assert!(parse_ids(bad).is_err(), "{bad}");
        }
    }
}
