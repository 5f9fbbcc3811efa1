use super::{Renderer, Table, cell_text};
use std::io::{self, Write};

pub struct Csv;

impl Renderer for Csv {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(&table.columns)?;
        for r in table.rows.iter().chain(table.total.iter()) {
            w.write_record(r.iter().map(|c| cell_text(c, false)))?;
        }
        w.flush()
    }
}
