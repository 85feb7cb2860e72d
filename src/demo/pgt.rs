//! PGT layers of one comune as ESRI Shapefiles in the regional schema (EPSG:32632, DBF in
//! Windows-1252).

use std::io::Cursor;
use std::path::{Path, PathBuf};

use geo::BooleanOps;
use shapefile::dbase::{self, FieldValue};

use super::cadastre::{rect, Lot, Poly};
use super::plan::ComunePlan;
use super::territory::{from_geo, to_geo, ComuneFact, Rng, Territory};
use super::{write_file, zone_polys, DemoError};

pub struct Feature {
    pub polys: Vec<Poly>,
    pub attrs: Vec<String>,
}

fn shp_err(layer: &str, e: impl std::fmt::Display) -> DemoError {
    DemoError::Other(format!("scrittura dello shapefile {layer}: {e}"))
}

/// Writes `<dir>/<name>.shp/.shx/.dbf/.prj/.cpg`; returns the paths written.
fn write_layer(
    dir: &Path,
    name: &str,
    fields: &[(&str, u8)],
    feats: &[Feature],
) -> Result<Vec<PathBuf>, DemoError> {
    let mut shp = Cursor::new(Vec::new());
    let mut shx = Cursor::new(Vec::new());
    let mut dbf = Cursor::new(Vec::new());
    {
        let mut builder = dbase::TableWriterBuilder::with_encoding(
            dbase::encoding::EncodingRs::from(encoding_rs::WINDOWS_1252),
        );
        for (f, len) in fields {
            let fname = dbase::FieldName::try_from(*f).map_err(|e| shp_err(name, e))?;
            builder = builder.add_character_field(fname, *len);
        }
        let sw = shapefile::ShapeWriter::with_shx(&mut shp, &mut shx);
        let tw = builder.build_with_dest(&mut dbf);
        let mut w = shapefile::Writer::new(sw, tw);
        for feat in feats {
            let mut rings = Vec::new();
            for (ext, holes) in &feat.polys {
                let pts = |r: &Vec<(f64, f64)>| -> Vec<shapefile::Point> {
                    r.iter()
                        .map(|&(x, y)| shapefile::Point::new(x, y))
                        .collect()
                };
                rings.push(shapefile::PolygonRing::Outer(pts(ext)));
                for h in holes {
                    rings.push(shapefile::PolygonRing::Inner(pts(h)));
                }
            }
            if rings.is_empty() {
                continue;
            }
            let poly = shapefile::Polygon::with_rings(rings);
            let mut rec = dbase::Record::default();
            for ((f, _), v) in fields.iter().zip(&feat.attrs) {
                rec.insert((*f).to_string(), FieldValue::Character(Some(v.clone())));
            }
            w.write_shape_and_record(&poly, &rec)
                .map_err(|e| shp_err(name, e))?;
        }
    }
    let mut dbf = dbf.into_inner();
    // Fixed "last update" date (2025-10-20) so the files are the same on every run.
    if dbf.len() > 4 {
        dbf[1] = 125;
        dbf[2] = 10;
        dbf[3] = 20;
    }
    let prj = crate::crs::prj_wkt(32632)
        .ok_or_else(|| DemoError::Other("WKT di EPSG:32632 non disponibile".into()))?;
    let mut out = Vec::new();
    for (ext, bytes) in [
        ("shp", shp.into_inner()),
        ("shx", shx.into_inner()),
        ("dbf", dbf),
        ("prj", prj.as_bytes().to_vec()),
        ("cpg", b"1252".to_vec()),
    ] {
        let p = dir.join(format!("{name}.{ext}"));
        write_file(&p, &bytes)?;
        out.push(p);
    }
    Ok(out)
}

/// Smallest part of a constraint clipped by the comune's border, m².
const MIN_M2: f64 = 1.0;

fn circle(cx: f64, cy: f64, r: f64) -> Poly {
    let n = 48;
    let pts = (0..n)
        .map(|k| {
            let a = std::f64::consts::TAU * k as f64 / n as f64;
            ((cx + r * a.cos()).round(), (cy + r * a.sin()).round())
        })
        .collect();
    (pts, Vec::new())
}

/// Writes the PGT layers of comune `k` into `dir`; returns the files written.
pub fn write_pgt(
    dir: &Path,
    t: &Territory,
    k: usize,
    fact: &ComuneFact,
    plan: &ComunePlan,
    service_lots: &[Lot],
    rng: &mut Rng,
) -> Result<Vec<PathBuf>, DemoError> {
    let nome = fact.nome.clone();
    let mut files = Vec::new();
    let cell_square = |c: usize, m: i64| -> Poly {
        let (x, y) = t.corner(c);
        rect(x + m, y + m, x + 200 - m, y + 200 - m)
    };

    // Ambiti di trasformazione.
    if !plan.at.is_empty() {
        let mut feats = Vec::new();
        for (n, cells) in plan.at.iter().enumerate() {
            let (code, dcode, spec, sigla) = if n == 1 {
                (
                    "102",
                    "Terziario e commerciale",
                    "Attività commerciali di vicinato, uffici e servizi alla persona",
                    "AT-T",
                )
            } else {
                (
                    "100",
                    "Residenziale",
                    "Residenza libera e convenzionata, con quota di edilizia residenziale sociale",
                    "AT-R",
                )
            };
            let same = plan.at[..n]
                .iter()
                .enumerate()
                .filter(|(i, _)| (*i == 1) == (n == 1))
                .count();
            feats.push(Feature {
                polys: zone_polys(t, k, cells),
                attrs: vec![
                    nome.clone(),
                    format!("{sigla}.{}", same + 1),
                    format!("{}_AT{:02}", fact.istat, n + 1),
                    code.into(),
                    dcode.into(),
                    spec.into(),
                ],
            });
        }
        files.extend(write_layer(
            dir,
            "AMBITI_TRASFORMAZIONE",
            &[
                ("NOME_COM", 60),
                ("NOME_AMB", 20),
                ("AMB_TRAS", 20),
                ("FUN_PREV1", 10),
                ("DFUN_PREV1", 100),
                ("SPEC_DEST", 150),
            ],
            &feats,
        )?);
    }

    // Tessuto urbano consolidato.
    let res_legend = *rng.pick(&[
        "Ambiti residenziali di completamento",
        "Tessuto residenziale consolidato a media densità",
        "Zone B - residenziali consolidate",
        "Ambiti del tessuto urbano consolidato prevalentemente residenziale",
    ]);
    let ter_legend = *rng.pick(&[
        "Ambiti produttivi e terziari consolidati",
        "Tessuto per attività economiche",
        "Zone D2 - terziarie e commerciali",
    ]);
    let mut feats = vec![Feature {
        polys: zone_polys(t, k, &plan.tuc_res),
        attrs: vec![
            nome.clone(),
            res_legend.into(),
            "TUC01".into(),
            "100".into(),
            "Residenziale".into(),
            "Residenza e attività compatibili con la residenza".into(),
        ],
    }];
    if !plan.tuc_ter.is_empty() {
        feats.push(Feature {
            polys: zone_polys(t, k, &plan.tuc_ter),
            attrs: vec![
                nome.clone(),
                ter_legend.into(),
                "TUC02".into(),
                "102".into(),
                "Terziario".into(),
                "Attività terziarie, commerciali e artigianali di servizio".into(),
            ],
        });
    }
    files.extend(write_layer(
        dir,
        "TESSUTO_URBANO_CONSOLIDATO",
        &[
            ("NOME_COM", 60),
            ("LEGENDA", 150),
            ("AMB_URB", 20),
            ("COD_DEST1", 10),
            ("DCOD_DEST1", 100),
            ("SPEC_DEST", 150),
        ],
        &feats,
    )?);

    // Nuclei di antica formazione.
    let naf_legend = *rng.pick(&[
        "Nuclei di antica formazione",
        "Centro storico - zona A",
        "Nucleo storico di antica formazione (NAF)",
    ]);
    files.extend(write_layer(
        dir,
        "NUCLEI_ANTICA_FORMAZIONE",
        &[("NOME_COM", 60), ("LEGENDA", 150), ("AMB_URB", 20)],
        &[Feature {
            polys: zone_polys(t, k, &plan.naf),
            attrs: vec![nome.clone(), naf_legend.into(), "NAF01".into()],
        }],
    )?);

    // Aree agricole.
    let agri_legend = *rng.pick(&[
        "Aree agricole produttive",
        "Ambiti agricoli di interesse strategico",
        "Aree agricole di salvaguardia e di valenza paesistica",
    ]);
    files.extend(write_layer(
        dir,
        "AREE_AGRICOLE",
        &[("NOME_COM", 60), ("LEGENDA", 150)],
        &[Feature {
            polys: zone_polys(t, k, &plan.agri),
            attrs: vec![nome.clone(), agri_legend.into()],
        }],
    )?);

    // Aree non soggette a trasformazione.
    let nt_legends = [
        "Aree boscate non soggette a trasformazione urbanistica",
        "Aree di valore paesaggistico-ambientale ed ecologiche",
    ];
    let feats: Vec<Feature> = plan
        .nt
        .iter()
        .enumerate()
        .map(|(n, cells)| Feature {
            polys: zone_polys(t, k, cells),
            attrs: vec![nome.clone(), nt_legends[n % 2].into()],
        })
        .collect();
    if !feats.is_empty() {
        files.extend(write_layer(
            dir,
            "AREE_NON_TRASFORMAZIONE",
            &[("NOME_COM", 60), ("LEGENDA", 150)],
            &feats,
        )?);
    }

    // Servizi: existing ones on core lots, planned ones at the edge of the core.
    let existing = [
        ("attrezzature religiose", "Chiesa parrocchiale e oratorio"),
        ("istruzione", "Scuola primaria"),
        ("sanità", "Ambulatorio medico e farmacia comunale"),
        ("verde", "Giardino pubblico"),
        ("parcheggi", "Parcheggio pubblico"),
    ];
    let mut feats = Vec::new();
    for (lot, (tipo, descr)) in service_lots.iter().zip(existing) {
        let (x0, y0, x1, y1) = lot.rect;
        feats.push(Feature {
            polys: vec![(vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1)], Vec::new())],
            attrs: vec![nome.clone(), tipo.into(), descr.into(), "esistente".into()],
        });
    }
    if let Some(c) = plan.cemetery {
        feats.push(Feature {
            polys: vec![cell_square(c, 70)],
            attrs: vec![
                nome.clone(),
                "attrezzature cimiteriali".into(),
                "Cimitero comunale".into(),
                "esistente".into(),
            ],
        });
    }
    let planned = [
        ("verde", "Nuovo parco urbano e area giochi"),
        ("parcheggi", "Parcheggio di attestamento"),
    ];
    for (&c, (tipo, descr)) in plan.planned_services.iter().zip(planned) {
        feats.push(Feature {
            polys: vec![cell_square(c, 50)],
            attrs: vec![nome.clone(), tipo.into(), descr.into(), "previsto".into()],
        });
    }
    files.extend(write_layer(
        dir,
        "SERVIZI",
        &[
            ("NOME_COM", 60),
            ("TIPO_SERV", 60),
            ("DESCR", 150),
            ("STATO", 20),
        ],
        &feats,
    )?);

    // Vincoli.
    let comune_geo = &t.shapes[k];
    let mut feats = Vec::new();
    if let Some(c) = plan.cemetery {
        let (x, y) = t.corner(c);
        let band = to_geo(&[circle(x as f64 + 100.0, y as f64 + 100.0, 200.0)]);
        let clipped = band.intersection(comune_geo);
        feats.push(Feature {
            polys: from_geo(&clipped, MIN_M2),
            attrs: vec![
                nome.clone(),
                "cimiteriale".into(),
                "Fascia di rispetto cimiteriale".into(),
            ],
        });
    }
    if !plan.river.is_empty() {
        feats.push(Feature {
            polys: zone_polys(t, k, &plan.river),
            attrs: vec![
                nome.clone(),
                "fluviale".into(),
                "Fascia di rispetto del reticolo idrico minore".into(),
            ],
        });
    }
    if !plan.landslide.is_empty() {
        feats.push(Feature {
            polys: zone_polys(t, k, &plan.landslide),
            attrs: vec![
                nome.clone(),
                "idrogeologico".into(),
                "Area di frana attiva (PAI - Fa)".into(),
            ],
        });
    }
    if k % 2 == 1 {
        for cells in &plan.nt {
            feats.push(Feature {
                polys: zone_polys(t, k, cells),
                attrs: vec![
                    nome.clone(),
                    "bosco".into(),
                    "Aree boscate (art. 42 L.R. 31/2008)".into(),
                ],
            });
        }
    }
    if !plan.power_line.is_empty() {
        let strips: Vec<Poly> = plan
            .power_line
            .iter()
            .map(|&c| {
                let (x, y) = t.corner(c);
                rect(x + 80, y, x + 120, y + 200)
            })
            .collect();
        let merged = strips.iter().skip(1).fold(to_geo(&strips[..1]), |acc, s| {
            acc.union(&to_geo(std::slice::from_ref(s)))
        });
        feats.push(Feature {
            polys: from_geo(&merged.intersection(comune_geo), MIN_M2),
            attrs: vec![
                nome.clone(),
                "elettrodotto".into(),
                "Fascia di rispetto dell'elettrodotto".into(),
            ],
        });
    }
    files.extend(write_layer(
        dir,
        "VINCOLI",
        &[("NOME_COM", 60), ("COD_VINC", 30), ("NOME_VINC_", 150)],
        &feats,
    )?);
    Ok(files)
}
