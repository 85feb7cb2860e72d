//! Renderers of the Piano Annuale: terminal text, CSV (long form), printable HTML, JSON.

use std::fmt::Write as _;

use crate::analysis::piano_annuale::{PianoAnnuale, RigaStato, Sezione};
use crate::analysis::private::{FigurePrivate, StockPrivato, CATEGORIE_ESCLUSE};

/// Output formats of `abitare report piano-annuale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Formato {
    Testo,
    Json,
    Csv,
    Html,
}

impl Formato {
    pub fn parse(s: &str) -> Option<Formato> {
        match s.to_ascii_lowercase().as_str() {
            "text" | "testo" | "txt" => Some(Formato::Testo),
            "json" => Some(Formato::Json),
            "csv" => Some(Formato::Csv),
            "html" => Some(Formato::Html),
            _ => None,
        }
    }
    pub fn content_type(self) -> &'static str {
        match self {
            Formato::Testo => "text/plain; charset=utf-8",
            Formato::Json => "application/json",
            Formato::Csv => "text/csv; charset=utf-8",
            Formato::Html => "text/html; charset=utf-8",
        }
    }
}

pub fn render(r: &PianoAnnuale, f: Formato) -> String {
    match f {
        Formato::Testo => text(r, Vec::new()),
        Formato::Json => json(r),
        Formato::Csv => csv(r),
        Formato::Html => html(r, Vec::new()),
    }
}

/// The plan followed, in the text and HTML forms, by the section "Patrimonio privato" (public
/// and private stock side by side, aggregates only). JSON and CSV keep the plan's contract
/// (FORMATS.md §6) unchanged; the private figures are served by `/api/ambito`.
pub fn render_con_privato(r: &PianoAnnuale, p: &StockPrivato, f: Formato) -> String {
    match f {
        Formato::Testo => text(r, private_blocks(p)),
        Formato::Html => html(r, private_blocks(p)),
        Formato::Json | Formato::Csv => render(r, f),
    }
}

/// `0,453` → `45,3%`.
fn percent(v: Option<f64>) -> String {
    v.map_or_else(
        || "–".to_string(),
        |x| format!("{:.1}%", x * 100.0).replace('.', ","),
    )
}

fn private_cells(name: &str, f: &FigurePrivate) -> Vec<String> {
    vec![
        name.to_string(),
        f.pubblici_inutilizzati.to_string(),
        f.abitazioni_stimate.to_string(),
        f.abitazioni_non_occupate_stimate.to_string(),
        percent(f.quota_non_occupate),
        f.privati_offerti.to_string(),
        f.privati_in_offerta.to_string(),
        f.privati_locati_concordato.to_string(),
        f.privati_ritirati.to_string(),
        f.privati_rimessi_in_uso.to_string(),
    ]
}

/// The section "Patrimonio privato": per comune, the Ambito, per year; never a single unit.
fn private_blocks(p: &StockPrivato) -> Vec<Block> {
    let mut out = vec![Block::Heading("Patrimonio privato".into())];
    if !p.dati_presenti {
        out.push(Block::Note(
            "Nessun dato sul patrimonio privato (né alloggi offerti dai proprietari né stime delle \
             abitazioni non occupate)."
                .into(),
        ));
        return out;
    }
    let w = p.finestra_rimessi;
    out.push(Block::Note(format!(
        "Patrimonio pubblico e privato a confronto, per comune. Abitazioni non occupate: stime per \
         area (ad esempio sezioni di censimento), attribuite al comune che ne contiene la parte \
         maggiore. Alloggi privati: offerti dai proprietari allo sportello; \"rimessi in uso\" sono \
         quelli locati a canone concordato con data di locazione nel {}–{}. Solo dati aggregati: \
         nessun dato dei proprietari.",
        w.da_anno, w.a_anno
    )));
    let mut rows: Vec<Vec<String>> = p
        .per_comune
        .iter()
        .map(|c| private_cells(&c.nome, &c.figure))
        .collect();
    rows.push(private_cells("Totale Ambito", &p.ambito));
    out.push(Block::Table {
        head: vec![
            "Comune",
            "Alloggi pubblici inutilizzati",
            "Abitazioni (stima)",
            "Abitazioni non occupate (stima)",
            "Quota non occupate",
            "Privati offerti",
            "Ancora in offerta",
            "Locati a canone concordato",
            "Ritirati",
            "Rimessi in uso",
        ],
        rows,
    });
    if !p.ambito.per_anno.is_empty() {
        out.push(Block::Heading(
            "Alloggi privati offerti, locati e ritirati per anno".into(),
        ));
        let mut rows: Vec<Vec<String>> = p
            .ambito
            .per_anno
            .iter()
            .map(|a| {
                vec![
                    a.anno.to_string(),
                    a.offerti.to_string(),
                    a.locati_concordato.to_string(),
                    a.ritirati.to_string(),
                ]
            })
            .collect();
        let sum = |f: fn(&crate::analysis::private::AnnoPrivato) -> u32| -> String {
            p.ambito.per_anno.iter().map(f).sum::<u32>().to_string()
        };
        rows.push(vec![
            "Totale".into(),
            sum(|a| a.offerti),
            sum(|a| a.locati_concordato),
            sum(|a| a.ritirati),
        ]);
        out.push(Block::Table {
            head: vec!["Anno", "Offerti", "Locati a canone concordato", "Ritirati"],
            rows,
        });
    }
    out.push(Block::Note(format!(
        "Requisiti degli alloggi nelle misure di sostegno alla locazione: categoria catastale \
         diversa da {}, superficie utile fino a 110 m² per nuclei fino a 4 componenti (+11 m², \
         cioè il 10% di 110 m², per ogni componente oltre il quarto). Alloggi offerti che li \
         rispettano: {} su {}; esclusi per categoria: {}.",
        CATEGORIE_ESCLUSE.join(", "),
        p.ambito.privati_ammissibili_misure,
        p.ambito.privati_offerti,
        p.ambito.privati_categoria_esclusa
    )));
    if p.privati_senza_comune > 0 || p.aree_non_attribuite > 0 {
        out.push(Block::Note(format!(
            "Alloggi offerti fuori dai comuni dell'Ambito (contati solo nel totale): {}; aree di \
             stima non attribuite a un comune (escluse dai totali): {}.",
            p.privati_senza_comune, p.aree_non_attribuite
        )));
    }
    out
}

pub fn json(r: &PianoAnnuale) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"errore\": \"{e}\"}}"))
}

/// The report as a sequence of blocks, shared by the text and HTML renderers.
enum Block {
    Heading(String),
    Table {
        head: Vec<&'static str>,
        rows: Vec<Vec<String>>,
    },
    Note(String),
}

const STATO_HEAD: [&str; 7] = [
    "Ente proprietario",
    "Di proprietà",
    "Stato libero",
    "Sfitto per carenze manutentive",
    "Sfitto per ristrutturazione",
    "Stato occupato",
    "Disponibili nell'anno",
];

fn stato_cells(r: &RigaStato) -> Vec<String> {
    vec![
        r.ente.clone(),
        r.di_proprieta.to_string(),
        r.libero.to_string(),
        r.sfitto_carenze_manutentive.to_string(),
        r.sfitto_ristrutturazione.to_string(),
        r.occupato.to_string(),
        r.disponibili_anno.to_string(),
    ]
}

fn section_blocks(out: &mut Vec<Block>, s: &Sezione) {
    out.push(Block::Heading(s.titolo.clone()));
    if s.per_ente.is_empty() {
        out.push(Block::Note("Nessuna unità.".into()));
        return;
    }
    let mut rows: Vec<Vec<String>> = s
        .per_ente
        .iter()
        .map(|v| vec![v.ente.clone(), v.valore.to_string()])
        .collect();
    rows.push(vec!["Totale".into(), s.totale.to_string()]);
    out.push(Block::Table {
        head: vec!["Ente proprietario", "Unità"],
        rows,
    });
}

/// Every table of the plan, in the order of the document. Each table ends with its total row.
fn blocks(r: &PianoAnnuale) -> Vec<Block> {
    let mut out = Vec::new();
    out.push(Block::Heading(
        "Alloggi SAP per ente proprietario e stato".into(),
    ));
    let mut rows: Vec<Vec<String>> = r.stato_per_ente.iter().map(stato_cells).collect();
    rows.push(stato_cells(&r.totale));
    out.push(Block::Table {
        head: STATO_HEAD.to_vec(),
        rows,
    });

    out.push(Block::Heading(
        "a) Consistenza aggiornata del patrimonio abitativo pubblico e sociale".into(),
    ));
    let rows = r
        .consistenza
        .iter()
        .chain(std::iter::once(&r.totale_consistenza))
        .map(|c| {
            vec![
                c.ente.clone(),
                c.alloggi_complessivi.to_string(),
                c.sas.to_string(),
                c.sap.to_string(),
                c.altro_uso_residenziale.to_string(),
            ]
        })
        .collect();
    out.push(Block::Table {
        head: vec![
            "Ente proprietario",
            "Alloggi complessivi",
            "SAS",
            "SAP",
            "Altro uso residenziale",
        ],
        rows,
    });

    let s = &r.sezioni;
    for sec in [&s.b, &s.c, &s.d, &s.e, &s.f] {
        section_blocks(&mut out, sec);
    }
    out.push(Block::Heading(s.g.titolo.clone()));
    let mut rows: Vec<Vec<String>> =
        s.g.per_ente
            .iter()
            .map(|g| {
                vec![
                    g.ente.clone(),
                    g.dichiarati.to_string(),
                    g.somma_b_f.to_string(),
                    g.di_cui_turn_over.to_string(),
                ]
            })
            .collect();
    rows.push(vec![
        "Totale".into(),
        s.g.totale.to_string(),
        s.g.somma_b_f.to_string(),
        s.e.totale.to_string(),
    ]);
    out.push(Block::Table {
        head: vec![
            "Ente proprietario",
            "Disponibili nell'anno",
            "Da sezioni b–f",
            "di cui turn over",
        ],
        rows,
    });
    for p in [&s.h, &s.i] {
        out.push(Block::Heading(p.titolo.clone()));
        out.push(Block::Note(p.nota.clone()));
    }
    for sec in [&s.j, &s.k] {
        section_blocks(&mut out, sec);
    }
    out
}

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

fn text(r: &PianoAnnuale, extra: Vec<Block>) -> String {
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

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Long form: one line per figure, `sezione,ente,voce,valore`.
fn csv(r: &PianoAnnuale) -> String {
    let mut o = String::from("sezione,ente,voce,valore\r\n");
    let mut line = |sez: &str, ente: &str, voce: &str, v: u32| {
        let _ = writeln!(
            o,
            "{},{},{},{}\r",
            csv_field(sez),
            csv_field(ente),
            csv_field(voce),
            v
        );
    };
    for row in r.stato_per_ente.iter().chain(std::iter::once(&r.totale)) {
        for (voce, v) in [
            ("di_proprieta", row.di_proprieta),
            ("libero", row.libero),
            ("sfitto_carenze_manutentive", row.sfitto_carenze_manutentive),
            ("sfitto_ristrutturazione", row.sfitto_ristrutturazione),
            ("occupato", row.occupato),
            ("disponibili_anno", row.disponibili_anno),
        ] {
            line("stato_per_ente", &row.ente, voce, v);
        }
    }
    for c in r
        .consistenza
        .iter()
        .chain(std::iter::once(&r.totale_consistenza))
    {
        for (voce, v) in [
            ("alloggi_complessivi", c.alloggi_complessivi),
            ("sas", c.sas),
            ("sap", c.sap),
            ("altro_uso_residenziale", c.altro_uso_residenziale),
        ] {
            line("a", &c.ente, voce, v);
        }
    }
    let s = &r.sezioni;
    for (name, sec) in [
        ("b", &s.b),
        ("c", &s.c),
        ("d", &s.d),
        ("e", &s.e),
        ("f", &s.f),
        ("j", &s.j),
        ("k", &s.k),
    ] {
        for v in &sec.per_ente {
            line(name, &v.ente, "unita", v.valore);
        }
        line(name, "Totale", "unita", sec.totale);
    }
    for g in &s.g.per_ente {
        line("g", &g.ente, "disponibili_anno", g.dichiarati);
        line("g", &g.ente, "somma_b_f", g.somma_b_f);
        line("g", &g.ente, "di_cui_turn_over", g.di_cui_turn_over);
    }
    line("g", "Totale", "disponibili_anno", s.g.totale);
    line("g", "Totale", "somma_b_f", s.g.somma_b_f);
    o
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html_table(o: &mut String, head: &[&str], rows: &[Vec<String>]) {
    o.push_str("<table><thead><tr>");
    for (i, h) in head.iter().enumerate() {
        let cls = if i > 0 { " class=\"n\"" } else { "" };
        let _ = write!(o, "<th{cls}>{}</th>", esc(h));
    }
    o.push_str("</tr></thead><tbody>");
    let last = rows.len().saturating_sub(1);
    for (ri, r) in rows.iter().enumerate() {
        let cls = if ri == last { " class=\"tot\"" } else { "" };
        let _ = write!(o, "<tr{cls}>");
        for (i, c) in r.iter().enumerate() {
            let cls = if i > 0 { " class=\"n\"" } else { "" };
            let _ = write!(o, "<td{cls}>{}</td>", esc(c));
        }
        o.push_str("</tr>");
    }
    o.push_str("</tbody></table>\n");
}

fn html(r: &PianoAnnuale, extra: Vec<Block>) -> String {
    html_con_mappa(r, extra, None)
}

fn html_con_mappa(r: &PianoAnnuale, extra: Vec<Block>, mappa: Option<&MappaComuni>) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!doctype html>\n<html lang=\"it\"><head><meta charset=\"utf-8\">\
<title>Piano Annuale dell'offerta abitativa {anno} – {amb}</title>\
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
        anno = r.anno,
        amb = esc(&r.ambito)
    );
    let _ = writeln!(o, "<h1>Piano Annuale dell'offerta abitativa {}</h1><p>Ambito territoriale: <strong>{}</strong></p>",
        r.anno,
        esc(&r.ambito)
    );
    if r.dimostrativo {
        o.push_str("<p class=\"demo\">Dati dimostrativi: generati per illustrare il servizio, non descrivono alloggi reali.</p>\n");
    }
    o.push_str("<h2>In sintesi</h2>\n<div class=\"grafici\">");
    if let Some(m) = mappa {
        o.push_str(&mappa_svg(m));
    }
    o.push_str(&grafico_stati_per_ente(r));
    o.push_str(&grafico_sezioni(r));
    o.push_str("</div>\n");
    for b in blocks(r).into_iter().chain(extra) {
        match b {
            Block::Heading(h) => {
                let _ = writeln!(o, "<h2>{}</h2>", esc(&h));
            }
            Block::Table { head, rows } => html_table(&mut o, &head, &rows),
            Block::Note(n) => {
                let _ = writeln!(o, "<p class=\"nota\">{}</p>", esc(&n));
            }
        }
    }
    if !r.avvisi.is_empty() {
        o.push_str("<h2>Avvisi sulla qualità dei dati</h2><ul class=\"avvisi\">");
        for a in &r.avvisi {
            let _ = write!(o, "<li>{}</li>", esc(&a.messaggio));
        }
        o.push_str("</ul>\n");
    }
    if let Some(m) = mappa {
        let _ = writeln!(
            o,
            "<p class=\"fonte\">Fonte: inventario degli alloggi pubblici dell'Ambito, catasto \
             (Agenzia delle Entrate), PGT dei comuni; elaborazione abitare. Dati al {}.</p>",
            esc(&m.data_riferimento)
        );
    }
    o.push_str("</body></html>\n");
    o
}

// ---------------------------------------------------------------------------
// Charts (SVG) and a small map for the printable HTML report.

/// One comune of the small map of the printable report.
#[derive(Debug, Clone)]
pub struct ComuneMappa {
    pub nome: String,
    pub geometry: geo::MultiPolygon<f64>,
    /// Unused public units in the comune.
    pub inutilizzati: u32,
}

/// What the small map of the printable report shows.
#[derive(Debug, Clone, Default)]
pub struct MappaComuni {
    pub comuni: Vec<ComuneMappa>,
    /// Reference date of the figures, in Italian (`27 ottobre 2025`).
    pub data_riferimento: String,
}

/// The printable HTML Piano Annuale with the private-stock section, charts and a small map
/// of the comuni coloured by unused public units.
pub fn html_stampa(r: &PianoAnnuale, p: &StockPrivato, mappa: &MappaComuni) -> String {
    html_con_mappa(r, private_blocks(p), Some(mappa))
}

/// Stacked horizontal bars: SAP units of each owner by state (Okabe–Ito colours).
fn grafico_stati_per_ente(r: &PianoAnnuale) -> String {
    use super::style::STATI;
    let righe: Vec<&RigaStato> = r
        .stato_per_ente
        .iter()
        .filter(|x| x.di_proprieta > 0)
        .collect();
    if righe.is_empty() {
        return String::new();
    }
    let etichette = [
        "Occupati",
        "Liberi",
        "Sfitti per carenze manutentive",
        "Sfitti per ristrutturazione",
    ];
    let max = righe
        .iter()
        .map(|x| x.di_proprieta)
        .max()
        .unwrap_or(1)
        .max(1);
    let (lab_w, bar_w, row_h, top) = (210.0, 300.0, 18.0, 46.0);
    let h = top + row_h * righe.len() as f64 + 10.0;
    let w = lab_w + bar_w + 40.0;
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure><svg class=\"grafico\" id=\"grafico-stati\" role=\"img\" aria-labelledby=\"gs-t\" \
         viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-size=\"11\">\
         <title id=\"gs-t\">Alloggi SAP per ente proprietario e stato</title>"
    );
    // Legend.
    let mut x = 0.0;
    for (i, (_, c)) in STATI.iter().enumerate() {
        let y = if i < 2 { 4.0 } else { 22.0 };
        if i == 2 {
            x = 0.0;
        }
        let _ = write!(
            o,
            "<rect x=\"{x}\" y=\"{y}\" width=\"12\" height=\"12\" fill=\"{c}\"/>\
             <text x=\"{}\" y=\"{}\">{}</text>",
            x + 16.0,
            y + 10.0,
            etichette[i]
        );
        x += 230.0;
    }
    for (i, row) in righe.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            lab_w - 6.0,
            y + 12.5,
            esc(&row.ente)
        );
        let mut x = lab_w;
        for (v, (_, c)) in [
            row.occupato,
            row.libero,
            row.sfitto_carenze_manutentive,
            row.sfitto_ristrutturazione,
        ]
        .iter()
        .zip(STATI.iter())
        {
            if *v == 0 {
                continue;
            }
            let bw = bar_w * f64::from(*v) / f64::from(max);
            let _ = write!(
                o,
                "<rect x=\"{x:.1}\" y=\"{}\" width=\"{bw:.1}\" height=\"{}\" fill=\"{c}\" \
                 stroke=\"#fff\" stroke-width=\"0.5\"><title>{}: {v}</title></rect>",
                y + 2.0,
                row_h - 4.0,
                esc(&row.ente)
            );
            x += bw;
        }
        let _ = write!(
            o,
            "<text x=\"{:.1}\" y=\"{}\">{}</text>",
            x + 4.0,
            y + 12.5,
            row.di_proprieta
        );
    }
    o.push_str(
        "</svg><figcaption>Alloggi SAP di ciascun ente proprietario, per stato. Inutilizzati = \
         liberi + sfitti.</figcaption></figure>",
    );
    o
}

/// Horizontal bars: units of sections b–f, j, k and the declared total g.
fn grafico_sezioni(r: &PianoAnnuale) -> String {
    let s = &r.sezioni;
    let voci: Vec<(&str, u32)> = vec![
        ("b) assegnabili nello stato di fatto", s.b.totale),
        ("c) in ristrutturazione, assegnabili", s.c.totale),
        ("d) di nuova edificazione", s.d.totale),
        ("e) liberati per turn over", s.e.totale),
        ("f) conferiti da privati", s.f.totale),
        ("g) disponibili nell'anno (dichiarati)", s.g.totale),
        ("j) per servizi transitori (SAT)", s.j.totale),
        ("k) assegnati l'anno precedente", s.k.totale),
    ];
    let max = voci.iter().map(|v| v.1).max().unwrap_or(0).max(1);
    let (lab_w, bar_w, row_h) = (230.0, 180.0, 20.0);
    let h = row_h * voci.len() as f64 + 6.0;
    let w = lab_w + bar_w + 40.0;
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure><svg class=\"grafico\" id=\"grafico-sezioni\" role=\"img\" aria-labelledby=\"gz-t\" \
         viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" font-size=\"11\">\
         <title id=\"gz-t\">Unità SAP del Piano per sezione</title>"
    );
    for (i, (et, v)) in voci.iter().enumerate() {
        let y = row_h * i as f64;
        let colore = if et.starts_with('g') {
            "#D55E00"
        } else {
            "#0072B2"
        };
        let bw = bar_w * f64::from(*v) / f64::from(max);
        let _ = write!(
            o,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{lab_w}\" y=\"{}\" width=\"{bw:.1}\" height=\"{}\" fill=\"{colore}\"/>\
             <text x=\"{:.1}\" y=\"{}\">{v}</text>",
            lab_w - 6.0,
            y + 13.5,
            esc(et),
            y + 3.0,
            row_h - 6.0,
            lab_w + bw + 4.0,
            y + 13.5
        );
    }
    o.push_str(
        "</svg><figcaption>Unità SAP del Piano per sezione (totali dell'Ambito).</figcaption></figure>",
    );
    o
}

/// A small map of the comuni coloured by unused public units (YlOrRd, the web map's classes),
/// with its legend and a scale bar.
fn mappa_svg(m: &MappaComuni) -> String {
    use super::style::{class_breaks, GRIGIO_NESSUNO, YLORRD};
    use geo::BoundingRect;
    let mut bbox: Option<geo::Rect<f64>> = None;
    for c in &m.comuni {
        if let Some(r) = c.geometry.bounding_rect() {
            bbox = Some(match bbox {
                None => r,
                Some(b) => geo::Rect::new(
                    (b.min().x.min(r.min().x), b.min().y.min(r.min().y)),
                    (b.max().x.max(r.max().x), b.max().y.max(r.max().y)),
                ),
            });
        }
    }
    let Some(b) = bbox else {
        return String::new();
    };
    let k = ((b.min().y + b.max().y) / 2.0).to_radians().cos();
    let (gw, gh) = ((b.max().x - b.min().x) * k, b.max().y - b.min().y);
    if gw <= 0.0 || gh <= 0.0 {
        return String::new();
    }
    let (map_w, legend_w) = (340.0, 190.0);
    let scale = map_w / gw;
    let map_h = gh * scale;
    let px = |x: f64, y: f64| ((x - b.min().x) * k * scale, (b.max().y - y) * scale);
    let valori: Vec<f64> = m.comuni.iter().map(|c| f64::from(c.inutilizzati)).collect();
    let breaks = class_breaks(&valori, YLORRD.len());
    let colore = |v: u32| -> &'static str {
        if v == 0 || breaks.is_empty() {
            return GRIGIO_NESSUNO;
        }
        let i = breaks.iter().rposition(|b| f64::from(v) >= *b).unwrap_or(0);
        YLORRD[i.min(YLORRD.len() - 1)]
    };
    let h = (map_h + 30.0).max(150.0);
    let w = map_w + legend_w;
    let mut o = String::new();
    let _ = write!(
        o,
        "<figure><svg class=\"grafico\" id=\"mappa-comuni\" role=\"img\" aria-labelledby=\"mc-t\" \
         viewBox=\"0 0 {w:.0} {h:.0}\" width=\"{w:.0}\" height=\"{h:.0}\" font-size=\"11\">\
         <title id=\"mc-t\">Mappa dei comuni per alloggi pubblici inutilizzati</title>"
    );
    for c in &m.comuni {
        let mut d = String::new();
        for poly in &c.geometry.0 {
            for ring in std::iter::once(poly.exterior()).chain(poly.interiors()) {
                for (i, p) in ring.0.iter().enumerate() {
                    let (x, y) = px(p.x, p.y);
                    let _ = write!(d, "{}{x:.1},{y:.1}", if i == 0 { "M" } else { "L" });
                }
                d.push('Z');
            }
        }
        let _ = write!(
            o,
            "<path d=\"{d}\" fill=\"{}\" stroke=\"#4d4d4d\" stroke-width=\"0.6\" \
             fill-rule=\"evenodd\"><title>{}: {} inutilizzati</title></path>",
            colore(c.inutilizzati),
            esc(&c.nome),
            c.inutilizzati
        );
    }
    // Scale bar: 10 km.
    let km10 = 10.0 / 111.32 * scale;
    let _ = write!(
        o,
        "<g transform=\"translate(6,{:.1})\"><rect width=\"{km10:.1}\" height=\"4\" fill=\"#1a1a1a\"/>\
         <text y=\"16\">0</text><text x=\"{km10:.1}\" y=\"16\" text-anchor=\"middle\">10 km</text></g>",
        map_h + 8.0
    );
    // Legend.
    let lx = map_w + 14.0;
    let _ = write!(
        o,
        "<text x=\"{lx}\" y=\"14\" font-weight=\"bold\">Alloggi inutilizzati</text>"
    );
    let mut voci: Vec<(String, &str)> = Vec::new();
    let max = valori.iter().copied().fold(0.0, f64::max);
    for (i, s) in breaks.iter().enumerate() {
        let et = match breaks.get(i + 1) {
            Some(n) if n - 1.0 > *s => format!("da {s} a {}", n - 1.0),
            Some(_) => format!("{s}"),
            None if max > *s => format!("{s} e oltre (fino a {max})"),
            None => format!("{s}"),
        };
        voci.push((et, YLORRD[i.min(YLORRD.len() - 1)]));
    }
    voci.push(("nessuno".into(), GRIGIO_NESSUNO));
    for (i, (et, c)) in voci.iter().enumerate() {
        let y = 24.0 + 18.0 * i as f64;
        let _ = write!(
            o,
            "<rect x=\"{lx}\" y=\"{y}\" width=\"14\" height=\"12\" fill=\"{c}\" stroke=\"#4d4d4d\" \
             stroke-width=\"0.6\"/><text x=\"{}\" y=\"{}\">{}</text>",
            lx + 20.0,
            y + 10.0,
            esc(et)
        );
    }
    o.push_str(
        "</svg><figcaption>Alloggi pubblici inutilizzati (liberi + sfitti) per comune, \
         di tutti i proprietari.</figcaption></figure>",
    );
    o
}
