use super::{Align, Renderer, Table, View, layout};
use comfy_table::{Attribute, CellAlignment, Color, ContentArrangement, presets};
use std::io::{self, Write};

/// The table for people: `people::layout` decides what is shown; this only draws it.
pub struct TextTable(pub View);

impl Renderer for TextTable {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let l = layout(table, &self.0);
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if self.0.color {
            t.enforce_styling();
        } else {
            t.force_no_tty();
        }
        t.set_header(&l.headers);
        let mut add = |cells: &[String], total: bool| {
            t.add_row(
                cells
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
        for r in &l.rows {
            add(r, false);
        }
        if let Some(total) = &l.total {
            add(total, true);
        }
        writeln!(out, "{t}")?;
        for n in &l.notes {
            writeln!(out, "{n}")?;
        }
        Ok(())
    }
}
