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

/// A table for people, cell by cell as it will be printed.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    /// The table's columns that are shown, in order.
    pub shown: Vec<usize>,
    pub headers: Vec<String>,
    pub aligns: Vec<Align>,
    /// Per shown column: whether a non-zero value is a problem to show in red.
    pub alerts: Vec<bool>,
    pub rows: Vec<Vec<String>>,
    pub total: Option<Vec<String>>,
    /// Lines under the table: what was left out, and how money was rounded.
    pub notes: Vec<String>,
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

pub fn layout(table: &Table, view: &View) -> Layout {
    let n = table.columns.len();
    let rows = table.all_rows();
    let all_rows: Vec<&Vec<Cell>> = rows.iter().chain(table.total.iter()).collect();
    let cell = |r: &Vec<Cell>, i: usize| r.get(i).cloned().unwrap_or(Cell::Null);

    let mut rounded_to = None;
    let mut text: Vec<Vec<String>> = vec![Vec::with_capacity(n); all_rows.len()];
    let total_row = table.total.as_ref().map(|_| all_rows.len() - 1);
    for (i, col) in table.columns.iter().enumerate() {
        let cells: Vec<Cell> = all_rows.iter().map(|r| cell(r, i)).collect();
        let shown = match col.kind {
            Kind::Money | Kind::Price => {
                let digits = if view.exact {
                    Digits::AtMost(u32::MAX)
                } else if col.kind == Kind::Price {
                    Digits::AtMost(MAX_PRICE_DECIMALS)
                } else {
                    Digits::Rounded
                };
                let (texts, decimals) = money_column(&cells, digits);
                if let Some(d) = decimals {
                    rounded_to = Some(rounded_to.map_or(d, |r: u32| r.max(d)));
                }
                texts
            }
            // The total's other key cells are not missing keys: they are every key.
            Kind::Key => cells
                .iter()
                .enumerate()
                .map(|(ri, c)| match c {
                    Cell::Null if Some(ri) != total_row => "(none)".to_string(),
                    c => cell_text(c, false),
                })
                .collect(),
            Kind::Count | Kind::Text | Kind::Time => {
                cells.iter().map(|c| cell_text(c, true)).collect()
            }
        };
        for (row, t) in text.iter_mut().zip(shown) {
            row.push(t);
        }
    }

    let aligns = table.alignments();
    let mut visible: Vec<bool> = (0..n)
        .map(|i| {
            let col = &table.columns[i];
            view.wide
                || col.kind == Kind::Key
                || col.rank == super::Column::KEEP
                || all_rows.iter().any(|r| !blank(&cell(r, i)))
        })
        .collect();
    let mut widths: Vec<usize> = (0..n)
        .map(|i| {
            text.iter()
                .map(|r| r[i].width())
                .chain([table.columns[i].label.width()])
                .max()
                .unwrap_or(0)
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
    let fit = |row: &Vec<String>| -> Vec<String> {
        shown
            .iter()
            .map(|&i| shorten_middle(&row[i], widths[i]))
            .collect()
    };
    let mut rows: Vec<Vec<String>> = text.iter().map(fit).collect();
    let total = table.total.as_ref().and_then(|_| rows.pop());

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
        aligns: shown.iter().map(|&i| aligns[i]).collect(),
        alerts: shown.iter().map(|&i| table.columns[i].alert).collect(),
        shown,
        rows,
        total,
        notes,
    }
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

/// How many decimals a money column shows.
#[derive(Clone, Copy)]
enum Digits {
    /// The same for every value, so that the points line up: the fewest (at least 2) at
    /// which every amount that is not zero keeps two significant digits (none shows as
    /// zero, and $0.0018 is not shown as $0.002).
    Rounded,
    /// Every digit a value has, at most this many, the points lined up by padding.
    AtMost(u32),
}

/// A money column as dollars, and the decimals rounded to when rounding changed an
/// amount.
fn money_column(cells: &[Cell], digits: Digits) -> (Vec<String>, Option<u32>) {
    let values: Vec<Option<Decimal>> = cells.iter().map(money).collect();
    let present = || values.iter().flatten();
    let round = |d: Decimal, dp: u32| {
        let mut r = d.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
        r.rescale(dp);
        r
    };
    let dollars = |d: Decimal| format!("${}", group_digits(&d.to_string()));
    let (shown, decimals): (Vec<Option<Decimal>>, u32) = match digits {
        Digits::Rounded => {
            let dp = (2..=MAX_MONEY_DECIMALS)
                .find(|&dp| {
                    present().all(|d| d.is_zero() || round(*d, dp).mantissa().unsigned_abs() >= 10)
                })
                .unwrap_or(MAX_MONEY_DECIMALS);
            (values.iter().map(|v| v.map(|d| round(d, dp))).collect(), dp)
        }
        Digits::AtMost(max) => (
            values
                .iter()
                .map(|v| {
                    v.map(|d| {
                        let d = d.normalize();
                        if d.scale() > max {
                            round(d, max).normalize()
                        } else {
                            d
                        }
                    })
                })
                .collect(),
            max,
        ),
    };
    let changed = values.iter().zip(&shown).any(|(v, s)| v != s);
    let fraction = |d: &Decimal| d.scale() as usize;
    let widest_fraction = shown.iter().flatten().map(fraction).max().unwrap_or(0);
    let texts = shown
        .iter()
        .zip(cells)
        .map(|(v, c)| match v {
            Some(d) => {
                // Spaces where a shorter fraction has no digits keep the points in line.
                let pad = match (widest_fraction, fraction(d)) {
                    (0, _) => 0,
                    (w, 0) => w + 1,
                    (w, f) => w - f,
                };
                format!("{}{}", dollars(*d), " ".repeat(pad))
            }
            None => cell_text(c, true),
        })
        .collect();
    (texts, changed.then_some(decimals))
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

    #[test]
    fn money_gets_the_decimals_its_smallest_amount_needs() {
        let l = layout(&table(), &View::default());
        let cost = l.headers.iter().position(|h| h == "Cost").unwrap();
        assert_eq!(l.rows[0][cost], "$1.50000");
        assert_eq!(l.rows[1][cost], "$0.00015");
        assert!(l.notes.iter().any(|n| n.contains("rounded to 5 decimals")));
        let exact = layout(
            &table(),
            &View {
                exact: true,
                ..View::default()
            },
        );
        assert_eq!(exact.rows[0][cost], "$1.5     ");
        assert_eq!(exact.rows[1][cost], "$0.000153");
        assert!(exact.notes.is_empty());
    }

    #[test]
    fn zero_columns_are_left_out_and_missing_keys_named() {
        let l = layout(&table(), &View::default());
        assert_eq!(l.headers, ["Model", "Calls", "Reasoning", "Cost"]);
        assert_eq!(l.rows[1][0], "(none)");
        assert_eq!(l.rows[0][1], "1,234");
        let wide = layout(
            &table(),
            &View {
                wide: true,
                width: 20,
                ..View::default()
            },
        );
        assert_eq!(wide.headers.len(), 5);
        assert_eq!(wide.rows[0][0], "claude-3-5-sonnet-20241022");
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
        assert_eq!(narrow.rows[0][0], "claude-…0241022");
        let tiny = layout(
            &table(),
            &View {
                width: 12,
                ..View::default()
            },
        );
        assert_eq!(tiny.rows[0][0].width(), MIN_KEY_WIDTH);
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
