//! Terminal text: headings, space-aligned tables (numbers right-aligned), notes.

use std::fmt::Write as _;

use super::{blocks, Block};
use crate::analysis::piano_annuale::PianoAnnuale;

fn text_table(out: &mut String, head: &[&str], rows: &[Vec<String>]) {
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate().take(n) {
            w[i] = w[i].max(c.chars().count());
        }
    }
    let line = |out: &mut String, cells: &[String]| {
        for (i, c) in cells.iter().enumerate().take(n) {
            let pad = " ".repeat(w[i] - c.chars().count());
            if i == 0 {
                let _ = write!(out, "{c}{pad}");
            } else {
                let _ = write!(out, "  {pad}{c}");
            }
        }
        out.push('\n');
    };
    line(out, &head.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let total: usize = w.iter().sum::<usize>() + 2 * (n - 1);
    out.push_str(&"-".repeat(total));
    out.push('\n');
    for r in rows {
        line(out, r);
    }
}

/// The plan, then the `extra` blocks, then the data-quality warnings.
pub(super) fn render(r: &PianoAnnuale, extra: Vec<Block>) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "Piano Annuale dell'offerta abitativa {}", r.anno);
    let _ = writeln!(o, "Ambito: {}", r.ambito);
    if r.dimostrativo {
        o.push_str("DATI DIMOSTRATIVI: generati per dimostrazione, non sono dati reali.\n");
    }
    for b in blocks(r).into_iter().chain(extra) {
        match b {
            Block::Heading(h) => {
                let _ = write!(o, "\n{h}\n\n");
            }
            Block::Table { head, rows } => text_table(&mut o, &head, &rows),
            Block::Note(n) => {
                let _ = writeln!(o, "  {n}");
            }
        }
    }
    if !r.avvisi.is_empty() {
        o.push_str("\nAvvisi sulla qualità dei dati\n");
        for a in &r.avvisi {
            let _ = writeln!(o, "  - {}", a.messaggio);
        }
    }
    o
}
