use super::{Align, Renderer, Table, cell_text};
use comfy_table::{CellAlignment, ContentArrangement, presets};
use std::io::{self, Write};

pub struct TextTable;

impl Renderer for TextTable {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let mut t = comfy_table::Table::new();
        t.load_preset(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Disabled);
        if std::env::var_os("NO_COLOR").is_some() {
            t.force_no_tty();
        }
        t.set_header(&table.columns);
        let aligns = table.alignments();
        let mut add = |cells: &[super::Cell]| {
            t.add_row(cells.iter().zip(&aligns).map(|(c, a)| {
                comfy_table::Cell::new(cell_text(c, true)).set_alignment(match a {
                    Align::Left => CellAlignment::Left,
                    Align::Right => CellAlignment::Right,
                })
            }));
        };
        for r in &table.rows {
            add(r);
        }
        if let Some(total) = &table.total {
            add(total);
        }
        writeln!(out, "{t}")
    }
}
