//! Cadastral parcels and sheets, and their GML as served by the Agenzia delle Entrate WFS
//! (MapServer GML 3.2, EPSG:6706, latitude-longitude order).

use std::fmt::Write as _;

use super::plan::ComunePlan;
use super::territory::{ComuneFact, Rng, Sheet, Territory, CELL};
use super::DemoError;
use crate::crs::ToLonLat;
use crate::model::cadref::SheetRef;

/// A ring in UTM metres, open (first vertex not repeated).
pub type Ring = Vec<(f64, f64)>;
/// A polygon: exterior and holes.
pub type Poly = (Ring, Vec<Ring>);

/// Smallest piece of a parcel clipped by a comune's border, m²: smaller slivers are dropped.
pub const MIN_PARCEL_M2: f64 = 20.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Numbered,
    Road,
    Water,
}

#[derive(Debug, Clone)]
pub struct Parcel {
    pub sheet: usize,
    pub label: String,
    pub polys: Vec<Poly>,
}

/// A building-sized lot of an urban core.
#[derive(Debug, Clone)]
pub struct Lot {
    pub parcel: usize,
    pub naf: bool,
    /// Rectangle in metres: (xmin, ymin, xmax, ymax).
    pub rect: (f64, f64, f64, f64),
}

pub fn rect(x0: i64, y0: i64, x1: i64, y1: i64) -> Poly {
    (
        vec![
            (x0 as f64, y0 as f64),
            (x1 as f64, y0 as f64),
            (x1 as f64, y1 as f64),
            (x0 as f64, y1 as f64),
        ],
        Vec::new(),
    )
}

/// Cut positions splitting `len` metres into `n` parts of similar size, jittered.
fn cuts(rng: &mut Rng, len: i64, n: i64, jitter: i64) -> Vec<i64> {
    let mut v = vec![0];
    for k in 1..n {
        v.push(len * k / n + rng.range(-jitter, jitter));
    }
    v.push(len);
    v
}

/// The pieces of one cell: (kind, polygons, lot rectangle if building-sized).
type Piece = (Kind, Vec<Poly>, Option<(f64, f64, f64, f64)>);

fn urban_cell(rng: &mut Rng, x: i64, y: i64) -> Vec<Piece> {
    let road = 8;
    let mut out: Vec<Piece> = Vec::new();
    let l = (
        vec![
            (x as f64, y as f64),
            ((x + CELL) as f64, y as f64),
            ((x + CELL) as f64, (y + road) as f64),
            ((x + road) as f64, (y + road) as f64),
            ((x + road) as f64, (y + CELL) as f64),
            (x as f64, (y + CELL) as f64),
        ],
        Vec::new(),
    );
    out.push((Kind::Road, vec![l], None));
    let inner = CELL - road;
    let nrows = rng.range(5, 7);
    let rows = cuts(rng, inner, nrows, 3);
    for r in rows.windows(2) {
        let ncols = rng.range(5, 7);
        let cols = cuts(rng, inner, ncols, 4);
        for c in cols.windows(2) {
            let (x0, y0) = (x + road + c[0], y + road + r[0]);
            let (x1, y1) = (x + road + c[1], y + road + r[1]);
            out.push((
                Kind::Numbered,
                vec![rect(x0, y0, x1, y1)],
                Some((x0 as f64, y0 as f64, x1 as f64, y1 as f64)),
            ));
        }
    }
    out
}

fn rural_cell(rng: &mut Rng, x: i64, y: i64, near: bool) -> Vec<Piece> {
    let r = rng.unit();
    let n = if near {
        if r < 0.45 {
            1
        } else if r < 0.75 {
            2
        } else if r < 0.9 {
            3
        } else {
            4
        }
    } else if r < 0.85 {
        1
    } else {
        2
    };
    let num = |p: Poly| (Kind::Numbered, vec![p], None);
    match n {
        1 => vec![num(rect(x, y, x + CELL, y + CELL))],
        2 | 3 => {
            let cs = cuts(rng, CELL, n, 15);
            let vertical = rng.unit() < 0.5;
            cs.windows(2)
                .map(|w| {
                    if vertical {
                        num(rect(x + w[0], y, x + w[1], y + CELL))
                    } else {
                        num(rect(x, y + w[0], x + CELL, y + w[1]))
                    }
                })
                .collect()
        }
        _ => {
            let cx = x + 100 + rng.range(-20, 20);
            let cy = y + 100 + rng.range(-20, 20);
            vec![
                num(rect(x, y, cx, cy)),
                num(rect(cx, y, x + CELL, cy)),
                num(rect(x, cy, cx, y + CELL)),
                num(rect(cx, cy, x + CELL, y + CELL)),
            ]
        }
    }
}

fn river_cell(rng: &mut Rng, x: i64, y: i64) -> Vec<Piece> {
    let mut out: Vec<Piece> = Vec::new();
    for (y0, y1) in [(y, y + 92), (y + 108, y + CELL)] {
        if rng.unit() < 0.5 {
            out.push((Kind::Numbered, vec![rect(x, y0, x + CELL, y1)], None));
        } else {
            let cx = x + rng.range(70, 130);
            out.push((Kind::Numbered, vec![rect(x, y0, cx, y1)], None));
            out.push((Kind::Numbered, vec![rect(cx, y0, x + CELL, y1)], None));
        }
    }
    out.push((Kind::Water, vec![rect(x, y + 92, x + CELL, y + 108)], None));
    out
}

fn cascina_cell(rng: &mut Rng, x: i64, y: i64) -> Vec<Piece> {
    let hx = x + rng.range(50, 80);
    let hy = y + rng.range(50, 80);
    let (w, h) = (rng.range(35, 55), rng.range(30, 50));
    let court = rect(hx, hy, hx + w, hy + h);
    let mut hole = court.0.clone();
    hole.reverse();
    let outer = rect(x, y, x + CELL, y + CELL);
    vec![
        (Kind::Numbered, vec![(outer.0, vec![hole])], None),
        (Kind::Numbered, vec![court], None),
    ]
}

fn multi_cell(rng: &mut Rng, x: i64, y: i64) -> Vec<Piece> {
    let a = x + rng.range(55, 75);
    let b = x + rng.range(125, 145);
    vec![
        (
            Kind::Numbered,
            vec![rect(x, y, a, y + CELL), rect(b, y, x + CELL, y + CELL)],
            None,
        ),
        (Kind::Numbered, vec![rect(a, y, b, y + CELL)], None),
    ]
}

/// All parcels of one comune's sheets, labelled per sheet; returns the urban lots too.
pub fn parcels(
    t: &Territory,
    sheets: &[Sheet],
    comune: usize,
    plan: &ComunePlan,
    near: &[bool],
    rng: &mut Rng,
) -> (Vec<Parcel>, Vec<Lot>) {
    let core: Vec<usize> = t.core(comune).to_vec();
    let mut out = Vec::new();
    let mut lots = Vec::new();
    for (si, sheet) in sheets.iter().enumerate() {
        if sheet.comune != comune {
            continue;
        }
        let mut cells = sheet.cells.clone();
        cells.sort_by_key(|&c| {
            let (i, j) = t.ij(c);
            (usize::MAX - j, i)
        });
        let mut number = rng.range(1, 40);
        let mut roads = 0;
        let mut waters = 0;
        for c in cells {
            let (x, y) = t.corner(c);
            let pieces = if core.contains(&c) {
                urban_cell(rng, x, y)
            } else if plan.river.contains(&c) {
                river_cell(rng, x, y)
            } else if plan.cascine.contains(&c) {
                cascina_cell(rng, x, y)
            } else if plan.multi == Some(c) {
                multi_cell(rng, x, y)
            } else {
                rural_cell(rng, x, y, near[c])
            };
            for (kind, polys, lot) in pieces {
                // Cells astride the comune's border keep only what lies inside it.
                let polys = t.clip_to_part(c, comune, polys, MIN_PARCEL_M2);
                if polys.is_empty() {
                    continue;
                }
                let label = match kind {
                    Kind::Numbered => {
                        let l = number.to_string();
                        number += if rng.unit() < 0.9 { 1 } else { rng.range(2, 4) };
                        l
                    }
                    Kind::Road => {
                        roads += 1;
                        format!("STRADA{roads:03}")
                    }
                    Kind::Water => {
                        waters += 1;
                        format!("ACQUA{waters:03}")
                    }
                };
                // A lot is a building site: only on cells wholly inside the comune.
                if let Some(rect) = lot.filter(|_| t.whole(c, comune)) {
                    lots.push(Lot {
                        parcel: out.len(),
                        naf: plan.naf.contains(&c),
                        rect,
                    });
                }
                out.push(Parcel {
                    sheet: si,
                    label,
                    polys,
                });
            }
        }
    }
    (out, lots)
}

/// The sheet reference of a sheet (`C800_001300`).
pub fn sheet_ref(belfiore: &str, numero: u32) -> String {
    SheetRef {
        belfiore: belfiore.to_string(),
        sezione: None,
        numero,
        allegato: None,
        sviluppo: None,
    }
    .to_string()
}

pub const SRS: &str = "urn:ogc:def:crs:EPSG::6706";
pub const TIMESTAMP: &str = "2025-10-20T09:14:37";

struct Bounds {
    min_lat: f64,
    min_lon: f64,
    max_lat: f64,
    max_lon: f64,
}

impl Bounds {
    fn new() -> Bounds {
        Bounds {
            min_lat: f64::INFINITY,
            min_lon: f64::INFINITY,
            max_lat: f64::NEG_INFINITY,
            max_lon: f64::NEG_INFINITY,
        }
    }
    fn add(&mut self, lon: f64, lat: f64) {
        self.min_lat = self.min_lat.min(lat);
        self.min_lon = self.min_lon.min(lon);
        self.max_lat = self.max_lat.max(lat);
        self.max_lon = self.max_lon.max(lon);
    }
    fn merge(&mut self, o: &Bounds) {
        self.add(o.min_lon, o.min_lat);
        self.add(o.max_lon, o.max_lat);
    }
    fn envelope(&self, indent: &str) -> String {
        let lo = |v: f64| (v * 1e6).floor() / 1e6;
        let hi = |v: f64| (v * 1e6).ceil() / 1e6;
        format!(
            "{indent}<gml:Envelope srsName=\"{SRS}\">\n{indent}\t<gml:lowerCorner>{:.6} {:.6}</gml:lowerCorner>\n{indent}\t<gml:upperCorner>{:.6} {:.6}</gml:upperCorner>\n{indent}</gml:Envelope>\n",
            lo(self.min_lat),
            lo(self.min_lon),
            hi(self.max_lat),
            hi(self.max_lon)
        )
    }
}

fn pos_list(ring: &[(f64, f64)], to_ll: &ToLonLat, b: &mut Bounds) -> Result<String, DemoError> {
    let mut s = String::with_capacity(ring.len() * 26);
    for k in 0..=ring.len() {
        let (x, y) = ring[k % ring.len()];
        let (lon, lat) = to_ll.convert(x, y)?;
        b.add(lon, lat);
        let _ = write!(s, "{lat:.8} {lon:.8} ");
    }
    Ok(s)
}

fn polygon_xml(
    p: &Poly,
    id: &str,
    srs: bool,
    indent: &str,
    to_ll: &ToLonLat,
    b: &mut Bounds,
) -> Result<String, DemoError> {
    let mut s = String::new();
    let srs_attr = if srs {
        format!(" srsName=\"{SRS}\"")
    } else {
        String::new()
    };
    let _ = writeln!(s, "{indent}<gml:Polygon gml:id=\"{id}\"{srs_attr}>");
    let rings = std::iter::once(("exterior", &p.0)).chain(p.1.iter().map(|h| ("interior", h)));
    for (tag, r) in rings {
        let _ = write!(
            s,
            "{indent}  <gml:{tag}>\n{indent}    <gml:LinearRing>\n{indent}      <gml:posList srsDimension=\"2\">{}</gml:posList>\n{indent}    </gml:LinearRing>\n{indent}  </gml:{tag}>\n",
            pos_list(r, to_ll, b)?
        );
    }
    let _ = writeln!(s, "{indent}</gml:Polygon>");
    Ok(s)
}

fn geometry_xml(
    polys: &[Poly],
    id: &str,
    to_ll: &ToLonLat,
    b: &mut Bounds,
) -> Result<String, DemoError> {
    let ind = "          ";
    if polys.len() == 1 {
        return polygon_xml(&polys[0], &format!("{id}.1"), true, ind, to_ll, b);
    }
    let mut s = format!("{ind}<gml:MultiSurface gml:id=\"{id}.1\" srsName=\"{SRS}\">\n");
    for (k, p) in polys.iter().enumerate() {
        let _ = writeln!(s, "{ind}  <gml:surfaceMember>");
        s.push_str(&polygon_xml(
            p,
            &format!("{id}.1.{}", k + 1),
            false,
            &format!("{ind}    "),
            to_ll,
            b,
        )?);
        let _ = writeln!(s, "{ind}  </gml:surfaceMember>");
    }
    let _ = writeln!(s, "{ind}</gml:MultiSurface>");
    Ok(s)
}

fn collection(type_name: &str, members: &[(String, Bounds)]) -> String {
    let mut all = Bounds::new();
    for (_, b) in members {
        all.merge(b);
    }
    let mut s = String::with_capacity(members.iter().map(|m| m.0.len() + 400).sum());
    let _ = write!(
        s,
        "<?xml version='1.0' encoding=\"UTF-8\" ?>\n<wfs:FeatureCollection\n   xmlns:CP=\"http://mapserver.gis.umn.edu/mapserver\"\n   xmlns:gml=\"http://www.opengis.net/gml/3.2\"\n   xmlns:wfs=\"http://www.opengis.net/wfs/2.0\"\n   xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"\n   xsi:schemaLocation=\"http://mapserver.gis.umn.edu/mapserver https://wfs.cartografia.agenziaentrate.gov.it/inspire/wfs/owfs01.php?SERVICE=WFS&amp;VERSION=2.0.0&amp;REQUEST=DescribeFeatureType&amp;TYPENAME=CP:{type_name}&amp;OUTPUTFORMAT=application%2Fgml%2Bxml%3B%20version%3D3.2 http://www.opengis.net/wfs/2.0 http://schemas.opengis.net/wfs/2.0/wfs.xsd http://www.opengis.net/gml/3.2 http://schemas.opengis.net/gml/3.2.1/gml.xsd\"\n   timeStamp=\"{TIMESTAMP}\" numberMatched=\"{n}\" numberReturned=\"{n}\">\n      <wfs:boundedBy>\n{env}      </wfs:boundedBy>\n",
        n = members.len(),
        env = all.envelope("      \t")
    );
    for (m, _) in members {
        s.push_str(m);
    }
    s.push_str("</wfs:FeatureCollection>\n\n");
    s
}

fn member(
    type_name: &str,
    id: &str,
    geometry: &str,
    b: &Bounds,
    attributes: &[(&str, String)],
) -> String {
    let mut s = format!(
        "    <wfs:member>\n      <CP:{type_name} gml:id=\"{id}\">\n        <gml:boundedBy>\n{}        </gml:boundedBy>\n        <CP:msGeometry>\n{geometry}        </CP:msGeometry>\n",
        b.envelope("        \t")
    );
    for (k, v) in attributes {
        let _ = writeln!(s, "        <CP:{k}>{v}</CP:{k}>");
    }
    let _ = write!(s, "      </CP:{type_name}>\n    </wfs:member>\n");
    s
}

/// The `_ple.gml` text of one comune.
pub fn parcels_gml(
    fact: &ComuneFact,
    sheets: &[Sheet],
    parcels: &[Parcel],
    to_ll: &ToLonLat,
) -> Result<String, DemoError> {
    let mut members = Vec::with_capacity(parcels.len());
    for p in parcels {
        let sheet = sheet_ref(&fact.belfiore, sheets[p.sheet].numero);
        let reference = format!("{sheet}.{}", p.label);
        let id = format!("CadastralParcel.IT.AGE.PLA.{reference}");
        let mut b = Bounds::new();
        let geom = geometry_xml(&p.polys, &id, to_ll, &mut b)?;
        let m = member(
            "CadastralParcel",
            &id,
            &geom,
            &b,
            &[
                ("INSPIREID_LOCALID", format!("IT.AGE.PLA.{reference}")),
                ("INSPIREID_NAMESPACE", "IT.AGE.PLA.".to_string()),
                ("LABEL", p.label.clone()),
                ("NATIONALCADASTRALREFERENCE", reference.clone()),
                ("ADMINISTRATIVEUNIT", fact.belfiore.clone()),
            ],
        );
        members.push((m, b));
    }
    Ok(collection("CadastralParcel", &members))
}

/// The `_map.gml` text of one comune: its sheets with their outlines.
pub fn sheets_gml(
    fact: &ComuneFact,
    sheets: &[(u32, bool, Vec<Poly>)],
    to_ll: &ToLonLat,
) -> Result<String, DemoError> {
    let mut members = Vec::with_capacity(sheets.len());
    for (numero, urban, polys) in sheets {
        let reference = sheet_ref(&fact.belfiore, *numero);
        let id = format!("CadastralZoning.IT.AGE.MAP.{reference}");
        let mut b = Bounds::new();
        let geom = geometry_xml(polys, &id, to_ll, &mut b)?;
        let scale = if *urban { 2000 } else { 4000 };
        let m = member(
            "CadastralZoning",
            &id,
            &geom,
            &b,
            &[
                ("INSPIREID_LOCALID", format!("IT.AGE.MAP.{reference}")),
                ("INSPIREID_NAMESPACE", "IT.AGE.MAP.".to_string()),
                ("LABEL", numero.to_string()),
                ("NATIONALCADASTRALZONINGREFERENCE", reference.clone()),
                ("LEVEL", "2".to_string()),
                ("LEVELNAME", "Foglio".to_string()),
                ("ORIGINALMAPSCALEDENOMINATOR", scale.to_string()),
                ("BEGINLIFESPANVERSION", "2017-02-13T00:00:00".to_string()),
                ("ADMINISTRATIVEUNIT", fact.belfiore.clone()),
            ],
        );
        members.push((m, b));
    }
    Ok(collection("CadastralZoning", &members))
}
