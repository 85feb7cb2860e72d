//! Terminal text: headings, space-aligned tables (numbers right-aligned), notes.

use std::fmt::Write as _;

use super::{blocks, cell, Block, Lingua};
use crate::analysis::piano_annuale::PianoAnnuale;

fn text_table(out: &mut String, head: &[&'static str], rows: &[Vec<String>], l: Lingua) {
    let head: Vec<&str> = head.iter().map(|h| l.t(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| cell(l, c).into_owned()).collect())
        .collect();
    let n = head.len();
    let mut w: Vec<usize> = head.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
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
    for r in &rows {
        line(out, r);
    }
}

/// The plan, then the `extra` blocks, then the data-quality warnings.
pub(super) fn render(r: &PianoAnnuale, extra: Vec<Block>, l: Lingua) -> String {
    let mut o = String::new();
    match l {
        Lingua::It => {
            let _ = writeln!(o, "Piano Annuale dell'offerta abitativa {}", r.anno);
        }
        Lingua::En => {
            let _ = writeln!(o, "Annual housing supply plan {} (Piano Annuale)", r.anno);
        }
    }
    let _ = writeln!(o, "Ambito: {}", r.ambito);
    if r.dimostrativo {
        let _ = writeln!(
            o,
            "{}",
            l.t("DATI DIMOSTRATIVI: generati per dimostrazione, non sono dati reali.")
        );
    }
    for b in blocks(r).into_iter().chain(extra) {
        match b {
            Block::Heading(h) => {
                let _ = write!(o, "\n{}\n\n", l.frasi(&h));
            }
            Block::Table { head, rows } => text_table(&mut o, &head, &rows, l),
            Block::Note(n) => {
                let _ = writeln!(o, "  {}", l.frasi(&n));
            }
        }
    }
    if !r.avvisi.is_empty() {
        let _ = writeln!(o, "\n{}", l.t("Avvisi sulla qualità dei dati"));
        for a in &r.avvisi {
            let _ = writeln!(o, "  - {}", l.frasi(&a.messaggio));
        }
    }
    o
}
