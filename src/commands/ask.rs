//! How the commands that report on calls put their question to the library: the
//! filters from their flags, the library's errors as the messages and exit codes of
//! the layers they come from, and what an empty answer says.

use super::UsageError;
use crate::cli::FilterArgs;
use anyhow::Result;
use std::path::PathBuf;
use traces::analysis::cost_report::{CallFilter, Dim};
use traces::analysis::source::SourceError;

/// The filter of `--since` … `--where`, and the attributes to read (those grouped by,
/// then those filtered on), in the order the calls' `attrs` hold them.
pub fn filter(args: &FilterArgs, group_by: &[Dim]) -> Result<(CallFilter, Vec<String>)> {
    let (since, until) = super::time_bounds(args.since.as_deref(), args.until.as_deref())?;
    let mut attr_keys: Vec<String> = group_by
        .iter()
        .filter_map(|d| {
            if let Dim::Attr(k) = d {
                Some(k.clone())
            } else {
                None
            }
        })
        .collect();
    let mut where_attrs = Vec::new();
    for w in &args.where_ {
        let (k, v) = w
            .split_once('=')
            .ok_or_else(|| UsageError(format!("--where {w:?}: expected KEY=VALUE")))?;
        if !attr_keys.iter().any(|x| x == k) {
            attr_keys.push(k.to_string());
        }
        where_attrs.push((
            attr_keys.iter().position(|x| x == k).unwrap_or(0),
            v.to_string(),
        ));
    }
    let model = args
        .model
        .as_deref()
        .map(|g| globset::Glob::new(&g.to_ascii_lowercase()).map(|g| g.compile_matcher()))
        .transpose()
        .map_err(|e| UsageError(format!("--model: {e}")))?;
    let filter = CallFilter {
        since,
        until,
        model,
        service: args.service.clone(),
        session: args.session.clone(),
        user: args.user.clone(),
        // A Langfuse trace id names the trace its spans were imported under.
        trace: args.trace.as_deref().map(|t| {
            traces::ingest::langfuse::trace_id_of_text(t)
                .map_or_else(|| t.to_string(), |id| id.to_string())
        }),
        where_attrs,
    };
    Ok((filter, attr_keys))
}

/// The error of the layer that failed, so that its message and exit code are that
/// layer's (`main::exit_code` knows them by type).
pub fn source_error(e: SourceError) -> anyhow::Error {
    match e {
        SourceError::Ingest(e) => e.into(),
        SourceError::Store(e) => e.into(),
        SourceError::Spill(e) => e.into(),
        SourceError::Report(e) => e.into(),
        SourceError::Overflow(e) => e.into(),
    }
}

/// Why a report is empty: the filters that applied, or that there were no calls at all.
pub fn no_calls(args: &FilterArgs, paths: &[PathBuf]) -> String {
    let mut applied = Vec::new();
    let mut flag = |name: &str, v: &Option<String>| {
        if let Some(v) = v {
            applied.push(format!("--{name} {v}"));
        }
    };
    flag("since", &args.since);
    flag("until", &args.until);
    flag("model", &args.model);
    flag("service", &args.service);
    flag("session", &args.session);
    flag("user", &args.user);
    flag("trace", &args.trace);
    applied.extend(args.where_.iter().map(|w| format!("--where {w}")));
    let source = if paths.is_empty() {
        "the store"
    } else {
        "these dumps"
    };
    if applied.is_empty() {
        format!("no LLM calls with token usage in {source}")
    } else {
        format!("no calls match {} in {source}", applied.join(" "))
    }
}
