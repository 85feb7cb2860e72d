//! PGT layers through a field mapping: the built-in regional mapping on the demo, a comune's
//! own schema mapped by a user file, GeoPackage and GeoJSON sources, DBF encodings, and the
//! messages for what cannot be mapped.

use std::collections::BTreeMap;
use std::path::Path;

use abitare::ingest::pgt::{read_pgt, read_pgt_dir, Mappatura, PgtRead};
use abitare::model::ClasseZona;

/// Zones by class and constraints by kind.
fn counts(read: &PgtRead) -> (BTreeMap<&'static str, usize>, BTreeMap<String, usize>) {
    let mut zone = BTreeMap::new();
    for z in &read.zone {
        *zone.entry(z.classe.code()).or_default() += 1;
    }
    let mut vincoli = BTreeMap::new();
    for v in &read.vincoli {
        *vincoli
            .entry(v.codice.clone().unwrap_or_default())
            .or_default() += 1;
    }
    (zone, vincoli)
}

#[test]
fn the_demo_maps_as_before_with_the_default_mapping() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let root = tmp.path().join("demo");
    abitare::demo::generate(&root).expect("demo generation");
    let pgt = root.join("input/pgt");

    // Clusone, as the hard-coded regional reader mapped it.
    let clusone = read_pgt_dir(&pgt.join("016077_Clusone")).expect("Clusone PGT");
    let (zone, vincoli) = counts(&clusone);
    let expected: BTreeMap<&str, usize> = [
        ("ambito_trasformazione", 3),
        ("agricolo", 1),
        ("non_soggetto_trasformazione", 2),
        ("nucleo_antica_formazione", 1),
        ("servizi_esistenti", 6),
        ("servizi_previsti", 2),
        ("tessuto_urbano_consolidato", 2),
    ]
    .into_iter()
    .collect();
    assert_eq!(zone, expected);
    let expected: BTreeMap<String, usize> =
        ["cimiteriale", "elettrodotto", "fluviale", "idrogeologico"]
            .into_iter()
            .map(|k| (k.to_string(), 1))
            .collect();
    assert_eq!(vincoli, expected);
    assert!(clusone.avvisi.is_empty(), "{:?}", clusone.avvisi);
    // The folder name gives the ISTAT code, the DBF the name; legends and codes as before.
    let at = clusone
        .zone
        .iter()
        .find(|z| z.legenda.as_deref() == Some("AT-T.1"))
        .expect("AT-T.1");
    assert_eq!(at.codice_destinazione.as_deref(), Some("102"));
    assert_eq!(at.comune_nome.as_deref(), Some("Clusone"));
    assert!(clusone
        .zone
        .iter()
        .any(|z| z.classe == ClasseZona::ServiziEsistenti
            && z.legenda.as_deref() == Some("sanità - Ambulatorio medico e farmacia comunale")));
    assert!(clusone
        .vincoli
        .iter()
        .any(|v| v.nome == "Fascia di rispetto dell'elettrodotto"));

    // The whole Ambito, as before.
    let all = read_pgt_dir(&pgt).expect("demo PGT");
    let (zone, _) = counts(&all);
    let expected: BTreeMap<&str, usize> = [
        ("agricolo", 24),
        ("ambito_trasformazione", 13),
        ("non_soggetto_trasformazione", 43),
        ("nucleo_antica_formazione", 24),
        ("servizi_esistenti", 144),
        ("servizi_previsti", 29),
        ("tessuto_urbano_consolidato", 31),
    ]
    .into_iter()
    .collect();
    assert_eq!(zone, expected);
    assert_eq!(all.vincoli.len(), 101);
    assert!(all.avvisi.is_empty(), "{:?}", all.avvisi);
    assert!(all.zone.iter().all(|z| z.comune_istat.is_some()));

    // The shipped mapping file, given explicitly, is the default.
    let file = Mappatura::from_file(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("data/pgt_mappatura_regionale.toml"),
    )
    .expect("regional mapping file");
    let again = read_pgt(&pgt, &file).expect("demo PGT, explicit mapping");
    assert_eq!(again.zone, all.zone);
    assert_eq!(again.vincoli, all.vincoli);
}
