//! The per-comune report of candidate social-housing standard areas: candidates ranked,
//! hectares and dwellings by source, what was excluded and why. HTML (printable) and CSV.

use std::fmt::Write as _;

use super::report::CsvText;
use super::wording::esclusioni_testo;
use crate::analysis::candidates::{per_comune, AreaCandidata, FonteCandidata, Screening};
use crate::model::{AmbitoInfo, Comune};
use crate::output::lingua::Lingua;

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
    render_in(ambito, comuni, s, f, Lingua::It)
}

/// [`render`] in a language: the HTML form is written in it; the CSV is data.
pub fn render_in(
    ambito: &AmbitoInfo,
    comuni: &[Comune],
    s: &Screening,
    f: FormatoCandidate,
    l: Lingua,
) -> String {
    match f {
        FormatoCandidate::Html => html(ambito, comuni, s, l),
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
fn scoring_explained(o: &mut String, s: &Screening, l: Lingua) {
    if s.scala.is_empty() {
        return;
    }
    let _ = write!(
        o,
        "<h2>{}</h2><p class=\"nota\">{}</p>",
        esc(l.t("Come si calcola il punteggio")),
        esc(l.t(SPIEGAZIONE_PUNTEGGIO))
    );
    let _ = write!(
        o,
        "<table><thead><tr><th>{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        esc(l.t("Preferenza")),
        esc(l.t("Punti al massimo"))
    );
    for v in &s.scala {
        let _ = write!(
            o,
            "<tr><td>{}</td><td class=\"n\">{}</td></tr>",
            esc(&l.frasi(&v.descrizione)),
            l.numero(v.punti_max, 1)
        );
    }
    let _ = write!(
        o,
        "<tr><th>{}</th><th class=\"n\">{}</th></tr></tbody></table>",
        esc(l.t("Totale (= punteggio 100)")),
        l.numero(s.punti_massimi, 1)
    );
}

const SPIEGAZIONE_PUNTEGGIO: &str = "Il punteggio misura quanto il luogo è adatto, non quanto è \
grande (la dimensione è negli alloggi stimati): è la somma dei punti delle preferenze soddisfatte, \
in centesimi del massimo che le regole possono dare.";

const NOTA_AREE: &str = "Aree dove il PGT potrebbe localizzare alloggi sociali come servizio \
(L. 244/2007, D.M. 22 aprile 2008, L.R. 12/2005): aree per servizi previste, ambiti di \
trasformazione, ambiti di rigenerazione, patrimonio abitativo pubblico inutilizzato e altri \
immobili pubblici dismessi o sottoutilizzati, al netto di vincoli, aree agricole e parti sotto \
la superficie minima. Il punteggio e gli alloggi stimati dipendono dalle regole applicate; ogni \
area riporta i propri motivi.";

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(ambito: &AmbitoInfo, comuni: &[Comune], s: &Screening, l: Lingua) -> String {
    let mut o = String::new();
    let titolo = l.t("Aree candidate a standard di edilizia residenziale sociale");
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
<title>{titolo} – {amb}</title>\
<style>\
body{{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;max-width:64rem;margin:2rem auto;padding:0 1rem;line-height:1.4}}\
h1{{font-size:1.6rem;margin-bottom:.2rem}}h2{{font-size:1.15rem;margin-top:2rem;border-bottom:2px solid #0072B2;padding-bottom:.2rem}}\
h3{{font-size:1rem;margin:1rem 0 .3rem}}\
table{{border-collapse:collapse;width:100%;margin:.5rem 0;font-size:.9rem}}th,td{{border:1px solid #999;padding:.25rem .45rem;text-align:left;vertical-align:top}}\
th{{background:#e8eef5}}.n{{text-align:right;white-space:nowrap}}ul.m{{margin:0;padding-left:1.1rem}}\
.demo{{background:#fff3cd;border:1px solid #c9a227;padding:.5rem .8rem;font-weight:bold}}.nota{{color:#444;font-style:italic}}\
@media print{{body{{margin:0;max-width:none}}h2{{break-after:avoid}}tr{{break-inside:avoid}}@page{{size:A4;margin:15mm}}}}\
</style></head><body>\n",
        lang = l.code(),
        titolo = esc(titolo),
        amb = esc(&ambito.nome)
    );
    let _ = writeln!(
        o,
        "<h1>{}</h1><p>{}: <strong>{}</strong></p>",
        esc(titolo),
        esc(l.t("Ambito territoriale")),
        esc(&ambito.nome)
    );
    if ambito.dimostrativo {
        let _ = writeln!(
            o,
            "<p class=\"demo\">{}</p>",
            esc(l.t("Dati dimostrativi: generati per illustrare il servizio, non descrivono aree reali."))
        );
    }
    let _ = writeln!(o, "<p class=\"nota\">{}</p>", esc(l.t(NOTA_AREE)));
    scoring_explained(&mut o, s, l);
    let totals = per_comune(s);
    // Ambito summary.
    let th = |k: &'static str| esc(l.t(k));
    let _ = write!(
        o,
        "<h2>{}</h2><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
        th("Riepilogo dell'Ambito per fonte"),
        th("Fonte"),
        th("Aree candidate"),
        th("Ettari"),
        th("Alloggi stimati"),
        th("Aree escluse")
    );
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
            "<tr><td>{}</td><td class=\"n\">{n}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{ex}</td></tr>",
            esc(l.t(fonte.label_it())),
            l.numero(ha, 2),
            l.numero(f64::from(al), 0)
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
            let _ = writeln!(
                o,
                "<p class=\"nota\">{}</p>",
                esc(l.t("Nessuna area candidata secondo le regole applicate."))
            );
            continue;
        }
        if let Some(by_source) = totals.get(&istat) {
            let _ = write!(
                o,
                "<table><thead><tr><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th></tr></thead><tbody>",
                th("Fonte"),
                th("Aree"),
                th("Ettari"),
                th("Alloggi stimati"),
                th("Escluse")
            );
            for (fonte, t) in by_source {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                    esc(l.t(fonte.label_it())),
                    t.candidate,
                    l.numero(t.ettari, 2),
                    l.numero(f64::from(t.alloggi), 0),
                    t.escluse
                );
            }
            o.push_str("</tbody></table>\n");
        }
        if !cands.is_empty() {
            let _ = write!(
                o,
                "<h3>{}</h3><table><thead><tr><th class=\"n\">{}</th><th>{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th>{}</th><th>{}</th></tr></thead><tbody>",
                th("Aree candidate, per punteggio"),
                th("N."),
                th("Area"),
                th("Punteggio"),
                th("Ettari"),
                th("Alloggi"),
                th("Motivi"),
                th("Parti escluse")
            );
            for (i, c) in cands.iter().enumerate() {
                let _ = write!(
                    o,
                    "<tr><td class=\"n\">{}</td><td><strong>{}</strong><br>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td><ul class=\"m\">",
                    i + 1,
                    esc(&c.id),
                    esc(l.t(c.fonte.label_it())),
                    c.denominazione
                        .as_deref()
                        .map(|d| format!("<br>{}", esc(d)))
                        .unwrap_or_default(),
                    l.numero(c.punteggio, 1),
                    l.numero(c.area_ha, 2),
                    l.numero(f64::from(c.alloggi_stimati), 0)
                );
                for m in &c.motivi {
                    let _ = write!(o, "<li>{}</li>", esc(&l.frasi(m)));
                }
                o.push_str("</ul></td><td>");
                o.push_str(&esc(&l.frasi(&esclusioni_testo(&c.esclusioni))));
                o.push_str("</td></tr>");
            }
            o.push_str("</tbody></table>\n");
        }
        if !escluse.is_empty() {
            let _ = write!(
                o,
                "<h3>{}</h3><table><thead><tr><th>{}</th><th class=\"n\">{}</th><th>{}</th></tr></thead><tbody>",
                th("Aree escluse"),
                th("Area"),
                th("Ettari"),
                th("Motivo")
            );
            for x in escluse {
                let _ = write!(
                    o,
                    "<tr><td><strong>{}</strong><br>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    esc(&x.id),
                    esc(l.t(x.fonte.label_it())),
                    l.numero(x.area_origine_ha, 2),
                    esc(&l.frasi(&x.motivo))
                );
            }
            o.push_str("</tbody></table>\n");
        }
    }
    if !s.avvisi.is_empty() {
        let _ = write!(o, "<h2>{}</h2><ul>", th("Avvisi"));
        for a in &s.avvisi {
            let _ = write!(o, "<li>{}</li>", esc(&l.frasi(a)));
        }
        o.push_str("</ul>\n");
    }
    o.push_str("</body></html>\n");
    o
}
