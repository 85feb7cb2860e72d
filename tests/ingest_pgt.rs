//! PGT layers as Shapefiles (Regione Lombardia schema), written here with the `shapefile` crate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use abitare::crs::{self, ToLonLat};
use abitare::ingest::pgt::{read_pgt_dir, PgtError};
use abitare::model::ClasseZona;
use geo::{Coord, MultiPolygon};
use shapefile::dbase::{self, FieldValue, TableWriterBuilder};
use shapefile::{Point, Polygon, PolygonRing, ShapeWriter, Writer};

/// A feature: rings (outer clockwise, holes counter-clockwise, as given) and attribute values.
struct Feature {
    rings: Vec<Vec<(f64, f64)>>,
    values: Vec<&'static str>,
}

fn square(x0: f64, y0: f64, size: f64) -> Vec<(f64, f64)> {
    // Clockwise: an ESRI outer ring.
    vec![
        (x0, y0),
        (x0, y0 + size),
        (x0 + size, y0 + size),
        (x0 + size, y0),
        (x0, y0),
    ]
}

fn hole(x0: f64, y0: f64, size: f64) -> Vec<(f64, f64)> {
    let mut r = square(x0, y0, size);
    r.reverse();
    r
}

fn feature(x0: f64, y0: f64, values: &[&'static str]) -> Feature {
    Feature {
        rings: vec![square(x0, y0, 100.0)],
        values: values.to_vec(),
    }
}

/// Writes `dir/stem.shp` (+ `.shx`, `.dbf` in Windows-1252, `.prj` of `epsg`, `.cpg` if given).
fn write_layer(
    dir: &Path,
    stem: &str,
    epsg: Option<u16>,
    cpg: Option<&str>,
    fields: &[&str],
    features: &[Feature],
) -> PathBuf {
    std::fs::create_dir_all(dir).expect("create dir");
    let shp = dir.join(format!("{stem}.shp"));
    let mut table = TableWriterBuilder::with_encoding(dbase::encoding::EncodingRs::from(
        encoding_rs::WINDOWS_1252,
    ));
    for f in fields {
        table = table.add_character_field(dbase::FieldName::try_from(*f).expect("field name"), 80);
    }
    {
        let shape_writer = ShapeWriter::from_path(&shp).expect("shp writer");
        let dbf = table
            .build_with_file_dest(shp.with_extension("dbf"))
            .expect("dbf writer");
        let mut writer = Writer::new(shape_writer, dbf);
        for feat in features {
            let rings = feat
                .rings
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    let points = r.iter().map(|(x, y)| Point::new(*x, *y)).collect();
                    if i == 0 {
                        PolygonRing::Outer(points)
                    } else {
                        PolygonRing::Inner(points)
                    }
                })
                .collect();
            let mut record = dbase::Record::default();
            for (f, v) in fields.iter().zip(&feat.values) {
                record.insert(f.to_string(), FieldValue::Character(Some(v.to_string())));
            }
            writer
                .write_shape_and_record(&Polygon::with_rings(rings), &record)
                .expect("write feature");
        }
    }
    if let Some(epsg) = epsg {
        std::fs::write(
            shp.with_extension("prj"),
            crs::prj_wkt(epsg).expect("known CRS"),
        )
        .expect("write prj");
    }
    if let Some(cpg) = cpg {
        std::fs::write(shp.with_extension("cpg"), cpg).expect("write cpg");
    }
    shp
}

const X0: f64 = 570_000.0;
const Y0: f64 = 5_080_000.0;

/// A comune folder with one layer of each kind, plus an unknown one.
fn write_clusone(root: &Path) -> PathBuf {
    let dir = root.join("016077_Clusone");
    write_layer(
        &dir,
        "TESSUTO_URBANO_CONSOLIDATO",
        Some(32632),
        Some("1252"),
        &["NOME_COM", "LEGENDA", "COD_DEST1"],
        &[
            feature(X0, Y0, &["Clusone", "Attività produttive", "102"]),
            feature(X0 + 200.0, Y0, &["Clusone", "Centro storico", "100"]),
        ],
    );
    write_layer(
        &dir,
        "nuclei_antica_formazione",
        Some(32632),
        None,
        &["NOME_COM", "LEGENDA"],
        &[Feature {
            rings: vec![
                square(X0, Y0 + 500.0, 300.0),
                hole(X0 + 100.0, Y0 + 600.0, 50.0),
            ],
            values: vec!["Clusone", "Nucleo di antica formazione - Città alta"],
        }],
    );
    write_layer(
        &dir,
        "SERVIZI",
        Some(32632),
        Some("UTF-8"),
        &["NOME_COM", "TIPO_SERV", "DESCR", "STATO"],
        &[
            feature(
                X0,
                Y0 + 1000.0,
                &["Clusone", "Istruzione", "Scuola primaria", "esistente"],
            ),
            feature(X0 + 200.0, Y0 + 1000.0, &["Clusone", "Verde", "", "P"]),
            feature(
                X0 + 400.0,
                Y0 + 1000.0,
                &["Clusone", "Parcheggi", "", "boh"],
            ),
        ],
    );
    write_layer(
        &dir,
        "VINCOLI",
        Some(32632),
        None,
        // NOME_VINC_PRINC, truncated to the 10 characters a DBF field name can hold.
        &["NOME_COM", "COD_VINC", "NOME_VINC_"],
        &[
            feature(
                X0,
                Y0 + 2000.0,
                &["Clusone", "FLUV", "Fascia di rispetto fluviale"],
            ),
            feature(X0 + 200.0, Y0 + 2000.0, &["Clusone", "CIMIT", ""]),
        ],
    );
    write_layer(
        &dir,
        "CARTA_CONSUMO_SUOLO",
        Some(32632),
        None,
        &["NOME_COM"],
        &[feature(X0, Y0, &["Clusone"])],
    );
    dir
}

fn lonlat(epsg: u16, x: f64, y: f64) -> (f64, f64) {
    ToLonLat::new(epsg)
        .expect("supported")
        .convert(x, y)
        .expect("transform")
}

fn has_vertex(g: &MultiPolygon<f64>, (lon, lat): (f64, f64), tol: f64) -> bool {
    g.0.iter().any(|p| {
        p.exterior()
            .0
            .iter()
            .any(|c: &Coord<f64>| (c.x - lon).abs() < tol && (c.y - lat).abs() < tol)
    })
}

#[test]
fn reads_and_maps_the_regional_layers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_clusone(tmp.path());
    let read = read_pgt_dir(tmp.path()).expect("PGT read");

    let tuc: Vec<_> = read
        .zone
        .iter()
        .filter(|z| z.fonte == "TESSUTO_URBANO_CONSOLIDATO")
        .collect();
    assert_eq!(tuc.len(), 2);
    let produttivo = tuc[0];
    assert_eq!(produttivo.classe, ClasseZona::TessutoUrbanoConsolidato);
    assert_eq!(produttivo.legenda.as_deref(), Some("Attività produttive"));
    assert_eq!(produttivo.codice_destinazione.as_deref(), Some("102"));
    assert_eq!(produttivo.comune_istat.as_deref(), Some("016077"));
    assert_eq!(produttivo.comune_nome.as_deref(), Some("Clusone"));
    assert_eq!(tuc[1].classe, ClasseZona::NucleoAnticaFormazione);
    assert_eq!(tuc[1].legenda.as_deref(), Some("Centro storico"));

    // Every vertex reprojected with the project's transform; near Clusone.
    let corner = lonlat(32632, X0, Y0);
    assert!(has_vertex(&produttivo.geometry, corner, 1e-6), "{corner:?}");
    assert!(
        (corner.0 - 9.9).abs() < 0.05 && (corner.1 - 45.87).abs() < 0.05,
        "{corner:?}"
    );
    // Model orientation: exterior counter-clockwise, so a positive area.
    use geo::GeodesicArea;
    let area = produttivo.geometry.geodesic_area_signed();
    assert!((area - 10_000.0).abs() < 50.0, "{area}");

    let naf: Vec<_> = read
        .zone
        .iter()
        .filter(|z| z.fonte == "nuclei_antica_formazione")
        .collect();
    assert_eq!(naf.len(), 1);
    assert_eq!(naf[0].classe, ClasseZona::NucleoAnticaFormazione);
    // No .cpg: Windows-1252 by default.
    assert_eq!(
        naf[0].legenda.as_deref(),
        Some("Nucleo di antica formazione - Città alta")
    );
    assert_eq!(naf[0].geometry.0.len(), 1);
    assert_eq!(naf[0].geometry.0[0].interiors().len(), 1, "hole kept");

    let servizi: Vec<_> = read.zone.iter().filter(|z| z.fonte == "SERVIZI").collect();
    assert_eq!(servizi.len(), 2, "the unknown STATO is skipped");
    assert_eq!(servizi[0].classe, ClasseZona::ServiziEsistenti);
    assert_eq!(
        servizi[0].legenda.as_deref(),
        Some("Istruzione - Scuola primaria")
    );
    assert_eq!(servizi[1].classe, ClasseZona::ServiziPrevisti);
    assert_eq!(servizi[1].legenda.as_deref(), Some("Verde"));
    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("SERVIZI") && a.contains("record n. 3") && a.contains("boh")),
        "{:?}",
        read.avvisi
    );

    assert_eq!(read.vincoli.len(), 2);
    assert_eq!(read.vincoli[0].codice.as_deref(), Some("FLUV"));
    assert_eq!(read.vincoli[0].nome, "Fascia di rispetto fluviale");
    assert_eq!(read.vincoli[1].nome, "CIMIT", "name falls back to the code");
    assert_eq!(read.vincoli[1].comune_istat.as_deref(), Some("016077"));

    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("CARTA_CONSUMO_SUOLO") && a.contains("non riconosciuto")),
        "{:?}",
        read.avvisi
    );
    assert_eq!(read.zone.len(), 5);
}

#[test]
fn layers_outside_comune_folders_and_empty_layers() {
    let tmp = tempfile::tempdir().expect("temp dir");
    write_layer(
        tmp.path(),
        "AMBITI_TRASFORMAZIONE",
        Some(32632),
        None,
        &["NOME_COM", "NOME_AMB", "FUN_PREV1"],
        &[feature(X0, Y0, &["Clusone", "AT-E.2", "100"])],
    );
    write_layer(
        tmp.path(),
        "AREE_AGRICOLE",
        Some(32632),
        None,
        &["NOME_COM"],
        &[],
    );
    let read = read_pgt_dir(tmp.path()).expect("PGT read");
    assert_eq!(read.zone.len(), 1);
    let at = &read.zone[0];
    assert_eq!(at.classe, ClasseZona::AmbitoTrasformazione);
    assert_eq!(at.legenda.as_deref(), Some("AT-E.2"));
    assert_eq!(at.codice_destinazione.as_deref(), Some("100"));
    assert_eq!(at.comune_istat, None);
    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("AREE_AGRICOLE") && a.contains("vuoto")),
        "{:?}",
        read.avvisi
    );
}

fn tuc_layer(dir: &Path, epsg: Option<u16>, x0: f64, y0: f64, size: f64) -> PathBuf {
    write_layer(
        dir,
        "TESSUTO_URBANO_CONSOLIDATO",
        epsg,
        None,
        &["NOME_COM", "LEGENDA"],
        &[Feature {
            rings: vec![square(x0, y0, size)],
            values: vec!["Clusone", "Residenziale"],
        }],
    )
}

#[test]
fn missing_dbf_or_shx_is_named() {
    for ext in ["dbf", "shx"] {
        let tmp = tempfile::tempdir().expect("temp dir");
        let shp = tuc_layer(
            &tmp.path().join("016077_Clusone"),
            Some(32632),
            X0,
            Y0,
            100.0,
        );
        std::fs::remove_file(shp.with_extension(ext)).expect("remove");
        let err = read_pgt_dir(tmp.path()).expect_err("missing file");
        assert!(matches!(err, PgtError::MissingFile { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("TESSUTO_URBANO_CONSOLIDATO.{ext}")),
            "{msg}"
        );
    }
}

#[test]
fn missing_prj_asks_for_the_crs() {
    let tmp = tempfile::tempdir().expect("temp dir");
    tuc_layer(tmp.path(), None, X0, Y0, 100.0);
    let err = read_pgt_dir(tmp.path()).expect_err("no prj");
    assert!(matches!(err, PgtError::MissingPrj { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("TESSUTO_URBANO_CONSOLIDATO.prj") && msg.contains("deve essere dichiarato"),
        "{msg}"
    );
}

#[test]
fn gauss_boaga_layer_lands_where_the_utm_one_does() {
    let utm = tempfile::tempdir().expect("temp dir");
    tuc_layer(utm.path(), Some(32632), X0, Y0, 100.0);
    // The same corner in Monte Mario / Gauss-Boaga Ovest: the offset from UTM 32N near Bergamo
    // is about (+1,000,028.8 m, +20.3 m) (PROJ reference values in crs.rs).
    let gb = tempfile::tempdir().expect("temp dir");
    tuc_layer(gb.path(), Some(3003), X0 + 1_000_028.8, Y0 + 20.3, 100.0);

    let a = read_pgt_dir(utm.path()).expect("UTM read");
    let b = read_pgt_dir(gb.path()).expect("Gauss-Boaga read");
    let corner = |g: &MultiPolygon<f64>| {
        g.0[0]
            .exterior()
            .0
            .iter()
            .fold((f64::MAX, f64::MAX), |(x, y), c| (x.min(c.x), y.min(c.y)))
    };
    let (lon_a, lat_a) = corner(&a.zone[0].geometry);
    let (lon_b, lat_b) = corner(&b.zone[0].geometry);
    let dx = (lon_a - lon_b) * 111_320.0 * lat_a.to_radians().cos();
    let dy = (lat_a - lat_b) * 110_540.0;
    let d = dx.hypot(dy);
    eprintln!("Gauss-Boaga vs UTM: {d:.2} m apart");
    assert!(d < 100.0, "{d} m apart");
}

#[test]
fn degrees_in_a_projected_layer_are_diagnosed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    tuc_layer(tmp.path(), Some(32632), 9.9, 45.87, 0.001);
    let err = read_pgt_dir(tmp.path()).expect_err("degrees as metres");
    let msg = err.to_string();
    assert!(
        msg.contains("TESSUTO_URBANO_CONSOLIDATO.shp")
            && msg.contains("record n. 1")
            && msg.contains("fuori dalla Lombardia")
            && msg.contains("sistema di riferimento"),
        "{msg}"
    );
}

#[test]
fn non_polygon_layers_are_reported_and_skipped() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let shp = tmp.path().join("AREE_AGRICOLE.shp");
    {
        let table = TableWriterBuilder::new().add_character_field(
            dbase::FieldName::try_from("NOME_COM").expect("field name"),
            40,
        );
        let mut writer = Writer::from_path(&shp, table).expect("writer");
        let mut record = dbase::Record::default();
        record.insert(
            "NOME_COM".to_string(),
            FieldValue::Character(Some("Clusone".to_string())),
        );
        writer
            .write_shape_and_record(&Point::new(X0, Y0), &record)
            .expect("write point");
    }
    std::fs::write(
        shp.with_extension("prj"),
        crs::prj_wkt(32632).expect("known"),
    )
    .expect("prj");
    let read = read_pgt_dir(tmp.path()).expect("PGT read");
    assert!(read.zone.is_empty());
    assert!(
        read.avvisi
            .iter()
            .any(|a| a.contains("AREE_AGRICOLE") && a.contains("non poligoni")),
        "{:?}",
        read.avvisi
    );
}
