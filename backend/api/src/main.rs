//! `auditlog`: the Activity Log server and its administration commands (`auditlog_api::cli`).

use std::process::ExitCode;

use auditlog_api::cli::{self, Cli};
use clap::Parser;

/// glibc's allocator, left alone, makes a long-running server grow: it gives each thread that
/// allocates while others do an arena of its own (up to eight per core) and keeps what an arena
/// once held, and after a large block is freed (a password hash takes 19 MB) it serves blocks of
/// that size from the arenas instead of the system, where they stay. Two arenas and a fixed
/// 128 KiB threshold for blocks taken from and given back to the system keep the server flat
/// (docs/RELIABILITY.md). An explicit `MALLOC_ARENA_MAX`, `MALLOC_MMAP_THRESHOLD_` or glibc
/// tunable still decides.
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
        let set = |name: &str, tunable: &str| std::env::var_os(name).is_some() || tunables.contains(tunable);
        // SAFETY: the first thing `main` does, while this is the only thread.
        unsafe {
            if !set("MALLOC_ARENA_MAX", "arena_max") {
                libc::mallopt(libc::M_ARENA_MAX, 2);
            }
            if !set("MALLOC_MMAP_THRESHOLD_", "mmap_threshold") {
                libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
            }
        }
    }
}

fn main() -> ExitCode {
    tune_allocator();
    dotenvy::dotenv().ok();
    if let Err(message) = cli::logging::init() {
        eprintln!("error: {message}");
        return ExitCode::FAILURE;
    }
    match cli::run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}
