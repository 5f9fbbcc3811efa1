//! GitHub Actions workflow commands (`::error title=…::message`): the runner turns each
//! line into an annotation on the run. Its parser splits on `::`, `,` and `=`, and reads
//! `%XX` escapes, so text from the data is escaped as the runner's own toolkit does.

use std::io::{self, Write};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Notice,
}

impl Level {
    fn command(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Notice => "notice",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    pub level: Level,
    pub title: String,
    pub message: String,
}

/// The message after `::`: a line break would end the command.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value (`title=…`): `:` and `,` would end it too.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn write(annotations: &[Annotation], out: &mut dyn Write) -> io::Result<()> {
    for a in annotations {
        writeln!(
            out,
            "::{} title={}::{}",
            a.level.command(),
            escape_property(&a.title),
            escape_data(&a.message)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_as_the_runner_reads() {
        assert_eq!(escape_data("50% a:b,c\r\nd"), "50%25 a:b,c%0D%0Ad");
        assert_eq!(escape_property("50% a:b,c\nd"), "50%25 a%3Ab%2Cc%0Ad");
    }
}
