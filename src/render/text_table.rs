use super::{Align, Cell, Renderer, Table, View, buffered, layout};
use std::io::{self, Write};
use unicode_width::UnicodeWidthStr;

/// The table for people: `people::layout` decides what is shown; this only draws it,
/// a row at a time as the table makes them.
pub struct TextTable(pub View);

const BOLD: &str = "\x1b[1m";
const RED: &str = "\x1b[38;5;9m";
const RESET: &str = "\x1b[0m";
const RESET_FOREGROUND: &str = "\x1b[39m";

impl Renderer for TextTable {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let l = layout(table, &self.0);
        let mut out = buffered(out);
        let rule = |out: &mut dyn Write, [left, line, cross, right]: [char; 4]| {
            let mut s = String::new();
            s.push(left);
            for (i, w) in l.widths.iter().enumerate() {
                if i > 0 {
                    s.push(cross);
                }
                s.extend(std::iter::repeat_n(line, w + 2));
            }
            s.push(right);
            writeln!(out, "{s}")
        };
        let color = self.0.color;
        let mut line = String::new();
        let mut draw = |out: &mut dyn Write, cells: &[String], header: bool, total: bool| {
            line.clear();
            line.push('│');
            for (i, c) in cells.iter().enumerate() {
                if i > 0 {
                    line.push('┆');
                }
                let red = color && l.alerts[i] && !header && !c.is_empty() && c != "0";
                let bold = color && total;
                if red {
                    line.push_str(RED);
                }
                if bold {
                    line.push_str(BOLD);
                }
                let pad = l.widths[i].saturating_sub(c.width());
                let right = !header && l.aligns[i] == Align::Right;
                line.push(' ');
                if right {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.push_str(c);
                if !right {
                    line.extend(std::iter::repeat_n(' ', pad));
                }
                line.push(' ');
                if bold {
                    line.push_str(RESET);
                } else if red {
                    line.push_str(RESET_FOREGROUND);
                }
            }
            line.push('│');
            writeln!(out, "{line}")
        };
        rule(&mut out, ['┌', '─', '┬', '┐'])?;
        draw(&mut out, &l.headers, true, false)?;
        rule(&mut out, ['╞', '═', '╪', '╡'])?;
        let mut texts = Vec::with_capacity(l.shown.len());
        let mut row = |out: &mut dyn Write, cells: &[Cell], total: bool| {
            l.texts_of(cells, total, &mut texts);
            draw(out, &texts, false, total)
        };
        table.try_each_row(|r| row(&mut out, r, false))?;
        if let Some(total) = &table.total {
            row(&mut out, total, true)?;
        }
        rule(&mut out, ['└', '─', '┴', '┘'])?;
        for n in &l.notes {
            writeln!(out, "{n}")?;
        }
        out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Column, Kind, LaterRows, Layout};
    use comfy_table::{Attribute, CellAlignment, Color, ContentArrangement, presets};

    /// The same layout drawn by comfy-table, as the table for people was drawn before
    /// it was drawn a row at a time.
    fn comfy(table: &Table, view: &View) -> String {
        let l: Layout = layout(table, view);
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if view.color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t.set_header(&l.headers);
        let mut texts = Vec::new();
        let mut add = |cells: &[Cell], total: bool| {
            l.texts_of(cells, total, &mut texts);
            t.add_row(
                texts
                    .iter()
                    .zip(&l.aligns)
                    .zip(&l.alerts)
                    .map(|((c, a), &alert)| {
                        let mut cell = comfy_table::Cell::new(c).set_alignment(match a {
                            Align::Left => CellAlignment::Left,
                            Align::Right => CellAlignment::Right,
                        });
                        if total {
                            cell = cell.add_attribute(Attribute::Bold);
                        }
                        if alert && !c.is_empty() && c != "0" {
                            cell = cell.fg(Color::Red);
                        }
                        cell
                    }),
            );
        };
        for r in table.all_rows().iter() {
            add(r, false);
        }
        if let Some(total) = &table.total {
            add(total, true);
        }
        let mut s = format!("{t}\n");
        for n in &l.notes {
            s.push_str(n);
            s.push('\n');
        }
        s
    }

    fn ours(table: &Table, view: &View) -> String {
        let mut out = Vec::new();
        TextTable(view.clone()).render(table, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn columns() -> Vec<Column> {
        vec![
            Column::key("model", "Model"),
            Column::new("name", "Name", Kind::Text, 5),
            Column::new("calls", "Calls", Kind::Count, 200),
            Column::new("unpriced", "Unpriced", Kind::Count, 100).alerting(),
            Column::new("cost_usd", "Cost", Kind::Money, Column::KEEP),
        ]
    }

    fn row(i: usize) -> Vec<Cell> {
        vec![
            if i % 4 == 3 {
                Cell::Null
            } else {
                Cell::Text(format!("模型-{i}-{}", "x".repeat(i % 5)))
            },
            Cell::Text(["agent", "", "chat turn"][i % 3].into()),
            Cell::Int(i as i64 * 1001),
            Cell::Int(i as i64 % 3),
            Cell::Exact(format!("0.{:04}", i * 37)),
        ]
    }

    /// Headers, alignments, wide characters, missing keys, an alerting column with and
    /// without colour, a bold total, rows made up front and later, and a table without
    /// rows: every byte as comfy-table draws it.
    #[test]
    fn draws_what_comfy_table_draws() {
        for n in [0, 1, 9] {
            for color in [false, true] {
                for width in [100, 40] {
                    let mut t = Table::new(columns());
                    t.rows = (0..n.min(2)).map(row).collect();
                    if n > 2 {
                        t.later = Some(LaterRows::new(n - 2, |i, r| r.extend(row(i + 2))));
                    }
                    if n > 0 {
                        t.total = Some(vec![
                            Cell::Text("TOTAL".into()),
                            Cell::Null,
                            Cell::Int(42),
                            Cell::Int(1),
                            Cell::Exact("1.25".into()),
                        ]);
                    }
                    let view = View {
                        width,
                        color,
                        ..View::default()
                    };
                    let (a, b) = (ours(&t, &view), comfy(&t, &view));
                    assert_eq!(a, b, "{n} rows, colour {color}, width {width}");
                    assert_eq!(a.contains('\x1b'), color && n > 0, "{a}");
                    if color && a.lines().nth(1).is_some_and(|h| h.contains("Unpriced")) {
                        assert!(a.contains(RED) && a.contains(BOLD), "{a}");
                    }
                    assert!(a.lines().count() >= 4 + n);
                }
            }
        }
    }

    /// A name from a dump cannot move the cursor or break a row: control characters
    /// are shown as escapes, and every line of the table is as wide as the others.
    #[test]
    fn control_characters_are_escaped() {
        let mut t = Table::new(columns());
        t.rows = vec![vec![
            Cell::Text("evil\x1b[2J\nname".into()),
            Cell::Text("tab\there".into()),
            Cell::Int(1),
            Cell::Int(0),
            Cell::Exact("0.5".into()),
        ]];
        let s = ours(&t, &View::default());
        assert!(!s.contains('\x1b') && !s.contains('\t'), "{s}");
        assert!(s.contains(r"evil\u{1b}[2J\nname"), "{s}");
        assert!(s.contains(r"tab\there"), "{s}");
        let widths: Vec<usize> = s.lines().take(5).map(|l| l.width()).collect();
        assert!(widths.iter().all(|w| *w == widths[0]), "{widths:?}\n{s}");
    }
}
