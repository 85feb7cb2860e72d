//! Printable HTML: the tables of the plan, the SVG charts of [`super::svg`] and, in the
//! printable form served by `/api/report/piano-annuale/stampa`, a small map of the comuni.

use std::fmt::Write as _;

use super::svg::{grafico_sezioni, grafico_stati_per_ente, mappa_svg, MappaComuni};
use super::{blocks, cell, private_blocks, Block, Lingua};
use crate::analysis::piano_annuale::PianoAnnuale;
use crate::analysis::private::StockPrivato;

/// Escapes text for HTML and SVG (element content and attribute values).
pub(super) fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(o: &mut String, head: &[&'static str], rows: &[Vec<String>], l: Lingua) {
    o.push_str("<table><thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let cls = if i > 0 { " class=\"n\"" } else { "" };
        let _ = write!(o, "<th{cls}>{}</th>", esc(l.t(h)));
    }
    o.push_str("</tr></thead><tbody>");
    let last = rows.len().saturating_sub(1);
    for (ri, r) in rows.iter().enumerate() {
        let cls = if ri == last { " class=\"tot\"" } else { "" };
        let _ = write!(o, "<tr{cls}>");
        for (i, c) in r.iter().enumerate() {
            let cls = if i > 0 { " class=\"n\"" } else { "" };
            let _ = write!(o, "<td{cls}>{}</td>", esc(&cell(l, c)));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>\n");
}

/// The plan, then the `extra` blocks, then the data-quality warnings; with `mappa`, the small
/// map among the charts and the source line at the end.
pub(super) fn render(
    r: &PianoAnnuale,
    extra: Vec<Block>,
    mappa: Option<&MappaComuni>,
    l: Lingua,
) -> String {
    let mut o = String::new();
    let titolo = match l {
        Lingua::It => format!("Piano Annuale dell'offerta abitativa {}", r.anno),
        Lingua::En => format!("Annual housing supply plan {} (Piano Annuale)", r.anno),
    };
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<title>{titolo} – {amb}</title>\
<style>\
body{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}}\
h1{{font-size:1.6rem;margin-bottom:.2rem}}h2{{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}}\
table{{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.92rem}}th,td{{border:1px solid #999;padding:.25rem .45rem;text-align:left}}\
th{{background:#e8eef5}}.n{{text-align:right}}tr.tot td{{font-weight:bold;background:#f3f3f3}}\
.demo{{background:#fff3cd;border:1px solid #c9a227;padding:.5rem .8rem;font-weight:bold}}\
.avvisi li{{margin:.3rem 0}}.nota{{color:#444;font-style:italic}}\
figure{{margin:1rem 0;break-inside:avoid}}figcaption{{font-size:.9rem;color:#333;margin-top:.3rem}}\
svg.grafico{{max-width:100%;height:auto;font-family:inherit}}.grafici{{display:flex;flex-wrap:wrap;gap:1rem 2rem;align-items:flex-start}}\
.fonte{{font-size:.85rem;color:#444;border-top:1px solid #999;margin-top:2rem;padding-top:.4rem}}\
@media print{{body{{margin:0;max-width:none}}h2{{break-after:avoid}}table{{break-inside:avoid}}@page{{size:A4;margin:15mm}}.non-stampare{{display:none}}}}\
</style></head><body>\n",
        lang = l.code(),
        titolo = esc(&titolo),
        amb = esc(&r.ambito)
    );
    let _ = writeln!(
        o,
        "<h1>{}</h1><p>{}: <strong>{}</strong></p>",
        esc(&titolo),
        esc(l.t("Ambito territoriale")),
        esc(&r.ambito)
    );
    if r.dimostrativo {
        let _ = writeln!(
            o,
            "<p class=\"demo\">{}</p>",
            esc(l.t("Dati dimostrativi: generati per illustrare il servizio, non descrivono alloggi reali."))
        );
    }
    let _ = write!(
        o,
        "<h2>{}</h2>\n<div class=\"grafici\">",
        esc(l.t("In sintesi"))
    );
    if let Some(m) = mappa {
        o.push_str(&mappa_svg(m, l));
    }
    o.push_str(&grafico_stati_per_ente(r, l));
    o.push_str(&grafico_sezioni(r, l));
    o.push_str("</div>\n");
    for b in blocks(r).into_iter().chain(extra) {
        match b {
            Block::Heading(h) => {
                let _ = writeln!(o, "<h2>{}</h2>", esc(&l.frasi(&h)));
            }
            Block::Table { head, rows } => html_table(&mut o, &head, &rows, l),
            Block::Note(n) => {
                let _ = writeln!(o, "<p class=\"nota\">{}</p>", esc(&l.frasi(&n)));
            }
        }
    }
    if !r.avvisi.is_empty() {
        let _ = write!(
            o,
            "<h2>{}</h2><ul class=\"avvisi\">",
            esc(l.t("Avvisi sulla qualità dei dati"))
        );
        for a in &r.avvisi {
            let _ = write!(o, "<li>{}</li>", esc(&l.frasi(&a.messaggio)));
        }
        o.push_str("</ul>\n");
    }
    if let Some(m) = mappa {
        let fonte = match l {
            Lingua::It => format!(
                "Fonte: inventario degli alloggi pubblici dell'Ambito, catasto (Agenzia delle \
                 Entrate), PGT dei comuni; elaborazione abitare. Dati al {}.",
                m.data_riferimento
            ),
            Lingua::En => format!(
                "Source: the Ambito's inventory of public dwellings, cadastre (Agenzia delle \
                 Entrate), the comuni's PGT; processed by abitare. Data as of {}.",
                m.data_riferimento_iso
            ),
        };
        let _ = writeln!(o, "<p class=\"fonte\">{}</p>", esc(&fonte));
    }
    o.push_str("</body></html>\n");
    o
}

/// The printable HTML Piano Annuale with the private-stock section, charts and a small map
/// of the comuni coloured by unused public units.
pub fn html_stampa(r: &PianoAnnuale, p: &StockPrivato, mappa: &MappaComuni) -> String {
    html_stampa_in(r, p, mappa, Lingua::It)
}

/// [`html_stampa`] in a language.
pub fn html_stampa_in(
    r: &PianoAnnuale,
    p: &StockPrivato,
    mappa: &MappaComuni,
    l: Lingua,
) -> String {
    render(r, private_blocks(p, l), Some(mappa), l)
}
