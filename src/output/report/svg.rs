//! SVG for the HTML report: stacked bars of SAP units per owner and state, bars of the
//! sections b–k (both from `PianoAnnuale` alone) and the small map of the comuni coloured by
//! unused public units (needs geometry: `MappaComuni`).

use std::fmt::Write as _;

use super::html::esc;
use super::Lingua;
use crate::analysis::piano_annuale::{PianoAnnuale, RigaStato};
use crate::analysis::Analisi;
use crate::italiano::data_it;

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
    /// The same date as ISO 8601 (`2025-10-27`), for the English report.
    pub data_riferimento_iso: String,
}

impl MappaComuni {
    /// Every comune of the analysis with its unused public units.
    pub fn of(a: &Analisi) -> MappaComuni {
        MappaComuni {
            comuni: a
                .model
                .comuni
                .iter()
                .map(|c| ComuneMappa {
                    nome: c.nome.clone(),
                    geometry: c.geometry.clone(),
                    inutilizzati: a
                        .vacancy
                        .per_comune
                        .iter()
                        .find(|v| v.istat == c.istat)
                        .map_or(0, |v| v.conteggi.inutilizzati),
                })
                .collect(),
            data_riferimento: data_it(a.model.ambito.data_riferimento),
            data_riferimento_iso: a.model.ambito.data_riferimento.to_string(),
        }
    }
}

/// Stacked horizontal bars: SAP units of each owner by state (Okabe–Ito colours).
pub(super) fn grafico_stati_per_ente(r: &PianoAnnuale, l: Lingua) -> String {
    use crate::output::style::STATI;
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
         <title id=\"gs-t\">{}</title>",
        esc(l.t("Alloggi SAP per ente proprietario e stato"))
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
            esc(l.t(etichette[i]))
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
    let _ = write!(
        o,
        "</svg><figcaption>{}</figcaption></figure>",
        esc(l.t(
            "Alloggi SAP di ciascun ente proprietario, per stato. Inutilizzati = liberi + sfitti."
        ))
    );
    o
}

/// Horizontal bars: units of sections b–f, j, k and the declared total g.
pub(super) fn grafico_sezioni(r: &PianoAnnuale, l: Lingua) -> String {
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
         <title id=\"gz-t\">{}</title>",
        esc(l.t("Unità SAP del Piano per sezione"))
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
            esc(l.t(et)),
            y + 3.0,
            row_h - 6.0,
            lab_w + bw + 4.0,
            y + 13.5
        );
    }
    let _ = write!(
        o,
        "</svg><figcaption>{}</figcaption></figure>",
        esc(l.t("Unità SAP del Piano per sezione (totali dell'Ambito)."))
    );
    o
}

/// A small map of the comuni coloured by unused public units (YlOrRd, the web map's classes),
/// with its legend and a scale bar.
pub(super) fn mappa_svg(m: &MappaComuni, l: Lingua) -> String {
    use crate::output::style::{class_breaks, GRIGIO_NESSUNO, YLORRD};
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
         <title id=\"mc-t\">{}</title>",
        esc(l.t("Mappa dei comuni per alloggi pubblici inutilizzati"))
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
             fill-rule=\"evenodd\"><title>{}: {} {}</title></path>",
            colore(c.inutilizzati),
            esc(&c.nome),
            c.inutilizzati,
            match l {
                Lingua::It => "inutilizzati",
                Lingua::En => "unused",
            }
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
        "<text x=\"{lx}\" y=\"14\" font-weight=\"bold\">{}</text>",
        esc(l.t("Alloggi inutilizzati"))
    );
    let mut voci: Vec<(String, &str)> = Vec::new();
    let max = valori.iter().copied().fold(0.0, f64::max);
    for (i, s) in breaks.iter().enumerate() {
        let et = match (breaks.get(i + 1), l) {
            (Some(n), Lingua::It) if n - 1.0 > *s => format!("da {s} a {}", n - 1.0),
            (Some(n), Lingua::En) if n - 1.0 > *s => format!("{s} to {}", n - 1.0),
            (Some(_), _) => format!("{s}"),
            (None, Lingua::It) if max > *s => format!("{s} e oltre (fino a {max})"),
            (None, Lingua::En) if max > *s => format!("{s} or more (up to {max})"),
            (None, _) => format!("{s}"),
        };
        voci.push((et, YLORRD[i.min(YLORRD.len() - 1)]));
    }
    voci.push((l.t("nessuno").into(), GRIGIO_NESSUNO));
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
    let _ = write!(
        o,
        "</svg><figcaption>{}</figcaption></figure>",
        esc(l.t(
            "Alloggi pubblici inutilizzati (liberi + sfitti) per comune, di tutti i proprietari."
        ))
    );
    o
}
