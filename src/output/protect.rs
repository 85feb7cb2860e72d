//! Small counts withheld from the public, as statistical offices publish tables: a count of 1
//! or 2 empty flats, private offers or dwellings in a comune (or a census tract) is not shown,
//! nor is anything computed from it (a rate, a mean of months), nor one more cell of each sum
//! it belongs to, so that it cannot be recovered by subtraction. A count of 0 is shown: it
//! points at no dwelling.
//!
//! Layers declare the protection of each column and their sums in the registry
//! ([`crate::output::layers::Protection`], [`crate::output::layers::Sum`]); the panel's JSON
//! (`/api/sintesi/*`, `/api/ambito`) uses the same names and [`PANEL_SUMS`]. A small count
//! reads "< 3"; a count withheld only so that a small one cannot be recovered is not small
//! and reads "n.p." (non pubblicato); in layers both are `null`, named in `valori_protetti`,
//! the small ones also in `valori_inferiori_a_3`. Audiences from
//! [`Audience::Tavolo`] on see every value. The Piano Annuale itself (the report and its
//! printable page) is published by law with its figures per owner body and is not altered.

use std::collections::BTreeSet;

use serde_json::{Map, Value};

use crate::analysis::candidates::Screening;
use crate::analysis::Analisi;
use crate::output::layers::{Audience, Layer, Protection, Sum};

/// Counts below this are withheld.
pub const THRESHOLD: u64 = 3;
/// What a person reads in place of a withheld count.
pub const MARK: &str = "< 3";
/// Property listing the withheld cells of a feature, comma separated.
pub const WITHHELD_PROPERTY: &str = "valori_protetti";
/// Property listing, among those, the counts withheld because they are 1 or 2 (the others
/// are withheld so that these cannot be recovered: they are not small).
pub const SMALL_PROPERTY: &str = "valori_inferiori_a_3";
/// What a person reads in place of a count withheld only to protect a small one.
pub const MARK_OTHER: &str = "n.p.";

/// Whether `caller` sees every value as it is.
pub fn sees_all(caller: Audience) -> bool {
    caller >= Audience::Tavolo
}

fn small(v: &Value) -> bool {
    v.as_u64().is_some_and(|n| (1..THRESHOLD).contains(&n))
}

fn count(v: Option<&Value>) -> Option<u64> {
    v.and_then(Value::as_u64)
}

/// The cells of `cells` to withhold: small counts, then (until nothing changes) one more cell
/// of every sum that has exactly one withheld member, then the cells derived from any of them.
fn withheld(
    cells: &Map<String, Value>,
    protection: &dyn Fn(&str) -> Protection,
    sums: &[Sum],
) -> BTreeSet<String> {
    withheld_and_small(cells, protection, sums).0
}

/// Every withheld cell, and those withheld because they are small.
fn withheld_and_small(
    cells: &Map<String, Value>,
    protection: &dyn Fn(&str) -> Protection,
    sums: &[Sum],
) -> (BTreeSet<String>, BTreeSet<String>) {
    let primary: BTreeSet<String> = cells
        .iter()
        .filter(|(k, v)| protection(k) == Protection::SmallCount && small(v))
        .map(|(k, _)| k.clone())
        .collect();
    let mut out = primary.clone();
    if out.is_empty() {
        return (out, primary);
    }
    loop {
        let mut changed = false;
        for sum in sums {
            let members: Vec<&str> = std::iter::once(sum.total)
                .chain(sum.parts.iter().copied())
                .filter(|m| cells.contains_key(*m))
                .collect();
            let hidden = members.iter().filter(|m| out.contains(**m)).count();
            if hidden != 1 {
                continue;
            }
            // The smallest shown count that is not zero; the total when there is none. A
            // part that is published anyway (the plan's available units) would protect nothing.
            let extra = sum
                .parts
                .iter()
                .filter(|p| !out.contains(**p) && protection(p) == Protection::SmallCount)
                .filter_map(|p| count(cells.get(*p)).filter(|&n| n > 0).map(|n| (n, *p)))
                .min()
                .map(|(_, p)| p)
                .or_else(|| {
                    (!out.contains(sum.total) && cells.contains_key(sum.total)).then_some(sum.total)
                });
            if let Some(e) = extra {
                changed |= out.insert(e.to_string());
            }
        }
        if !changed {
            break;
        }
    }
    let derived: Vec<String> = cells
        .keys()
        .filter(|k| match protection(k) {
            Protection::DerivedFrom(from) => from.iter().any(|f| out.contains(*f)),
            _ => false,
        })
        .cloned()
        .collect();
    out.extend(derived);
    (out, primary)
}

/// Withholds the cells of one object in place, replacing each with `mark`; returns their
/// names in order.
pub fn withhold(
    cells: &mut Map<String, Value>,
    protection: &dyn Fn(&str) -> Protection,
    sums: &[Sum],
    mark: &Value,
) -> Vec<String> {
    let names = withheld(cells, protection, sums);
    for k in &names {
        if let Some(v) = cells.get_mut(k) {
            *v = mark.clone();
        }
    }
    names.into_iter().collect()
}

/// The properties of a feature of `layer` as its caller may see them: for the public, small
/// counts and what derives from them are `null`, named in [`WITHHELD_PROPERTY`].
pub fn protect_feature(layer: Layer, props: &mut Map<String, Value>) {
    let info = layer.info();
    if info.column(WITHHELD_PROPERTY).is_none() {
        return;
    }
    let (names, small_ones) = if sees_all(layer.caller()) {
        (BTreeSet::new(), BTreeSet::new())
    } else {
        let protection = |k: &str| info.column(k).map_or(Protection::Open, |c| c.protection);
        let (all, small_ones) = withheld_and_small(props, &protection, info.sums);
        for k in &all {
            if let Some(v) = props.get_mut(k) {
                *v = Value::Null;
            }
        }
        (all, small_ones)
    };
    let list = |set: &BTreeSet<String>| {
        if set.is_empty() {
            Value::Null
        } else {
            Value::String(set.iter().cloned().collect::<Vec<_>>().join(","))
        }
    };
    props.insert(WITHHELD_PROPERTY.into(), list(&names));
    props.insert(SMALL_PROPERTY.into(), list(&small_ones));
}

/// The protection of a key of the panel's figures (`/api/sintesi/*`, `/api/ambito`).
pub fn panel_protection(key: &str) -> Protection {
    match key {
        "alloggi"
        | "alloggi_sap"
        | "sap"
        | "occupati"
        | "liberi"
        | "sfitto_carenze_manutentive"
        | "sfitto_ristrutturazione"
        | "inutilizzati"
        | "inutilizzati_con_data"
        | "sfitti_oltre_24_mesi"
        | "abitazioni_stimate"
        | "abitazioni_non_occupate_stimate"
        | "privati_offerti"
        | "privati_in_offerta"
        | "privati_locati_concordato"
        | "privati_ritirati"
        | "privati_rimessi_in_uso"
        | "privati_ammissibili_misure"
        | "privati_categoria_esclusa"
        | "pubblici_inutilizzati"
        | "offerti"
        | "locati_concordato"
        | "ritirati" => Protection::SmallCount,
        "tasso_inutilizzo" => Protection::DerivedFrom(&["inutilizzati", "alloggi"]),
        "alloggi_per_1000_ab" => Protection::DerivedFrom(&["alloggi"]),
        "inutilizzati_per_1000_ab" | "quota_inutilizzati_ambito" => {
            Protection::DerivedFrom(&["inutilizzati"])
        }
        "mesi_sfitto_medi" => Protection::DerivedFrom(&["inutilizzati_con_data", "inutilizzati"]),
        "quota_non_occupate" => {
            Protection::DerivedFrom(&["abitazioni_non_occupate_stimate", "abitazioni_stimate"])
        }
        "quota_privati_offerti" | "offerte_dal" | "offerte_al" => {
            Protection::DerivedFrom(&["privati_offerti"])
        }
        "quota_privati_in_offerta" => Protection::DerivedFrom(&["privati_in_offerta"]),
        "quota_ambito" => Protection::DerivedFrom(&["totale"]),
        _ => Protection::Open,
    }
}

/// The sums among the panel's figures: the comuni layer's, and the offer of the year (the
/// units available plus the private offers).
pub static PANEL_SUMS: std::sync::LazyLock<Vec<Sum>> = std::sync::LazyLock::new(|| {
    let mut v = crate::output::layers::SOMME_COMUNI.to_vec();
    v.push(Sum {
        total: "totale",
        parts: &["disponibili_anno", "privati_in_offerta"],
    });
    v
});

/// The panel's figures as `caller` may see them: for the public, every object in `v` (but
/// the published Piano Annuale rows under `piano_annuale`) has its small counts replaced by
/// [`MARK`] and what derives from them by `null`.
pub fn protect_panel(v: &mut Value, caller: Audience) {
    if sees_all(caller) {
        return;
    }
    walk(v);
}

fn walk(v: &mut Value) {
    match v {
        Value::Object(m) => {
            let (names, small_ones) = withheld_and_small(m, &panel_protection, &PANEL_SUMS);
            for k in &names {
                if let Some(x) = m.get_mut(k) {
                    *x = match panel_protection(k) {
                        Protection::DerivedFrom(_) => Value::Null,
                        _ if small_ones.contains(k) => Value::String(MARK.into()),
                        _ => Value::String(MARK_OTHER.into()),
                    };
                }
            }
            for (k, x) in m.iter_mut() {
                if k != "piano_annuale" {
                    walk(x);
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(walk),
        _ => {}
    }
}

/// A candidate area's reasons as the public may read them: a count of 1 or 2 unused public
/// units near the area is written "meno di 3".
pub fn protect_reasons(text: &str) -> String {
    const AFTER: &str = " alloggi pubblici inutilizzati";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(AFTER) {
        let head = &rest[..pos];
        let digits = head.bytes().rev().take_while(u8::is_ascii_digit).count();
        let (before, number) = head.split_at(head.len() - digits);
        let boundary = before.is_empty() || before.ends_with([' ', '(', ';', ':']);
        match number.parse::<u64>() {
            Ok(n) if boundary && (1..THRESHOLD).contains(&n) => {
                out.push_str(before);
                out.push_str("meno di 3");
            }
            _ => out.push_str(head),
        }
        out.push_str(AFTER);
        rest = &rest[pos + AFTER.len()..];
    }
    out.push_str(rest);
    out
}

/// The screening as `caller` may see it: for the public, without the areas made from public
/// parcels with unused units ([`crate::analysis::analisi::VistaPubblica`]) and with the reasons
/// of the others protected ([`protect_reasons`]).
pub fn screening_for(a: &Analisi, caller: Audience) -> std::borrow::Cow<'_, Screening> {
    use std::borrow::Cow;
    if sees_all(caller) {
        return Cow::Borrowed(&a.candidate);
    }
    let v = &a.vista_pubblica;
    let candidate = v
        .candidate
        .iter()
        .filter_map(|&i| a.candidate.candidate.get(i))
        .map(|c| {
            let mut c = c.clone();
            c.motivi = c.motivi.iter().map(|m| protect_reasons(m)).collect();
            for voce in &mut c.punteggio_voci {
                voce.misura = protect_reasons(&voce.misura);
            }
            c
        })
        .collect();
    let escluse = v
        .escluse
        .iter()
        .filter_map(|&i| a.candidate.escluse.get(i))
        .cloned()
        .collect();
    Cow::Owned(Screening {
        candidate,
        escluse,
        avvisi: a.candidate.avvisi.clone(),
        punti_massimi: a.candidate.punti_massimi,
        scala: a.candidate.scala.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cells(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn small_counts_and_one_more_cell_of_each_sum_are_withheld() {
        // 10 units: 7 occupied, 2 free, 1 under repair, 0 for maintenance.
        let mut m = cells(json!({
            "alloggi": 10, "occupati": 7, "liberi": 2, "sfitto_carenze_manutentive": 0,
            "sfitto_ristrutturazione": 1, "inutilizzati": 3, "tasso_inutilizzo": 0.3,
            "mesi_sfitto_medi": 14.0, "inutilizzati_con_data": 3,
        }));
        let names = withhold(&mut m, &panel_protection, &PANEL_SUMS, &Value::Null);
        // liberi (2) and sfitto_ristrutturazione (1) are small; inutilizzati = liberi + 0 + 1
        // then has two withheld parts, and alloggi too: nothing else is needed.
        assert_eq!(names, vec!["liberi", "sfitto_ristrutturazione"]);
        assert_eq!(m["alloggi"], json!(10));
        assert_eq!(m["inutilizzati"], json!(3));
        assert_eq!(m["tasso_inutilizzo"], json!(0.3));
        assert_eq!(m["liberi"], Value::Null);

        // One small part alone: the smallest other non-zero part goes too.
        let mut m = cells(json!({
            "alloggi": 20, "occupati": 14, "liberi": 4, "sfitto_carenze_manutentive": 2,
            "sfitto_ristrutturazione": 0, "inutilizzati": 6,
        }));
        let names = withhold(&mut m, &panel_protection, &PANEL_SUMS, &Value::Null);
        assert_eq!(names, vec!["liberi", "sfitto_carenze_manutentive"]);

        // A small total: its share and rates go with it, and a part of it.
        let mut m = cells(json!({
            "alloggi": 30, "occupati": 28, "liberi": 2, "sfitto_carenze_manutentive": 0,
            "sfitto_ristrutturazione": 0, "inutilizzati": 2, "tasso_inutilizzo": 0.0667,
            "inutilizzati_per_1000_ab": 0.4, "mesi_sfitto_medi": 9.0,
        }));
        let names = withhold(&mut m, &panel_protection, &PANEL_SUMS, &Value::Null);
        assert!(names.contains(&"inutilizzati".to_string()));
        assert!(names.contains(&"liberi".to_string()));
        assert!(names.contains(&"tasso_inutilizzo".to_string()));
        assert!(names.contains(&"mesi_sfitto_medi".to_string()));
        // 30 = 28 + liberi + 0 + 0: occupati must go too, or liberi = 30 − 28.
        assert!(names.contains(&"occupati".to_string()), "{names:?}");
        assert_eq!(m["alloggi"], json!(30));
    }

    #[test]
    fn zero_and_large_counts_are_shown() {
        let mut m = cells(json!({"alloggi": 0, "liberi": 0, "inutilizzati": 0, "occupati": 0}));
        assert!(withhold(&mut m, &panel_protection, &PANEL_SUMS, &Value::Null).is_empty());
        let mut m = cells(json!({"privati_offerti": 3, "privati_in_offerta": 3}));
        assert!(withhold(&mut m, &panel_protection, &PANEL_SUMS, &Value::Null).is_empty());
    }

    #[test]
    fn the_panel_marks_withheld_counts_and_keeps_the_published_plan() {
        let mut v = json!({
            "alloggi": {"alloggi": 5, "liberi": 1, "occupati": 4, "inutilizzati": 1,
                        "sfitto_carenze_manutentive": 0, "sfitto_ristrutturazione": 0,
                        "tasso_inutilizzo": 0.2},
            "piano_annuale": {"stato": {"libero": 1, "liberi": 1}},
            "per_ente": [{"ente": "ALER", "alloggi": 2, "occupati": 2}],
        });
        protect_panel(&mut v, Audience::Tavolo);
        assert_eq!(v["alloggi"]["liberi"], json!(1));
        protect_panel(&mut v, Audience::Pubblico);
        assert_eq!(v["alloggi"]["liberi"], json!(MARK));
        assert_eq!(v["alloggi"]["inutilizzati"], json!(MARK));
        assert_eq!(v["alloggi"]["tasso_inutilizzo"], Value::Null);
        // occupati (4) goes so that liberi cannot be recovered: not small, so not "< 3".
        assert_eq!(v["alloggi"]["occupati"], json!(MARK_OTHER));
        assert_eq!(v["piano_annuale"]["stato"]["liberi"], json!(1));
        assert_eq!(v["per_ente"][0]["alloggi"], json!(MARK));
        assert_eq!(v["per_ente"][0]["ente"], json!("ALER"));
    }

    #[test]
    fn the_offer_withholds_its_total_not_the_published_available_units() {
        // 2 private units on offer: small. Subtracting the plan's available units (published)
        // from the total would give them back, so the total goes, and what derives from it.
        let mut v = json!({"offerta": {
            "anno": 2026, "disponibili_anno": 5, "quota_disponibili_anno": 0.5,
            "privati_in_offerta": 2, "quota_privati_in_offerta": 0.1, "totale": 7,
            "quota_ambito": 0.2, "privati_offerti": 9, "privati_locati_concordato": 4,
            "privati_ritirati": 3, "offerte_dal": 2024, "offerte_al": 2026,
        }});
        protect_panel(&mut v, Audience::Pubblico);
        let o = &v["offerta"];
        assert_eq!(o["privati_in_offerta"], json!(MARK));
        assert_eq!(o["disponibili_anno"], json!(5));
        assert_eq!(o["totale"], json!(MARK_OTHER));
        assert_eq!(o["quota_ambito"], Value::Null);
        assert_eq!(o["quota_privati_in_offerta"], Value::Null);
        // privati_offerti = in offerta + locati + ritirati: one more of its parts goes.
        assert_eq!(o["privati_ritirati"], json!(MARK_OTHER));
        assert_eq!(o["privati_offerti"], json!(9));
        assert_eq!(o["offerte_dal"], json!(2024));
    }

    #[test]
    fn reasons_hide_one_or_two_nearby_units() {
        assert_eq!(
            protect_reasons("2 alloggi pubblici inutilizzati entro 500 m (+4 punti)"),
            "meno di 3 alloggi pubblici inutilizzati entro 500 m (+4 punti)"
        );
        assert_eq!(
            protect_reasons("a; 12 alloggi pubblici inutilizzati entro 500 m; 1 alloggi pubblici inutilizzati entro 1 km"),
            "a; 12 alloggi pubblici inutilizzati entro 500 m; meno di 3 alloggi pubblici inutilizzati entro 1 km"
        );
        assert_eq!(protect_reasons("nessun motivo"), "nessun motivo");
    }
}
