//! Private stock of the demonstration Ambito, in the formats a housing desk receives:
//!
//! * `alloggi_privati_offerti.csv`: units offered by owners to the desk over 2023–2025 (`;`,
//!   Windows-1252, CRLF, decimal comma), on free parcels (cadastral reference) or by lon/lat,
//!   with an owner column as real lists have (placeholder values; the reader drops it);
//! * `stime_abitazioni_non_occupate.geojson`: tract-like areas (groups of cadastral sheets)
//!   with dwelling counts proportional to population and a high share of non-occupied
//!   dwellings in the tourist comuni of the Presolana and the upper valley.
//!
//! All of it is invented demonstration data.

use chrono::NaiveDate;

use super::cadastre::Poly;
use super::inventory::Site;
use super::territory::{ComuneFact, Rng, Sheet, Territory};
use super::{zone_polys, DemoError};

/// Comuni where second homes dominate (Presolana, upper Val Seriana, Val di Scalve).
const TURISTICI: [&str; 11] = [
    "Castione della Presolana",
    "Valbondione",
    "Schilpario",
    "Colere",
    "Vilminore di Scalve",
    "Gromo",
    "Rovetta",
    "Songavazzo",
    "Onore",
    "Cerete",
    "Fino del Monte",
];

pub const HEADER: &str = "Id;Comune;Codice ISTAT;Proprietario;Indirizzo;Foglio;Particella;Subalterno;Categoria catastale;Superficie mq;Canone offerto €/mese;Stato;Data offerta;Data locazione;Data ritiro;Lon;Lat";

const STREETS: [&str; 10] = [
    "Via Roma",
    "Via Monte Pora",
    "Via Presolana",
    "Via dei Mille",
    "Via Fiume Serio",
    "Via San Rocco",
    "Via Belvedere",
    "Via alle Baite",
    "Via Cantoniera",
    "Piazza del Municipio",
];

fn date(y: i32, m: u32, d: u32) -> Result<NaiveDate, DemoError> {
    NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| DemoError::Other("data non valida".into()))
}

fn comma(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}").replace('.', ",")
}

/// The offered-units CSV (Windows-1252 bytes). `sites[k]` are the free parcels of comune `k`.
pub fn offered_units(
    facts: &[ComuneFact],
    sites: &[Vec<Site>],
    rng: &mut Rng,
) -> Result<Vec<u8>, DemoError> {
    let first = date(2023, 1, 9)?;
    let last = date(2025, 9, 30)?;
    let reference = date(2025, 10, 27)?;
    let span = (last - first).num_days();
    let weights: Vec<f64> = facts
        .iter()
        .map(|f| {
            let w = f64::from(f.popolazione).sqrt();
            if TURISTICI.contains(&f.nome.as_str()) {
                w * 2.5
            } else {
                w
            }
        })
        .collect();
    let total_w: f64 = weights.iter().sum();
    let n_units = 96;
    let mut text = String::from(HEADER);
    text.push_str("\r\n");
    let mut offers: Vec<(NaiveDate, usize)> = (0..n_units)
        .map(|_| {
            let d = first + chrono::Duration::days(rng.range(0, span));
            let mut x = rng.unit() * total_w;
            let mut k = 0;
            while k + 1 < weights.len() && x >= weights[k] {
                x -= weights[k];
                k += 1;
            }
            (d, k)
        })
        .collect();
    offers.sort();
    for (i, (offerta, k)) in offers.into_iter().enumerate() {
        let f = &facts[k];
        let id = format!("OFF-{}-{:03}", offerta.format("%Y"), i + 1);
        let area: f64 = if rng.unit() < 0.12 {
            rng.range(112, 150) as f64
        } else {
            rng.range(38, 108) as f64 + if rng.unit() < 0.3 { 0.5 } else { 0.0 }
        };
        let cat = {
            let r = rng.unit();
            if r < 0.03 {
                "A/8"
            } else if r < 0.05 {
                "A/1"
            } else if r < 0.35 {
                "A/2"
            } else if r < 0.75 {
                "A/3"
            } else if r < 0.92 {
                "A/4"
            } else {
                "A/7"
            }
        };
        let canone = (area * (5.0 + rng.unit() * 3.0) / 10.0).round() * 10.0;
        // What happened to the offer, as of the reference date.
        let r = rng.unit();
        let (stato, locazione, ritiro) = if r < 0.45 {
            let d = offerta + chrono::Duration::days(rng.range(20, 160));
            if d <= reference {
                (
                    "locato_concordato",
                    d.format("%d/%m/%Y").to_string(),
                    String::new(),
                )
            } else {
                ("offerto", String::new(), String::new())
            }
        } else if r < 0.65 {
            let d = offerta + chrono::Duration::days(rng.range(30, 300));
            if d <= reference {
                ("ritirato", String::new(), d.format("%d/%m/%Y").to_string())
            } else {
                ("offerto", String::new(), String::new())
            }
        } else {
            ("offerto", String::new(), String::new())
        };
        let stato_scritto = match (stato, rng.range(0, 2)) {
            ("locato_concordato", 0) => "Locato a canone concordato",
            ("locato_concordato", _) => "locato_concordato",
            ("ritirato", 0) => "Ritirato",
            ("ritirato", _) => "ritirato",
            (_, 0) => "Offerto",
            _ => "offerto",
        };
        let indirizzo = format!("{} {}", rng.pick(&STREETS), rng.range(1, 80));
        let by_parcel = rng.unit() < 0.75 && !sites[k].is_empty();
        let (foglio, particella, sub, lon, lat) = if by_parcel {
            let (fg, p) = rng.pick(&sites[k]).clone();
            (
                fg.to_string(),
                p,
                rng.range(1, 12).to_string(),
                String::new(),
                String::new(),
            )
        } else {
            let lon = f.lon + (rng.unit() - 0.5) * 0.004;
            let lat = f.lat + (rng.unit() - 0.5) * 0.003;
            (
                String::new(),
                String::new(),
                String::new(),
                comma(lon, 6),
                comma(lat, 6),
            )
        };
        let superficie = if area.fract() == 0.0 {
            format!("{area:.0}")
        } else {
            comma(area, 1)
        };
        text.push_str(&format!(
            "{id};{};{};Proprietario dimostrativo {:03};{indirizzo};{foglio};{particella};{sub};{cat};{superficie};{};{stato_scritto};{};{locazione};{ritiro};{lon};{lat}\r\n",
            f.nome,
            f.istat,
            i + 1,
            comma(canone, 2),
            offerta.format("%d/%m/%Y"),
        ));
    }
    let (bytes, _, errors) = encoding_rs::WINDOWS_1252.encode(&text);
    if errors {
        return Err(DemoError::Other(
            "alloggi privati: caratteri non rappresentabili in Windows-1252".into(),
        ));
    }
    Ok(bytes.into_owned())
}

/// Share of non-occupied dwellings of a comune (before per-area variation).
fn quota(f: &ComuneFact, rng: &mut Rng) -> f64 {
    if TURISTICI.contains(&f.nome.as_str()) {
        0.45 + rng.unit() * 0.2
    } else if f.nome == "Clusone" {
        0.17
    } else {
        0.22 + rng.unit() * 0.12
    }
}

/// The estimates GeoJSON: per comune, its sheets grouped into tract-like areas (two urban or
/// six other sheets each), with dwellings proportional to population.
pub fn estimates(
    facts: &[ComuneFact],
    t: &Territory,
    sheets: &[Sheet],
    to_ll: &crate::crs::ToLonLat,
    rng: &mut Rng,
) -> Result<String, DemoError> {
    let r7 = |v: f64| (v * 1e7).round() / 1e7;
    let mut features = Vec::new();
    for (k, f) in facts.iter().enumerate() {
        let mut own: Vec<&Sheet> = sheets.iter().filter(|s| s.comune == k).collect();
        own.sort_by_key(|s| (!s.urban, s.numero));
        let mut groups: Vec<(bool, Vec<usize>)> = Vec::new();
        for urban in [true, false] {
            let these: Vec<&&Sheet> = own.iter().filter(|s| s.urban == urban).collect();
            for chunk in these.chunks(if urban { 2 } else { 6 }) {
                let cells = chunk.iter().flat_map(|s| s.cells.iter().copied()).collect();
                groups.push((urban, cells));
            }
        }
        if groups.is_empty() {
            continue;
        }
        let occupate = (f64::from(f.popolazione) / 2.2).round();
        let q = quota(f, rng);
        let totali = (occupate / (1.0 - q)).round();
        let weights: Vec<f64> = groups
            .iter()
            .map(|(u, cells)| cells.len() as f64 * if *u { 8.0 } else { 1.0 })
            .collect();
        let sum_w: f64 = weights.iter().sum();
        for (g, ((_, cells), w)) in groups.iter().zip(&weights).enumerate() {
            let tot = (totali * w / sum_w).round().max(1.0);
            let share = (q + (rng.unit() - 0.5) * 0.12).clamp(0.05, 0.9);
            let non = (tot * share).round().min(tot);
            let polys: Vec<Poly> = zone_polys(t, k, cells);
            let mut coords = Vec::new();
            for (ext, holes) in &polys {
                let mut rings = Vec::new();
                for r in std::iter::once(ext).chain(holes) {
                    let mut ring = Vec::new();
                    for i in 0..=r.len() {
                        let (x, y) = r[i % r.len()];
                        let (lon, lat) = to_ll.convert(x, y)?;
                        ring.push(serde_json::json!([r7(lon), r7(lat)]));
                    }
                    rings.push(serde_json::Value::Array(ring));
                }
                coords.push(serde_json::Value::Array(rings));
            }
            features.push(format!(
                "{{\"type\": \"Feature\", \"properties\": {{\"codice\": \"{}{:07}\", \"comune_istat\": \"{}\", \"abitazioni_totali\": {}, \"abitazioni_non_occupate\": {}}}, \"geometry\": {{\"type\": \"MultiPolygon\", \"coordinates\": {}}}}}",
                f.istat,
                g + 1,
                f.istat,
                tot as u32,
                non as u32,
                serde_json::Value::Array(coords)
            ));
        }
    }
    let mut out = String::from(
        "{\n\"type\": \"FeatureCollection\",\n\"name\": \"stime_abitazioni_non_occupate\",\n\"features\": [\n",
    );
    out.push_str(&features.join(",\n"));
    out.push_str("\n]\n}\n");
    Ok(out)
}
