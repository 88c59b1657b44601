//! The process's logs, through `tracing`: `RUST_LOG` filters them as before (default `info`), and
//! `LOG_FORMAT=json` writes one JSON object per line (with the request's span and its
//! `request_id`) for a log pipeline; `text` (the default) is for people. Records made with the
//! `log` crate (the database crate, dependencies) go through the same subscriber.

use tracing_subscriber::EnvFilter;

pub fn init() -> Result<(), String> {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,actix_server=warn"));
    let format = std::env::var("LOG_FORMAT").unwrap_or_default();
    // Colours only for a person at a terminal, never into a file or a pipeline.
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(colour);
    match format.trim() {
        "" | "text" => builder.try_init(),
        "json" => builder.json().with_current_span(true).with_span_list(false).try_init(),
        other => return Err(format!("LOG_FORMAT must be text or json, got {other:?}")),
    }
    .map_err(|e| format!("cannot set up logging: {e}"))
}
