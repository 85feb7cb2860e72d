//! Streaming reader of the Agenzia delle Entrate cadastral GML (MapServer form, FORMATS.md §1).
//!
//! The reader walks the XML events once (`quick_xml::NsReader`, no DOM), matching elements on
//! namespace URI + local name, never on prefixes. Every `CP:CadastralParcel` becomes a
//! [`CadastralFeature::Particella`], every `CP:CadastralZoning` a [`CadastralFeature::Foglio`],
//! with geometry in lon/lat (x = longitude): the Agenzia writes EPSG:6706 in latitude,
//! longitude order, which is swapped here.
//!
//! Features that cannot be used (unparseable reference, empty or degenerate geometry) are
//! skipped with an avviso; files that cannot be trusted (not XML, truncated, non-numeric or
//! out-of-range coordinates, unknown CRS, one text node or tag longer than
//! [`MAX_TEXT_NODE_BYTES`]) are rejected with one Italian message naming the file.

use std::borrow::Cow;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use geo::{Coord, LineString, MultiPolygon, Polygon};
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::NsReader;
use thiserror::Error;

use crate::crs::{self, AxisOrder, Declared, ToLonLat};
use crate::model::cadref::{ParcelRef, SheetRef};
use crate::model::{Foglio, Particella};

/// Namespace of the MapServer feature types (`CP:` in the Agenzia's files).
pub const NS_CP: &str = "http://mapserver.gis.umn.edu/mapserver";
/// GML 3.2.
pub const NS_GML: &str = "http://www.opengis.net/gml/3.2";
/// WFS 2.0.
pub const NS_WFS: &str = "http://www.opengis.net/wfs/2.0";

/// Older namespaces accepted as equivalent (GML 3.1/2, WFS 1.x).
const NS_GML_OLD: &str = "http://www.opengis.net/gml";
const NS_WFS_OLD: &str = "http://www.opengis.net/wfs";

/// The CRS assumed when a file declares none: what the Agenzia writes.
const DEFAULT_SRS: Declared = Declared {
    epsg: 6706,
    axis: AxisOrder::NorthEast,
};

/// The longest text a GML may hold in one node (a `gml:posList`) or one tag with its
/// attributes: 32 MiB, some 800 000 vertices. The largest real sheet boundary has a few
/// tens of thousands; anything longer is a corrupt or hostile file, and is refused before it
/// is all in memory.
pub const MAX_TEXT_NODE_BYTES: usize = 32 * 1024 * 1024;

/// One feature of a cadastral GML file.
#[derive(Debug, Clone, PartialEq)]
pub enum CadastralFeature {
    Particella(Particella),
    Foglio(Foglio),
}

/// What a GML file held.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GmlSummary {
    /// File name (or the name given for a stream), for messages.
    pub source: String,
    /// EPSG code of the `srsName` found.
    pub crs: Option<u16>,
    pub particelle: usize,
    pub fogli: usize,
    /// Non-fatal remarks (features skipped and why), in Italian.
    pub avvisi: Vec<String>,
}

#[derive(Debug, Error)]
pub enum GmlError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{source_name}: {message}")]
    Invalid {
        source_name: String,
        message: String,
    },
    /// One text node (a coordinate list) or tag is longer than `limit` bytes
    /// ([`MAX_TEXT_NODE_BYTES`]).
    #[error(
        "{source_name}: testo di un elemento (ad esempio un gml:posList) più lungo del limite di \
         {limit} byte ({} MiB){place}: nessuna geometria catastale reale è così lunga, il file è \
         probabilmente corrotto",
        limit / (1024 * 1024),
        place = match feature {
            Some(f) => format!(" (feature {f}, riga {line})"),
            None => format!(" (riga {line})"),
        }
    )]
    TextTooLarge {
        source_name: String,
        /// The feature being read (`CP:CadastralParcel gml:id "…"`), if any.
        feature: Option<String>,
        /// The line where the text starts or where reading stopped.
        line: u64,
        limit: usize,
    },
}

/// Reads a `_ple.gml` / `_map.gml` file (or a WFS answer), streaming every feature to `sink`.
pub fn read_gml_file(
    path: &Path,
    sink: &mut dyn FnMut(CadastralFeature),
) -> Result<GmlSummary, GmlError> {
    let file = File::open(path).map_err(|source| GmlError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let reader = BufReader::with_capacity(256 * 1024, file);
    read_gml(reader, &path.display().to_string(), sink)
}

/// Same as [`read_gml_file`] over any buffered reader; `source` names it in messages.
pub fn read_gml<R: BufRead>(
    reader: R,
    source: &str,
    sink: &mut dyn FnMut(CadastralFeature),
) -> Result<GmlSummary, GmlError> {
    let mut reader = reader;
    check_looks_like_xml(&mut reader, source)?;
    let mut xml = NsReader::from_reader(LineCounter {
        inner: reader,
        line: 1,
        run: 0,
        limit: MAX_TEXT_NODE_BYTES,
        over_limit: false,
    });
    let mut parser = Parser::new(source);
    let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        buf.clear();
        let event = xml.read_resolved_event_into(&mut buf);
        let (resolved, event) = match event {
            Ok(pair) => pair,
            Err(e) => {
                let line = xml.get_ref().line;
                parser.line = line;
                if xml.get_ref().over_limit {
                    return Err(parser.too_large());
                }
                return Err(parser.fatal(format!("XML non valido o troncato: {e}")));
            }
        };
        let ns = Ns::of(&resolved);
        parser.line = xml.get_ref().line;
        match event {
            Event::Start(e) => {
                let attrs = read_attrs(&xml, &e, &parser)?;
                parser.depth += 1;
                parser.start(ns, e.local_name().as_ref(), e.name().as_ref(), attrs)?;
            }
            Event::Empty(e) => {
                let attrs = read_attrs(&xml, &e, &parser)?;
                parser.depth += 1;
                parser.start(ns, e.local_name().as_ref(), e.name().as_ref(), attrs)?;
                parser.end(ns, e.local_name().as_ref(), sink)?;
                parser.depth -= 1;
            }
            Event::End(e) => {
                parser.end(ns, e.local_name().as_ref(), sink)?;
                parser.depth = parser.depth.saturating_sub(1);
            }
            Event::Text(t) => {
                if parser.depth == 0 {
                    if t.iter().any(|b| !b.is_ascii_whitespace()) {
                        return Err(parser.outside_root_text());
                    }
                } else if parser.capture.is_some() {
                    let s = t
                        .decode()
                        .map_err(|e| parser.fatal(format!("testo non decodificabile: {e}")))?;
                    parser.push_text(&s)?;
                }
            }
            Event::CData(t) => {
                if parser.depth == 0 {
                    return Err(parser.outside_root_text());
                }
                if parser.capture.is_some() {
                    let s = t
                        .decode()
                        .map_err(|e| parser.fatal(format!("testo non decodificabile: {e}")))?;
                    parser.push_text(&s)?;
                }
            }
            Event::GeneralRef(r) => {
                if parser.depth == 0 {
                    return Err(parser.outside_root_text());
                }
                if parser.capture.is_some() {
                    push_reference(&mut parser.text, &r);
                    parser.check_text_len()?;
                }
            }
            Event::Eof => break,
            Event::Comment(_) | Event::Decl(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    parser.finish()
}

/// Rejects at once a file whose first significant byte is not `<` (a CSV renamed `.gml`, a
/// ZIP archive), without reading it all as one text event.
fn check_looks_like_xml<R: BufRead>(reader: &mut R, source: &str) -> Result<(), GmlError> {
    let data = reader.fill_buf().map_err(|e| GmlError::Invalid {
        source_name: source.to_string(),
        message: format!("lettura non riuscita: {e}"),
    })?;
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    let first = data.iter().find(|b| !b.is_ascii_whitespace());
    let message = match first {
        None | Some(b'<') => return Ok(()),
        Some(_) if data.starts_with(b"PK\x03\x04") => {
            "il file è un archivio ZIP, non un GML: estrarre prima i file _ple.gml / _map.gml"
        }
        Some(_) => {
            "il file non è un documento XML (non inizia con '<'): \
             atteso un GML del catasto (wfs:FeatureCollection) (riga 1)"
        }
    };
    Err(GmlError::Invalid {
        source_name: source.to_string(),
        message: message.to_string(),
    })
}

/// Appends the text an entity or character reference stands for.
fn push_reference(text: &mut String, r: &BytesRef<'_>) {
    if let Ok(Some(c)) = r.resolve_char_ref() {
        text.push(c);
        return;
    }
    let name = String::from_utf8_lossy(r);
    match quick_xml::escape::resolve_predefined_entity(&name) {
        Some(s) => text.push_str(s),
        None => {
            text.push('&');
            text.push_str(&name);
            text.push(';');
        }
    }
}

/// Counts the lines consumed by the XML reader, for messages, and bounds what one XML event
/// can hold.
///
/// quick-xml has no limit of its own: it appends a text node (or a tag) to the event buffer
/// chunk by chunk until the next `<` (or `>`). Every such event lies within a run of bytes
/// with no `<` in it (a tag starts with its `<`), so this reader counts the bytes consumed
/// since the last `<` and fails the next `fill_buf` once they pass `limit`: the event buffer
/// then holds at most `limit` bytes plus one read chunk, whatever the file holds.
struct LineCounter<R> {
    inner: R,
    line: u64,
    /// Bytes consumed since the last `<`.
    run: usize,
    limit: usize,
    /// Set when reading stopped at `limit`: the I/O error quick-xml reports is this one.
    over_limit: bool,
}

/// The bytes since the last `<` after `bytes` follow a run of `run` such bytes.
fn next_run(run: usize, bytes: &[u8]) -> usize {
    match bytes.iter().rposition(|&b| b == b'<') {
        Some(p) => bytes.len() - p - 1,
        None => run.saturating_add(bytes.len()),
    }
}

impl<R> LineCounter<R> {
    fn check_limit(&mut self) -> std::io::Result<()> {
        if self.run > self.limit {
            self.over_limit = true;
            return Err(std::io::Error::other(format!(
                "testo più lungo di {} byte",
                self.limit
            )));
        }
        Ok(())
    }
}

impl<R: BufRead> Read for LineCounter<R> {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        self.check_limit()?;
        let n = self.inner.read(out)?;
        let bytes = out.get(..n).unwrap_or_default();
        self.line += count_newlines(bytes);
        self.run = next_run(self.run, bytes);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for LineCounter<R> {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.check_limit()?;
        self.inner.fill_buf()
    }
    fn consume(&mut self, amt: usize) {
        if amt > 0 {
            // The bytes being consumed are still in the inner buffer: no I/O happens here.
            if let Ok(data) = self.inner.fill_buf() {
                let bytes = data.get(..amt.min(data.len())).unwrap_or_default();
                self.line += count_newlines(bytes);
                self.run = next_run(self.run, bytes);
            }
        }
        self.inner.consume(amt);
    }
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').count() as u64
}

/// The namespaces the reader cares about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ns {
    Cp,
    Gml,
    Wfs,
    Other,
}

impl Ns {
    fn of(resolved: &ResolveResult<'_>) -> Ns {
        match resolved {
            ResolveResult::Bound(Namespace(uri)) => Ns::of_uri(uri),
            _ => Ns::Other,
        }
    }
    fn of_uri(uri: &[u8]) -> Ns {
        if uri == NS_CP.as_bytes() {
            Ns::Cp
        } else if uri == NS_GML.as_bytes() || uri == NS_GML_OLD.as_bytes() {
            Ns::Gml
        } else if uri == NS_WFS.as_bytes() || uri == NS_WFS_OLD.as_bytes() {
            Ns::Wfs
        } else {
            Ns::Other
        }
    }
}

/// The attributes of an element the reader uses.
#[derive(Default)]
struct Attrs {
    /// `gml:id` (or a bare `id`/`fid`).
    id: Option<String>,
    /// `srsName`: parsed, or the unknown name as written.
    srs: Option<Result<Declared, String>>,
    /// `srsDimension`: parsed, or the value as written.
    dim: Option<Result<usize, String>>,
}

fn read_attrs<R: BufRead>(
    xml: &NsReader<R>,
    e: &BytesStart<'_>,
    parser: &Parser,
) -> Result<Attrs, GmlError> {
    let mut out = Attrs::default();
    for attr in e.attributes() {
        let attr = attr.map_err(|err| parser.fatal(format!("attributo XML non valido: {err}")))?;
        let (ns, local) = xml.resolve_attribute(attr.key);
        let ns = Ns::of(&ns);
        let local = local.as_ref();
        let wanted = matches!(
            (ns, local),
            (Ns::Gml, b"id") | (Ns::Other, b"id" | b"fid" | b"srsName" | b"srsDimension")
        );
        if !wanted {
            continue;
        }
        let value: Cow<'_, str> = attr
            .unescape_value()
            .map_err(|err| parser.fatal(format!("attributo XML non valido: {err}")))?;
        match local {
            b"id" | b"fid" => {
                if out.id.is_none() || ns == Ns::Gml {
                    out.id = Some(value.into_owned());
                }
            }
            b"srsName" => {
                out.srs = Some(crs::parse_srs_name(&value).map_err(|_| value.into_owned()));
            }
            _ => {
                out.dim = Some(match value.trim().parse::<usize>() {
                    Ok(d @ 2..=3) => Ok(d),
                    _ => Err(value.into_owned()),
                });
            }
        }
    }
    Ok(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FeatureKind {
    Parcel,
    Zoning,
}

impl FeatureKind {
    fn element(self) -> &'static str {
        match self {
            FeatureKind::Parcel => "CP:CadastralParcel",
            FeatureKind::Zoning => "CP:CadastralZoning",
        }
    }
}

/// Text-valued elements captured while reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Capture {
    PosList,
    Pos,
    LocalId,
    Label,
    ParcelReference,
    ZoningReference,
    AdministrativeUnit,
    Scale,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RingRole {
    None,
    Exterior,
    Interior,
}

/// The parser's state between events. Buffers are reused from feature to feature.
struct Parser {
    source: String,
    line: u64,
    depth: usize,
    root_seen: bool,
    root_closed: bool,
    root_name: String,
    summary: GmlSummary,
    default_srs_noted: bool,
    /// Whether the first coordinate was checked for swapped axes.
    axes_checked: bool,
    mixed_srs_noted: bool,
    collection_srs: Option<Declared>,
    transforms: Vec<ToLonLat>,

    // Current feature.
    feature: Option<FeatureKind>,
    feature_depth: usize,
    feature_line: u64,
    feature_id: String,
    feature_srs: Option<Declared>,
    /// Why the current feature will be skipped, if it will.
    problem: Option<String>,
    local_id: String,
    label: String,
    parcel_ref: String,
    zoning_ref: String,
    admin_unit: String,
    scale: String,

    // Geometry of the current feature.
    geom_depth: Option<usize>,
    geom_srs: Option<Declared>,
    geom_dim: Option<usize>,
    pos_dim: Option<usize>,
    role: RingRole,
    ring: Vec<Coord<f64>>,
    exterior: Option<LineString<f64>>,
    interiors: Vec<LineString<f64>>,
    polygons: Vec<Polygon<f64>>,
    nums: Vec<f64>,

    // Text capture.
    capture: Option<Capture>,
    capture_depth: usize,
    text: String,
}

impl Parser {
    fn new(source: &str) -> Parser {
        Parser {
            source: source.to_string(),
            line: 1,
            depth: 0,
            root_seen: false,
            root_closed: false,
            root_name: String::new(),
            summary: GmlSummary {
                source: source.to_string(),
                ..GmlSummary::default()
            },
            default_srs_noted: false,
            axes_checked: false,
            mixed_srs_noted: false,
            collection_srs: None,
            transforms: Vec::new(),
            feature: None,
            feature_depth: 0,
            feature_line: 0,
            feature_id: String::new(),
            feature_srs: None,
            problem: None,
            local_id: String::new(),
            label: String::new(),
            parcel_ref: String::new(),
            zoning_ref: String::new(),
            admin_unit: String::new(),
            scale: String::new(),
            geom_depth: None,
            geom_srs: None,
            geom_dim: None,
            pos_dim: None,
            role: RingRole::None,
            ring: Vec::new(),
            exterior: None,
            interiors: Vec::new(),
            polygons: Vec::new(),
            nums: Vec::new(),
            capture: None,
            capture_depth: 0,
            text: String::new(),
        }
    }

    /// A fatal error, naming the current feature (if any) and the line.
    fn fatal(&self, message: String) -> GmlError {
        let place = match self.feature {
            Some(kind) => format!(
                " (feature {} gml:id \"{}\", riga {})",
                kind.element(),
                self.feature_id,
                self.line
            ),
            None => format!(" (riga {})", self.line),
        };
        GmlError::Invalid {
            source_name: self.source.clone(),
            message: format!("{message}{place}"),
        }
    }

    /// The error of a text node or tag longer than [`MAX_TEXT_NODE_BYTES`].
    fn too_large(&self) -> GmlError {
        GmlError::TextTooLarge {
            source_name: self.source.clone(),
            feature: self
                .feature
                .map(|kind| format!("{} gml:id \"{}\"", kind.element(), self.feature_id)),
            line: self.line,
            limit: MAX_TEXT_NODE_BYTES,
        }
    }

    /// Appends captured text, within [`MAX_TEXT_NODE_BYTES`] (a text split by references or
    /// CDATA sections into many events is bounded here, in the buffer this reader owns).
    fn push_text(&mut self, s: &str) -> Result<(), GmlError> {
        if self.text.len().saturating_add(s.len()) > MAX_TEXT_NODE_BYTES {
            return Err(self.too_large());
        }
        self.text.push_str(s);
        Ok(())
    }

    fn check_text_len(&self) -> Result<(), GmlError> {
        if self.text.len() > MAX_TEXT_NODE_BYTES {
            return Err(self.too_large());
        }
        Ok(())
    }

    fn outside_root_text(&self) -> GmlError {
        let message = if self.root_seen {
            "contenuto dopo la chiusura dell'elemento radice: il file non è un documento XML valido"
        } else {
            "il file non è un documento XML (testo prima di qualsiasi elemento): \
             atteso un GML del catasto (wfs:FeatureCollection)"
        };
        self.fatal(message.to_string())
    }

    fn note_crs(&mut self, epsg: u16) {
        match self.summary.crs {
            None => self.summary.crs = Some(epsg),
            Some(known) if known != epsg && !self.mixed_srs_noted => {
                self.mixed_srs_noted = true;
                self.summary.avvisi.push(format!(
                    "{}: il file dichiara più sistemi di riferimento (EPSG:{known} ed EPSG:{epsg}, \
                     riga {}); ogni geometria è letta nel proprio",
                    self.source, self.line
                ));
            }
            Some(_) => {}
        }
    }

    /// Reads an `srsName`; an unknown one is fatal.
    fn srs_from(&mut self, srs: Result<Declared, String>) -> Result<Declared, GmlError> {
        match srs {
            Ok(d) => {
                self.note_crs(d.epsg);
                Ok(d)
            }
            Err(name) => Err(self.fatal(format!(
                "sistema di riferimento sconosciuto srsName=\"{name}\" (supportati: {})",
                crs::SUPPORTED
                    .iter()
                    .map(|(c, _)| format!("EPSG:{c}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        }
    }

    /// The CRS of the coordinates being read: the geometry's, else the feature's envelope,
    /// else the collection's, else EPSG:6706 lat/lon with an avviso.
    fn effective_srs(&mut self) -> Declared {
        if let Some(d) = self.geom_srs.or(self.feature_srs).or(self.collection_srs) {
            return d;
        }
        if !self.default_srs_noted {
            self.default_srs_noted = true;
            self.note_crs(DEFAULT_SRS.epsg);
            self.summary.avvisi.push(format!(
                "{}: nessun srsName dichiarato; si assume EPSG:6706 in ordine latitudine, longitudine \
                 (come scrive l'Agenzia delle Entrate)",
                self.source
            ));
        }
        DEFAULT_SRS
    }

    fn set_problem(&mut self, why: String) {
        if self.problem.is_none() {
            self.problem = Some(why);
        }
    }

    fn begin_capture(&mut self, what: Capture) {
        self.capture = Some(what);
        self.capture_depth = self.depth;
        self.text.clear();
    }

    fn start(&mut self, ns: Ns, local: &[u8], qname: &[u8], attrs: Attrs) -> Result<(), GmlError> {
        let is_feature = ns == Ns::Cp && matches!(local, b"CadastralParcel" | b"CadastralZoning");
        if !self.root_seen {
            self.root_seen = true;
            self.root_name = String::from_utf8_lossy(qname).into_owned();
            let ok = is_feature || (ns == Ns::Wfs && local == b"FeatureCollection");
            if !ok {
                return Err(self.fatal(format!(
                    "l'elemento radice è <{}>, non wfs:FeatureCollection: \
                     il file non è un GML catastale dell'Agenzia delle Entrate",
                    self.root_name
                )));
            }
        } else if self.root_closed {
            return Err(self.outside_root_text());
        }

        let Some(kind) = self.feature else {
            if is_feature {
                self.begin_feature(local, attrs)?;
            } else if let Some(srs) = attrs.srs {
                // The collection's envelope (`wfs:boundedBy/gml:Envelope`).
                let d = self.srs_from(srs)?;
                if self.collection_srs.is_none() {
                    self.collection_srs = Some(d);
                }
            }
            return Ok(());
        };

        if self.geom_depth.is_some() {
            return self.start_geometry(ns, local, attrs);
        }
        if self.depth == self.feature_depth + 1 && ns == Ns::Cp {
            let capture = match (kind, local) {
                (_, b"msGeometry") => {
                    self.geom_depth = Some(self.depth);
                    self.geom_srs = None;
                    self.geom_dim = None;
                    if let Some(srs) = attrs.srs {
                        self.geom_srs = Some(self.srs_from(srs)?);
                    }
                    None
                }
                (_, b"INSPIREID_LOCALID") => Some(Capture::LocalId),
                (_, b"LABEL") => Some(Capture::Label),
                (_, b"ADMINISTRATIVEUNIT") => Some(Capture::AdministrativeUnit),
                (FeatureKind::Parcel, b"NATIONALCADASTRALREFERENCE") => {
                    Some(Capture::ParcelReference)
                }
                (FeatureKind::Zoning, b"NATIONALCADASTRALZONINGREFERENCE") => {
                    Some(Capture::ZoningReference)
                }
                (FeatureKind::Zoning, b"ORIGINALMAPSCALEDENOMINATOR") => Some(Capture::Scale),
                _ => None,
            };
            if let Some(c) = capture {
                self.begin_capture(c);
            }
            return Ok(());
        }
        // The feature's own envelope (`gml:boundedBy/gml:Envelope`) and anything else
        // carrying an srsName outside the geometry.
        if let Some(srs) = attrs.srs {
            let d = self.srs_from(srs)?;
            if self.feature_srs.is_none() {
                self.feature_srs = Some(d);
            }
        }
        Ok(())
    }

    fn begin_feature(&mut self, local: &[u8], attrs: Attrs) -> Result<(), GmlError> {
        self.feature = Some(if local == b"CadastralParcel" {
            FeatureKind::Parcel
        } else {
            FeatureKind::Zoning
        });
        self.feature_depth = self.depth;
        self.feature_line = self.line;
        self.feature_id.clear();
        match attrs.id {
            Some(id) => self.feature_id.push_str(&id),
            None => self.feature_id.push_str("(senza gml:id)"),
        }
        self.feature_srs = None;
        if let Some(srs) = attrs.srs {
            self.feature_srs = Some(self.srs_from(srs)?);
        }
        self.problem = None;
        self.local_id.clear();
        self.label.clear();
        self.parcel_ref.clear();
        self.zoning_ref.clear();
        self.admin_unit.clear();
        self.scale.clear();
        self.geom_depth = None;
        self.geom_srs = None;
        self.geom_dim = None;
        self.role = RingRole::None;
        self.ring.clear();
        self.exterior = None;
        self.interiors.clear();
        self.polygons.clear();
        self.capture = None;
        Ok(())
    }

    fn start_geometry(&mut self, ns: Ns, local: &[u8], attrs: Attrs) -> Result<(), GmlError> {
        if ns != Ns::Gml {
            return Ok(());
        }
        if let Some(srs) = attrs.srs {
            let d = self.srs_from(srs)?;
            if self.geom_srs.is_none() {
                self.geom_srs = Some(d);
            }
        }
        let dim = match attrs.dim {
            Some(Ok(d)) => Some(d),
            Some(Err(v)) => {
                self.set_problem(format!(
                    "srsDimension=\"{v}\" non valido in gml:{} (attesi 2 o 3)",
                    String::from_utf8_lossy(local)
                ));
                None
            }
            None => None,
        };
        match local {
            b"posList" | b"pos" => {
                self.pos_dim = dim.or(self.geom_dim);
                self.begin_capture(if local == b"pos" {
                    Capture::Pos
                } else {
                    Capture::PosList
                });
            }
            b"exterior" | b"outerBoundaryIs" => self.role = RingRole::Exterior,
            b"interior" | b"innerBoundaryIs" => self.role = RingRole::Interior,
            b"LinearRing" => self.ring.clear(),
            b"Polygon" | b"PolygonPatch" => {
                self.exterior = None;
                self.interiors.clear();
                if dim.is_some() {
                    self.geom_dim = dim;
                }
            }
            _ => {
                if dim.is_some() {
                    self.geom_dim = dim;
                }
            }
        }
        Ok(())
    }

    fn end(
        &mut self,
        ns: Ns,
        local: &[u8],
        sink: &mut dyn FnMut(CadastralFeature),
    ) -> Result<(), GmlError> {
        let depth = self.depth;
        if let Some(capture) = self.capture {
            if depth == self.capture_depth {
                self.capture = None;
                self.end_capture(capture)?;
            }
        }
        if let Some(g) = self.geom_depth {
            if depth == g {
                self.geom_depth = None;
            } else if ns == Ns::Gml {
                match local {
                    b"LinearRing" => self.end_ring(),
                    b"Polygon" | b"PolygonPatch" => self.end_polygon(),
                    b"exterior" | b"outerBoundaryIs" | b"interior" | b"innerBoundaryIs" => {
                        self.role = RingRole::None
                    }
                    _ => {}
                }
            }
        }
        if self.feature.is_some() && depth == self.feature_depth {
            self.end_feature(sink);
        }
        if depth == 1 {
            self.root_closed = true;
        }
        Ok(())
    }

    fn end_capture(&mut self, capture: Capture) -> Result<(), GmlError> {
        let field = match capture {
            Capture::PosList | Capture::Pos => return self.end_positions(capture),
            Capture::LocalId => &mut self.local_id,
            Capture::Label => &mut self.label,
            Capture::ParcelReference => &mut self.parcel_ref,
            Capture::ZoningReference => &mut self.zoning_ref,
            Capture::AdministrativeUnit => &mut self.admin_unit,
            Capture::Scale => &mut self.scale,
        };
        field.clear();
        field.push_str(self.text.trim());
        Ok(())
    }

    /// Parses a `gml:posList` or `gml:pos` into the current ring, in lon/lat.
    fn end_positions(&mut self, capture: Capture) -> Result<(), GmlError> {
        self.nums.clear();
        for token in self.text.split_ascii_whitespace() {
            match token.parse::<f64>() {
                Ok(v) if v.is_finite() => self.nums.push(v),
                _ => {
                    let shown: String = token.chars().take(40).collect();
                    let element = if capture == Capture::Pos {
                        "gml:pos"
                    } else {
                        "gml:posList"
                    };
                    return Err(
                        self.fatal(format!("coordinata non numerica \"{shown}\" in {element}"))
                    );
                }
            }
        }
        if self.problem.is_some() {
            return Ok(());
        }
        let dim = match (capture, self.pos_dim) {
            (_, Some(d)) => d,
            (Capture::Pos, None) if self.nums.len() == 3 => 3,
            _ => 2,
        };
        if !self.nums.len().is_multiple_of(dim) {
            self.set_problem(format!(
                "{} numeri in una lista di coordinate di dimensione {dim}: numero di valori non valido",
                self.nums.len()
            ));
            return Ok(());
        }
        if capture == Capture::Pos && self.nums.len() != dim {
            self.set_problem(format!(
                "gml:pos con {} numeri invece di {dim}",
                self.nums.len()
            ));
            return Ok(());
        }
        let srs = self.effective_srs();
        let transform = if crs::is_geographic(srs.epsg) {
            None
        } else {
            Some(self.transform_index(srs.epsg)?)
        };
        self.ring.reserve(self.nums.len() / dim);
        for i in 0..self.nums.len() / dim {
            let (a, b) = match (self.nums.get(i * dim), self.nums.get(i * dim + 1)) {
                (Some(&a), Some(&b)) => (a, b),
                _ => break,
            };
            let (x, y) = match srs.axis {
                AxisOrder::NorthEast => (b, a),
                AxisOrder::EastNorth => (a, b),
            };
            let (lon, lat) = match transform.and_then(|t| self.transforms.get(t)) {
                None => (x, y),
                Some(t) => t.convert(x, y).map_err(|e| {
                    self.fatal(format!("coordinata ({a} {b}) non trasformabile: {e}"))
                })?,
            };
            if !(lon.abs() <= 180.0 && lat.abs() <= 90.0) {
                return Err(self.fatal(format!(
                    "coordinata fuori intervallo ({a} {b}): longitudine {lon}, latitudine {lat} \
                     non sono gradi validi (EPSG:{} dichiarato); valori in metri o sistema di \
                     riferimento sbagliato?",
                    srs.epsg
                )));
            }
            if !self.axes_checked {
                self.axes_checked = true;
                self.check_axes(lon, lat, srs);
            }
            self.ring.push(Coord { x: lon, y: lat });
        }
        Ok(())
    }

    /// A file whose first position, once read, falls in Lombardy only with the axes swapped
    /// was probably written in the other axis order than its srsName says.
    fn check_axes(&mut self, lon: f64, lat: f64, srs: Declared) {
        let (minx, miny, maxx, maxy) = crs::LOMBARDY_BOUNDS;
        let inside = |x: f64, y: f64| (minx..=maxx).contains(&x) && (miny..=maxy).contains(&y);
        if !inside(lon, lat) && inside(lat, lon) {
            self.summary.avvisi.push(format!(
                "{}: la prima coordinata letta (longitudine {lon}, latitudine {lat}, EPSG:{}, \
                 riga {}) cade in Lombardia solo scambiando gli assi: controllare l'ordine \
                 degli assi dichiarato da srsName",
                self.source, srs.epsg, self.line
            ));
        }
    }

    fn transform_index(&mut self, epsg: u16) -> Result<usize, GmlError> {
        if let Some(i) = self.transforms.iter().position(|t| t.epsg() == epsg) {
            return Ok(i);
        }
        let t = ToLonLat::new(epsg)
            .map_err(|e| self.fatal(format!("sistema di riferimento EPSG:{epsg}: {e}")))?;
        self.transforms.push(t);
        Ok(self.transforms.len() - 1)
    }

    fn end_ring(&mut self) {
        if self.problem.is_some() {
            self.ring.clear();
            return;
        }
        if self.ring.len() < 4 {
            self.set_problem(format!(
                "anello con {} posizioni (ne servono almeno 4)",
                self.ring.len()
            ));
            self.ring.clear();
            return;
        }
        let ring = LineString(std::mem::take(&mut self.ring));
        match self.role {
            RingRole::Interior => self.interiors.push(ring),
            RingRole::Exterior | RingRole::None => {
                if self.exterior.is_some() {
                    self.set_problem("poligono con più di un anello esterno".to_string());
                } else {
                    self.exterior = Some(ring);
                }
            }
        }
    }

    fn end_polygon(&mut self) {
        match self.exterior.take() {
            Some(exterior) => {
                let interiors = std::mem::take(&mut self.interiors);
                self.polygons.push(Polygon::new(exterior, interiors));
            }
            None => {
                self.interiors.clear();
                self.set_problem("poligono senza anello esterno".to_string());
            }
        }
    }

    fn skip(&mut self, kind: FeatureKind, why: &str) {
        self.summary.avvisi.push(format!(
            "{}: feature {} gml:id \"{}\" (riga {}) ignorata: {why}",
            self.source,
            kind.element(),
            self.feature_id,
            self.feature_line
        ));
    }

    fn end_feature(&mut self, sink: &mut dyn FnMut(CadastralFeature)) {
        let Some(kind) = self.feature.take() else {
            return;
        };
        self.capture = None;
        self.geom_depth = None;
        if let Some(problem) = self.problem.take() {
            self.skip(kind, &format!("geometria non valida: {problem}"));
            return;
        }
        if self.polygons.is_empty() {
            self.skip(kind, "geometria vuota (CP:msGeometry senza poligoni)");
            return;
        }
        match kind {
            FeatureKind::Parcel => self.emit_parcel(sink),
            FeatureKind::Zoning => self.emit_sheet(sink),
        }
    }

    fn emit_parcel(&mut self, sink: &mut dyn FnMut(CadastralFeature)) {
        let (field, text) = if !self.parcel_ref.is_empty() {
            ("CP:NATIONALCADASTRALREFERENCE", self.parcel_ref.as_str())
        } else {
            ("CP:INSPIREID_LOCALID", strip_inspire_prefix(&self.local_id))
        };
        let Some(parsed) = ParcelRef::parse(text) else {
            let why = if text.is_empty() {
                "riferimento catastale mancante (CP:NATIONALCADASTRALREFERENCE e CP:INSPIREID_LOCALID vuoti)"
                    .to_string()
            } else {
                format!("riferimento catastale non valido \"{text}\" in {field}")
            };
            self.skip(FeatureKind::Parcel, &why);
            return;
        };
        let particella = if self.label.is_empty() {
            parsed.particella.clone()
        } else {
            self.label.clone()
        };
        let belfiore = if self.admin_unit.is_empty() {
            parsed.sheet.belfiore.clone()
        } else {
            self.admin_unit.to_ascii_uppercase()
        };
        let geometry = MultiPolygon(std::mem::take(&mut self.polygons));
        let parcel = Particella {
            riferimento: format!("{}.{}", parsed.sheet, parsed.particella),
            belfiore,
            sezione: parsed.sheet.sezione.clone(),
            foglio: parsed.sheet.foglio_key(),
            particella,
            geometry,
        };
        self.summary.particelle += 1;
        sink(CadastralFeature::Particella(parcel));
    }

    fn emit_sheet(&mut self, sink: &mut dyn FnMut(CadastralFeature)) {
        let (field, text) = if !self.zoning_ref.is_empty() {
            (
                "CP:NATIONALCADASTRALZONINGREFERENCE",
                self.zoning_ref.as_str(),
            )
        } else {
            ("CP:INSPIREID_LOCALID", strip_inspire_prefix(&self.local_id))
        };
        let Some(sheet) = SheetRef::parse(text) else {
            let why = if text.is_empty() {
                "riferimento del foglio mancante (CP:NATIONALCADASTRALZONINGREFERENCE vuoto)"
                    .to_string()
            } else {
                format!("riferimento del foglio non valido \"{text}\" in {field}")
            };
            self.skip(FeatureKind::Zoning, &why);
            return;
        };
        let scala = if self.scale.is_empty() {
            None
        } else {
            let parsed = self.scale.parse::<u32>().ok().or_else(|| {
                self.scale
                    .replace(',', ".")
                    .parse::<f64>()
                    .ok()
                    .filter(|v| v.is_finite() && *v >= 1.0 && *v <= f64::from(u32::MAX))
                    .map(|v| v.round() as u32)
            });
            if parsed.is_none() {
                self.summary.avvisi.push(format!(
                    "{}: feature CP:CadastralZoning gml:id \"{}\" (riga {}): \
                     CP:ORIGINALMAPSCALEDENOMINATOR \"{}\" non numerico, scala ignorata",
                    self.source, self.feature_id, self.feature_line, self.scale
                ));
            }
            parsed
        };
        let belfiore = if self.admin_unit.is_empty() {
            sheet.belfiore.clone()
        } else {
            self.admin_unit.to_ascii_uppercase()
        };
        let geometry = MultiPolygon(std::mem::take(&mut self.polygons));
        let foglio = Foglio {
            riferimento: sheet.to_string(),
            belfiore,
            sezione: sheet.sezione.clone(),
            foglio: sheet.foglio_key(),
            scala,
            geometry,
        };
        self.summary.fogli += 1;
        sink(CadastralFeature::Foglio(foglio));
    }

    fn finish(self) -> Result<GmlSummary, GmlError> {
        if !self.root_seen {
            return Err(self.fatal(
                "il file è vuoto o non è un documento XML: atteso un GML del catasto \
                 (wfs:FeatureCollection)"
                    .to_string(),
            ));
        }
        if !self.root_closed {
            return Err(self.fatal(format!(
                "XML troncato: il file finisce prima della chiusura di <{}> \
                 (scaricamento o copia incompleta?)",
                self.root_name
            )));
        }
        // A cadastral file with no parcel and no sheet is a failed export or download, not a
        // comune without a map: stop rather than build an Ambito with a hole in it.
        if self.summary.particelle == 0 && self.summary.fogli == 0 && self.summary.avvisi.is_empty()
        {
            return Err(self.fatal(
                "nessuna particella (CP:CadastralParcel) né foglio (CP:CadastralZoning): \
                 layer vuoto, probabilmente un download o un'esportazione incompleta"
                    .to_string(),
            ));
        }
        Ok(self.summary)
    }
}

/// `IT.AGE.PLA.A000W000200.STRADA001` → `A000W000200.STRADA001`.
fn strip_inspire_prefix(local_id: &str) -> &str {
    let t = local_id.trim();
    match t.strip_prefix("IT.AGE.") {
        Some(rest) => match rest.split_once('.') {
            Some((_, tail)) => tail,
            None => rest,
        },
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(xml: &str) -> Result<(GmlSummary, Vec<CadastralFeature>), GmlError> {
        let mut out = Vec::new();
        let summary = read_gml(xml.as_bytes(), "test.gml", &mut |f| out.push(f))?;
        Ok((summary, out))
    }

    #[test]
    fn inspire_prefix_is_stripped() {
        assert_eq!(
            strip_inspire_prefix("IT.AGE.PLA.A000W000200.STRADA001"),
            "A000W000200.STRADA001"
        );
        assert_eq!(
            strip_inspire_prefix("IT.AGE.MAP.C800_001300"),
            "C800_001300"
        );
        assert_eq!(strip_inspire_prefix("C800_001300.1"), "C800_001300.1");
    }

    #[test]
    fn prefixes_do_not_matter_only_namespaces() {
        let xml = r#"<a:FeatureCollection xmlns:a="http://www.opengis.net/wfs/2.0" xmlns:g="http://www.opengis.net/gml/3.2" xmlns:m="http://mapserver.gis.umn.edu/mapserver">
 <a:member><m:CadastralParcel g:id="p1"><m:msGeometry><g:Polygon srsName="urn:ogc:def:crs:EPSG::6706"><g:exterior><g:LinearRing>
 <g:posList>45 9 45 9.001 45.001 9.001 45 9</g:posList></g:LinearRing></g:exterior></g:Polygon></m:msGeometry>
 <m:LABEL>7</m:LABEL><m:NATIONALCADASTRALREFERENCE>C800_001300.7</m:NATIONALCADASTRALREFERENCE><m:ADMINISTRATIVEUNIT>C800</m:ADMINISTRATIVEUNIT>
 </m:CadastralParcel></a:member></a:FeatureCollection>"#;
        let (summary, features) = read(xml).expect("valid");
        assert_eq!(summary.particelle, 1);
        assert_eq!(summary.crs, Some(6706));
        let CadastralFeature::Particella(p) = &features[0] else {
            panic!("parcel expected");
        };
        assert_eq!(p.foglio, "13");
        assert_eq!(p.particella, "7");
        let first = p.geometry.0[0].exterior().0[0];
        assert_eq!((first.x, first.y), (9.0, 45.0));
    }

    #[test]
    fn wrong_namespace_is_not_a_feature() {
        let xml = r#"<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:CP="urn:other">
 <wfs:member><CP:CadastralParcel/></wfs:member></wfs:FeatureCollection>"#;
        // Nothing in the cadastral namespace: no feature, so the file counts as empty.
        let msg = read(xml).expect_err("no cadastral feature").to_string();
        assert!(msg.contains("vuoto"), "{msg}");
    }

    #[test]
    fn entities_in_labels_are_resolved() {
        let xml = r#"<CP:CadastralParcel xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2" gml:id="x">
 <CP:msGeometry><gml:Polygon srsName="EPSG:4326"><gml:exterior><gml:LinearRing>
 <gml:pos>9 45</gml:pos><gml:pos>9.001 45</gml:pos><gml:pos>9.001 45.001</gml:pos><gml:pos>9 45</gml:pos>
 </gml:LinearRing></gml:exterior></gml:Polygon></CP:msGeometry>
 <CP:LABEL>A&amp;B</CP:LABEL><CP:NATIONALCADASTRALREFERENCE>C800_001300.A&amp;B</CP:NATIONALCADASTRALREFERENCE>
 </CP:CadastralParcel>"#;
        let (_, features) = read(xml).expect("valid");
        let CadastralFeature::Particella(p) = &features[0] else {
            panic!("parcel expected");
        };
        assert_eq!(p.particella, "A&B");
        assert_eq!(p.belfiore, "C800");
        let first = p.geometry.0[0].exterior().0[0];
        assert_eq!((first.x, first.y), (9.0, 45.0));
    }

    #[test]
    fn truncated_inside_a_tag_names_the_feature() {
        let xml = r#"<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0" xmlns:CP="http://mapserver.gis.umn.edu/mapserver" xmlns:gml="http://www.opengis.net/gml/3.2">
 <wfs:member><CP:CadastralParcel gml:id="p9"><CP:msGe"#;
        let msg = read(xml).expect_err("truncated").to_string();
        assert!(msg.starts_with("test.gml: "), "{msg}");
        assert!(msg.contains("troncato") && msg.contains("\"p9\""), "{msg}");
    }

    #[test]
    fn mismatched_tags_and_empty_collection() {
        let bad = r#"<wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"><wfs:member></wfs:FeatureCollection>"#;
        let msg = read(bad).expect_err("ill-formed").to_string();
        assert!(msg.contains("XML non valido"), "{msg}");
        let empty = r#"<?xml version="1.0"?><wfs:FeatureCollection xmlns:wfs="http://www.opengis.net/wfs/2.0"/>"#;
        let msg = read(empty).expect_err("empty layer").to_string();
        assert!(
            msg.starts_with("test.gml: ") && msg.contains("vuoto"),
            "{msg}"
        );
    }
}
