//! PGT layers through a field mapping: the built-in regional mapping on the demo, a comune's
//! own schema mapped by a user file, GeoPackage and GeoJSON sources, DBF encodings, and the
//! messages for what cannot be mapped.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use abitare::ingest::pgt::{read_pgt, read_pgt_dir, Mappatura, PgtError, PgtRead};
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
        // Two wooded areas per comune, where the comune reaches far enough from its core.
        ("non_soggetto_trasformazione", 46),
        ("nucleo_antica_formazione", 24),
        ("servizi_esistenti", 144),
        ("servizi_previsti", 29),
        ("tessuto_urbano_consolidato", 31),
    ]
    .into_iter()
    .collect();
    assert_eq!(zone, expected);
    assert_eq!(all.vincoli.len(), 106);
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

const X0: f64 = 570_000.0;
const Y0: f64 = 5_080_000.0;

fn fixtures() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pgt")
}

/// A clockwise (ESRI outer) square.
fn square(x0: f64, y0: f64, size: f64) -> Vec<(f64, f64)> {
    vec![
        (x0, y0),
        (x0, y0 + size),
        (x0 + size, y0 + size),
        (x0 + size, y0),
        (x0, y0),
    ]
}

/// Writes `dir/stem.shp` (+ `.shx`, `.prj` of EPSG:32632, `.dbf` with text in `dbf_encoding`,
/// `.cpg` if given); one 100 m square per row of values.
fn write_shapefile(
    dir: &Path,
    stem: &str,
    cpg: Option<&str>,
    dbf_encoding: &'static encoding_rs::Encoding,
    fields: &[&str],
    rows: &[Vec<&str>],
) {
    use shapefile::dbase::{self, FieldValue, TableWriterBuilder};
    use shapefile::{Point, Polygon, PolygonRing, ShapeWriter, Writer};
    std::fs::create_dir_all(dir).expect("create dir");
    let shp = dir.join(format!("{stem}.shp"));
    let mut table =
        TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(dbf_encoding));
    for f in fields {
        table = table.add_character_field(dbase::FieldName::try_from(*f).expect("field name"), 80);
    }
    {
        let shape_writer = ShapeWriter::from_path(&shp).expect("shp writer");
        let dbf = table
            .build_with_file_dest(shp.with_extension("dbf"))
            .expect("dbf writer");
        let mut writer = Writer::new(shape_writer, dbf);
        for (i, row) in rows.iter().enumerate() {
            let ring = square(X0 + 200.0 * i as f64, Y0, 100.0)
                .into_iter()
                .map(|(x, y)| Point::new(x, y))
                .collect();
            let mut record = dbase::Record::default();
            for (f, v) in fields.iter().zip(row) {
                record.insert(f.to_string(), FieldValue::Character(Some(v.to_string())));
            }
            writer
                .write_shape_and_record(
                    &Polygon::with_rings(vec![PolygonRing::Outer(ring)]),
                    &record,
                )
                .expect("write feature");
        }
    }
    std::fs::write(
        shp.with_extension("prj"),
        abitare::crs::prj_wkt(32632).expect("known CRS"),
    )
    .expect("write prj");
    if let Some(cpg) = cpg {
        std::fs::write(shp.with_extension("cpg"), cpg).expect("write cpg");
    }
}

#[test]
fn a_comune_legend_is_mapped_by_a_user_file() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("016077_Clusone");
    let rows: Vec<Vec<&str>> = vec![
        vec!["Clusone", "Zona B1 - residenziale intensiva", "100"],
        vec!["Clusone", "ZONA  b2 residenziale", "100"],
        vec!["Clusone", "zona a - centro STORICO", ""],
        vec!["Clusone", "Zona E agricola", ""],
        vec!["Clusone", "Citta' giardino", ""],
        vec!["Clusone", "Città   giardino", ""],
        vec!["Clusone", "AT-R.1 via Roma", "100"],
        vec!["Clusone", "Fascia di rispetto cimiteriale", ""],
        vec!["Clusone", "Aree per servizi pubblici esistenti", ""],
        vec!["Clusone", "Aree per SERVIZI PUBBLICI di progetto", ""],
        vec!["Clusone", "Zona C2 espansione", ""],
        vec!["Clusone", "Zona C2  espansione", ""],
        vec!["Clusone", "zona c2 espansione", ""],
        vec!["Clusone", "", ""],
    ];
    write_shapefile(
        &dir,
        "AZZONAMENTO",
        None,
        encoding_rs::WINDOWS_1252,
        &["COMUNE", "LEGENDA", "DEST"],
        &rows,
    );
    // A regional layer beside it keeps its built-in rule; an unknown one is listed.
    write_shapefile(
        &dir,
        "SERVIZI",
        Some("1252"),
        encoding_rs::WINDOWS_1252,
        &["NOME_COM", "TIPO_SERV", "STATO"],
        &[vec!["Clusone", "verde", "esistente"]],
    );
    write_shapefile(
        &dir,
        "TAVOLA_PAESAGGIO",
        None,
        encoding_rs::WINDOWS_1252,
        &["NOME_COM"],
        &[vec!["Clusone"]],
    );

    let mappatura =
        Mappatura::from_file(&fixtures().join("mappatura_clusone.toml")).expect("mapping");
    let read = read_pgt(tmp.path(), &mappatura).expect("PGT read");

    let azz: Vec<_> = read
        .zone
        .iter()
        .filter(|z| z.fonte == "AZZONAMENTO")
        .collect();
    let classes: Vec<ClasseZona> = azz.iter().map(|z| z.classe).collect();
    use ClasseZona::*;
    assert_eq!(
        classes,
        vec![
            TessutoUrbanoConsolidato,
            TessutoUrbanoConsolidato,
            NucleoAnticaFormazione,
            Agricolo,
            TessutoUrbanoConsolidato,
            AmbitoTrasformazione,
            ServiziEsistenti,
            ServiziPrevisti,
        ],
        "{azz:#?}"
    );
    assert_eq!(
        azz[0].legenda.as_deref(),
        Some("Zona B1 - residenziale intensiva")
    );
    assert_eq!(azz[0].codice_destinazione.as_deref(), Some("100"));
    assert_eq!(azz[0].comune_nome.as_deref(), Some("Clusone"));
    assert_eq!(azz[0].comune_istat.as_deref(), Some("016077"));
    assert_eq!(read.vincoli.len(), 1);
    assert_eq!(read.vincoli[0].codice.as_deref(), Some("cimiteriale"));
    assert_eq!(read.vincoli[0].fonte, "AZZONAMENTO");
    assert_eq!(read.vincoli[0].comune_nome.as_deref(), Some("Clusone"));

    // Unmapped values are listed, one avviso per value, with their count.
    let avviso = |needle: &str| read.avvisi.iter().find(|a| a.contains(needle)).cloned();
    let c2 = avviso("Zona C2").expect("Zona C2 listed");
    assert!(
        c2.starts_with(
            "PGT 016077_Clusone/AZZONAMENTO.shp: valore «Zona C2 espansione» del campo LEGENDA \
             non mappato (3 elementi)"
        ),
        "{c2}"
    );
    assert!(c2.contains("record n. 11, 12, 13"), "{c2}");
    // «Citta' giardino» is not «Città giardino»: accents are ignored, apostrophes are not.
    let giardino = avviso("Citta' giardino").expect("listed");
    assert!(giardino.contains("(1 elemento)"), "{giardino}");
    let empty = avviso("valore vuoto del campo LEGENDA").expect("empty value listed");
    assert!(empty.contains("record n. 14"), "{empty}");

    let servizi: Vec<_> = read.zone.iter().filter(|z| z.fonte == "SERVIZI").collect();
    assert_eq!(servizi.len(), 1);
    assert_eq!(servizi[0].classe, ServiziEsistenti);
    assert!(avviso("TAVOLA_PAESAGGIO").is_some_and(|a| a.contains("non riconosciuto")));
    assert_eq!(read.avvisi.len(), 4, "{:?}", read.avvisi);
}

#[test]
fn a_replacing_mapping_drops_the_regional_layers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_shapefile(
        tmp.path(),
        "SERVIZI",
        None,
        encoding_rs::WINDOWS_1252,
        &["NOME_COM", "STATO"],
        &[vec!["Clusone", "esistente"]],
    );
    let mappatura = Mappatura::from_toml(
        "modo = \"sostituisci\"\n[[layer]]\nnomi = \"AZZONAMENTO\"\nclasse = \"agricolo\"\n",
        "prova.toml",
    )
    .expect("mapping");
    let read = read_pgt(tmp.path(), &mappatura).expect("PGT read");
    assert!(read.zone.is_empty());
    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("SERVIZI")
                && a.contains("non riconosciuto dalla mappatura prova.toml")),
        "{:?}",
        read.avvisi
    );
}

#[test]
fn dbf_text_not_in_the_declared_encoding_stops_the_read() {
    let tmp = tempfile::tempdir().expect("temp dir");
    // The .cpg says UTF-8, the bytes are Windows-1252.
    write_shapefile(
        tmp.path(),
        "TESSUTO_URBANO_CONSOLIDATO",
        Some("UTF-8"),
        encoding_rs::WINDOWS_1252,
        &["NOME_COM", "LEGENDA"],
        &[
            vec!["Clusone", "Residenziale"],
            vec!["Clusone", "Attività produttive"],
            vec!["Clusone", "Più piani"],
        ],
    );
    // The build stops, naming file, record, field and where the encoding was declared.
    let err = read_pgt_dir(tmp.path())
        .expect_err("text not valid in the declared encoding")
        .to_string();
    assert!(
        err.contains("TESSUTO_URBANO_CONSOLIDATO.dbf")
            && err.contains("record n. 2")
            && err.contains("campo LEGENDA")
            && err.contains("UTF-8")
            && err.contains("TESSUTO_URBANO_CONSOLIDATO.cpg")
            && err.contains("e un altro valore")
            && err.contains("Attività produttive"),
        "{err}"
    );

    // Declared right in the mapping, the same file reads cleanly.
    let mappatura = Mappatura::from_toml(
        "[[layer]]\nnomi = \"TESSUTO_URBANO_CONSOLIDATO\"\nclasse = \"tessuto_urbano_consolidato\"\n\
         legenda = \"LEGENDA\"\ncodifica = \"windows-1252\"\n",
        "prova.toml",
    )
    .expect("mapping");
    let read = read_pgt(tmp.path(), &mappatura).expect("PGT read");
    assert_eq!(read.zone[2].legenda.as_deref(), Some("Più piani"));
    assert!(read.avvisi.is_empty(), "{:?}", read.avvisi);

    // Real UTF-8 under a UTF-8 .cpg is fine.
    let utf8 = tempfile::tempdir().expect("temp dir");
    write_shapefile(
        utf8.path(),
        "TESSUTO_URBANO_CONSOLIDATO",
        Some("UTF-8"),
        encoding_rs::UTF_8,
        &["NOME_COM", "LEGENDA"],
        &[vec!["Clusone", "Attività produttive"]],
    );
    let read = read_pgt_dir(utf8.path()).expect("PGT read");
    assert_eq!(read.zone[0].legenda.as_deref(), Some("Attività produttive"));
    assert!(read.avvisi.is_empty(), "{:?}", read.avvisi);
}

/// A little-endian WKB polygon (one ring per slice).
fn wkb_polygon(rings: &[Vec<(f64, f64)>], z: bool) -> Vec<u8> {
    let mut w = vec![1u8];
    w.extend(if z { 1003u32 } else { 3u32 }.to_le_bytes());
    w.extend((rings.len() as u32).to_le_bytes());
    for ring in rings {
        w.extend((ring.len() as u32).to_le_bytes());
        for (x, y) in ring {
            w.extend(x.to_le_bytes());
            w.extend(y.to_le_bytes());
            if z {
                w.extend(600.0f64.to_le_bytes());
            }
        }
    }
    w
}

/// A GeoPackage geometry blob: header (magic, version, flags: little-endian, xy envelope),
/// SRS id, envelope, WKB.
fn gpkg_blob(srs_id: i32, wkb: &[u8], envelope: [f64; 4]) -> Vec<u8> {
    let mut b = vec![b'G', b'P', 0, 0b0000_0011];
    b.extend(srs_id.to_le_bytes());
    for v in envelope {
        b.extend(v.to_le_bytes());
    }
    b.extend_from_slice(wkb);
    b
}

/// Monte Mario / Gauss-Boaga Ovest near Clusone: about (+1,000,028.8 m, +20.3 m) from UTM 32N.
const GB_DX: f64 = 1_000_028.8;
const GB_DY: f64 = 20.3;

fn write_gpkg(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("create gpkg");
    conn.execute_batch(
        "CREATE TABLE gpkg_spatial_ref_sys (srs_name TEXT NOT NULL, srs_id INTEGER PRIMARY KEY,
            organization TEXT NOT NULL, organization_coordsys_id INTEGER NOT NULL,
            definition TEXT NOT NULL, description TEXT);
         CREATE TABLE gpkg_contents (table_name TEXT PRIMARY KEY, data_type TEXT NOT NULL,
            identifier TEXT, description TEXT DEFAULT '', last_change DATETIME,
            min_x DOUBLE, min_y DOUBLE, max_x DOUBLE, max_y DOUBLE, srs_id INTEGER);
         CREATE TABLE gpkg_geometry_columns (table_name TEXT NOT NULL, column_name TEXT NOT NULL,
            geometry_type_name TEXT NOT NULL, srs_id INTEGER NOT NULL, z TINYINT NOT NULL,
            m TINYINT NOT NULL);
         INSERT INTO gpkg_spatial_ref_sys VALUES
            ('Monte Mario / Italy zone 1', 100, 'EPSG', 3003, 'PROJCS[\"Monte Mario / Italy zone 1\"]', NULL);
         CREATE TABLE \"ambiti_trasformazione\" (fid INTEGER PRIMARY KEY, geom BLOB,
            NOME_COM TEXT, NOME_AMB TEXT, FUN_PREV1 INTEGER);
         CREATE TABLE SERVIZI (fid INTEGER PRIMARY KEY, shape BLOB, NOME_COM TEXT,
            TIPO_SERV TEXT, DESCR TEXT, STATO TEXT);
         CREATE TABLE AREE_AGRICOLE (fid INTEGER PRIMARY KEY, geom BLOB, LEGENDA TEXT);
         INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) VALUES
            ('ambiti_trasformazione', 'features', 'AT', 100),
            ('SERVIZI', 'features', 'Servizi', 100),
            ('AREE_AGRICOLE', 'features', 'Agricole', 100);
         INSERT INTO gpkg_geometry_columns VALUES
            ('ambiti_trasformazione', 'geom', 'POLYGON', 100, 1, 0),
            ('SERVIZI', 'shape', 'MULTIPOLYGON', 100, 0, 0),
            ('AREE_AGRICOLE', 'geom', 'POLYGON', 100, 0, 0);",
    )
    .expect("gpkg tables");
    let (x0, y0) = (X0 + GB_DX, Y0 + GB_DY);
    // Counter-clockwise exterior with a clockwise hole (OGC order), with Z.
    let mut outer = square(x0, y0, 300.0);
    outer.reverse();
    let hole = square(x0 + 100.0, y0 + 100.0, 50.0);
    let at = gpkg_blob(
        100,
        &wkb_polygon(&[outer, hole], true),
        [x0, x0 + 300.0, y0, y0 + 300.0],
    );
    conn.execute(
        "INSERT INTO ambiti_trasformazione (geom, NOME_COM, NOME_AMB, FUN_PREV1)
         VALUES (?1, 'Clusone', 'AT-R.1', 100)",
        [&at],
    )
    .expect("insert AT");
    // A MultiPolygon of two squares.
    let mut multi = vec![1u8];
    multi.extend(6u32.to_le_bytes());
    multi.extend(2u32.to_le_bytes());
    multi.extend(wkb_polygon(&[square(x0, y0 + 500.0, 50.0)], false));
    multi.extend(wkb_polygon(&[square(x0 + 100.0, y0 + 500.0, 50.0)], false));
    let env = [x0, x0 + 150.0, y0 + 500.0, y0 + 550.0];
    for (stato, descr) in [
        ("esistente", "Scuola"),
        ("In costruzione", "Palestra"),
        ("In costruzione", "Asilo"),
    ] {
        conn.execute(
            "INSERT INTO SERVIZI (shape, NOME_COM, TIPO_SERV, DESCR, STATO)
             VALUES (?1, 'Clusone', 'istruzione', ?2, ?3)",
            rusqlite::params![gpkg_blob(100, &multi, env), descr, stato],
        )
        .expect("insert servizio");
    }
}

#[test]
fn geopackage_layers_with_their_crs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("016077_Clusone");
    std::fs::create_dir_all(&dir).expect("dir");
    write_gpkg(&dir.join("pgt_clusone.gpkg"));
    let read = read_pgt_dir(tmp.path()).expect("PGT read");

    let at: Vec<_> = read
        .zone
        .iter()
        .filter(|z| z.classe == ClasseZona::AmbitoTrasformazione)
        .collect();
    assert_eq!(at.len(), 1);
    assert_eq!(at[0].fonte, "ambiti_trasformazione");
    assert_eq!(at[0].legenda.as_deref(), Some("AT-R.1"));
    assert_eq!(at[0].codice_destinazione.as_deref(), Some("100"));
    assert_eq!(at[0].comune_istat.as_deref(), Some("016077"));
    assert_eq!(at[0].geometry.0.len(), 1);
    assert_eq!(at[0].geometry.0[0].interiors().len(), 1, "hole kept");
    // Gauss-Boaga (EPSG:3003 from gpkg_spatial_ref_sys) lands where UTM 32N puts the corner.
    let (lon, lat) = abitare::crs::ToLonLat::new(32632)
        .expect("UTM")
        .convert(X0, Y0)
        .expect("transform");
    let corner = at[0].geometry.0[0]
        .exterior()
        .0
        .iter()
        .fold((f64::MAX, f64::MAX), |(x, y), c| (x.min(c.x), y.min(c.y)));
    let d =
        ((corner.0 - lon) * 111_320.0 * lat.to_radians().cos()).hypot((corner.1 - lat) * 110_540.0);
    assert!(d < 100.0, "{d} m from the UTM corner");
    use geo::GeodesicArea;
    let area = at[0].geometry.geodesic_area_signed();
    assert!((area - (90_000.0 - 2_500.0)).abs() < 500.0, "{area}");

    let servizi: Vec<_> = read.zone.iter().filter(|z| z.fonte == "SERVIZI").collect();
    assert_eq!(servizi.len(), 1);
    assert_eq!(servizi[0].classe, ClasseZona::ServiziEsistenti);
    assert_eq!(servizi[0].legenda.as_deref(), Some("istruzione - Scuola"));
    assert_eq!(servizi[0].geometry.0.len(), 2);

    let has = |needle: &[&str]| {
        read.avvisi
            .iter()
            .any(|a| needle.iter().all(|n| a.contains(n)))
    };
    assert!(
        has(&[
            "PGT 016077_Clusone/pgt_clusone.gpkg (layer SERVIZI)",
            "valore «In costruzione» del campo STATO non mappato (2 elementi)"
        ]),
        "{:?}",
        read.avvisi
    );
    assert!(has(&["AREE_AGRICOLE", "vuoto"]), "{:?}", read.avvisi);
    assert_eq!(read.avvisi.len(), 2, "{:?}", read.avvisi);
}

#[test]
fn geojson_layers_lonlat_or_with_a_crs_member() {
    let read = read_pgt_dir(&fixtures().join("geojson")).expect("PGT read");
    assert_eq!(read.vincoli.len(), 2);
    let cim = &read.vincoli[0];
    assert_eq!(cim.codice.as_deref(), Some("cimiteriale"));
    assert_eq!(cim.nome, "Fascia di rispetto cimiteriale");
    assert_eq!(cim.comune_istat.as_deref(), Some("016077"));
    let (lon, lat) = abitare::crs::ToLonLat::new(32632)
        .expect("UTM")
        .convert(X0, Y0)
        .expect("transform");
    assert!(cim.geometry.0[0]
        .exterior()
        .0
        .iter()
        .any(|c| (c.x - lon).abs() < 1e-9 && (c.y - lat).abs() < 1e-9));
    assert_eq!(
        read.vincoli[1].nome, "idrogeologico",
        "name falls back to the code"
    );
    assert_eq!(read.vincoli[1].geometry.0.len(), 2);

    assert_eq!(read.zone.len(), 1);
    let agri = &read.zone[0];
    assert_eq!(agri.classe, ClasseZona::Agricolo);
    assert_eq!(agri.codice_destinazione.as_deref(), Some("106"));
    assert_eq!(agri.geometry.0[0].interiors().len(), 1);
    assert!((agri.geometry.0[0].exterior().0[0].x - 9.94).abs() < 1e-12);

    let has = |needle: &[&str]| {
        read.avvisi
            .iter()
            .any(|a| needle.iter().all(|n| a.contains(n)))
    };
    assert!(
        has(&["VINCOLI.geojson", "geometrie nulle", "record n. 3"]),
        "{:?}",
        read.avvisi
    );
    assert!(
        has(&["AREE_AGRICOLE.geojson", "non poligonali", "record n. 2"]),
        "{:?}",
        read.avvisi
    );
    assert!(has(&["AMBITI_RIGENERAZIONE", "vuoto"]), "{:?}", read.avvisi);
}

#[test]
fn a_single_file_can_be_an_input() {
    let read =
        read_pgt_dir(&fixtures().join("geojson/016077_Clusone/VINCOLI.geojson")).expect("PGT read");
    assert_eq!(read.vincoli.len(), 2);
    assert_eq!(read.vincoli[0].comune_istat.as_deref(), Some("016077"));
    assert!(
        read.avvisi[0].starts_with("PGT 016077_Clusone/VINCOLI.geojson:"),
        "{:?}",
        read.avvisi
    );
}

#[test]
fn bad_mapping_files_name_the_file_and_the_key() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let bad = |text: &str| -> String {
        let path = tmp.path().join("mappatura.toml");
        std::fs::write(&path, text).expect("write");
        let err = Mappatura::from_file(&path).expect_err("invalid mapping");
        let msg = PgtError::from(err).to_string();
        assert!(msg.contains("mappatura.toml"), "{msg}");
        msg
    };
    let msg = bad("[[layer]]\nnomi = \"AZZ\"\ncampo = \"LEGENDA\"\n[layer.valori]\n\"Zona B\" = \"residenziale\"\n");
    assert!(
        msg.contains("layer[1].valori.\"Zona B\"")
            && msg.contains("classe «residenziale» sconosciuta"),
        "{msg}"
    );
    let msg = bad("[[layer]]\nnomi = \"AZZ\"\nclasse = \"vincolo:\"\n");
    assert!(msg.contains("layer[1].classe"), "{msg}");
    let msg = bad("[[layer]]\nnomi = \"AZZ\"\nclassi = \"agricolo\"\n");
    assert!(
        msg.contains("TOML non valido") && msg.contains("classi"),
        "{msg}"
    );
    let msg = bad("[[layer]\nnomi = \"AZZ\"\n");
    assert!(msg.contains("TOML non valido"), "{msg}");
    let msg = bad("[[layer]]\nnomi = \"AZZ\"\n");
    assert!(msg.contains("layer[1].classe"), "{msg}");
    let msg = bad("modo = \"aggiungi\"\n");
    assert!(msg.contains("chiave modo"), "{msg}");
    let msg = bad("codifica = \"klingon\"\n");
    assert!(msg.contains("chiave codifica"), "{msg}");
}
