//! How a table looks to people, decided in one place for every command: it fits the
//! width it is given, says what it left out, rounds money to decimals chosen for the
//! whole column and never wraps a key. Machines get every column, exact, from the other
//! formats.

use super::{Align, Cell, Kind, Table, cell_text, group_digits};
use rust_decimal::{Decimal, RoundingStrategy};
use unicode_width::UnicodeWidthStr;

/// What the reader's terminal allows, and what they asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    /// Columns of text the table may take.
    pub width: usize,
    /// Every column at full length, however wide.
    pub wide: bool,
    /// Money with every digit it has.
    pub exact: bool,
    pub color: bool,
}

impl Default for View {
    fn default() -> View {
        View {
            width: 100,
            wide: false,
            exact: false,
            color: false,
        }
    }
}

/// A table for people as it will be printed: which columns, how wide, and how each
/// cell becomes text. It holds no row: a report of every trace of a large store is
/// measured as its rows are made and drawn as they are made again, so the table for
/// people costs what JSON costs, not a copy of the report per stage.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The table's columns that are shown, in order.
    pub shown: Vec<usize>,
    pub headers: Vec<String>,
    pub aligns: Vec<Align>,
    /// Per shown column: whether a non-zero value is a problem to show in red.
    pub alerts: Vec<bool>,
    /// Per shown column: its width in terminal columns, the header's included.
    pub widths: Vec<usize>,
    /// Lines under the table: what was left out, and how money was rounded.
    pub notes: Vec<String>,
    /// Per column of the table: how its cells become text.
    texts: Vec<Text>,
}

/// How a column's cells become text for people.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Text {
    /// Dollars at this many decimals, every amount.
    Rounded(u32),
    /// Dollars with every digit, at most `max` decimals, padded to `fraction` so that
    /// the points line up.
    Padded { max: u32, fraction: usize },
    /// A key: `(none)` when missing, digits not grouped.
    Key,
    /// Counts, names and times: digits grouped.
    Plain,
}

/// A table too wide shortens its keys and names to this many columns before it drops
/// any column.
const SOFT_KEY_WIDTH: usize = 32;
/// The same for other text (names, providers): they tell rows apart less than keys.
const SOFT_TEXT_WIDTH: usize = 20;
/// Keys and names are never shortened below this many columns.
const MIN_KEY_WIDTH: usize = 10;
/// The most decimals a rounded money column uses; smaller amounts show as zero there
/// and exact with `--exact`.
const MAX_MONEY_DECIMALS: u32 = 10;
/// Prices per million tokens show every digit up to this many decimals: past them are
/// the float artifacts of the price lists (0.050000000000000004).
const MAX_PRICE_DECIMALS: u32 = 6;

/// A row's cell `i`, missing ones as `Null`.
fn cell(r: &[Cell], i: usize) -> &Cell {
    r.get(i).unwrap_or(&Cell::Null)
}

/// Calls `f` with every row and then the total (`true`), stopping at the first error.
fn each_row<E>(table: &Table, mut f: impl FnMut(&[Cell], bool) -> Result<(), E>) -> Result<(), E> {
    table.try_each_row(|r| f(r, false))?;
    match &table.total {
        Some(t) => f(t, true),
        None => Ok(()),
    }
}

/// Decides the layout in two passes over the rows, made one at a time: the first
/// finds what a column's texts depend on (a money column's decimals, which columns
/// hold anything and which numbers), the second measures the texts.
pub fn layout(table: &Table, view: &View) -> Layout {
    let n = table.columns.len();

    let mut texts: Vec<Text> = table
        .columns
        .iter()
        .map(|col| match col.kind {
            Kind::Money | Kind::Price if view.exact => Text::Padded {
                max: u32::MAX,
                fraction: 0,
            },
            Kind::Price => Text::Padded {
                max: MAX_PRICE_DECIMALS,
                fraction: 0,
            },
            Kind::Money => Text::Rounded(2),
            Kind::Key => Text::Key,
            Kind::Count | Kind::Text | Kind::Time => Text::Plain,
        })
        .collect();
    let mut filled = vec![false; n];
    // As `Table::alignments` decides, in this pass rather than one more.
    let mut numeric = vec![false; n];
    let _ = each_row(table, |r, total| {
        for (i, text) in texts.iter_mut().enumerate() {
            let c = cell(r, i);
            filled[i] |= !blank(c);
            numeric[i] |= !total && c.is_number();
            match text {
                Text::Rounded(dp) => {
                    if let Some(d) = money(c) {
                        *dp = (*dp).max(decimals_for(d));
                    }
                }
                Text::Padded { max, fraction } => {
                    if let Some(d) = money(c) {
                        *fraction = (*fraction).max(at_most(d, *max).scale() as usize);
                    }
                }
                Text::Key | Text::Plain => {}
            }
        }
        Ok::<(), ()>(())
    });

    let mut widths: Vec<usize> = table.columns.iter().map(|c| c.label.width()).collect();
    let mut rounded = vec![false; n];
    let _ = each_row(table, |r, total| {
        for (i, text) in texts.iter().enumerate() {
            let c = cell(r, i);
            widths[i] = widths[i].max(text.of(c, total).width());
            if let (Text::Rounded(_) | Text::Padded { .. }, Some(d)) = (text, money(c)) {
                rounded[i] |= text.amount(d) != d;
            }
        }
        Ok::<(), ()>(())
    });
    let rounded_to = texts
        .iter()
        .zip(&rounded)
        .filter(|(_, r)| **r)
        .filter_map(|(t, _)| match t {
            Text::Rounded(dp) => Some(*dp),
            Text::Padded { max, .. } => Some(*max),
            _ => None,
        })
        .max();

    let mut visible: Vec<bool> = (0..n)
        .map(|i| {
            let col = &table.columns[i];
            view.wide || col.kind == Kind::Key || col.rank == super::Column::KEEP || filled[i]
        })
        .collect();
    let total_width = |visible: &[bool], widths: &[usize]| {
        1 + (0..n)
            .filter(|&i| visible[i])
            .map(|i| widths[i] + 3)
            .sum::<usize>()
    };

    // Too wide: first no key or name over a soft limit, so that one long model name
    // does not push every number out; then drop columns; then shorten further.
    if !view.wide && total_width(&visible, &widths) > view.width {
        for (w, col) in widths.iter_mut().zip(&table.columns) {
            let soft = match col.kind {
                Kind::Key => SOFT_KEY_WIDTH,
                Kind::Text => SOFT_TEXT_WIDTH,
                _ => continue,
            };
            *w = (*w).min(soft.max(col.label.width()));
        }
    }
    let mut dropped = Vec::new();
    while !view.wide && total_width(&visible, &widths) > view.width {
        let victim = (0..n)
            .filter(|&i| {
                visible[i]
                    && table.columns[i].kind != Kind::Key
                    && table.columns[i].rank != super::Column::KEEP
            })
            .min_by_key(|&i| (table.columns[i].rank, std::cmp::Reverse(i)));
        let Some(v) = victim else { break };
        visible[v] = false;
        dropped.push(v);
    }
    // Still too wide: shorten the widest keys and names, a column at a time.
    while !view.wide && total_width(&visible, &widths) > view.width {
        let shrinkable = (0..n)
            .filter(|&i| {
                visible[i]
                    && matches!(table.columns[i].kind, Kind::Key | Kind::Text)
                    && widths[i] > MIN_KEY_WIDTH.max(table.columns[i].label.width())
            })
            .max_by_key(|&i| (widths[i], std::cmp::Reverse(i)));
        let Some(s) = shrinkable else { break };
        widths[s] -= 1;
    }

    let shown: Vec<usize> = (0..n).filter(|&i| visible[i]).collect();
    let mut notes = Vec::new();
    if !dropped.is_empty() {
        dropped.sort();
        let names: Vec<&str> = dropped
            .iter()
            .map(|&i| table.columns[i].label.as_str())
            .collect();
        notes.push(format!(
            "Not shown, to fit {} columns: {} (--wide shows every column).",
            view.width,
            names.join(", ")
        ));
    }
    if let Some(d) = rounded_to {
        notes.push(format!(
            "Dollars rounded to {d} decimals; --exact or --format json gives exact amounts."
        ));
    }
    Layout {
        headers: shown
            .iter()
            .map(|&i| table.columns[i].label.clone())
            .collect(),
        aligns: shown.iter().map(|&i| Align::of(numeric[i])).collect(),
        alerts: shown.iter().map(|&i| table.columns[i].alert).collect(),
        widths: shown.iter().map(|&i| widths[i]).collect(),
        shown,
        notes,
        texts,
    }
}

impl Layout {
    /// The shown cells of `row` as they are printed, shortened to their column's
    /// width, into `out` (cleared first). `total`: the total row, whose missing keys
    /// stand for every key.
    pub fn texts_of(&self, row: &[Cell], total: bool, out: &mut Vec<String>) {
        out.clear();
        out.extend(self.shown.iter().zip(&self.widths).map(|(&i, &w)| {
            let t = self.texts[i].of(cell(row, i), total);
            if t.width() <= w {
                t
            } else {
                shorten_middle(&t, w)
            }
        }));
    }
}

impl Text {
    /// An amount as this column shows it.
    fn amount(self, d: Decimal) -> Decimal {
        match self {
            Text::Rounded(dp) => round(d, dp),
            Text::Padded { max, .. } => at_most(d, max),
            Text::Key | Text::Plain => d,
        }
    }

    fn of(self, c: &Cell, total: bool) -> String {
        let text = match (self, money(c)) {
            (Text::Rounded(_), Some(d)) => dollars(self.amount(d)),
            (Text::Padded { fraction, .. }, Some(d)) => {
                let d = self.amount(d);
                // Spaces where a shorter fraction has no digits keep the points in line.
                let pad = match (fraction, d.scale() as usize) {
                    (0, _) => 0,
                    (w, 0) => w + 1,
                    (w, f) => w.saturating_sub(f),
                };
                format!("{}{}", dollars(d), " ".repeat(pad))
            }
            (Text::Key, _) => match c {
                Cell::Null if !total => "(none)".to_string(),
                c => cell_text(c, false),
            },
            _ => cell_text(c, true),
        };
        printable(text)
    }
}

/// Control characters shown as escapes: a name from a dump could otherwise move the
/// cursor, change the terminal's colors or break a row in two.
fn printable(text: String) -> String {
    if !text.chars().any(char::is_control) {
        return text;
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn round(d: Decimal, dp: u32) -> Decimal {
    let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    r.rescale(dp);
    r
}

/// Every digit `d` has, at most `max` decimals.
fn at_most(d: Decimal, max: u32) -> Decimal {
    let d = d.normalize();
    if d.scale() > max {
        round(d, max).normalize()
    } else {
        d
    }
}

/// The fewest decimals (at least 2) at which `d` keeps two significant digits, so that
/// no amount shows as zero and $0.0018 is not shown as $0.002. A column takes the most
/// any of its amounts needs, so that the points line up.
fn decimals_for(d: Decimal) -> u32 {
    if d.is_zero() {
        return 2;
    }
    (2..=MAX_MONEY_DECIMALS)
        .find(|&dp| round(d, dp).mantissa().unsigned_abs() >= 10)
        .unwrap_or(MAX_MONEY_DECIMALS)
}

fn dollars(d: Decimal) -> String {
    format!("${}", group_digits(&d.to_string()))
}

/// Missing, empty or zero: nothing a reader would miss if the column were left out.
fn blank(c: &Cell) -> bool {
    match c {
        Cell::Null => true,
        Cell::Text(t) => t.is_empty(),
        Cell::List(l) => l.is_empty(),
        Cell::Int(i) => *i == 0,
        Cell::Fixed(v, _) => *v == 0.0,
        Cell::Exact(t) => t.parse::<Decimal>().is_ok_and(|d| d.is_zero()),
    }
}

fn money(c: &Cell) -> Option<Decimal> {
    match c {
        Cell::Exact(t) => t.parse().ok(),
        Cell::Fixed(v, _) => Decimal::from_f64_retain(*v),
        Cell::Int(i) => Some((*i).into()),
        _ => None,
    }
}

/// `claude-3-5-sonnet-20241022` in 14 columns: `claude-…241022`; the ends of a key tell
/// keys apart more often than its middle.
pub fn shorten_middle(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let budget = width.saturating_sub(1);
    let head_budget = budget.div_ceil(2);
    let tail_budget = budget - head_budget;
    let mut head = String::new();
    let mut used = 0;
    for c in s.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > head_budget {
            break;
        }
        used += w;
        head.push(c);
    }
    let mut tail: Vec<char> = Vec::new();
    let mut used = 0;
    for c in s.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > tail_budget {
            break;
        }
        used += w;
        tail.push(c);
    }
    tail.reverse();
    format!("{head}…{}", tail.into_iter().collect::<String>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Column;

    fn table() -> Table<'static> {
        let mut t = Table::new(vec![
            Column::key("model", "Model"),
            Column::new("calls", "Calls", Kind::Count, 200),
            Column::new("cache_write_tokens", "Cache write", Kind::Count, 10),
            Column::new("reasoning_tokens", "Reasoning", Kind::Count, 20),
            Column::new("cost_usd", "Cost", Kind::Money, Column::KEEP),
        ]);
        t.rows = vec![
            vec![
                Cell::Text("claude-3-5-sonnet-20241022".into()),
                Cell::Int(1234),
                Cell::Int(0),
                Cell::Int(77),
                Cell::Exact("1.5".into()),
            ],
            vec![
                Cell::Null,
                Cell::Int(1),
                Cell::Int(0),
                Cell::Int(0),
                Cell::Exact("0.000153".into()),
            ],
        ];
        t
    }

    /// The shown rows of `table()` as `l` prints them.
    fn rows(l: &Layout) -> Vec<Vec<String>> {
        let t = table();
        let mut out = Vec::new();
        t.try_each_row(|r| {
            let mut texts = Vec::new();
            l.texts_of(r, false, &mut texts);
            out.push(texts);
            Ok::<(), ()>(())
        })
        .unwrap();
        out
    }

    #[test]
    fn money_gets_the_decimals_its_smallest_amount_needs() {
        let l = layout(&table(), &View::default());
        let cost = l.headers.iter().position(|h| h == "Cost").unwrap();
        assert_eq!(rows(&l)[0][cost], "$1.50000");
        assert_eq!(rows(&l)[1][cost], "$0.00015");
        assert!(l.notes.iter().any(|n| n.contains("rounded to 5 decimals")));
        let exact = layout(
            &table(),
            &View {
                exact: true,
                ..View::default()
            },
        );
        assert_eq!(rows(&exact)[0][cost], "$1.5     ");
        assert_eq!(rows(&exact)[1][cost], "$0.000153");
        assert!(exact.notes.is_empty());
    }

    #[test]
    fn zero_columns_are_left_out_and_missing_keys_named() {
        let l = layout(&table(), &View::default());
        assert_eq!(l.headers, ["Model", "Calls", "Reasoning", "Cost"]);
        assert_eq!(rows(&l)[1][0], "(none)");
        assert_eq!(rows(&l)[0][1], "1,234");
        let wide = layout(
            &table(),
            &View {
                wide: true,
                width: 20,
                ..View::default()
            },
        );
        assert_eq!(wide.headers.len(), 5);
        assert_eq!(rows(&wide)[0][0], "claude-3-5-sonnet-20241022");
    }

    #[test]
    fn a_narrow_table_drops_the_lowest_rank_then_shortens_keys() {
        // Model 26 + Calls 5 + Reasoning 9 + Cost 7, each + 3, + 1 = 60.
        let l = layout(
            &table(),
            &View {
                width: 50,
                ..View::default()
            },
        );
        assert_eq!(l.headers, ["Model", "Calls", "Cost"]);
        assert!(l.notes[0].contains("Reasoning"), "{:?}", l.notes);
        let narrow = layout(
            &table(),
            &View {
                width: 30,
                ..View::default()
            },
        );
        assert_eq!(narrow.headers, ["Model", "Cost"]);
        // 30 = 1 + (model + 3) + ("$1.50000" + 3): the model gets 15 columns.
        assert_eq!(rows(&narrow)[0][0], "claude-…0241022");
        let tiny = layout(
            &table(),
            &View {
                width: 12,
                ..View::default()
            },
        );
        assert_eq!(rows(&tiny)[0][0].width(), MIN_KEY_WIDTH);
        assert!(narrow.notes[0].contains("Calls, Reasoning"));
    }

    #[test]
    fn shortening_keeps_both_ends() {
        assert_eq!(shorten_middle("abcdefghij", 10), "abcdefghij");
        assert_eq!(shorten_middle("abcdefghijk", 10), "abcde…hijk");
        // Wide characters take two columns each: 2 + 1 + 2 fits in 7, 2 + 2 + 1 + 2 would not.
        assert_eq!(shorten_middle("日本語のモデル名", 7), "日…名");
        assert_eq!(shorten_middle("日本語のモデル名", 9), "日本…ル名");
    }
}
