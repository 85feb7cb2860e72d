//! The PGT field mapping: which source layers are read, which field holds the zone class and
//! which values mean which abitare class. The Regione Lombardia schema is built in
//! (`data/pgt_mappatura_regionale.toml`); a user file extends or replaces it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use thiserror::Error;

use crate::model::normalize::strip_accent;
use crate::model::ClasseZona;

/// The built-in mapping of the regional schema.
const REGIONALE: &str = include_str!("../../../data/pgt_mappatura_regionale.toml");

/// Name the built-in mapping goes by in messages.
const REGIONALE_NOME: &str = "mappatura regionale predefinita";

#[derive(Debug, Error)]
pub enum MappaturaError {
    #[error("mappatura PGT {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Not TOML, or a key of the wrong type or not known.
    #[error("mappatura PGT {origine}: file TOML non valido: {message}")]
    Toml { origine: String, message: String },
    /// A key with a value abitare cannot use.
    #[error("mappatura PGT {origine}: chiave {chiave}: {message}")]
    Key {
        origine: String,
        chiave: String,
        message: String,
    },
}

/// What a matched value (or a whole layer) becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destinazione {
    Zona(ClasseZona),
    /// A constraint; with the kind named in the mapping (`vincolo:cimiteriale`), or taking it
    /// from the layer's `codice_vincolo` fields (`vincolo`).
    Vincolo(Option<String>),
}

impl Destinazione {
    fn parse(s: &str) -> Option<Destinazione> {
        let t = s.trim();
        if t == "vincolo" {
            return Some(Destinazione::Vincolo(None));
        }
        if let Some(kind) = t.strip_prefix("vincolo:") {
            let kind = kind.trim();
            return (!kind.is_empty()).then(|| Destinazione::Vincolo(Some(kind.to_string())));
        }
        ClasseZona::ALL
            .into_iter()
            .find(|c| c.code() == t)
            .map(Destinazione::Zona)
    }
}

fn classes_list() -> String {
    let mut list: Vec<&str> = ClasseZona::ALL.iter().map(|c| c.code()).collect();
    list.push("vincolo");
    list.push("vincolo:<tipo>");
    list.join(", ")
}

/// The rule for one kind of source layer.
#[derive(Debug, Clone)]
pub struct RegolaLayer {
    /// Layer names or globs (`*VINCOL*`), upper case.
    nomi: Vec<String>,
    /// The class of every feature, or of those whose value no rule matches.
    pub classe: Option<Destinazione>,
    /// The field holding the class.
    pub campo: Option<String>,
    /// Exact values (normalised) → class.
    valori: BTreeMap<String, Destinazione>,
    /// Patterns (normalised) → class; the longest matching one wins.
    contiene: Vec<(String, Destinazione)>,
    inizia: Vec<(String, Destinazione)>,
    pub legenda: Vec<String>,
    pub legenda_unisci: bool,
    pub destinazione: Vec<String>,
    pub comune: Option<Vec<String>>,
    pub istat: Option<Vec<String>>,
    pub codice_vincolo: Vec<String>,
    pub nome_vincolo: Vec<String>,
    pub codifica: Option<&'static encoding_rs::Encoding>,
    /// Where the rule was written, for messages (`layer[2]` of which file).
    pub origine: String,
}

impl RegolaLayer {
    fn matches(&self, name: &str) -> bool {
        let upper = name.trim().to_uppercase();
        self.nomi.iter().any(|g| glob_match(g, &upper))
    }

    /// The class of a value of [`RegolaLayer::campo`]; `None` when nothing maps it.
    pub fn classify(&self, value: Option<&str>) -> Option<Destinazione> {
        let key = normalize(value.unwrap_or(""));
        if let Some(d) = self.valori.get(&key) {
            return Some(d.clone());
        }
        let best = |list: &[(String, Destinazione)], hit: &dyn Fn(&str) -> bool| {
            list.iter()
                .filter(|(p, _)| hit(p))
                .max_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| b.0.cmp(&a.0)))
                .map(|(_, d)| d.clone())
        };
        if !key.is_empty() {
            if let Some(d) = best(&self.inizia, &|p| key.starts_with(p)) {
                return Some(d);
            }
            if let Some(d) = best(&self.contiene, &|p| key.contains(p)) {
                return Some(d);
            }
        }
        self.classe.clone()
    }
}

/// A complete mapping: defaults and the layer rules, in the order they are tried.
#[derive(Debug, Clone)]
pub struct Mappatura {
    /// Where it comes from (a path, or the built-in one).
    pub origine: String,
    pub codifica: &'static encoding_rs::Encoding,
    pub comune: Vec<String>,
    pub istat: Vec<String>,
    pub layers: Vec<RegolaLayer>,
}

impl Mappatura {
    /// The built-in mapping of the regional schema.
    pub fn regionale() -> Result<Mappatura, MappaturaError> {
        let file = parse_file(REGIONALE, REGIONALE_NOME)?;
        Mappatura::base(file, REGIONALE_NOME)
    }

    /// Reads a user mapping file; it extends the regional mapping unless it says
    /// `modo = "sostituisci"`.
    pub fn from_file(path: &Path) -> Result<Mappatura, MappaturaError> {
        let text = std::fs::read_to_string(path).map_err(|source| MappaturaError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mappatura::from_toml(&text, &path.display().to_string())
    }

    /// Parses a user mapping given as text; `origine` names it in messages.
    pub fn from_toml(text: &str, origine: &str) -> Result<Mappatura, MappaturaError> {
        let file = parse_file(text, origine)?;
        let modo = file.modo.as_deref().map(str::trim).unwrap_or("estendi");
        match modo {
            "sostituisci" => Mappatura::base(file, origine),
            "estendi" => {
                let base = Mappatura::regionale()?;
                let codifica = match &file.codifica {
                    Some(label) => encoding("codifica", label, origine)?,
                    None => base.codifica,
                };
                let mut layers = rules(&file.layer, origine)?;
                layers.extend(base.layers);
                Ok(Mappatura {
                    origine: origine.to_string(),
                    codifica,
                    comune: file.comune.unwrap_or(base.comune),
                    istat: file.istat.unwrap_or(base.istat),
                    layers,
                })
            }
            other => Err(MappaturaError::Key {
                origine: origine.to_string(),
                chiave: "modo".into(),
                message: format!("valore «{other}» non ammesso (ammessi: estendi, sostituisci)"),
            }),
        }
    }

    fn base(file: FileMappatura, origine: &str) -> Result<Mappatura, MappaturaError> {
        let codifica = match &file.codifica {
            Some(label) => encoding("codifica", label, origine)?,
            None => encoding_rs::WINDOWS_1252,
        };
        Ok(Mappatura {
            origine: origine.to_string(),
            codifica,
            layers: rules(&file.layer, origine)?,
            comune: file.comune.unwrap_or_default(),
            istat: file.istat.unwrap_or_default(),
        })
    }

    /// The first rule whose names match one of `names` (tried in order), with the name matched.
    pub fn rule_for<'a>(&self, names: &[&'a str]) -> Option<(&RegolaLayer, &'a str)> {
        names.iter().find_map(|name| {
            self.layers
                .iter()
                .find(|r| r.matches(name))
                .map(|r| (r, *name))
        })
    }
}

/// The TOML file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMappatura {
    modo: Option<String>,
    codifica: Option<String>,
    comune: Option<Vec<String>>,
    istat: Option<Vec<String>>,
    #[serde(default)]
    layer: Vec<FileLayer>,
}

/// One `[[layer]]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    nomi: Nomi,
    classe: Option<String>,
    campo: Option<String>,
    #[serde(default)]
    valori: BTreeMap<String, String>,
    #[serde(default)]
    contiene: BTreeMap<String, String>,
    #[serde(default)]
    inizia: BTreeMap<String, String>,
    #[serde(default)]
    legenda: Campi,
    #[serde(default)]
    legenda_unisci: bool,
    #[serde(default)]
    destinazione: Campi,
    comune: Option<Campi>,
    istat: Option<Campi>,
    #[serde(default)]
    codice_vincolo: Campi,
    #[serde(default)]
    nome_vincolo: Campi,
    codifica: Option<String>,
}

/// One name or a list.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Nomi {
    Uno(String),
    Molti(Vec<String>),
}

/// One field name or a list, in order of preference.
#[derive(Debug, Default, Deserialize)]
#[serde(untagged)]
enum Campi {
    #[default]
    Nessuno,
    Uno(String),
    Molti(Vec<String>),
}

impl Campi {
    fn to_vec(&self) -> Vec<String> {
        match self {
            Campi::Nessuno => &[][..],
            Campi::Uno(s) => std::slice::from_ref(s),
            Campi::Molti(v) => v.as_slice(),
        }
        .iter()
        .map(|s| s.trim().to_uppercase())
        .filter(|s| !s.is_empty())
        .collect()
    }
}

fn parse_file(text: &str, origine: &str) -> Result<FileMappatura, MappaturaError> {
    toml::from_str(text).map_err(|e| MappaturaError::Toml {
        origine: origine.to_string(),
        message: e.to_string().trim().replace('\n', " "),
    })
}

fn encoding(
    key: &str,
    label: &str,
    origine: &str,
) -> Result<&'static encoding_rs::Encoding, MappaturaError> {
    super::encoding_from_cpg(label).ok_or_else(|| MappaturaError::Key {
        origine: origine.to_string(),
        chiave: key.to_string(),
        message: format!("codifica «{label}» non riconosciuta (ad esempio windows-1252, utf-8)"),
    })
}

fn rules(layers: &[FileLayer], origine: &str) -> Result<Vec<RegolaLayer>, MappaturaError> {
    layers
        .iter()
        .enumerate()
        .map(|(i, l)| rule(i + 1, l, origine))
        .collect()
}

fn rule(i: usize, l: &FileLayer, origine: &str) -> Result<RegolaLayer, MappaturaError> {
    let key_err = |chiave: String, message: String| MappaturaError::Key {
        origine: origine.to_string(),
        chiave,
        message,
    };
    let at = |k: &str| format!("layer[{i}].{k}");
    let nomi: Vec<String> = match &l.nomi {
        Nomi::Uno(s) => vec![s.clone()],
        Nomi::Molti(v) => v.clone(),
    }
    .into_iter()
    .map(|s| s.trim().to_uppercase())
    .filter(|s| !s.is_empty())
    .collect();
    if nomi.is_empty() {
        return Err(key_err(at("nomi"), "nessun nome di layer indicato".into()));
    }
    let dest = |key: String, value: &str| {
        Destinazione::parse(value).ok_or_else(|| {
            key_err(
                key,
                format!("classe «{value}» sconosciuta (ammesse: {})", classes_list()),
            )
        })
    };
    let classe = l
        .classe
        .as_deref()
        .map(|c| dest(at("classe"), c))
        .transpose()?;
    let campo = l
        .campo
        .as_deref()
        .map(|c| c.trim().to_uppercase())
        .filter(|c| !c.is_empty());
    let mut valori = BTreeMap::new();
    for (v, c) in &l.valori {
        valori.insert(normalize(v), dest(at(&format!("valori.\"{v}\"")), c)?);
    }
    let patterns = |table: &BTreeMap<String, String>, name: &str| {
        table
            .iter()
            .map(|(p, c)| {
                let key = normalize(p);
                if key.is_empty() {
                    return Err(key_err(
                        at(&format!("{name}.\"{p}\"")),
                        "il modello è vuoto".into(),
                    ));
                }
                Ok((key, dest(at(&format!("{name}.\"{p}\"")), c)?))
            })
            .collect::<Result<Vec<_>, MappaturaError>>()
    };
    let contiene = patterns(&l.contiene, "contiene")?;
    let inizia = patterns(&l.inizia, "inizia")?;
    let has_values = !valori.is_empty() || !contiene.is_empty() || !inizia.is_empty();
    if has_values && campo.is_none() {
        return Err(key_err(
            at("campo"),
            "valori, contiene e inizia richiedono il campo che contiene la classe".into(),
        ));
    }
    if classe.is_none() && campo.is_none() {
        return Err(key_err(
            at("classe"),
            "indicare la classe del layer (classe) o il campo che la contiene (campo)".into(),
        ));
    }
    if campo.is_some() && classe.is_none() && !has_values {
        return Err(key_err(
            at("valori"),
            "il campo della classe è indicato ma nessun valore è mappato".into(),
        ));
    }
    let codifica = l
        .codifica
        .as_deref()
        .map(|c| encoding(&at("codifica"), c, origine))
        .transpose()?;
    Ok(RegolaLayer {
        nomi,
        classe,
        campo,
        valori,
        contiene,
        inizia,
        legenda: Campi::to_vec(&l.legenda),
        legenda_unisci: l.legenda_unisci,
        destinazione: Campi::to_vec(&l.destinazione),
        comune: l.comune.as_ref().map(Campi::to_vec),
        istat: l.istat.as_ref().map(Campi::to_vec),
        codice_vincolo: Campi::to_vec(&l.codice_vincolo),
        nome_vincolo: Campi::to_vec(&l.nome_vincolo),
        codifica,
        origine: format!("{origine}, layer[{i}]"),
    })
}

/// Lower case, accents removed, runs of white space as one space, trimmed: how values and
/// patterns are compared.
pub fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space && !out.is_empty() {
            out.push(' ');
        }
        space = false;
        out.push(match c {
            '’' | '`' | '´' => '\'',
            c => strip_accent(c),
        });
    }
    out
}

/// Glob match with `*` (any run) and `?` (one character); both sides already upper case.
fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    let (mut pi, mut ni) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ni));
            pi += 1;
        } else if let Some((sp, sn)) = star {
            pi = sp + 1;
            ni = sn + 1;
            star = Some((sp, sn + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_regional_mapping_parses() {
        let m = Mappatura::regionale().expect("built-in mapping");
        assert_eq!(m.layers.len(), 8);
        assert_eq!(m.codifica, encoding_rs::WINDOWS_1252);
        let (rule, _) = m.rule_for(&["fasce_rispetto"]).expect("vincoli");
        assert_eq!(rule.classe, Some(Destinazione::Vincolo(None)));
        assert!(m.rule_for(&["CARTA_CONSUMO_SUOLO"]).is_none());
    }

    #[test]
    fn globs() {
        assert!(glob_match("*VINCOL*", "VINCOLI"));
        assert!(glob_match("*VINCOL*", "PGT_VINCOLO"));
        assert!(glob_match("AZZ?NAMENTO", "AZZONAMENTO"));
        assert!(glob_match("PDR_*", "PDR_AZZONAMENTO"));
        assert!(!glob_match("PDR_*", "PDS_SERVIZI"));
        assert!(glob_match("*", ""));
    }

    #[test]
    fn values_are_compared_loosely() {
        assert_eq!(normalize("  Città   ALTA "), "citta alta");
        assert_eq!(normalize("Zona\tB2"), "zona b2");
    }

    #[test]
    fn patterns_prefer_the_longest() {
        let m = Mappatura::from_toml(
            r#"
            modo = "sostituisci"
            [[layer]]
            nomi = "AZZONAMENTO"
            campo = "LEGENDA"
            [layer.inizia]
            "zona b" = "tessuto_urbano_consolidato"
            "zona b5" = "agricolo"
            [layer.contiene]
            "storico" = "nucleo_antica_formazione"
            "#,
            "prova.toml",
        )
        .expect("valid");
        let (r, _) = m.rule_for(&["azzonamento"]).expect("rule");
        let c = |v: &str| r.classify(Some(v));
        use ClasseZona::*;
        assert_eq!(
            c("Zona B2"),
            Some(Destinazione::Zona(TessutoUrbanoConsolidato))
        );
        assert_eq!(c("ZONA  B5 - verde"), Some(Destinazione::Zona(Agricolo)));
        assert_eq!(
            c("Centro STORICO"),
            Some(Destinazione::Zona(NucleoAnticaFormazione))
        );
        assert_eq!(c("Zona C"), None);
    }
}
