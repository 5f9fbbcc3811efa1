//! One file per subcommand: glue from parsed arguments to the library.

pub mod ask;
pub mod check;
pub mod cost;
pub mod diff;
pub mod import;
pub mod list;
pub mod pricing;
pub mod record;
pub mod report;
pub mod say;
pub mod sessions;
pub mod show;
pub mod store;

use std::io::IsTerminal;

/// Whether to draw progress: only for a person watching stderr.
pub fn progress_wanted() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("CI").is_none()
}

/// An option value that clap accepted but that means nothing (a sort key, a format).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

impl From<String> for UsageError {
    fn from(s: String) -> Self {
        UsageError(s)
    }
}

/// A report asked of a store that no import has made.
#[derive(Debug, thiserror::Error)]
#[error(
    "no store at {path}: import a dump first (traces import DUMP){direct}, or point --store (or TRACES_STORE) at one"
)]
pub struct NoStore {
    pub path: String,
    pub direct: String,
}

/// The stores, or what to do when one of them is none.
pub fn require_store(
    stores: &traces::analysis::store_set::StoreSet,
    command: &str,
) -> Result<(), NoStore> {
    let Some(store) = stores.missing() else {
        return Ok(());
    };
    Err(NoStore {
        path: store.root().display().to_string(),
        direct: if matches!(command, "cost" | "sessions" | "users" | "check" | "report") {
            format!(", give dumps to read directly (traces {command} DUMP)")
        } else {
            String::new()
        },
    })
}

/// `--since` and `--until` as Unix nanoseconds.
pub fn time_bounds(
    since: Option<&str>,
    until: Option<&str>,
) -> Result<(Option<i64>, Option<i64>), traces::analysis::time_bound::TimeBoundError> {
    let now = chrono::Utc::now();
    let parse = |t: Option<&str>| {
        t.map(|s| traces::analysis::time_bound::parse_time_bound(s, now))
            .transpose()
    };
    Ok((parse(since)?, parse(until)?))
}

/// `--sort KEY` or `--sort -KEY` (descending).
pub fn sort_spec(spec: &str) -> (bool, &str) {
    match spec.strip_prefix('-') {
        Some(k) => (true, k),
        None => (false, spec),
    }
}
