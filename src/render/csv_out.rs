use super::{Cell, Renderer, Table, cell_text};
use std::io::{self, Write};

pub struct Csv;

/// The writer's I/O error as it was (a closed pipe stays a closed pipe, which is not a
/// failure); csv's own errors as other I/O errors.
fn io_error(e: csv::Error) -> io::Error {
    match e.into_kind() {
        csv::ErrorKind::Io(e) => e,
        other => io::Error::other(format!("{other:?}")),
    }
}

impl Renderer for Csv {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(table.names()).map_err(io_error)?;
        let mut write = |r: &[Cell]| {
            w.write_record(r.iter().map(|c| cell_text(c, false)))
                .map_err(io_error)
        };
        table.try_each_row(&mut write)?;
        if let Some(total) = &table.total {
            write(total)?;
        }
        w.flush()
    }
}
