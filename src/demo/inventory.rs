//! The public-housing inventory as an officer's spreadsheet export: `;`-separated,
//! Windows-1252, CRLF, with the usual variety in how values are written.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::territory::{ComuneFact, Rng};
use super::DemoError;

const SAP_CSV: &str = include_str!("../../data/ambito9_sap_stato_per_ente_2026.csv");
/// Sections e), g), k) of the 2026 plan per owner (seed 003): `sezione,ente_proprietario,valore,nota`.
const SEZIONI_CSV: &str = include_str!("../../data/ambito9_sezioni_e_g_k_2026.csv");

pub const ALER: &str = "ALER Bergamo - Lecco - Sondrio";

pub const HEADER: &str = "Ente proprietario;Codice unità;Comune;Codice ISTAT;Indirizzo;Sezione;Foglio;Particella;Subalterno;Categoria catastale;Superficie mq;Servizio;Stato;Sfitto dal;Assegnabile stato di fatto;In programma ristrutturazione;Nuova edificazione;Turn over;Conferita da privati;Disponibile anno;Assegnata anno precedente";

/// A building-sized parcel where units can be placed: (foglio, particella).
pub type Site = (u32, String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stato {
    Libero,
    Carenze,
    Ristrutturazione,
    Occupato,
}

struct Unit {
    ente: String,
    codice: String,
    comune: usize,
    indirizzo: String,
    foglio: u32,
    particella: String,
    sub: u32,
    categoria: String,
    superficie: String,
    servizio: &'static str,
    stato: Stato,
    sfitto_dal: String,
    turn_over: bool,
    disponibile: bool,
    assegnata: bool,
}

const STREETS: [&str; 16] = [
    "Via Roma",
    "Via Dante Alighieri",
    "Via Giuseppe Garibaldi",
    "Via Vittorio Veneto",
    "Via XXV Aprile",
    "Via Papa Giovanni XXIII",
    "Via Giuseppe Mazzini",
    "Via San Lorenzo",
    "Via Monte Grappa",
    "Piazza della Chiesa",
    "Via Fantoni",
    "Via Alessandro Manzoni",
    "Via IV Novembre",
    "Via della Libertà",
    "Via Santa Maria",
    "Via Nazionale",
];

fn stato_label(rng: &mut Rng, s: Stato) -> &'static str {
    let v: &[&str] = match s {
        Stato::Occupato => &[
            "Stato occupato",
            "Stato occupato",
            "STATO OCCUPATO",
            "stato occupato",
        ],
        Stato::Libero => &[
            "Stato libero",
            "Stato libero",
            "STATO LIBERO",
            "stato libero",
        ],
        Stato::Carenze => &[
            "Sfitto per carenze manutentive",
            "Sfitto per carenze manutentive",
            "SFITTO PER CARENZE MANUTENTIVE",
            "sfitto per carenze manutentive",
        ],
        Stato::Ristrutturazione => &[
            "Sfitto per ristrutturazione",
            "Sfitto per ristrutturazione",
            "SFITTO PER RISTRUTTURAZIONE",
            "Sfitto per Ristrutturazione",
        ],
    };
    let s: &&'static str = rng.pick(v);
    s
}

fn yes(rng: &mut Rng) -> &'static str {
    let s: &&'static str = rng.pick(&["sì", "x", "SI", "Sì", "X", "si"]);
    s
}

/// What sections e), g), k) of the plan say of one owner.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct SezioniEnte {
    /// e) units freed by turnover during the year (part of g).
    turn_over: usize,
    /// g) units declared available in the year, turnover included.
    disponibili: usize,
    /// k) units assigned the previous year.
    assegnate: usize,
}

/// Sections e), g), k) of `data/ambito9_sezioni_e_g_k_2026.csv`, per owner.
fn sezioni_e_g_k() -> Result<BTreeMap<String, SezioniEnte>, DemoError> {
    let err = |line: u64, m: String| {
        DemoError::Other(format!("ambito9_sezioni_e_g_k_2026.csv, riga {line}: {m}"))
    };
    let mut out: BTreeMap<String, SezioniEnte> = BTreeMap::new();
    let mut rdr = csv::Reader::from_reader(SEZIONI_CSV.as_bytes());
    for rec in rdr.records() {
        let r = rec.map_err(|e| err(0, e.to_string()))?;
        let line = r.position().map_or(0, |p| p.line());
        let ente = r.get(1).unwrap_or("").trim();
        if ente.is_empty() {
            return Err(err(line, "ente proprietario mancante".into()));
        }
        let valore: usize = r
            .get(2)
            .unwrap_or("")
            .trim()
            .parse()
            .map_err(|e| err(line, format!("valore: {e}")))?;
        let row = out.entry(ente.to_string()).or_default();
        let slot = match r.get(0).unwrap_or("").trim() {
            "e" => &mut row.turn_over,
            "g" => &mut row.disponibili,
            "k" => &mut row.assegnate,
            other => return Err(err(line, format!("sezione {other:?}: attese e, g, k"))),
        };
        if *slot != 0 {
            return Err(err(line, format!("{ente} ripetuto nella stessa sezione")));
        }
        *slot = valore;
    }
    for (ente, s) in &out {
        if s.turn_over > s.disponibili {
            return Err(DemoError::Other(format!(
                "ambito9_sezioni_e_g_k_2026.csv: {ente} ha {} unità in turn over (e) ma solo {} \
                 disponibili nell'anno (g)",
                s.turn_over, s.disponibili
            )));
        }
    }
    Ok(out)
}

/// Builds the inventory CSV bytes. `sites[k]` are the free building-sized parcels of comune `k`.
pub fn inventory(
    facts: &[ComuneFact],
    sites: &mut [Vec<Site>],
    rng: &mut Rng,
) -> Result<Vec<u8>, DemoError> {
    let comune_idx = |name: &str| -> Result<usize, DemoError> {
        facts
            .iter()
            .position(|f| f.nome == name)
            .ok_or_else(|| DemoError::Other(format!("comune sconosciuto: {name}")))
    };
    let mut units: Vec<Unit> = Vec::new();
    let mut rdr = csv::Reader::from_reader(SAP_CSV.as_bytes());
    let mut owners: Vec<(String, [usize; 4])> = Vec::new();
    for rec in rdr.records() {
        let r =
            rec.map_err(|e| DemoError::Other(format!("ambito9_sap_stato_per_ente_2026.csv: {e}")))?;
        let ente = r.get(0).unwrap_or("").to_string();
        if ente == "Totale" {
            continue;
        }
        let n = |i: usize| -> Result<usize, DemoError> {
            r.get(i)
                .unwrap_or("")
                .parse()
                .map_err(|e| DemoError::Other(format!("{ente}: {e}")))
        };
        owners.push((ente.clone(), [n(2)?, n(3)?, n(4)?, n(5)?]));
    }
    owners.push(("Comune di Rovetta".into(), [0, 0, 0, 4]));
    let mut sezioni = sezioni_e_g_k()?;

    let mut place = |units: &mut Vec<Unit>,
                     ente: &str,
                     comune: usize,
                     size: usize,
                     servizio: &'static str,
                     rng: &mut Rng|
     -> Result<(), DemoError> {
        let free = &mut sites[comune];
        if free.is_empty() {
            return Err(DemoError::Other(format!(
                "nessuna particella libera per {ente} a {}",
                facts[comune].nome
            )));
        }
        let pos = (rng.next_u64() % free.len() as u64) as usize;
        let (foglio, particella) = free.remove(pos);
        let indirizzo = format!("{} {}", rng.pick(&STREETS), rng.range(1, 64));
        let first_sub = rng.range(1, 6) as u32;
        for sub in first_sub..first_sub + size as u32 {
            let cat = {
                let r = rng.unit();
                let c = if r < 0.45 {
                    3
                } else if r < 0.87 {
                    4
                } else if r < 0.95 {
                    2
                } else {
                    5
                };
                let form = rng.unit();
                if form < 0.6 {
                    format!("A/{c}")
                } else if form < 0.85 {
                    format!("A0{c}")
                } else {
                    format!("A{c}")
                }
            };
            let m = rng.range(38, 96);
            let superficie = if rng.unit() < 0.4 {
                format!("{m},5")
            } else {
                m.to_string()
            };
            units.push(Unit {
                ente: ente.to_string(),
                codice: String::new(),
                comune,
                indirizzo: indirizzo.clone(),
                foglio,
                particella: particella.clone(),
                sub,
                categoria: cat,
                superficie,
                servizio,
                stato: Stato::Occupato,
                sfitto_dal: String::new(),
                turn_over: false,
                disponibile: false,
                assegnata: false,
            });
        }
        Ok(())
    };

    for (ente, counts) in &owners {
        let start = units.len();
        let total: usize = counts.iter().sum();
        let servizio = if ente == "Comune di Rovetta" {
            "altro"
        } else {
            "SAP"
        };
        if ente == ALER {
            for (name, size) in [
                ("Clusone", 12),
                ("Clusone", 10),
                ("Ardesio", 8),
                ("Ponte Nossa", 6),
                ("Rovetta", 9),
                ("Vilminore di Scalve", 6),
                ("Schilpario", 4),
                ("Gromo", 8),
            ] {
                place(&mut units, ente, comune_idx(name)?, size, servizio, rng)?;
            }
        } else {
            let name = ente.strip_prefix("Comune di ").unwrap_or(ente);
            let k = comune_idx(name)?;
            let mut left = total;
            while left > 0 {
                let size = (rng.range(2, 8) as usize).min(left);
                place(&mut units, ente, k, size, servizio, rng)?;
                left -= size;
            }
        }
        let mine = &mut units[start..];
        if mine.len() != total {
            return Err(DemoError::Other(format!(
                "{ente}: {} unità generate invece di {total}",
                mine.len()
            )));
        }
        let mut states = Vec::new();
        for (s, &n) in [
            Stato::Libero,
            Stato::Carenze,
            Stato::Ristrutturazione,
            Stato::Occupato,
        ]
        .iter()
        .zip(counts)
        {
            states.extend(std::iter::repeat_n(*s, n));
        }
        rng.shuffle(&mut states);
        let prefix: String = if ente == ALER {
            "BG".into()
        } else {
            ente.trim_start_matches("Comune di ")
                .chars()
                .filter(|c| c.is_ascii_alphabetic())
                .take(3)
                .collect::<String>()
                .to_uppercase()
        };
        let mut code = rng.range(1, 40) as u64;
        for (u, s) in mine.iter_mut().zip(states) {
            u.stato = s;
            u.codice = if ente == ALER {
                format!("{prefix}{:06}", 10_000 + code * 7)
            } else {
                format!("{prefix}-{code:03}")
            };
            code += rng.range(1, 3) as u64;
        }
        // Flags of the plan's sections e), g), k), as the reference plan gives them.
        let mut flag = |pred: &dyn Fn(&Unit) -> bool, n: usize, f: &dyn Fn(&mut Unit)| -> usize {
            let mut idx: Vec<usize> = (0..mine.len()).filter(|&i| pred(&mine[i])).collect();
            rng.shuffle(&mut idx);
            for &i in idx.iter().take(n) {
                f(&mut mine[i]);
            }
            idx.len().min(n)
        };
        let free = |u: &Unit| !u.disponibile && !u.assegnata;
        let want = sezioni.remove(ente.as_str()).unwrap_or_default();
        let short = |what: &str, n: usize| {
            DemoError::Other(format!(
                "{ente}: mancano {n} unità per la sezione {what} di ambito9_sezioni_e_g_k_2026.csv"
            ))
        };
        // e) Turnover: occupied units whose household leaves during the year, available in it.
        if want.turn_over > 0 {
            let n = flag(
                &|u| u.stato == Stato::Occupato && free(u),
                want.turn_over,
                &|u| {
                    u.turn_over = true;
                    u.disponibile = true;
                },
            );
            if n < want.turn_over {
                return Err(short("e", want.turn_over - n));
            }
        }
        // g) The other units available in the year: free ones first, then those vacant for
        // maintenance.
        let mut left = want.disponibili - want.turn_over;
        for stato in [Stato::Libero, Stato::Carenze] {
            if left > 0 {
                left -= flag(&|u| u.stato == stato && free(u), left, &|u| {
                    u.disponibile = true
                });
            }
        }
        if left > 0 {
            return Err(short("g", left));
        }
        // k) Assigned the previous year: occupied now.
        if want.assegnate > 0 {
            let n = flag(
                &|u| u.stato == Stato::Occupato && free(u),
                want.assegnate,
                &|u| u.assegnata = true,
            );
            if n < want.assegnate {
                return Err(short("k", want.assegnate - n));
            }
        }
    }
    if let Some(ente) = sezioni.keys().next() {
        return Err(DemoError::Other(format!(
            "ambito9_sezioni_e_g_k_2026.csv: {ente} non è tra gli enti dell'inventario"
        )));
    }

    // Dates the unused units became empty.
    let first = NaiveDate::from_ymd_opt(2018, 1, 1)
        .ok_or_else(|| DemoError::Other("data non valida".into()))?;
    let last = NaiveDate::from_ymd_opt(2025, 9, 30)
        .ok_or_else(|| DemoError::Other("data non valida".into()))?;
    let span = (last - first).num_days();
    for u in &mut units {
        if u.stato != Stato::Occupato && rng.unit() < 0.85 {
            let d = first + chrono::Duration::days(rng.range(0, span));
            u.sfitto_dal = d.format("%d/%m/%Y").to_string();
        }
    }

    let mut text = String::from(HEADER);
    text.push_str("\r\n");
    for u in &units {
        let f = &facts[u.comune];
        let b = |v: bool, rng: &mut Rng| if v { yes(rng) } else { "" };
        let stato = stato_label(rng, u.stato);
        let turn = b(u.turn_over, rng);
        let disp = b(u.disponibile, rng);
        let ass = b(u.assegnata, rng);
        text.push_str(&format!(
            "{};{};{};{};{};;{};{};{};{};{};{};{};{};;;;{};;{};{}\r\n",
            u.ente,
            u.codice,
            f.nome,
            f.istat,
            u.indirizzo,
            u.foglio,
            u.particella,
            u.sub,
            u.categoria,
            u.superficie,
            u.servizio,
            stato,
            u.sfitto_dal,
            turn,
            disp,
            ass
        ));
    }
    let (bytes, _, errors) = encoding_rs::WINDOWS_1252.encode(&text);
    if errors {
        return Err(DemoError::Other(
            "inventario: caratteri non rappresentabili in Windows-1252".into(),
        ));
    }
    Ok(bytes.into_owned())
}
