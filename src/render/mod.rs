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

use std::borrow::Cow;
use std::fmt;
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

#[derive(Debug, Default)]
pub struct Table<'a> {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Rows made one at a time as they are written, after `rows`.
    pub later: Option<LaterRows<'a>>,
    /// Shown under the rows by the formats for people; part of the data for machines.
    pub total: Option<Vec<Cell>>,
    /// JSON only: fields written before `rows` and after `total`.
    pub json_head: Vec<(String, serde_json::Value)>,
    pub json_tail: Vec<(String, serde_json::Value)>,
}

/// Rows a renderer makes as it writes them, from the report they show. A report of
/// every trace of a large store would otherwise hold a second copy of itself as cells
/// (a hundred MB at 200k traces) just to write them out once. JSON, CSV and Markdown
/// write each row and drop it; only the table for people, which measures every row
/// before it draws one, makes them all.
pub struct LaterRows<'a> {
    len: usize,
    make: Box<MakeRow<'a>>,
}

/// Pushes the cells of row `i` onto an empty vector.
type MakeRow<'a> = dyn Fn(usize, &mut Vec<Cell>) + 'a;

impl<'a> LaterRows<'a> {
    /// `len` rows; `make(i, row)` pushes the cells of row `i` onto an empty `row`.
    pub fn new(len: usize, make: impl Fn(usize, &mut Vec<Cell>) + 'a) -> LaterRows<'a> {
        LaterRows {
            len,
            make: Box::new(make),
        }
    }
}

impl fmt::Debug for LaterRows<'_> {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "LaterRows({})", self.len)
    }
}

impl<'a> Table<'a> {
    pub fn new(columns: Vec<Column>) -> Table<'a> {
        Table {
            columns,
            ..Default::default()
        }
    }

    /// The machine names of the columns.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.columns.iter().map(|c| c.name.as_str())
    }

    /// How many rows there are, not counting the total.
    pub fn len(&self) -> usize {
        self.rows.len() + self.later.as_ref().map_or(0, |l| l.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with every row in order, making the later ones one at a time into one
    /// reused buffer; stops at the first error.
    pub fn try_each_row<E>(&self, mut f: impl FnMut(&[Cell]) -> Result<(), E>) -> Result<(), E> {
        for r in &self.rows {
            f(r)?;
        }
        if let Some(l) = &self.later {
            let mut row = Vec::with_capacity(self.columns.len());
            for i in 0..l.len {
                row.clear();
                (l.make)(i, &mut row);
                f(&row)?;
            }
        }
        Ok(())
    }

    /// Every row as cells, the later ones made now: for renderers that need them all.
    pub fn all_rows(&self) -> Cow<'_, [Vec<Cell>]> {
        if self.later.is_none() {
            return Cow::Borrowed(&self.rows);
        }
        let mut all = Vec::with_capacity(self.len());
        let _ = self.try_each_row(|r| {
            all.push(r.to_vec());
            Ok::<(), ()>(())
        });
        Cow::Owned(all)
    }

    /// Numbers are right-aligned; a column is numeric when any of its cells is.
    pub fn alignments(&self) -> Vec<Align> {
        let mut numeric = vec![false; self.columns.len()];
        let _ = self.try_each_row(|r| {
            for (n, c) in numeric.iter_mut().zip(r) {
                *n |= c.is_number();
            }
            // Every column already known numeric: the rest cannot change it.
            if numeric.iter().all(|&n| n) {
                Err(())
            } else {
                Ok(())
            }
        });
        numeric.into_iter().map(Align::of).collect()
    }
}

impl Cell {
    /// Numbers are right-aligned: a column is numeric when any of its cells is.
    fn is_number(&self) -> bool {
        matches!(self, Cell::Int(_) | Cell::Fixed(..) | Cell::Exact(_))
    }
}

impl Align {
    fn of(numeric: bool) -> Align {
        if numeric { Align::Right } else { Align::Left }
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

/// A buffer of a concrete type in front of a renderer's output: serde_json and
/// `write!` write a few bytes at a time (a key, a colon, an indent, a cell), each a
/// dynamic call when written to `out` itself. `cost --by trace --format json` at 200k
/// traces: 0.77 s to 0.70 s.
fn buffered(out: &mut dyn Write) -> io::BufWriter<&mut dyn Write> {
    io::BufWriter::with_capacity(1 << 16, out)
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

    fn cells_of(i: usize) -> Vec<Cell> {
        vec![
            // The first two rows hold no number in the second column: alignment must
            // look past them, and past the rows made up front.
            Cell::Text(format!("key|{i}")),
            if i < 3 {
                Cell::Null
            } else {
                Cell::Exact(format!("{i}.5"))
            },
            Cell::List(vec![format!("u{i}"), "x,y".into()]),
            Cell::Fixed(i as f64 / 3.0, 3),
        ]
    }

    fn columns() -> Vec<Column> {
        vec![
            Column::key("k", "Key"),
            Column::new("cost", "Cost", Kind::Money, Column::KEEP),
            Column::new("users", "Users", Kind::Text, 10),
            Column::new("ms", "Ms", Kind::Count, 20),
        ]
    }

    /// A table whose rows are made as they are written renders byte for byte as the
    /// same rows made up front, in every format, with rows of both kinds in one table.
    #[test]
    fn later_rows_render_as_rows_made_first() {
        let n = 7;
        let mut eager = Table::new(columns());
        eager.rows = (0..n).map(cells_of).collect();
        eager.total = Some(vec![
            Cell::Text("TOTAL".into()),
            Cell::Null,
            Cell::Null,
            Cell::Int(3),
        ]);
        eager.json_head.push(("head".into(), serde_json::json!(1)));
        let made = std::cell::Cell::new(0);
        let mut later = Table::new(columns());
        later.rows = (0..2).map(cells_of).collect();
        later.later = Some(LaterRows::new(n - 2, |i, row| {
            made.set(made.get() + 1);
            assert!(row.is_empty(), "each row starts empty");
            row.extend(cells_of(i + 2));
        }));
        later.total = eager.total.clone();
        later.json_head = eager.json_head.clone();
        assert_eq!(later.len(), n);
        assert_eq!(later.alignments(), eager.alignments());
        assert_eq!(eager.alignments()[1], Align::Right);
        for format in [
            OutputFormat::Json,
            OutputFormat::Csv,
            OutputFormat::Markdown,
            OutputFormat::Table,
        ] {
            let render = |t: &Table| {
                let mut out = Vec::new();
                renderer(format, &View::default())
                    .render(t, &mut out)
                    .unwrap();
                String::from_utf8(out).unwrap()
            };
            made.set(0);
            let (a, b) = (render(&eager), render(&later));
            assert_eq!(a, b, "{format:?}");
            assert!(a.contains("u6"), "{format:?}: the last row is there");
            assert!(made.get() >= n - 2, "{format:?}: the later rows were made");
        }
        let mut json = Vec::new();
        renderer(OutputFormat::Json, &View::default())
            .render(&later, &mut json)
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["rows"].as_array().unwrap().len(), n);
        assert_eq!(v["rows"][6]["cost"], serde_json::json!(6.5));
    }

    /// Alignment stops making rows once every column is numeric, and a column is
    /// numeric when any of its cells is, however late.
    #[test]
    fn alignment_of_later_rows() {
        let made = std::cell::Cell::new(0);
        let mut t = Table::new(vec![Column::key("a", "A"), Column::key("b", "B")]);
        t.later = Some(LaterRows::new(1000, |i, row| {
            made.set(made.get() + 1);
            row.push(Cell::Int(i as i64));
            row.push(if i == 10 { Cell::Int(1) } else { Cell::Null });
        }));
        assert_eq!(t.alignments(), vec![Align::Right, Align::Right]);
        assert_eq!(made.get(), 11);
        let mut t = Table::new(vec![Column::key("a", "A"), Column::key("b", "B")]);
        t.later = Some(LaterRows::new(1000, |i, row| {
            row.push(Cell::Int(i as i64));
            row.push(if i == 999 {
                Cell::Fixed(1.0, 1)
            } else {
                Cell::Text("x".into())
            });
        }));
        assert_eq!(t.alignments(), vec![Align::Right, Align::Right]);
        let mut t = Table::new(vec![Column::key("a", "A"), Column::key("b", "B")]);
        t.later = Some(LaterRows::new(3, |_, row| {
            row.push(Cell::Int(1));
            row.push(Cell::Null);
        }));
        assert_eq!(t.alignments(), vec![Align::Right, Align::Left]);
    }
}
