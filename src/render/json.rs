use super::{Cell, Renderer, Table};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::value::RawValue;
use std::io::{self, Write};

pub struct Json;

struct CellSer<'a>(&'a Cell);

impl Serialize for CellSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Cell::Null => s.serialize_unit(),
            Cell::Text(t) => s.serialize_str(t),
            Cell::List(l) => l.serialize(s),
            Cell::Int(i) => s.serialize_i64(*i),
            // Rounded to the shown decimals, so JSON and the table agree.
            Cell::Fixed(v, d) => {
                s.serialize_f64(format!("{v:.d$}", d = *d).parse::<f64>().unwrap_or(*v))
            }
            // Written digit for digit: a float would round it, and the rows would no
            // longer add up to the total.
            Cell::Exact(t) => match RawValue::from_string(t.clone()) {
                Ok(raw) => raw.serialize(s),
                Err(_) => s.serialize_str(t),
            },
        }
    }
}

struct RowSer<'a> {
    columns: &'a [super::Column],
    row: &'a [Cell],
}

impl Serialize for RowSer<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.columns.len()))?;
        for (k, c) in self.columns.iter().zip(self.row) {
            m.serialize_entry(&k.name, &CellSer(c))?;
        }
        m.end()
    }
}

struct Rows<'t, 'a>(&'t Table<'a>);

impl Serialize for Rows<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        self.0.try_each_row(|row| {
            seq.serialize_element(&RowSer {
                columns: &self.0.columns,
                row,
            })
        })?;
        seq.end()
    }
}

struct Doc<'t, 'a>(&'t Table<'a>);

impl Serialize for Doc<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let t = self.0;
        let Some(total) = &t.total else {
            return Rows(t).serialize(s);
        };
        let mut m = s.serialize_map(None)?;
        for (k, v) in &t.json_head {
            m.serialize_entry(k, v)?;
        }
        m.serialize_entry("rows", &Rows(t))?;
        m.serialize_entry(
            "total",
            &RowSer {
                columns: &t.columns,
                row: total,
            },
        )?;
        for (k, v) in &t.json_tail {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl Renderer for Json {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let mut out = super::buffered(out);
        serde_json::to_writer_pretty(&mut out, &Doc(table))?;
        writeln!(out)?;
        out.flush()
    }
}
