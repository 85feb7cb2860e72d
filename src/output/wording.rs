//! Italian text the renderers make of the structured screening results: the exclusions of an
//! area and the items of its score, each joined into one field of a layer, a CSV or a report.

use crate::analysis::candidates::{EsclusioneParziale, VocePunteggio};
use crate::italiano::numero_it;

/// The exclusions of a candidate as one Italian text (`fascia di rispetto: −0,50 ha; …`).
pub fn esclusioni_testo(e: &[EsclusioneParziale]) -> String {
    e.iter()
        .map(|x| format!("{}: −{} ha", x.descrizione, numero_it(x.ettari, 2)))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The items of a candidate's score as one Italian text (`… 420 m ≤ 800 m: 10 punti; …`).
pub fn punteggio_testo(voci: &[VocePunteggio]) -> String {
    voci.iter()
        .map(|v| format!("{}: {} punti", v.misura, numero_it(v.punti, 1)))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exclusions_and_score_items_join() {
        let e = [
            EsclusioneParziale {
                regola: "vincolo:stradale".into(),
                descrizione: "fascia stradale (fascia di 50 m)".into(),
                ettari: 0.5,
            },
            EsclusioneParziale {
                regola: "area_minima".into(),
                descrizione: "parti sotto la superficie minima di 1.000 m²".into(),
                ettari: 0.0123,
            },
        ];
        assert_eq!(
            esclusioni_testo(&e),
            "fascia stradale (fascia di 50 m): −0,50 ha; \
             parti sotto la superficie minima di 1.000 m²: −0,01 ha"
        );
        assert_eq!(esclusioni_testo(&[]), "");
        let v = [VocePunteggio {
            regola: "servizi".into(),
            punti: 10.0,
            misura: "distanza dai servizi esistenti 420 m ≤ 800 m".into(),
        }];
        assert_eq!(
            punteggio_testo(&v),
            "distanza dai servizi esistenti 420 m ≤ 800 m: 10,0 punti"
        );
    }
}
