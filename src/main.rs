mod cli;
mod commands;

use clap::Parser;
use std::process::ExitCode;
use traces::analysis::budget::BudgetError;
use traces::analysis::cost_report::{ReportError, SumOverflow};
use traces::analysis::session_report::Per;
use traces::analysis::show::ShowError;
use traces::analysis::store_set::{StoreSet, StoreSetError};
use traces::analysis::time_bound::TimeBoundError;
use traces::ingest::IngestError;
use traces::pricing::table::PricingError;
use traces::store::Store;

// Decoding allocates a string per attribute value; glibc's allocator spent a fifth of
// the time of a report in malloc and free, mimalloc much less.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` and `mi_option_allow_thp`: their places in mimalloc v3's
/// option enum, which the bindings do not name.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
const MI_OPTION_ALLOW_THP: libmimalloc_sys::mi_option_t = 43;

/// An import frees row groups on one thread as fast as other threads allocate the next:
/// by default mimalloc hands freed pages back to the OS and the kernel zeroes them again
/// a moment later (a tenth of the import's CPU time went to page faults). Keeping them
/// costs some 60 MB of peak memory for a 2 GB dump and makes the import 5-10% faster.
fn keep_freed_pages() {
    // SAFETY: setting an option is a plain store in mimalloc's option table.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
    no_huge_pages();
}

/// Every other command: their peak memory is part of their promise. By default mimalloc
/// keeps freed pages for a second: a report on a 200,000-trace store peaked at 280 MB
/// where the system allocator needs 145. Purging at once (and without huge pages) brings
/// it to 150 MB (a cost from a 207 MB dump: 105 MB to 58); the fastest reports take some
/// 15% longer for it (README, Import).
fn return_freed_pages() {
    // SAFETY: as above.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
    no_huge_pages();
}

/// By default mimalloc asks for transparent huge pages, so that touching one byte of a
/// region commits 2 MB, and the kernel zeroes (and compacts memory for) each: an import
/// of a 2 GB dump spent 2.5-3.1 s of system time and peaked at 716 MB with them,
/// 1.6-2.3 s and 680 MB without, in the same wall time. The arena mimalloc reserved before `main`
/// already asked for them: the process opts out.
fn no_huge_pages() {
    // SAFETY: as above; `prctl` with these arguments only sets a flag of the process.
    unsafe {
        libmimalloc_sys::mi_option_set(MI_OPTION_ALLOW_THP, 0);
        #[cfg(target_os = "linux")]
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match &cli.command {
        cli::Command::Import(_) => keep_freed_pages(),
        _ => return_freed_pages(),
    }
    commands::say::setup(&cli);
    // Resolved by the commands that read or write a store only: a glob that matches
    // nothing is no reason for `traces pricing list` to fail.
    let stores = || StoreSet::resolve(&cli.store).map_err(anyhow::Error::from);
    let one = |command| -> anyhow::Result<Store> { Ok(stores()?.single(command)?.clone()) };
    let result = match &cli.command {
        cli::Command::Import(a) => {
            one("import").and_then(|s| commands::import::run(&s, &cli.pricing, a))
        }
        cli::Command::List(a) => stores().and_then(|s| commands::list::run(&s, a)),
        cli::Command::Cost(a) => stores().and_then(|s| commands::cost::run(&s, &cli.pricing, a)),
        cli::Command::Show(a) => stores().and_then(|s| commands::show::run(&s, &cli.pricing, a)),
        cli::Command::Sessions(a) => {
            stores().and_then(|s| commands::sessions::run(&s, &cli.pricing, a, Per::Session))
        }
        cli::Command::Users(a) => {
            stores().and_then(|s| commands::sessions::run(&s, &cli.pricing, a, Per::User))
        }
        cli::Command::Check(a) if !a.command.is_empty() => {
            match one("check -- CMD")
                .and_then(|s| commands::check::run_with_command(&s, &cli.pricing, a))
            {
                Ok(code) => return ExitCode::from(code),
                Err(e) => Err(e),
            }
        }
        cli::Command::Check(a) => stores().and_then(|s| commands::check::run(&s, &cli.pricing, a)),
        cli::Command::Report(a) => {
            stores().and_then(|s| commands::report::run(&s, &cli.pricing, a))
        }
        cli::Command::Record(a) => {
            match one("record").and_then(|s| commands::record::run(&s, &cli.pricing, a)) {
                Ok(code) => return ExitCode::from(code),
                Err(e) => Err(e),
            }
        }
        cli::Command::Diff(a) => commands::diff::run(&cli.pricing, a),
        cli::Command::Pricing(c) => commands::pricing::run(&cli.pricing, c),
        cli::Command::Store(cli::StoreCommand::Verify { repair, yes }) => {
            let verified = if *repair {
                one("store verify --repair").and_then(|s| commands::store::verify(&s, true, *yes))
            } else {
                stores().and_then(|s| commands::store::verify_each(&s, *yes))
            };
            match verified {
                Ok(code) => return ExitCode::from(code),
                Err(e) => Err(e),
            }
        }
        cli::Command::Store(cli::StoreCommand::Compact {
            target_spans,
            target_mb,
        }) => one("store compact")
            .and_then(|s| commands::store::compact(&s, *target_spans, *target_mb)),
        cli::Command::Store(cli::StoreCommand::Migrate) => {
            one("store migrate").and_then(|s| commands::store::migrate(&s))
        }
        cli::Command::Completions { shell } => {
            let mut cmd = <cli::Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut cmd, "traces", &mut std::io::stdout());
            Ok(())
        }
        cli::Command::Man => clap_mangen::Man::new(<cli::Cli as clap::CommandFactory>::command())
            .render(&mut std::io::stdout())
            .map_err(anyhow::Error::from),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // A closed pipe (`traces list | head`) is not a failure.
            if let Some(io) = e.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::BrokenPipe
            {
                return ExitCode::SUCCESS;
            }
            commands::say::error(format_args!("{e:#}"));
            ExitCode::from(exit_code(&e))
        }
    }
}

/// 2 for input the user can fix (invalid data, missing file, bad option value), 1 for
/// everything else.
fn exit_code(e: &anyhow::Error) -> u8 {
    if let Some(ie) = e.downcast_ref::<IngestError>() {
        return match ie {
            IngestError::Invalid(_) | IngestError::UnknownFormat(_) | IngestError::NotFound(_) => 2,
            IngestError::Io { .. } if ie.is_denied() => 2,
            IngestError::Io { .. } => 1,
        };
    }
    if e.downcast_ref::<TimeBoundError>().is_some()
        || e.downcast_ref::<PricingError>().is_some()
        || e.downcast_ref::<BudgetError>().is_some()
        || e.downcast_ref::<StoreSetError>().is_some()
    {
        return 2;
    }
    if let Some(se) = e.downcast_ref::<ShowError>() {
        return match se {
            ShowError::Ingest(IngestError::Io { .. })
            | ShowError::Store(_)
            | ShowError::Polars(_) => 1,
            _ => 2,
        };
    }
    // Sums only overflow on impossible counts in the input.
    if e.downcast_ref::<SumOverflow>().is_some()
        || matches!(e.downcast_ref(), Some(ReportError::Overflow(_)))
    {
        return 2;
    }
    // Option values that clap accepted but that did not parse (sort keys, formats).
    if e.downcast_ref::<commands::UsageError>().is_some()
        || e.downcast_ref::<commands::NoStore>().is_some()
    {
        return 2;
    }
    1
}

#[cfg(test)]
mod tests {
    /// One test: the options are one table for the whole process.
    #[test]
    fn the_allocator_options_are_where_they_are_set() {
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        // mimalloc v3's default purge delay is 1000 ms and, on Linux, huge pages are
        // allowed (1) and the option after them, the minimal purge size, is 0: other
        // values there would mean the enum moved and these set some other option.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(super::MI_OPTION_PURGE_DELAY), 1000);
        }
        if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
            assert_eq!(get(super::MI_OPTION_ALLOW_THP), 1);
        }
        assert_eq!(get(super::MI_OPTION_ALLOW_THP + 1), 0);
        super::keep_freed_pages();
        assert_eq!(get(super::MI_OPTION_PURGE_DELAY), -1);
        assert_eq!(get(super::MI_OPTION_ALLOW_THP), 0);
        super::return_freed_pages();
        assert_eq!(get(super::MI_OPTION_PURGE_DELAY), 0);
        assert_eq!(get(super::MI_OPTION_ALLOW_THP), 0);
    }
}
