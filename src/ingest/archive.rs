//! Cadastral GML as downloaded from the Agenzia delle Entrate (FORMATS.md §1): a province ZIP
//! of per-comune ZIPs, a ZIP of GML files, a folder of GML files and/or such ZIPs, or a single
//! GML/WFS answer.
//!
//! Every GML entry is streamed through [`gml::read_gml`]; nothing is unpacked to disk. A nested
//! (per-comune) ZIP is read into memory — it is small — and its GML entries are streamed from
//! there. Entries and files whose name starts with a Belfiore code (`C800_CLUSONE.zip`,
//! `C800_CLUSONE_ple.gml`) are skipped before any parsing when the caller does not want that
//! comune; features are filtered on their own Belfiore code as well, so files without such a
//! prefix (a WFS answer) are filtered feature by feature.
//!
//! Archives are untrusted: the uncompressed size of each entry and of the whole input is
//! bounded, as is the compression ratio of large entries (zip bombs), and every error names the
//! entry as `provincia.zip!C800_CLUSONE.zip!C800_CLUSONE_ple.gml`.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use std::path::{Path, PathBuf};

use thiserror::Error;
use zip::result::ZipError;
use zip::ZipArchive;

use super::gml::{self, CadastralFeature, GmlError, GmlSummary};

/// Separator between an archive and an entry in the names used in messages.
pub const NESTING_SEPARATOR: char = '!';

const GIB: u64 = 1024 * 1024 * 1024;
const MIB: u64 = 1024 * 1024;

/// Safety limits on what archives may expand to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveOptions {
    /// Largest uncompressed size of one entry (a GML or a nested ZIP).
    pub max_entry_bytes: u64,
    /// Largest uncompressed size of everything read from archives, in total.
    pub max_total_bytes: u64,
    /// Largest compression ratio (uncompressed / compressed) accepted …
    pub max_ratio: u64,
    /// … for entries larger than this (small entries may compress very well legitimately).
    pub ratio_min_bytes: u64,
    /// Deepest nesting of ZIPs inside ZIPs (province → comune is 2).
    pub max_depth: usize,
}

impl Default for ArchiveOptions {
    fn default() -> Self {
        ArchiveOptions {
            max_entry_bytes: 2 * GIB,
            max_total_bytes: 50 * GIB,
            max_ratio: 200,
            ratio_min_bytes: 64 * MIB,
            max_depth: 4,
        }
    }
}

/// What [`read_cadastre`] read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ArchiveSummary {
    /// GML files or entries parsed.
    pub files_read: usize,
    /// Belfiore codes of the comuni whose files or archives were skipped unread, sorted.
    pub comuni_skipped: Vec<String>,
    /// Features dropped because their comune was not wanted, by Belfiore code.
    pub features_skipped: BTreeMap<String, usize>,
    /// One summary per GML parsed, in reading order.
    pub gml: Vec<GmlSummary>,
    /// Files and entries ignored (not GML, not ZIP), with the reason, in Italian.
    pub ignored: Vec<String>,
    /// The files on disk that were opened (archives, GML files), for the input record.
    pub files: Vec<PathBuf>,
    /// Uncompressed bytes read from archives and files.
    pub bytes: u64,
}

#[derive(Debug, Error)]
pub enum ArchiveError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// A corrupt or unreadable archive, or an entry that is not what its name says.
    #[error("{name}: {message}")]
    Invalid { name: String, message: String },
    /// An entry larger, once decompressed, than the per-entry limit (bytes).
    #[error(
        "{name}: voce troppo grande una volta decompressa ({} MB, limite {} MB): rifiutata",
        size / 1_000_000,
        max / 1_000_000
    )]
    TooLarge { name: String, size: u64, max: u64 },
    /// The archives' decompressed content beyond the overall limit (bytes).
    #[error(
        "{name}: il contenuto decompresso degli archivi supera il limite complessivo di {} MB: \
         rifiutato",
        max / 1_000_000
    )]
    TotalTooLarge { name: String, max: u64 },
    /// A compression ratio beyond the limit: a likely zip bomb.
    #[error(
        "{name}: rapporto di compressione anomalo ({ratio}:1 su {} MB, limite {max}:1): \
         possibile «zip bomb», rifiutata",
        size / 1_000_000
    )]
    RatioExceeded {
        name: String,
        /// Decompressed bytes over compressed bytes.
        ratio: u64,
        /// Decompressed bytes.
        size: u64,
        max: u64,
    },
    /// ZIP archives nested deeper than the limit.
    #[error("{name}: archivi ZIP annidati oltre {max} livelli: rifiutato")]
    TooDeep { name: String, max: usize },
    #[error(transparent)]
    Gml(#[from] GmlError),
    #[error(
        "{path}: nessun file GML trovato (attesi *_ple.gml / *_map.gml, anche dentro archivi ZIP)"
    )]
    NoFiles { path: PathBuf },
}

impl ArchiveError {
    /// The file or nested entry the error is about.
    pub fn name(&self) -> String {
        match self {
            ArchiveError::Io { path, .. } | ArchiveError::NoFiles { path } => {
                path.display().to_string()
            }
            ArchiveError::Invalid { name, .. }
            | ArchiveError::TooLarge { name, .. }
            | ArchiveError::TotalTooLarge { name, .. }
            | ArchiveError::RatioExceeded { name, .. }
            | ArchiveError::TooDeep { name, .. } => name.clone(),
            ArchiveError::Gml(GmlError::Io { path, .. }) => path.display().to_string(),
            ArchiveError::Gml(
                GmlError::Invalid { source_name, .. } | GmlError::TextTooLarge { source_name, .. },
            ) => source_name.clone(),
        }
    }
}

/// Reads every cadastral GML in `path` (see the module documentation for the layouts) with
/// the default [`ArchiveOptions`]. `keep_belfiore` says whether a comune is wanted; `sink`
/// receives each wanted feature with the name of the file or entry it came from.
pub fn read_cadastre(
    path: &Path,
    keep_belfiore: &dyn Fn(&str) -> bool,
    sink: &mut dyn FnMut(&str, CadastralFeature),
) -> Result<ArchiveSummary, ArchiveError> {
    read_cadastre_with(path, &ArchiveOptions::default(), keep_belfiore, sink)
}

/// [`read_cadastre`] with explicit limits.
pub fn read_cadastre_with(
    path: &Path,
    options: &ArchiveOptions,
    keep_belfiore: &dyn Fn(&str) -> bool,
    sink: &mut dyn FnMut(&str, CadastralFeature),
) -> Result<ArchiveSummary, ArchiveError> {
    let mut reader = Reader {
        options,
        keep: keep_belfiore,
        sink,
        summary: ArchiveSummary::default(),
        skipped: BTreeSet::new(),
        gml_seen: 0,
    };
    let meta = fs::metadata(path).map_err(|source| ArchiveError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if meta.is_dir() {
        for file in walk(path)? {
            reader.disk_file(&file)?;
        }
    } else {
        reader.disk_file(path)?;
    }
    if reader.gml_seen == 0 {
        return Err(ArchiveError::NoFiles {
            path: path.to_path_buf(),
        });
    }
    let mut summary = reader.summary;
    summary.comuni_skipped = reader.skipped.into_iter().collect();
    Ok(summary)
}

/// The Belfiore code a file or entry name starts with (`C800_…`, `l938_…`), upper-cased.
pub fn belfiore_prefix(name: &str) -> Option<String> {
    let base = base_name(name);
    let b = base.as_bytes();
    let ok = b.len() > 5
        && b[0].is_ascii_alphabetic()
        && b[1..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'_';
    ok.then(|| base[..4].to_ascii_uppercase())
}

fn base_name(name: &str) -> &str {
    name.rsplit(['/', '\\']).next().unwrap_or(name)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gml,
    Zip,
    Other,
}

fn kind_of(name: &str) -> Kind {
    let lower = base_name(name).to_ascii_lowercase();
    if lower.ends_with(".gml") {
        Kind::Gml
    } else if lower.ends_with(".zip") {
        Kind::Zip
    } else {
        Kind::Other
    }
}

/// Every `.gml` and `.zip` file under `dir`, recursively, sorted by path.
fn walk(dir: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    let io_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ArchiveError::Io { path, source }
    };
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).map_err(io_err(&d))? {
            let p = entry.map_err(io_err(&d))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if kind_of(&p.to_string_lossy()) != Kind::Other {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

struct Reader<'a> {
    options: &'a ArchiveOptions,
    keep: &'a dyn Fn(&str) -> bool,
    sink: &'a mut dyn FnMut(&str, CadastralFeature),
    summary: ArchiveSummary,
    skipped: BTreeSet<String>,
    /// GML files and entries found, read or skipped.
    gml_seen: usize,
}

impl Reader<'_> {
    /// Whether a file or entry named with a Belfiore prefix is wanted; notes it if not.
    fn wanted(&mut self, name: &str) -> bool {
        match belfiore_prefix(name) {
            Some(b) if !(self.keep)(&b) => {
                self.skipped.insert(b);
                false
            }
            _ => true,
        }
    }

    /// A file on disk: a ZIP (by extension or content) or a GML (any other name, so that a
    /// WFS answer saved as `.xml` named by the project is read too).
    fn disk_file(&mut self, path: &Path) -> Result<(), ArchiveError> {
        let name = path.display().to_string();
        let io_err = |source| ArchiveError::Io {
            path: path.to_path_buf(),
            source,
        };
        if !self.wanted(&name) {
            self.gml_seen += 1;
            return Ok(());
        }
        let mut file = File::open(path).map_err(io_err)?;
        let mut magic = [0u8; 2];
        let n = read_up_to(&mut file, &mut magic).map_err(io_err)?;
        file.rewind().map_err(io_err)?;
        self.summary.files.push(path.to_path_buf());
        if kind_of(&name) == Kind::Zip || magic.get(..n) == Some(b"PK".as_slice()) {
            let archive = open_zip(BufReader::with_capacity(256 * 1024, file), &name, "il file")?;
            return self.zip(archive, &name, 1);
        }
        self.gml_seen += 1;
        let budget = Budget::new(
            self.options.max_entry_bytes,
            self.options
                .max_total_bytes
                .saturating_sub(self.summary.bytes),
            None,
            self.options,
        );
        let counted = Counted {
            inner: file,
            budget: &budget,
        };
        let result = self.parse(BufReader::with_capacity(256 * 1024, counted), &name);
        self.summary.bytes += budget.read.get();
        budget.check(&name)?;
        result
    }

    /// Parses one GML stream, filtering its features on their comune.
    fn parse<R: BufRead>(&mut self, reader: R, name: &str) -> Result<(), ArchiveError> {
        let keep = self.keep;
        let sink = &mut *self.sink;
        let skipped = &mut self.summary.features_skipped;
        let gml = gml::read_gml(reader, name, &mut |f| {
            let belfiore = match &f {
                CadastralFeature::Particella(p) => &p.belfiore,
                CadastralFeature::Foglio(s) => &s.belfiore,
            };
            if keep(belfiore) {
                sink(name, f);
            } else {
                *skipped.entry(belfiore.clone()).or_default() += 1;
            }
        })?;
        self.summary.files_read += 1;
        self.summary.gml.push(gml);
        Ok(())
    }

    /// Every entry of an open archive named `name` (already nested `depth` levels deep).
    fn zip<R: Read + Seek>(
        &mut self,
        mut archive: ZipArchive<R>,
        name: &str,
        depth: usize,
    ) -> Result<(), ArchiveError> {
        for index in 0..archive.len() {
            let entry = archive.by_index(index).map_err(|e| {
                zip_error(
                    name,
                    &format!(
                        "archivio ZIP corrotto o troncato: voce n. {} illeggibile",
                        index + 1
                    ),
                    e,
                )
            })?;
            if entry.is_dir() {
                continue;
            }
            let entry_name = entry.name().to_string();
            let full = format!("{name}{NESTING_SEPARATOR}{entry_name}");
            let base = base_name(&entry_name);
            if entry_name.starts_with("__MACOSX/") || base.starts_with("._") {
                self.summary
                    .ignored
                    .push(format!("{full}: metadati macOS, ignorato"));
                continue;
            }
            let kind = kind_of(&entry_name);
            if kind == Kind::Other {
                self.summary
                    .ignored
                    .push(format!("{full}: né GML né ZIP, ignorato"));
                continue;
            }
            self.gml_seen += usize::from(kind == Kind::Gml);
            if !self.wanted(&entry_name) {
                self.gml_seen += usize::from(kind == Kind::Zip);
                continue;
            }
            if entry.encrypted() {
                return Err(ArchiveError::Invalid {
                    name: full,
                    message: "voce cifrata (protetta da password): non leggibile".into(),
                });
            }
            self.check_declared(&full, entry.size(), entry.compressed_size())?;
            let budget = Budget::new(
                self.options.max_entry_bytes,
                self.options
                    .max_total_bytes
                    .saturating_sub(self.summary.bytes),
                Some(entry.compressed_size()),
                self.options,
            );
            match kind {
                Kind::Gml => {
                    let counted = Counted {
                        inner: entry,
                        budget: &budget,
                    };
                    let result = self.parse(BufReader::with_capacity(256 * 1024, counted), &full);
                    self.summary.bytes += budget.read.get();
                    budget.check(&full)?;
                    result?;
                }
                _ => {
                    if depth >= self.options.max_depth {
                        return Err(ArchiveError::TooDeep {
                            name: full,
                            max: self.options.max_depth,
                        });
                    }
                    let capacity = usize::try_from(entry.size().min(256 * MIB)).unwrap_or(0);
                    let mut bytes = Vec::with_capacity(capacity);
                    let mut counted = Counted {
                        inner: entry,
                        budget: &budget,
                    };
                    let read = counted.read_to_end(&mut bytes);
                    self.summary.bytes += budget.read.get();
                    budget.check(&full)?;
                    read.map_err(|e| ArchiveError::Invalid {
                        name: full.clone(),
                        message: format!("lettura dell'archivio non riuscita: {e}"),
                    })?;
                    let inner = open_zip(Cursor::new(bytes), &full, "la voce")?;
                    self.zip(inner, &full, depth + 1)?;
                }
            }
        }
        Ok(())
    }

    /// Rejects an entry whose declared sizes exceed the limits.
    fn check_declared(&self, name: &str, size: u64, compressed: u64) -> Result<(), ArchiveError> {
        let o = self.options;
        if size > o.max_entry_bytes {
            return Err(limit_entry(name, size, o.max_entry_bytes));
        }
        if self.summary.bytes.saturating_add(size) > o.max_total_bytes {
            return Err(limit_total(name, o.max_total_bytes));
        }
        if size > o.ratio_min_bytes && size / compressed.max(1) > o.max_ratio {
            return Err(limit_ratio(name, size, compressed, o.max_ratio));
        }
        Ok(())
    }
}

/// Opens a ZIP; `what` is "il file" or "la voce" for the message.
fn open_zip<R: Read + Seek>(
    reader: R,
    name: &str,
    what: &str,
) -> Result<ZipArchive<R>, ArchiveError> {
    let archive = ZipArchive::new(reader).map_err(|e| match e {
        ZipError::Io(io) => ArchiveError::Invalid {
            name: name.to_string(),
            message: format!("{what} non è un archivio ZIP leggibile: {io}"),
        },
        other => zip_error(
            name,
            &format!("{what} non è un archivio ZIP valido (corrotto o troncato?)"),
            other,
        ),
    })?;
    // A truncated archive can end inside a stored inner ZIP, whose directory is then found in
    // place of the outer one: its offsets do not match where it lies.
    if archive.offset() != 0 {
        return Err(ArchiveError::Invalid {
            name: name.to_string(),
            message: format!(
                "{what} non è un archivio ZIP valido (corrotto o troncato?): \
                 la directory centrale non corrisponde all'inizio del file"
            ),
        });
    }
    Ok(archive)
}

fn zip_error(name: &str, message: &str, e: ZipError) -> ArchiveError {
    ArchiveError::Invalid {
        name: name.to_string(),
        message: format!("{message}: {e}"),
    }
}

/// Reads as many bytes as fit in `buf`, fewer only at the end of the stream.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

fn limit_entry(name: &str, size: u64, max: u64) -> ArchiveError {
    ArchiveError::TooLarge {
        name: name.to_string(),
        size,
        max,
    }
}

fn limit_total(name: &str, max: u64) -> ArchiveError {
    ArchiveError::TotalTooLarge {
        name: name.to_string(),
        max,
    }
}

fn limit_ratio(name: &str, size: u64, compressed: u64, max: u64) -> ArchiveError {
    ArchiveError::RatioExceeded {
        name: name.to_string(),
        ratio: size / compressed.max(1),
        size,
        max,
    }
}

/// What one entry may still expand to; updated as bytes are read.
struct Budget {
    max_entry: u64,
    max_total: u64,
    compressed: Option<u64>,
    max_ratio: u64,
    ratio_min: u64,
    read: Cell<u64>,
    /// The limit crossed, if any (checked after reading, so the message is the limit's).
    crossed: Cell<Option<Crossed>>,
}

#[derive(Debug, Clone, Copy)]
enum Crossed {
    Entry,
    Total,
    Ratio,
}

impl Budget {
    fn new(
        max_entry: u64,
        max_total: u64,
        compressed: Option<u64>,
        options: &ArchiveOptions,
    ) -> Budget {
        Budget {
            max_entry,
            max_total,
            compressed,
            max_ratio: options.max_ratio,
            ratio_min: options.ratio_min_bytes,
            read: Cell::new(0),
            crossed: Cell::new(None),
        }
    }

    fn add(&self, n: usize) -> io::Result<()> {
        let read = self.read.get().saturating_add(n as u64);
        self.read.set(read);
        let crossed = if read > self.max_entry {
            Some(Crossed::Entry)
        } else if read > self.max_total {
            Some(Crossed::Total)
        } else {
            match self.compressed {
                Some(c) if read > self.ratio_min && read / c.max(1) > self.max_ratio => {
                    Some(Crossed::Ratio)
                }
                _ => None,
            }
        };
        match crossed {
            None => Ok(()),
            Some(c) => {
                self.crossed.set(Some(c));
                Err(io::Error::other("limite di decompressione superato"))
            }
        }
    }

    fn check(&self, name: &str) -> Result<(), ArchiveError> {
        match self.crossed.get() {
            None => Ok(()),
            Some(Crossed::Entry) => Err(limit_entry(name, self.read.get(), self.max_entry)),
            Some(Crossed::Total) => Err(limit_total(name, self.max_total)),
            Some(Crossed::Ratio) => Err(limit_ratio(
                name,
                self.read.get(),
                self.compressed.unwrap_or(0),
                self.max_ratio,
            )),
        }
    }
}

/// A reader that charges what it reads to a [`Budget`] and fails once it is spent.
struct Counted<'b, R> {
    inner: R,
    budget: &'b Budget,
}

impl<R: Read> Read for Counted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.budget.add(n)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn belfiore_prefixes() {
        assert_eq!(
            belfiore_prefix("C800_CLUSONE_ple.gml").as_deref(),
            Some("C800")
        );
        assert_eq!(
            belfiore_prefix("dir/l938_VILLA D'OGNA.zip").as_deref(),
            Some("L938")
        );
        assert_eq!(belfiore_prefix("wfs_answer.gml"), None);
        assert_eq!(belfiore_prefix("C80_X.gml"), None);
        assert_eq!(belfiore_prefix("C800_"), None);
    }
}
