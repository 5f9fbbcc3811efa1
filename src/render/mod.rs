//! Output formats. A report is built once as a `Table`; each renderer only formats it,
//! so a table for people and JSON or CSV for machines always carry the same numbers.

mod csv_out;
pub mod github;
pub mod html;
mod json;
pub mod junit;
mod markdown;
mod people;
mod text_table;

pub use people::{Layout, View, layout, shorten_middle};

use std::io::{self, Write};

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Text(String),
    Int(i64),
    /// A number with a fixed count of decimals, as it should be shown.
    Fixed(f64, usize),
    /// An exact decimal (money), written out with every digit it has.
    Exact(String),
    /// Several values (the users of a session): an array in JSON, joined with `, `
    /// elsewhere.
    List(Vec<String>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// What a column holds, which decides how a table for people shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A group key or an id: never dropped to fit, shortened in the middle instead,
    /// `(none)` when missing.
    Key,
    /// A count: left out of a table for people when zero or missing in every row.
    Count,
    /// Dollars: rounded for people to decimals chosen for the whole column.
    Money,
    /// A price: dollars with every digit, aligned on the point, never rounded.
    Price,
    /// Anything else (names, lists): left out when empty in every row, shortened in
    /// the middle when the table is too wide.
    Text,
    /// A time: like text, but never shortened (half a timestamp tells nothing).
    Time,
}

/// One column: its name for machines (JSON keys, CSV and Markdown headers) and what a
/// table for people calls it and how readily it gives it up.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub label: String,
    pub kind: Kind,
    /// A table too wide for the terminal drops its lowest-ranked columns first; keys
    /// and `Column::KEEP` are never dropped.
    pub rank: u8,
    /// A value other than zero here is a problem (unpriced calls): shown in red.
    pub alert: bool,
}

impl Column {
    pub const KEEP: u8 = u8::MAX;

    pub fn new(name: &str, label: &str, kind: Kind, rank: u8) -> Column {
        Column {
            name: name.into(),
            label: label.into(),
            kind,
            rank,
            alert: false,
        }
    }

    pub fn key(name: &str, label: &str) -> Column {
        Column::new(name, label, Kind::Key, Column::KEEP)
    }

    pub fn alerting(mut self) -> Column {
        self.alert = true;
        self
    }
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown under the rows by the formats for people; part of the data for machines.
    pub total: Option<Vec<Cell>>,
    /// JSON only: fields written before `rows` and after `total`.
    pub json_head: Vec<(String, serde_json::Value)>,
    pub json_tail: Vec<(String, serde_json::Value)>,
}

impl Table {
    pub fn new(columns: Vec<Column>) -> Table {
        Table {
            columns,
            ..Default::default()
        }
    }

    /// The machine names of the columns.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// Numbers are right-aligned; a column is numeric when any of its cells is.
    pub fn alignments(&self) -> Vec<Align> {
        (0..self.columns.len())
            .map(|i| {
                let numeric = self.rows.iter().any(|r| {
                    matches!(
                        r.get(i),
                        Some(Cell::Int(_) | Cell::Fixed(..) | Cell::Exact(_))
                    )
                });
                if numeric { Align::Right } else { Align::Left }
            })
            .collect()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    /// A table for people: fits the terminal, money rounded.
    #[default]
    Table,
    /// Every column, exact, with the report's context (pricing, unpriced models).
    Json,
    /// Every column, exact.
    Csv,
    /// Every column, exact, as a Markdown table (for PR comments and docs).
    #[value(alias = "md")]
    Markdown,
}

pub trait Renderer {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()>;
}

/// Renders to standard output through one buffer: stdout alone flushes at every line,
/// a system call per row of a large report.
pub fn to_stdout(format: OutputFormat, view: &View, table: &Table) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    renderer(format, view).render(table, &mut out)?;
    out.flush()
}

pub fn renderer(format: OutputFormat, view: &View) -> Box<dyn Renderer> {
    match format {
        OutputFormat::Table => Box::new(text_table::TextTable(view.clone())),
        OutputFormat::Json => Box::new(json::Json),
        OutputFormat::Csv => Box::new(csv_out::Csv),
        OutputFormat::Markdown => Box::new(markdown::Markdown),
    }
}

/// An exact decimal written into JSON as a number with every digit it has (a float
/// would round it): for `#[serde(serialize_with)]`.
pub fn exact_number<S: serde::Serializer>(
    d: &rust_decimal::Decimal,
    s: S,
) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    let text = d.normalize().to_string();
    match serde_json::value::RawValue::from_string(text.clone()) {
        Ok(raw) => raw.serialize(s),
        Err(_) => s.serialize_str(&text),
    }
}

/// Unix nanoseconds as RFC 3339 UTC to the millisecond, as every report writes times.
pub fn utc_millis(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// `1234567` → `1,234,567`: the formats for people group digits.
pub fn group_digits(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest
        .split_once('.')
        .map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// A cell as text: `human` groups digits.
pub fn cell_text(c: &Cell, human: bool) -> String {
    let raw = match c {
        Cell::Null => return String::new(),
        Cell::Text(t) => return t.clone(),
        Cell::List(l) => return l.join(", "),
        Cell::Int(i) => i.to_string(),
        Cell::Fixed(v, d) => format!("{v:.d$}", d = *d),
        Cell::Exact(t) => t.clone(),
    };
    if human { group_digits(&raw) } else { raw }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping() {
        assert_eq!(group_digits("1234567"), "1,234,567");
        assert_eq!(group_digits("-1234.50"), "-1,234.50");
        assert_eq!(group_digits("123"), "123");
    }
}
