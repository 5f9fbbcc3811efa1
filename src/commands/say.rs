//! What the commands tell people beside their output: warnings and errors on stderr,
//! coloured only for a terminal, silenced by `--quiet`, in full with `--verbose`; and
//! the view a table for people is drawn for.

use crate::cli::{Cli, ColorChoice, OutputArgs, TableArgs};
use std::fmt::Display;
use std::io::IsTerminal;
use std::sync::OnceLock;
use traces::render::View;

struct Settings {
    quiet: bool,
    verbose: bool,
    color: ColorChoice,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

pub fn setup(cli: &Cli) {
    let _ = SETTINGS.set(Settings {
        quiet: cli.quiet,
        verbose: cli.verbose,
        color: cli.color,
    });
}

fn settings() -> &'static Settings {
    SETTINGS.get_or_init(|| Settings {
        quiet: false,
        verbose: false,
        color: ColorChoice::Auto,
    })
}

/// Whether `--verbose` asks for detail.
pub fn verbose() -> bool {
    settings().verbose
}

/// How many refused values a warning names: the first ten, or with `--verbose` all
/// but a pathological number.
pub fn problems_shown() -> usize {
    if settings().verbose { 100_000 } else { 10 }
}

/// Whether a stream gets colour: `--color` when given, else NO_COLOR (set and not
/// empty) forbids it, CLICOLOR_FORCE (set and not 0) forces it, and otherwise only a
/// terminal gets it.
fn colored(stream_is_terminal: bool) -> bool {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    match settings().color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            if env("NO_COLOR").is_some() {
                false
            } else if env("CLICOLOR_FORCE").is_some_and(|v| v != "0") {
                true
            } else {
                stream_is_terminal
            }
        }
    }
}

fn paint(code: &str, text: &str) -> String {
    if colored(std::io::stderr().is_terminal()) {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// A recoverable problem: the command goes on.
pub fn warn(message: impl Display) {
    if !settings().quiet {
        eprintln!("{} {message}", paint("33", "warning:"));
    }
}

/// One warning of several lines: the first is the warning, the rest its details.
pub fn warn_lines(lines: &[String]) {
    let Some((head, rest)) = lines.split_first() else {
        return;
    };
    warn(head);
    if !settings().quiet {
        for l in rest {
            eprintln!("{l}");
        }
    }
}

/// What a long-running command is doing, on stderr: stdout stays for its output.
pub fn note(message: impl Display) {
    eprintln!("{message}");
}

/// The command failed.
pub fn error(message: impl Display) {
    eprintln!("{} {message}", paint("31;1", "error:"));
}

/// How a table for people is drawn on stdout.
pub fn view(o: &OutputArgs) -> View {
    table_view(&o.table)
}

/// The same, for a command with formats of its own.
pub fn table_view(o: &TableArgs) -> View {
    let terminal = std::io::stdout().is_terminal();
    let width = o.width.unwrap_or_else(|| {
        terminal
            .then(|| terminal_size::terminal_size_of(std::io::stdout()))
            .flatten()
            .map_or(100, |(w, _)| usize::from(w.0))
    });
    View {
        width,
        wide: o.wide,
        exact: o.exact,
        color: colored(terminal),
    }
}
