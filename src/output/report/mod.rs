//! Renderers of the Piano Annuale: terminal text, CSV (long form), printable HTML, JSON.
//!
//! One module per format (`text`, `json`, `csv`, `html`) and the SVG charts and small map of
//! the HTML form (`svg`). This module holds the public entry points and what the text and HTML
//! forms share: the report as a sequence of `Block`s (headings, tables, notes).

mod csv;
mod html;
mod json;
mod svg;
mod text;

use crate::analysis::piano_annuale::{PianoAnnuale, RigaStato, Sezione};
use crate::analysis::private::{FigurePrivate, StockPrivato, CATEGORIE_ESCLUSE};
use crate::italiano::numero_it;

pub(crate) use self::csv::{neutralised, CsvText};
pub use self::html::{html_stampa, html_stampa_in};
pub use self::svg::{ComuneMappa, MappaComuni};
pub use crate::output::lingua::Lingua;

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
    render_in(r, f, Lingua::It)
}

/// [`render`] in a language: the text and HTML forms are written in it; JSON and CSV are data
/// (FORMATS.md §6) and stay as they are.
pub fn render_in(r: &PianoAnnuale, f: Formato, l: Lingua) -> String {
    match f {
        Formato::Testo => text::render(r, Vec::new(), l),
        Formato::Json => json(r),
        Formato::Csv => csv::render(r),
        Formato::Html => html::render(r, Vec::new(), None, l),
    }
}

/// The plan followed, in the text and HTML forms, by the section "Patrimonio privato" (public
/// and private stock side by side, aggregates only). JSON and CSV keep the plan's contract
/// (FORMATS.md §6) unchanged; the private figures are served by `/api/ambito`.
pub fn render_con_privato(r: &PianoAnnuale, p: &StockPrivato, f: Formato) -> String {
    render_con_privato_in(r, p, f, Lingua::It)
}

/// [`render_con_privato`] in a language (text and HTML; JSON and CSV are data).
pub fn render_con_privato_in(r: &PianoAnnuale, p: &StockPrivato, f: Formato, l: Lingua) -> String {
    match f {
        Formato::Testo => text::render(r, private_blocks(p, l), l),
        Formato::Html => html::render(r, private_blocks(p, l), None, l),
        Formato::Json | Formato::Csv => render(r, f),
    }
}

/// A table cell in the reader's language: a figure with its separators swapped for English
/// (`1.234,5` → `1,234.5`), a label of the table translated, a name as it is.
fn cell(l: Lingua, c: &str) -> std::borrow::Cow<'_, str> {
    if l == Lingua::It {
        return std::borrow::Cow::Borrowed(c);
    }
    let figure = !c.is_empty()
        && c.chars().any(|ch| ch.is_ascii_digit())
        && c.chars()
            .all(|ch| ch.is_ascii_digit() || matches!(ch, '.' | ',' | '%' | '-' | '–'));
    if figure {
        std::borrow::Cow::Owned(
            c.chars()
                .map(|ch| match ch {
                    '.' => ',',
                    ',' => '.',
                    ch => ch,
                })
                .collect(),
        )
    } else {
        l.frasi(c)
    }
}

/// `0,453` → `45,3%`.
/// A count as people read it: `1.234`.
fn n(v: u32) -> String {
    numero_it(f64::from(v), 0)
}

fn percent(v: Option<f64>) -> String {
    v.map_or_else(
        || "–".to_string(),
        |x| format!("{:.1}%", x * 100.0).replace('.', ","),
    )
}

fn private_cells(name: &str, f: &FigurePrivate) -> Vec<String> {
    vec![
        name.to_string(),
        n(f.pubblici_inutilizzati),
        n(f.abitazioni_stimate),
        n(f.abitazioni_non_occupate_stimate),
        percent(f.quota_non_occupate),
        n(f.privati_offerti),
        n(f.privati_in_offerta),
        n(f.privati_locati_concordato),
        n(f.privati_ritirati),
        n(f.privati_rimessi_in_uso),
    ]
}

/// The section "Patrimonio privato": per comune, the Ambito, per year; never a single unit.
fn private_blocks(p: &StockPrivato, l: Lingua) -> Vec<Block> {
    let mut out = vec![Block::Heading("Patrimonio privato".into())];
    if !p.dati_presenti {
        out.push(Block::Note(
            match l {
                Lingua::It => {
                    "Nessun dato sul patrimonio privato (né alloggi offerti dai proprietari né \
                     stime delle abitazioni non occupate)."
                }
                Lingua::En => {
                    "No data on private stock (neither units offered by owners nor estimates of \
                     non-occupied dwellings)."
                }
            }
            .into(),
        ));
        return out;
    }
    let w = p.finestra_rimessi;
    out.push(Block::Note(match l {
        Lingua::En => format!(
            "Public and private stock side by side, by comune. Non-occupied dwellings: estimates \
             per area (census sections, for instance), assigned to the comune holding most of the \
             area. Private units: offered by their owners to the housing desk; \"back in use\" are \
             those let at agreed rent with a lease date in {}–{}. Aggregates only: no owner data.",
            w.da_anno, w.a_anno
        ),
        Lingua::It => format!(
        "Patrimonio pubblico e privato a confronto, per comune. Abitazioni non occupate: stime per \
         area (ad esempio sezioni di censimento), attribuite al comune che ne contiene la parte \
         maggiore. Alloggi privati: offerti dai proprietari allo sportello; \"rimessi in uso\" sono \
         quelli locati a canone concordato con data di locazione nel {}–{}. Solo dati aggregati: \
         nessun dato dei proprietari.",
        w.da_anno, w.a_anno
    ),
    }));
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
                    n(a.offerti),
                    n(a.locati_concordato),
                    n(a.ritirati),
                ]
            })
            .collect();
        let sum = |f: fn(&crate::analysis::private::AnnoPrivato) -> u32| -> String {
            n(p.ambito.per_anno.iter().map(f).sum::<u32>())
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
    out.push(Block::Note(match l {
        Lingua::En => format!(
            "Dwelling requirements of the rent-support measures: cadastral category other than \
             {}, usable area up to 110 m² for households of up to 4 people (+11 m², 10% of 110 m², \
             for each further member). Offered units that meet them: {} of {}; excluded by \
             category: {}.",
            CATEGORIE_ESCLUSE.join(", "),
            p.ambito.privati_ammissibili_misure,
            p.ambito.privati_offerti,
            p.ambito.privati_categoria_esclusa
        ),
        Lingua::It => format!(
            "Requisiti degli alloggi nelle misure di sostegno alla locazione: categoria catastale \
         diversa da {}, superficie utile fino a 110 m² per nuclei fino a 4 componenti (+11 m², \
         cioè il 10% di 110 m², per ogni componente oltre il quarto). Alloggi offerti che li \
         rispettano: {} su {}; esclusi per categoria: {}.",
            CATEGORIE_ESCLUSE.join(", "),
            p.ambito.privati_ammissibili_misure,
            p.ambito.privati_offerti,
            p.ambito.privati_categoria_esclusa
        ),
    }));
    if p.privati_senza_comune > 0 || p.aree_non_attribuite > 0 {
        out.push(Block::Note(match l {
            Lingua::It => format!(
                "Alloggi offerti fuori dai comuni dell'Ambito (contati solo nel totale): {}; aree \
                 di stima non attribuite a un comune (escluse dai totali): {}.",
                p.privati_senza_comune, p.aree_non_attribuite
            ),
            Lingua::En => format!(
                "Units offered outside the Ambito's comuni (counted in the total only): {}; \
                 estimate areas not assigned to a comune (left out of the totals): {}.",
                p.privati_senza_comune, p.aree_non_attribuite
            ),
        }));
    }
    out
}

/// The plan as pretty-printed JSON (the contract of FORMATS.md §6).
pub fn json(r: &PianoAnnuale) -> String {
    json::render(r)
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
        n(r.di_proprieta),
        n(r.libero),
        n(r.sfitto_carenze_manutentive),
        n(r.sfitto_ristrutturazione),
        n(r.occupato),
        n(r.disponibili_anno),
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
        .map(|v| vec![v.ente.clone(), n(v.valore)])
        .collect();
    rows.push(vec!["Totale".into(), n(s.totale)]);
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
                n(c.alloggi_complessivi),
                n(c.sas),
                n(c.sap),
                n(c.altro_uso_residenziale),
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
                    n(g.dichiarati),
                    n(g.somma_b_f),
                    n(g.di_cui_turn_over),
                ]
            })
            .collect();
    rows.push(vec![
        "Totale".into(),
        n(s.g.totale),
        n(s.g.somma_b_f),
        n(s.e.totale),
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
