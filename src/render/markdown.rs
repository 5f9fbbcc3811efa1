use super::{Align, Renderer, Table, cell_text};
use std::io::{self, Write};

pub struct Markdown;

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Renderer for Markdown {
    fn render(&self, table: &Table, out: &mut dyn Write) -> io::Result<()> {
        let mut out = super::buffered(out);
        let aligns = table.alignments();
        writeln!(
            out,
            "| {} |",
            table.names().map(escape).collect::<Vec<_>>().join(" | ")
        )?;
        let rule: Vec<&str> = aligns
            .iter()
            .map(|a| if *a == Align::Right { "---:" } else { "---" })
            .collect();
        writeln!(out, "| {} |", rule.join(" | "))?;
        table.try_each_row(|r| {
            writeln!(
                out,
                "| {} |",
                r.iter()
                    .map(|c| escape(&cell_text(c, true)))
                    .collect::<Vec<_>>()
                    .join(" | ")
            )
        })?;
        if let Some(total) = &table.total {
            let cells: Vec<String> = total
                .iter()
                .map(|c| format!("**{}**", escape(&cell_text(c, true))))
                .collect();
            writeln!(out, "| {} |", cells.join(" | ").replace("****", ""))?;
        }
        out.flush()
    }
}
