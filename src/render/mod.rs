//! Output formats. A report is built once as a `Table`; each renderer only formats it,
//! so a table for people and JSON or CSV for machines always carry the same numbers.

mod csv_out;
mod json;
mod markdown;
mod text_table;

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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

#[derive(Debug, Clone, Default)]
pub struct Table {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
    /// Shown under the rows by the formats for people; part of the data for machines.
    pub total: Option<Vec<Cell>>,
    /// JSON only: fields written before `rows` and after `total`.
    pub json_head: Vec<(String, serde_json::Value)>,
    pub json_tail: Vec<(String, serde_json::Value)>,
}

impl Table {
    pub fn new(columns: &[&str]) -> Table {
        Table {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
    Csv,
    Markdown,
}

impl std::str::FromStr for OutputFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "table" => OutputFormat::Table,
            "json" => OutputFormat::Json,
            "csv" => OutputFormat::Csv,
            "markdown" | "md" => OutputFormat::Markdown,
            _ => {
                return Err(format!(
                    "unknown output format {s:?} (table, json, csv, markdown)"
                ));
            }
        })
    }
}

pub trait Renderer {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()>;
}

/// Renders to standard output through one buffer: stdout alone flushes at every line,
/// a system call per row of a large report.
pub fn to_stdout(format: OutputFormat, table: &Table) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    renderer(format).render(table, &mut out)?;
    out.flush()
}

pub fn renderer(format: OutputFormat) -> Box<dyn Renderer> {
    match format {
        OutputFormat::Table => Box::new(text_table::TextTable),
        OutputFormat::Json => Box::new(json::Json),
        OutputFormat::Csv => Box::new(csv_out::Csv),
        OutputFormat::Markdown => Box::new(markdown::Markdown),
    }
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
