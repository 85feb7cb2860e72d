//! Inputs of the candidate-areas screening for the demonstration Ambito:
//!
//! * `altra_proprieta_pubblica.csv`: the comuni's non-housing property by cadastral reference
//!   (a town hall in use everywhere; in some comuni a dismissed school or an underused depot),
//!   as a property office would list it (`;`, UTF-8);
//! * `servizi_puntuali.geojson`: existing services as points (schools, health, shops, stops)
//!   on the core lots the PGT's existing services occupy.
//!
//! All of it is invented demonstration data.

use super::inventory::Site;
use super::territory::ComuneFact;
use super::DemoError;
use crate::crs::ToLonLat;

pub const HEADER: &str = "Codice;Comune;Codice catastale;Foglio;Particella;Ente proprietario;Uso;Stato di utilizzo;Superficie mq;Note";

/// The property list. `sites[k]` are the free parcels of comune `k` (the last ones are used).
pub fn altra_proprieta(facts: &[ComuneFact], sites: &[Vec<Site>]) -> Vec<u8> {
    let mut text = String::from(HEADER);
    text.push('\n');
    let mut n = 0;
    for (k, f) in facts.iter().enumerate() {
        let free = &sites[k];
        let mut pick = free.iter().rev();
        let ente = format!("Comune di {}", f.nome);
        let mut rows: Vec<(&str, &str, u32, &str)> = vec![(
            "Municipio",
            "in uso",
            600 + (f.popolazione / 10).min(900),
            "",
        )];
        match k % 4 {
            0 => rows.push((
                "Ex scuola elementare",
                "dismesso",
                900,
                "chiusa dopo l'accorpamento dei plessi",
            )),
            1 => rows.push(("Magazzino comunale", "sottoutilizzato", 350, "")),
            2 => rows.push(("Ex ufficio postale", "dismesso", 220, "")),
            _ => {}
        }
        for (uso, stato, mq, note) in rows {
            let Some((foglio, particella)) = pick.next() else {
                break;
            };
            n += 1;
            text.push_str(&format!(
                "PAT-{n:03};{};{};{foglio};{particella};{ente};{uso};{stato};{mq};{note}\n",
                f.nome, f.belfiore
            ));
        }
    }
    text.into_bytes()
}

/// Service points on the existing-service lots of each comune: `rects[k]` are comune `k`'s
/// lots in metres (church, school, health, park, parking, in the PGT's order).
pub fn servizi(
    facts: &[ComuneFact],
    rects: &[Vec<(f64, f64, f64, f64)>],
    to_ll: &ToLonLat,
) -> Result<String, DemoError> {
    let mut feats = Vec::new();
    for (k, f) in facts.iter().enumerate() {
        let lots = &rects[k];
        let centre = |i: usize, dx: f64, dy: f64| {
            lots.get(i)
                .map(|r| ((r.0 + r.2) / 2.0 + dx, (r.1 + r.3) / 2.0 + dy))
        };
        let mut pts: Vec<(&str, String, (f64, f64))> = Vec::new();
        if let Some(p) = centre(1, 0.0, 0.0) {
            pts.push(("scuola", format!("Scuola primaria di {}", f.nome), p));
        }
        if let Some(p) = centre(2, 0.0, 0.0) {
            pts.push(("sanita", format!("Ambulatorio medico di {}", f.nome), p));
        }
        if let Some(p) = centre(0, 25.0, -20.0) {
            pts.push(("commercio", format!("Negozi di piazza, {}", f.nome), p));
        }
        if let Some(p) = centre(4, 0.0, 0.0) {
            pts.push(("fermata", format!("Fermata autobus {} centro", f.nome), p));
        }
        for (tipo, nome, (x, y)) in pts {
            let (lon, lat) = to_ll.convert(x, y)?;
            feats.push(format!(
                "{{\"type\":\"Feature\",\"properties\":{{\"tipo\":\"{tipo}\",\"nome\":{},\"comune_istat\":\"{}\"}},\"geometry\":{{\"type\":\"Point\",\"coordinates\":[{lon:.7},{lat:.7}]}}}}",
                serde_json::Value::String(nome),
                f.istat
            ));
        }
    }
    Ok(format!(
        "{{\n\"type\": \"FeatureCollection\",\n\"name\": \"servizi_puntuali\",\n\"features\": [\n{}\n]\n}}\n",
        feats.join(",\n")
    ))
}
