use std::collections::BTreeMap;

use geo::{BooleanOps, BoundingRect, GeodesicArea};

use super::*;

fn generated() -> (tempfile::TempDir, GeneratedDemo) {
    let dir = tempfile::tempdir().expect("tempdir");
    let g = generate(dir.path()).expect("generate");
    (dir, g)
}

fn read_latin1(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("read");
    encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
}

#[test]
fn comune_areas_match_and_do_not_overlap() {
    let (dir, _) = generated();
    let text =
        std::fs::read_to_string(dir.path().join("input/confini_comuni.geojson")).expect("geojson");
    let gj: geojson::GeoJson = text.parse().expect("valid geojson");
    let geojson::GeoJson::FeatureCollection(fc) = gj else {
        panic!("not a collection");
    };
    let facts = territory::comuni_facts().expect("facts");
    assert_eq!(fc.features.len(), facts.len());
    let mut shapes = Vec::new();
    let mut total = 0.0;
    let mut worst = 0.0f64;
    for (f, fact) in fc.features.iter().zip(&facts) {
        let props = f.properties.as_ref().expect("props");
        assert_eq!(props["com_istat_code"], fact.istat.as_str());
        assert_eq!(props["com_catasto_code"], fact.belfiore.as_str());
        assert_eq!(props["name"], fact.nome.as_str());
        assert_eq!(props["prov_acr"], "BG");
        assert_eq!(props["reg_name"], "Lombardia");
        let g: geo::Geometry<f64> = f
            .geometry
            .clone()
            .expect("geometry")
            .try_into()
            .expect("geo");
        let geo::Geometry::MultiPolygon(mp) = g else {
            panic!("multipolygon expected");
        };
        // The real boundaries against ISTAT's official surfaces (the facts file): the
        // generalised outlines measure 0.3–0.9% more.
        let km2 = mp.geodesic_area_unsigned() / 1e6;
        let err = (km2 - fact.area_km2).abs() / fact.area_km2;
        worst = worst.max(err);
        assert!(
            err < 0.015,
            "{}: {km2:.2} km² vs {}",
            fact.nome,
            fact.area_km2
        );
        total += km2;
        shapes.push(mp);
    }
    // 599.84 km² in the facts, 604.3 km² (geodesic) within the boundaries.
    assert!((total - 599.84).abs() < 6.0, "total {total}");
    eprintln!("max area error {:.3}%", worst * 100.0);
    for a in 0..shapes.len() {
        for b in a + 1..shapes.len() {
            let (ra, rb) = (
                shapes[a].bounding_rect().expect("bbox"),
                shapes[b].bounding_rect().expect("bbox"),
            );
            if ra.max().x < rb.min().x
                || rb.max().x < ra.min().x
                || ra.max().y < rb.min().y
                || rb.max().y < ra.min().y
            {
                continue;
            }
            let i = shapes[a].intersection(&shapes[b]).geodesic_area_unsigned();
            assert!(
                i < 1.0,
                "{} and {} overlap by {i} m²",
                facts[a].nome,
                facts[b].nome
            );
        }
    }
}

#[test]
fn output_is_deterministic() {
    let (a, ga) = generated();
    let (b, gb) = generated();
    assert_eq!(ga.files, gb.files);
    assert!(ga.files.len() > 24 * 2 + 24 * 20);
    for f in &ga.files {
        let x = std::fs::read(a.path().join(f)).expect("a");
        let y = std::fs::read(b.path().join(f)).expect("b");
        assert!(x == y, "{} differs", f.display());
    }
}

fn parse_inventory(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = read_latin1(path);
    assert!(text.contains("\r\n"));
    let mut lines = text.split("\r\n").filter(|l| !l.is_empty());
    let header: Vec<&str> = lines.next().expect("header").split(';').collect();
    lines
        .map(|l| {
            let cells: Vec<&str> = l.split(';').collect();
            assert_eq!(cells.len(), header.len(), "{l}");
            header
                .iter()
                .zip(cells)
                .map(|(h, c)| (h.to_string(), c.to_string()))
                .collect()
        })
        .collect()
}

fn stato_key(s: &str) -> &'static str {
    match s.to_lowercase().as_str() {
        "stato occupato" => "occupato",
        "stato libero" => "libero",
        "sfitto per carenze manutentive" => "carenze",
        "sfitto per ristrutturazione" => "ristrutturazione",
        other => panic!("stato {other}"),
    }
}

#[test]
fn inventory_matches_the_plan_figures() {
    let (dir, _) = generated();
    let rows = parse_inventory(&dir.path().join("input/inventario_alloggi_pubblici.csv"));
    assert_eq!(rows.len(), 253);
    assert!(rows[0].contains_key("Codice unità"));
    let mut counts: BTreeMap<(String, &str), usize> = BTreeMap::new();
    let (mut disp, mut turn, mut ass) = (0, 0, 0);
    let mut codes = std::collections::BTreeSet::new();
    let mut aler_comuni = std::collections::BTreeSet::new();
    for r in &rows {
        let ente = r["Ente proprietario"].clone();
        assert!(codes.insert((ente.clone(), r["Codice unità"].clone())));
        assert_eq!(r["Codice ISTAT"].len(), 6);
        let b = |k: &str| !r[k].is_empty();
        if r["Servizio"] == "SAP" {
            *counts
                .entry((ente.clone(), stato_key(&r["Stato"])))
                .or_default() += 1;
        } else {
            assert_eq!(r["Servizio"], "altro");
            assert_eq!(ente, "Comune di Rovetta");
            assert_eq!(stato_key(&r["Stato"]), "occupato");
        }
        if ente == inventory::ALER {
            aler_comuni.insert(r["Comune"].clone());
        } else {
            assert_eq!(ente, format!("Comune di {}", r["Comune"]));
        }
        if b("Disponibile anno") {
            disp += 1;
        }
        if b("Turn over") {
            turn += 1;
            assert!(b("Disponibile anno"));
            assert_eq!(stato_key(&r["Stato"]), "occupato");
            assert_eq!(ente, "Comune di Clusone");
        }
        if b("Assegnata anno precedente") {
            ass += 1;
        }
        for k in [
            "Assegnabile stato di fatto",
            "In programma ristrutturazione",
            "Nuova edificazione",
            "Conferita da privati",
        ] {
            assert!(!b(k));
        }
        if !r["Sfitto dal"].is_empty() {
            let d = chrono::NaiveDate::parse_from_str(&r["Sfitto dal"], "%d/%m/%Y").expect("date");
            assert!(d < chrono::NaiveDate::from_ymd_opt(2025, 10, 27).expect("d"));
        }
    }
    assert_eq!((disp, turn, ass), (5, 2, 5));
    assert!(aler_comuni.len() >= 5);
    let csv_text = include_str!("../../data/ambito9_sap_stato_per_ente_2026.csv");
    for line in csv_text.lines().skip(1) {
        let c: Vec<&str> = line.split(',').collect();
        if c[0] == "Totale" {
            continue;
        }
        for (i, k) in [
            (2, "libero"),
            (3, "carenze"),
            (4, "ristrutturazione"),
            (5, "occupato"),
        ] {
            let want: usize = c[i].parse().expect("n");
            let got = counts.get(&(c[0].to_string(), k)).copied().unwrap_or(0);
            assert_eq!(got, want, "{} {k}", c[0]);
        }
    }
}

#[test]
fn units_name_existing_parcels_and_gml_is_lat_lon() {
    let (dir, g) = generated();
    let rows = parse_inventory(&dir.path().join("input/inventario_alloggi_pubblici.csv"));
    let facts = territory::comuni_facts().expect("facts");
    let mut parcels_total = 0;
    let mut sheets_total = 0;
    for f in &facts {
        let stem = format!("{}_{}", f.belfiore, f.nome.to_uppercase());
        let ple = std::fs::read_to_string(dir.path().join(format!("input/catasto/{stem}_ple.gml")))
            .expect("ple");
        let map = std::fs::read_to_string(dir.path().join(format!("input/catasto/{stem}_map.gml")))
            .expect("map");
        for text in [&ple, &map] {
            let mut reader = quick_xml::Reader::from_str(text);
            loop {
                match reader.read_event() {
                    Ok(quick_xml::events::Event::Eof) => break,
                    Ok(_) => {}
                    Err(e) => panic!("{stem}: {e}"),
                }
            }
            let start = text
                .find("<gml:posList srsDimension=\"2\">")
                .expect("posList")
                + 30;
            let mut it = text[start..].split_whitespace();
            let lat: f64 = it.next().expect("lat").parse().expect("lat");
            let lon: f64 = it.next().expect("lon").parse().expect("lon");
            assert!(
                (45.8..46.1).contains(&lat) && (9.75..10.25).contains(&lon),
                "{lat} {lon}"
            );
        }
        parcels_total += ple.matches("<CP:CadastralParcel ").count();
        sheets_total += map.matches("<CP:CadastralZoning ").count();
        assert!(ple.contains(".STRADA001<") && ple.contains("<gml:interior>"));
        for r in rows.iter().filter(|r| r["Comune"] == f.nome) {
            let sheet = cadastre::sheet_ref(&f.belfiore, r["Foglio"].parse().expect("foglio"));
            let reference = format!(
                "<CP:NATIONALCADASTRALREFERENCE>{sheet}.{}</CP:NATIONALCADASTRALREFERENCE>",
                r["Particella"]
            );
            assert!(ple.contains(&reference), "{reference}");
        }
    }
    eprintln!("parcels {parcels_total}, sheets {sheets_total}");
    assert!(
        (20_000..=35_000).contains(&parcels_total),
        "{parcels_total}"
    );
    let any_multi = g.files.iter().any(|f| {
        f.to_string_lossy().ends_with("_ple.gml")
            && std::fs::read_to_string(dir.path().join(f))
                .expect("read")
                .contains("<gml:MultiSurface")
    });
    assert!(any_multi);
    let project = crate::project::Project::load(&g.project).expect("project loads");
    assert_eq!(project.comuni.len(), 24);
    assert_eq!(project.ambito.numero, Some(9));
    assert!(project.ambito.dimostrativo);
    let pgt = dir.path().join("input/pgt/016077_Clusone");
    for layer in [
        "TESSUTO_URBANO_CONSOLIDATO",
        "NUCLEI_ANTICA_FORMAZIONE",
        "SERVIZI",
        "VINCOLI",
    ] {
        for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
            assert!(pgt.join(format!("{layer}.{ext}")).exists(), "{layer}.{ext}");
        }
    }
}

#[test]
fn pgt_shapefiles_read_back_in_windows_1252() {
    let (dir, _) = generated();
    let facts = territory::comuni_facts().expect("facts");
    for f in &facts {
        let folder = dir.path().join(format!("input/pgt/{}_{}", f.istat, f.nome));
        assert_eq!(
            std::fs::read_to_string(folder.join("VINCOLI.cpg")).expect("cpg"),
            "1252"
        );
        for layer in [
            "TESSUTO_URBANO_CONSOLIDATO",
            "NUCLEI_ANTICA_FORMAZIONE",
            "AREE_AGRICOLE",
            "SERVIZI",
            "VINCOLI",
        ] {
            let path = folder.join(format!("{layer}.shp"));
            let shp = std::fs::File::open(&path).expect("shp");
            let dbf = std::fs::File::open(path.with_extension("dbf")).expect("dbf");
            let shape_reader = shapefile::ShapeReader::new(shp).expect("shape reader");
            // The header's code page mark (Windows-1252) selects the decoding.
            let dbase_reader = shapefile::dbase::Reader::new(dbf).expect("dbf reader");
            let mut reader = shapefile::Reader::new(shape_reader, dbase_reader);
            let mut n = 0;
            for item in reader.iter_shapes_and_records() {
                let (shape, record) = item.expect("record");
                let shapefile::Shape::Polygon(poly) = shape else {
                    panic!("{layer}: polygon expected");
                };
                let bb = poly.bbox();
                // UTM 32N metres around the Alta Valle Seriana.
                assert!(bb.min.x > 540_000.0 && bb.max.x < 640_000.0, "{layer} x");
                assert!(
                    bb.min.y > 5_050_000.0 && bb.max.y < 5_120_000.0,
                    "{layer} y"
                );
                match record.get("NOME_COM") {
                    Some(shapefile::dbase::FieldValue::Character(Some(s))) => {
                        assert_eq!(s, &f.nome)
                    }
                    other => panic!("{layer}: NOME_COM {other:?}"),
                }
                n += 1;
            }
            assert!(n >= 1, "{}: {layer} empty", f.nome);
        }
    }
    let tuc = std::fs::read(
        dir.path()
            .join("input/pgt/016077_Clusone/TESSUTO_URBANO_CONSOLIDATO.dbf"),
    )
    .expect("dbf");
    // "attività" in Windows-1252: the accented letter is the single byte 0xE0.
    assert!(tuc.windows(8).any(|w| w == b"attivit\xe0"));
}

#[test]
fn the_grid_parts_cover_each_comune_once() {
    use geo::Area;
    let facts = territory::comuni_facts().expect("facts");
    let t = territory::build(&facts).expect("territory");
    let full = (territory::CELL * territory::CELL) as f64;
    let mut covered = vec![0.0f64; facts.len()];
    let mut shared_cells = 0;
    for c in 0..t.ncells() {
        let mut in_cell = 0.0;
        let mut members = 0;
        for k in 0..facts.len() {
            let a = match t.part(c, k) {
                Some(territory::Part::Whole) => full,
                Some(territory::Part::Clipped(p)) => {
                    let a = p.unsigned_area();
                    assert!(
                        (territory::MIN_PART_M2..full).contains(&a),
                        "cell {c} in {}: {a} m²",
                        facts[k].nome
                    );
                    a
                }
                None => continue,
            };
            members += 1;
            covered[k] += a;
            in_cell += a;
        }
        // Neighbouring comuni share a cell without overlapping in it.
        assert!(in_cell <= full + 0.01, "cell {c}: {in_cell} m²");
        if members > 1 {
            shared_cells += 1;
        }
    }
    assert!(
        shared_cells > 500,
        "{shared_cells} cells on a border between comuni"
    );
    for (k, f) in facts.iter().enumerate() {
        let area = t.shapes[k].unsigned_area();
        // Only slivers under MIN_PART_M2 along the border are left out.
        assert!(
            covered[k] <= area + 1.0 && covered[k] >= 0.995 * area,
            "{}: cells cover {:.3}% of the comune",
            f.nome,
            covered[k] / area * 100.0
        );
        assert!(t.whole(t.seed_cell[k], k), "{}", f.nome);
        assert!(t.core(k).iter().all(|&c| t.whole(c, k)), "{}", f.nome);
        assert!(t.core(k).len() >= 3, "{}", f.nome);
    }
}
