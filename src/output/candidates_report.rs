//! The per-comune report of candidate social-housing standard areas: candidates ranked,
//! hectares and dwellings by source, what was excluded and why. HTML (printable) and CSV.

use std::fmt::Write as _;

use super::report::CsvText;
use super::wording::esclusioni_testo;
use crate::analysis::candidates::{per_comune, AreaCandidata, FonteCandidata, Screening};
use crate::italiano::numero_it;
use crate::model::{AmbitoInfo, Comune};

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatoCandidate {
    Html,
    Csv,
}

impl FormatoCandidate {
    pub fn parse(s: &str) -> Option<FormatoCandidate> {
        match s {
            "html" => Some(FormatoCandidate::Html),
            "csv" => Some(FormatoCandidate::Csv),
            _ => None,
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            FormatoCandidate::Html => "text/html; charset=utf-8",
            FormatoCandidate::Csv => "text/csv; charset=utf-8",
        }
    }
    pub fn ext(self) -> &'static str {
        match self {
            FormatoCandidate::Html => "html",
            FormatoCandidate::Csv => "csv",
        }
    }
}

pub fn render(
    ambito: &AmbitoInfo,
    comuni: &[Comune],
    s: &Screening,
    f: FormatoCandidate,
) -> String {
    match f {
        FormatoCandidate::Html => html(ambito, comuni, s),
        FormatoCandidate::Csv => csv(comuni, s),
    }
}

/// The comuni in report order: the Ambito's, then any other code met in the results.
fn comuni_order(comuni: &[Comune], s: &Screening) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = comuni
        .iter()
        .map(|c| (c.istat.clone(), c.nome.clone()))
        .collect();
    let extra = s
        .candidate
        .iter()
        .map(|c| (c.comune_istat.clone(), c.comune_nome.clone()))
        .chain(
            s.escluse
                .iter()
                .map(|c| (c.comune_istat.clone(), c.comune_nome.clone())),
        );
    for (k, n) in extra {
        let k = k.unwrap_or_default();
        if !out.iter().any(|(i, _)| *i == k) {
            let name = n.unwrap_or_else(|| "Comune non determinato".into());
            out.push((k, name));
        }
    }
    out
}

fn of_comune<'a>(s: &'a Screening, istat: &'a str) -> impl Iterator<Item = &'a AreaCandidata> {
    s.candidate
        .iter()
        .filter(move |c| c.comune_istat.as_deref().unwrap_or("") == istat)
}

fn dec(v: f64, d: usize) -> String {
    format!("{v:.d$}")
}

/// One line per candidate (`candidata`, ranked within its comune), per excluded area
/// (`esclusa`) and per comune and source (`riepilogo`). Decimal point, comma separator.
fn csv(comuni: &[Comune], s: &Screening) -> String {
    let mut o = CsvText::new();
    o.row([
        "sezione",
        "comune_istat",
        "comune",
        "rango",
        "id",
        "fonte",
        "denominazione",
        "punteggio",
        "area_ha",
        "alloggi_stimati",
        "aree_escluse",
        "motivi",
        "esclusioni",
    ]);
    let totals = per_comune(s);
    for (istat, nome) in comuni_order(comuni, s) {
        let mut row = |cells: [String; 13]| o.row(cells);
        for (rank, c) in of_comune(s, &istat).enumerate() {
            row([
                "candidata".into(),
                istat.clone(),
                nome.clone(),
                (rank + 1).to_string(),
                c.id.clone(),
                c.fonte.code().into(),
                c.denominazione.clone().unwrap_or_default(),
                dec(c.punteggio, 1),
                dec(c.area_ha, 4),
                c.alloggi_stimati.to_string(),
                String::new(),
                c.motivi.join("; "),
                esclusioni_testo(&c.esclusioni),
            ]);
        }
        for x in s
            .escluse
            .iter()
            .filter(|x| x.comune_istat.as_deref().unwrap_or("") == istat)
        {
            row([
                "esclusa".into(),
                istat.clone(),
                nome.clone(),
                String::new(),
                x.id.clone(),
                x.fonte.code().into(),
                x.denominazione.clone().unwrap_or_default(),
                String::new(),
                dec(x.area_origine_ha, 4),
                String::new(),
                String::new(),
                x.motivo.clone(),
                esclusioni_testo(&x.esclusioni),
            ]);
        }
        if let Some(by_source) = totals.get(&istat) {
            for (fonte, t) in by_source {
                row([
                    "riepilogo".into(),
                    istat.clone(),
                    nome.clone(),
                    String::new(),
                    String::new(),
                    fonte.code().into(),
                    String::new(),
                    String::new(),
                    dec(t.ettari, 4),
                    t.alloggi.to_string(),
                    t.escluse.to_string(),
                    format!("{} aree candidate", t.candidate),
                    String::new(),
                ]);
            }
        }
    }
    o.finish()
}

/// How the score is made: each preference in force and its most points, then the scale.
fn scoring_explained(o: &mut String, s: &Screening) {
    if s.scala.is_empty() {
        return;
    }
    o.push_str(
        "<h2>Come si calcola il punteggio</h2><p class=\"nota\">Il punteggio misura quanto il \
luogo è adatto, non quanto è grande (la dimensione è negli alloggi stimati): è la somma dei punti \
delle preferenze soddisfatte, in centesimi del massimo che le regole possono dare.</p>",
    );
    o.push_str("<table><thead><tr><th>Preferenza</th><th class=\"n\">Punti al massimo</th></tr></thead><tbody>");
    for v in &s.scala {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&v.descrizione),
            numero_it(v.punti_max, 1)
        );
    }
    let _ = write!(
        o,
        "<tr><th>Totale (= punteggio 100)</th><th class=\"n\">{}</th></tr></tbody></table>",
        numero_it(s.punti_massimi, 1)
    );
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(ambito: &AmbitoInfo, comuni: &[Comune], s: &Screening) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
<title>Aree candidate a standard di edilizia sociale – {amb}</title>\
<style>\
body{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;max-width:64rem;margin:2rem auto;padding:0 1rem;line-height:1.4}}\
h1{{font-size:1.6rem;margin-bottom:.2rem}}h2{{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}}\
h3{{font-size:1rem;margin:1rem 0 .3rem}}\
table{{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}}th,td{{border:1px solid #999;padding:.25rem .45rem;text-align:left;vertical-align:top}}\
th{{background:#e8eef5}}.n{{text-align:right;white-space:nowrap}}ul.m{{margin:0;padding-left:1.1rem}}\
.demo{{background:#fff3cd;border:1px solid #c9a227;padding:.5rem .8rem;font-weight:bold}}.nota{{color:#444;font-style:italic}}\
@media print{{body{{margin:0;max-width:none}}h2{{break-after:avoid}}tr{{break-inside:avoid}}@page{{size:A4;margin:15mm}}}}\
</style></head><body>\n",
        amb = esc(&ambito.nome)
    );
    let _ = writeln!(
        o,
        "<h1>Aree candidate a standard di edilizia residenziale sociale</h1>\
<p>Ambito territoriale: <strong>{}</strong></p>",
        esc(&ambito.nome)
    );
    if ambito.dimostrativo {
        o.push_str("<p class=\"demo\">Dati dimostrativi: generati per illustrare il servizio, non descrivono aree reali.</p>\n");
    }
    o.push_str(
        "<p class=\"nota\">Aree dove il PGT potrebbe localizzare alloggi sociali come servizio \
(L. 244/2007, D.M. 22 aprile 2008, L.R. 12/2005): aree per servizi previste, ambiti di \
trasformazione, ambiti di rigenerazione, patrimonio abitativo pubblico inutilizzato e altri \
immobili pubblici dismessi o sottoutilizzati, al netto di vincoli, aree agricole e parti sotto \
la superficie minima. Il punteggio e gli alloggi stimati dipendono \
dalle regole applicate; ogni area riporta i propri motivi.</p>\n",
    );
    scoring_explained(&mut o, s);
    let totals = per_comune(s);
    // Ambito summary.
    o.push_str("<h2>Riepilogo dell'Ambito per fonte</h2>");
    o.push_str("<table><thead><tr><th>Fonte</th><th class=\"n\">Aree candidate</th><th class=\"n\">Ettari</th><th class=\"n\">Alloggi stimati</th><th class=\"n\">Aree escluse</th></tr></thead><tbody>");
    for fonte in FonteCandidata::ALL {
        let (mut n, mut ha, mut al, mut ex) = (0, 0.0, 0, 0);
        for t in totals.values().filter_map(|m| m.get(&fonte)) {
            n += t.candidate;
            ha += t.ettari;
            al += t.alloggi;
            ex += t.escluse;
        }
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{}</td><td class=\"n\">{al}</td><td class=\"n\">{ex}</td></tr>",
            esc(fonte.label_it()),
            numero_it(ha, 2)
        );
    }
    o.push_str("</tbody></table>\n");

    for (istat, nome) in comuni_order(comuni, s) {
        let cands: Vec<&AreaCandidata> = of_comune(s, &istat).collect();
        let escluse: Vec<_> = s
            .escluse
            .iter()
            .filter(|x| x.comune_istat.as_deref().unwrap_or("") == istat)
            .collect();
        let _ = writeln!(
            o,
            "<h2>{} <small>({})</small></h2>",
            esc(&nome),
            esc(&istat)
        );
        if cands.is_empty() && escluse.is_empty() {
            o.push_str(
                "<p class=\"nota\">Nessuna area candidata secondo le regole applicate.</p>\n",
            );
            continue;
        }
        if let Some(by_source) = totals.get(&istat) {
            o.push_str("<table><thead><tr><th>Fonte</th><th class=\"n\">Aree</th><th class=\"n\">Ettari</th><th class=\"n\">Alloggi stimati</th><th class=\"n\">Escluse</th></tr></thead><tbody>");
            for (fonte, t) in by_source {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(fonte.label_it()),
                    t.candidate,
                    numero_it(t.ettari, 2),
                    t.alloggi,
                    t.escluse
                );
            }
            o.push_str("</tbody></table>\n");
        }
        if !cands.is_empty() {
            o.push_str("<h3>Aree candidate, per punteggio</h3><table><thead><tr><th class=\"n\">N.</th><th>Area</th><th class=\"n\">Punteggio</th><th class=\"n\">Ettari</th><th class=\"n\">Alloggi</th><th>Motivi</th><th>Parti escluse</th></tr></thead><tbody>");
            for (i, c) in cands.iter().enumerate() {
                let _ = write!(
                    o,
                    "<tr><td class=\"n\">{}</td><td><strong>{}</strong><br>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><ul class=\"m\">",
                    i + 1,
                    esc(&c.id),
                    esc(c.fonte.label_it()),
                    c.denominazione
                        .as_deref()
                        .map(|d| format!("<br>{}", esc(d)))
                        .unwrap_or_default(),
                    numero_it(c.punteggio, 1),
                    numero_it(c.area_ha, 2),
                    c.alloggi_stimati
                );
                for m in &c.motivi {
                    let _ = write!(o, "<li>{}</li>", esc(m));
                }
                o.push_str("</ul></td><td>");
                o.push_str(&esc(&esclusioni_testo(&c.esclusioni)));
                o.push_str("</td></tr>");
            }
            o.push_str("</tbody></table>\n");
        }
        if !escluse.is_empty() {
            o.push_str("<h3>Aree escluse</h3><table><thead><tr><th>Area</th><th class=\"n\">Ettari</th><th>Motivo</th></tr></thead><tbody>");
            for x in escluse {
                let _ = write!(
                    o,
                    "<tr><td><strong>{}</strong><br>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    esc(&x.id),
                    esc(x.fonte.label_it()),
                    numero_it(x.area_origine_ha, 2),
                    esc(&x.motivo)
                );
            }
            o.push_str("</tbody></table>\n");
        }
    }
    if !s.avvisi.is_empty() {
        o.push_str("<h2>Avvisi</h2><ul>");
        for a in &s.avvisi {
            let _ = write!(o, "<li>{}</li>", esc(a));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</body></html>\n");
    o
}
