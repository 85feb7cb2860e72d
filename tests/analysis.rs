//! Linkage, vacancy figures and the Piano Annuale on hand-built models with hand-computed results.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use abitare::analysis::linkage::link_units;
use abitare::analysis::piano_annuale::{piano_annuale, Contesto};
use abitare::analysis::vacancy::vacancy;
use abitare::model::{Localizzazione, Servizio, Stato};
use common::*;
use geo::Contains;

#[test]
fn linkage_places_units_on_their_parcel_or_lists_them() {
    let mut m = two_comuni_model();
    // On parcel A001 foglio 1 particella 10, written with leading zeros.
    let mut a = unit(
        "Comune di Alfa",
        "1",
        "016001",
        Servizio::Sap,
        Stato::Occupato,
    );
    a.foglio = Some("0001".into());
    a.particella = Some("010".into());
    // Comune given by Belfiore only, parcel of Beta.
    let mut b = unit("ALER", "7", "", Servizio::Sap, Stato::Libero);
    b.comune_istat = None;
    b.belfiore = Some("b002".into());
    b.foglio = Some("1".into());
    b.particella = Some("12".into());
    // A reference that matches nothing, but coordinates.
    let mut c = unit(
        "Comune di Alfa",
        "2",
        "016001",
        Servizio::Sap,
        Stato::Libero,
    );
    c.foglio = Some("1".into());
    c.particella = Some("999".into());
    c.lonlat = Some(point(9.92, 45.86));
    c.riga = 4;
    // No reference, no coordinates; comune by name.
    let mut d = unit("Comune di Beta", "3", "", Servizio::Sap, Stato::Occupato);
    d.comune_istat = None;
    d.comune_nome = Some("  BETA ".into());
    // A comune outside the Ambito.
    let e = unit(
        "Comune di Gamma",
        "4",
        "016999",
        Servizio::Sap,
        Stato::Occupato,
    );
    m.alloggi_pubblici = vec![a, b, c, d, e];

    let r = link_units(&mut m);
    assert_eq!(r.collegate_a_particella, 2);
    assert_eq!(r.localizzate_da_coordinate, 1);
    assert_eq!(r.non_localizzate, 2);
    assert_eq!(r.fuori_ambito.len(), 1);
    assert!(r.fuori_ambito[0].contains("016999"), "{:?}", r.fuori_ambito);

    let u = &m.alloggi_pubblici;
    assert_eq!(u[0].localizzazione, Localizzazione::Particella);
    let pos = u[0].posizione.expect("placed");
    assert!(m.particelle[0].geometry.contains(&pos));
    assert_eq!(u[1].comune_istat.as_deref(), Some("016002"));
    assert_eq!(u[1].comune_nome.as_deref(), Some("Beta"));
    assert!(m.particelle[2]
        .geometry
        .contains(&u[1].posizione.expect("placed")));
    assert_eq!(u[2].localizzazione, Localizzazione::Coordinate);
    assert_eq!(u[2].posizione, Some(point(9.92, 45.86)));
    assert_eq!(u[3].comune_istat.as_deref(), Some("016002"));
    assert_eq!(u[3].posizione, None);

    let unmatched: Vec<(&str, &str)> = r
        .non_collegate
        .iter()
        .map(|n| (n.codice_unita.as_str(), n.motivo.as_str()))
        .collect();
    assert_eq!(unmatched.len(), 3, "{unmatched:?}");
    assert!(unmatched[0].1.contains("particella 999"), "{unmatched:?}");
    assert!(r.non_collegate[0].localizzata_da_coordinate);
    assert!(unmatched[1].1.contains("incompleto"), "{unmatched:?}");
}

#[test]
fn vacancy_counts_rates_and_months() {
    let mut m = two_comuni_model();
    let mut units = vec![
        unit(
            "Comune di Alfa",
            "1",
            "016001",
            Servizio::Sap,
            Stato::Occupato,
        ),
        unit(
            "Comune di Alfa",
            "2",
            "016001",
            Servizio::Sap,
            Stato::Libero,
        ),
        unit(
            "Comune di Alfa",
            "3",
            "016001",
            Servizio::Sap,
            Stato::SfittoCarenzeManutentive,
        ),
        unit(
            "ALER",
            "1",
            "016001",
            Servizio::Sas,
            Stato::SfittoRistrutturazione,
        ),
        unit("ALER", "2", "016002", Servizio::Sap, Stato::Occupato),
    ];
    units[1].sfitto_dal = Some(date("2025-04-27")); // 6 months at 2025-10-27
    units[2].sfitto_dal = Some(date("2022-10-27")); // 36 months
    m.alloggi_pubblici = units;
    let v = vacancy(&m);

    let alfa = &v.per_comune[0];
    assert_eq!(alfa.nome, "Alfa");
    assert_eq!(alfa.conteggi.alloggi, 4);
    assert_eq!(alfa.conteggi.alloggi_sap, 3);
    assert_eq!(alfa.conteggi.inutilizzati, 3);
    assert_eq!(alfa.conteggi.liberi, 1);
    assert_eq!(alfa.conteggi.sfitto_carenze_manutentive, 1);
    assert_eq!(alfa.conteggi.sfitto_ristrutturazione, 1);
    assert_eq!(alfa.tasso_inutilizzo, Some(0.75));
    assert_eq!(alfa.alloggi_per_1000_ab, Some(2.0));
    assert_eq!(alfa.inutilizzati_per_1000_ab, Some(1.5));
    assert_eq!(alfa.conteggi.mesi_sfitto_medi, Some(21.0));
    assert_eq!(alfa.conteggi.sfitti_oltre_24_mesi, 1);
    assert_eq!(alfa.quota_inutilizzati_ambito, Some(1.0));
    // A square of 0.05° near 45.85°N is about 5.56 km × 3.88 km.
    assert!((alfa.area_km2 - 21.5).abs() < 0.5, "{}", alfa.area_km2);

    let beta = &v.per_comune[1];
    assert_eq!(beta.conteggi.alloggi, 1);
    assert_eq!(beta.tasso_inutilizzo, Some(0.0));
    assert_eq!(beta.alloggi_per_1000_ab, Some(2.0));

    assert_eq!(v.ambito.conteggi.alloggi, 5);
    assert_eq!(v.ambito.popolazione, 2500);
    assert_eq!(v.ambito.tasso_inutilizzo, Some(0.6));
    let enti: Vec<(&str, u32)> = v
        .per_ente
        .iter()
        .map(|e| (e.ente.as_str(), e.conteggi.inutilizzati))
        .collect();
    assert_eq!(enti, vec![("ALER", 1), ("Comune di Alfa", 2)]);
}

#[test]
fn piano_annuale_tables_sections_and_warnings() {
    let mut units = vec![
        unit(
            "Comune di Beta",
            "1",
            "016002",
            Servizio::Sap,
            Stato::Occupato,
        ),
        unit(
            "Comune di Beta",
            "2",
            "016002",
            Servizio::Sap,
            Stato::Libero,
        ),
        unit(
            "ALER",
            "1",
            "016001",
            Servizio::Sap,
            Stato::SfittoRistrutturazione,
        ),
        unit("ALER", "2", "016001", Servizio::Sap, Stato::Occupato),
        unit("aler", "3", "016001", Servizio::Sas, Stato::Occupato),
        unit(
            "Comune di Alfa",
            "1",
            "016001",
            Servizio::Altro,
            Stato::Occupato,
        ),
        unit(
            "Comune di Alfa",
            "2",
            "016001",
            Servizio::Sat,
            Stato::Libero,
        ),
    ];
    units[0].flag.turn_over = true;
    units[0].flag.disponibile_anno = true;
    units[1].flag.disponibile_anno = true;
    units[3].flag.assegnata_anno_precedente = true;
    let ctx = Contesto {
        ambito: "Prova".into(),
        anno: 2026,
        dimostrativo: false,
        enti_attesi: vec![
            "Comune di Alfa".into(),
            "Comune di Beta".into(),
            "Comune di Zeta".into(),
        ],
        avvisi: vec![],
    };
    let r = piano_annuale(&units, &ctx);

    // SAP only, sorted by units owned descending then name; owners matched without case.
    let rows: Vec<(&str, u32, u32, u32, u32, u32, u32)> = r
        .stato_per_ente
        .iter()
        .map(|x| {
            (
                x.ente.as_str(),
                x.di_proprieta,
                x.libero,
                x.sfitto_carenze_manutentive,
                x.sfitto_ristrutturazione,
                x.occupato,
                x.disponibili_anno,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("ALER", 2, 0, 0, 1, 1, 0),
            ("Comune di Beta", 2, 1, 0, 0, 1, 2),
            ("Comune di Alfa", 0, 0, 0, 0, 0, 0),
            ("Comune di Zeta", 0, 0, 0, 0, 0, 0),
        ]
    );
    assert_eq!((r.totale.di_proprieta, r.totale.disponibili_anno), (4, 2));

    let cons: Vec<(&str, u32, u32, u32, u32)> = r
        .consistenza
        .iter()
        .map(|c| {
            (
                c.ente.as_str(),
                c.alloggi_complessivi,
                c.sas,
                c.sap,
                c.altro_uso_residenziale,
            )
        })
        .collect();
    assert_eq!(
        cons,
        vec![
            ("ALER", 3, 1, 2, 0),
            ("Comune di Alfa", 2, 0, 0, 2),
            ("Comune di Beta", 2, 0, 2, 0),
            ("Comune di Zeta", 0, 0, 0, 0),
        ]
    );
    assert_eq!(r.totale_consistenza.alloggi_complessivi, 7);

    assert_eq!(r.sezioni.e.totale, 1);
    assert_eq!(r.sezioni.e.per_ente[0].ente, "Comune di Beta");
    assert_eq!(r.sezioni.k.totale, 1);
    assert_eq!(r.sezioni.j.totale, 1);
    assert_eq!((r.sezioni.g.totale, r.sezioni.g.somma_b_f), (2, 1));
    assert_eq!(r.sezioni.g.per_ente[0].di_cui_turn_over, 1);
    assert_eq!(r.avvisi[0].codice, "totale_g_diverso_da_somma");
    assert!(r.avvisi[0].messaggio.contains("(2)") && r.avvisi[0].messaggio.contains("(1)"));

    // When the declared total equals b–f, no warning.
    units[1].flag.disponibile_anno = false;
    let r = piano_annuale(&units, &ctx);
    assert!(r.avvisi.is_empty(), "{:?}", r.avvisi);
}
