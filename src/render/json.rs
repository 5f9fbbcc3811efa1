use super::{Cell, Renderer, Table};
use serde_json::{Map, Value};
use std::io::{self, Write};

pub struct Json;

pub fn cell_value(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Text(t) => Value::String(t.clone()),
        Cell::Int(i) => Value::from(*i),
        // Rounded to the shown decimals, so JSON and the table agree.
        Cell::Fixed(v, d) => format!("{v:.d$}", d = *d)
            .parse::<f64>()
            .map(Value::from)
            .unwrap_or(Value::Null),
    }
}

pub fn row_object(columns: &[String], row: &[Cell]) -> Value {
    let mut m = Map::new();
    for (k, c) in columns.iter().zip(row) {
        m.insert(k.clone(), cell_value(c));
    }
    Value::Object(m)
}

impl Renderer for Json {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let rows: Vec<Value> = table
            .rows
            .iter()
            .map(|r| row_object(&table.columns, r))
            .collect();
        let v = match &table.total {
            None => Value::Array(rows),
            Some(t) => {
                let mut m = Map::new();
                m.insert("rows".into(), Value::Array(rows));
                m.insert("total".into(), row_object(&table.columns, t));
                Value::Object(m)
            }
        };
        serde_json::to_writer_pretty(&mut *out, &v)?;
        writeln!(out)
    }
}
