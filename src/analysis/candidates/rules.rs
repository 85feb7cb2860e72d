//! The rules of the screening: a TOML file (`data/regole_aree_candidate.toml` documents every
//! key), combined key by key with the built-in rules or read alone, and validated before use.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::model::normalize::normalize_tipo;
use crate::model::{ClasseZona, StatoProprieta};

/// The built-in rules (the documented defaults).
pub const REGOLE_PREDEFINITE: &str = include_str!("../../../data/regole_aree_candidate.toml");

#[derive(Debug, Error)]
pub enum RegoleError {
    #[error("{origine}: regole delle aree candidate non valide: {message}")]
    Parse { origine: String, message: String },
    #[error("{origine}: regole delle aree candidate non valide: {chiave}: {message}")]
    Invalid {
        origine: String,
        chiave: String,
        message: String,
    },
}

/// How a project's rules file combines with the built-in one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modo {
    /// Key by key over the built-in rules.
    #[default]
    Estendi,
    /// Alone: what it does not name is off.
    Sostituisci,
}

/// The rules of the screening. Every missing key is "off" (zero points, source inactive).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Regole {
    pub modo: Modo,
    pub generale: Generale,
    pub fonti: Fonti,
    pub esclusioni: Esclusioni,
    pub preferenze: Preferenze,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Generale {
    /// Dwellings per hectare.
    pub densita_alloggi_ha: f64,
    /// Smallest part kept, m².
    pub area_minima_mq: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Fonti {
    pub servizi_previsti: FonteQuota,
    pub ambiti_trasformazione: FonteTrasformazione,
    pub rigenerazione: FonteQuota,
    pub patrimonio_pubblico: FontePatrimonio,
    pub altra_proprieta_pubblica: FonteAltraProprieta,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteQuota {
    pub attiva: bool,
    pub quota: f64,
    /// Overrides `generale.area_minima_mq` for this source.
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteTrasformazione {
    pub attiva: bool,
    pub quota_standard: f64,
    pub quota_cedibile: f64,
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FontePatrimonio {
    pub attiva: bool,
    /// Share of the parcel area counted as new capacity (the unused units are always counted).
    pub quota: f64,
    /// Owner-name fragments (any case) of the public owners considered.
    pub enti: Vec<String>,
    pub min_unita_inutilizzate: u32,
    pub area_minima_mq: Option<f64>,
}

/// Other public property (offices, schools, depots) listed by cadastral reference.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FonteAltraProprieta {
    pub attiva: bool,
    /// Share of the parcel area counted as dwellings (conversion of the building).
    pub quota: f64,
    /// States of use that make a property a candidate (`dismesso`, `sottoutilizzato`).
    pub stati: Vec<String>,
    pub area_minima_mq: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Esclusioni {
    pub agricolo: bool,
    pub non_soggetto_trasformazione: bool,
    /// By constraint kind (lower case); `*` for every other kind.
    pub vincoli: BTreeMap<String, RegolaVincolo>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegolaVincolo {
    pub escludi: bool,
    pub buffer_m: f64,
}

impl Default for RegolaVincolo {
    fn default() -> Self {
        RegolaVincolo {
            escludi: true,
            buffer_m: 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Preferenze {
    pub tessuto_consolidato: PrefTessuto,
    pub servizi: PrefServizi,
    pub alloggi_pubblici_vicini: PrefVicini,
    pub proprieta_pubblica: PrefPunti,
    pub domanda: PrefDomanda,
    /// Distance to the nearest existing service point of each kind (`input.servizi_puntuali`),
    /// by kind as written in the file's `tipo` (lower case, no accents: `scuola`, `sanita`).
    pub servizi_puntuali: BTreeMap<String, PrefServizi>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefTessuto {
    pub punti: f64,
    pub classi: Vec<String>,
    pub quota_minima: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefServizi {
    pub punti: f64,
    pub distanza_max_m: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefVicini {
    pub punti_per_unita: f64,
    pub punti_max: f64,
    pub raggio_m: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefPunti {
    pub punti: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PrefDomanda {
    pub punti_popolazione: f64,
    pub popolazione_riferimento: f64,
    pub punti_pressione: f64,
    /// Housing pressure index (0–1) by ISTAT code.
    pub pressione: BTreeMap<String, f64>,
}

/// One preference and the most points it can give: a line of the score's scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VoceScala {
    /// The rule key, as in the candidates' breakdown (`servizi_puntuali:scuola`).
    pub regola: String,
    /// What it rewards, in Italian.
    pub descrizione: String,
    pub punti_max: f64,
}

impl Preferenze {
    /// The preferences in force, each with the most points it can give, in rule order. A rule
    /// with no points is left out; the housing pressure counts only when the rules give it for
    /// some comune (up to its highest index).
    pub fn scala(&self) -> Vec<VoceScala> {
        let mut v = Vec::new();
        let mut push = |regola: String, descrizione: String, punti: f64| {
            if punti > 0.0 {
                v.push(VoceScala {
                    regola,
                    descrizione,
                    punti_max: punti,
                });
            }
        };
        let t = &self.tessuto_consolidato;
        push(
            "tessuto_consolidato".into(),
            format!(
                "almeno il {} % dell'area nel tessuto urbano consolidato",
                crate::italiano::numero_it(t.quota_minima * 100.0, 0)
            ),
            t.punti,
        );
        push(
            "servizi".into(),
            format!(
                "servizi esistenti del Piano dei Servizi entro {} m",
                crate::italiano::numero_it(self.servizi.distanza_max_m, 0)
            ),
            self.servizi.punti,
        );
        for (tipo, r) in &self.servizi_puntuali {
            push(
                format!("servizi_puntuali:{tipo}"),
                format!(
                    "{} entro {} m",
                    super::scoring::tipo_servizio_it(tipo),
                    crate::italiano::numero_it(r.distanza_max_m, 0)
                ),
                r.punti,
            );
        }
        let vic = &self.alloggi_pubblici_vicini;
        if vic.punti_per_unita > 0.0 {
            push(
                "alloggi_pubblici_vicini".into(),
                format!(
                    "alloggi pubblici inutilizzati entro {} m ({} punti ciascuno)",
                    crate::italiano::numero_it(vic.raggio_m, 0),
                    crate::italiano::numero_it(vic.punti_per_unita, 1)
                ),
                vic.punti_max,
            );
        }
        push(
            "proprieta_pubblica".into(),
            "area già di proprietà pubblica".into(),
            self.proprieta_pubblica.punti,
        );
        let d = &self.domanda;
        push(
            "domanda_popolazione".into(),
            format!(
                "popolazione del comune, fino a {} abitanti",
                crate::italiano::numero_it(d.popolazione_riferimento, 0)
            ),
            d.punti_popolazione,
        );
        if !d.pressione.is_empty() {
            let top = d
                .pressione
                .values()
                .fold(0.0f64, |a, &b| a.max(b))
                .clamp(0.0, 1.0);
            push(
                "pressione_abitativa".into(),
                "pressione abitativa del comune".into(),
                d.punti_pressione * top,
            );
        }
        v
    }

    /// The most points the preferences in force can give together: the scale of the score
    /// (`punteggio` = 100 × points ÷ this).
    pub fn punti_massimi(&self) -> f64 {
        self.scala().iter().map(|v| v.punti_max).sum()
    }
}

impl Regole {
    /// The built-in rules.
    pub fn predefinite() -> Regole {
        // The embedded file is parsed by a unit test; a failure here cannot come from input.
        Regole::parse(REGOLE_PREDEFINITE, "regole predefinite").unwrap_or_default()
    }

    /// Parses one rules file on its own (no combination with the built-in rules).
    pub fn parse(text: &str, origine: &str) -> Result<Regole, RegoleError> {
        let value: toml::Table = toml::from_str(text).map_err(|e| parse_err(origine, e))?;
        Regole::from_table(value, origine)
    }

    /// A project's rules: over the built-in ones (`modo = "estendi"`, the default) or alone
    /// (`modo = "sostituisci"`).
    pub fn del_progetto(text: &str, origine: &str) -> Result<Regole, RegoleError> {
        let user: toml::Table = toml::from_str(text).map_err(|e| parse_err(origine, e))?;
        let sostituisci =
            matches!(user.get("modo"), Some(toml::Value::String(m)) if m == "sostituisci");
        if sostituisci {
            return Regole::from_table(user, origine);
        }
        let mut base: toml::Table =
            toml::from_str(REGOLE_PREDEFINITE).map_err(|e| parse_err("regole predefinite", e))?;
        merge(&mut base, user);
        Regole::from_table(base, origine)
    }

    /// The rules as a complete TOML file (`modo = "sostituisci"`: reading it back gives the
    /// same rules whatever the built-in defaults are).
    pub fn to_toml(&self) -> String {
        let mut r = self.clone();
        r.modo = Modo::Sostituisci;
        toml::to_string(&r).unwrap_or_default()
    }

    fn from_table(t: toml::Table, origine: &str) -> Result<Regole, RegoleError> {
        let mut r: Regole = toml::Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| parse_err(origine, e))?;
        r.esclusioni.vincoli = std::mem::take(&mut r.esclusioni.vincoli)
            .into_iter()
            .map(|(k, v)| (k.trim().to_lowercase(), v))
            .collect();
        r.preferenze.servizi_puntuali = std::mem::take(&mut r.preferenze.servizi_puntuali)
            .into_iter()
            .map(|(k, v)| (normalize_tipo(&k), v))
            .collect();
        r.validate(origine)?;
        Ok(r)
    }

    fn validate(&self, origine: &str) -> Result<(), RegoleError> {
        let bad = |chiave: &str, message: String| RegoleError::Invalid {
            origine: origine.into(),
            chiave: chiave.into(),
            message,
        };
        let non_negative = |chiave: &str, v: f64| {
            if v.is_finite() && v >= 0.0 {
                Ok(())
            } else {
                Err(bad(chiave, format!("{v} non valido (numero ≥ 0)")))
            }
        };
        let share = |chiave: &str, v: f64| {
            if v.is_finite() && (0.0..=1.0).contains(&v) {
                Ok(())
            } else {
                Err(bad(chiave, format!("{v} non valido (quota tra 0 e 1)")))
            }
        };
        let g = &self.generale;
        non_negative("generale.densita_alloggi_ha", g.densita_alloggi_ha)?;
        non_negative("generale.area_minima_mq", g.area_minima_mq)?;
        let f = &self.fonti;
        share("fonti.servizi_previsti.quota", f.servizi_previsti.quota)?;
        share("fonti.rigenerazione.quota", f.rigenerazione.quota)?;
        share(
            "fonti.patrimonio_pubblico.quota",
            f.patrimonio_pubblico.quota,
        )?;
        share(
            "fonti.altra_proprieta_pubblica.quota",
            f.altra_proprieta_pubblica.quota,
        )?;
        for st in &f.altra_proprieta_pubblica.stati {
            if stato_proprieta(st).is_none() {
                return Err(bad(
                    "fonti.altra_proprieta_pubblica.stati",
                    format!("stato sconosciuto {st:?} (in_uso, sottoutilizzato, dismesso)"),
                ));
            }
        }
        share(
            "fonti.ambiti_trasformazione.quota_standard",
            f.ambiti_trasformazione.quota_standard,
        )?;
        share(
            "fonti.ambiti_trasformazione.quota_cedibile",
            f.ambiti_trasformazione.quota_cedibile,
        )?;
        for (k, v) in [
            ("servizi_previsti", f.servizi_previsti.area_minima_mq),
            (
                "ambiti_trasformazione",
                f.ambiti_trasformazione.area_minima_mq,
            ),
            ("rigenerazione", f.rigenerazione.area_minima_mq),
            ("patrimonio_pubblico", f.patrimonio_pubblico.area_minima_mq),
            (
                "altra_proprieta_pubblica",
                f.altra_proprieta_pubblica.area_minima_mq,
            ),
        ] {
            if let Some(v) = v {
                non_negative(&format!("fonti.{k}.area_minima_mq"), v)?;
            }
        }
        for (k, v) in &self.esclusioni.vincoli {
            non_negative(&format!("esclusioni.vincoli.{k:?}.buffer_m"), v.buffer_m)?;
        }
        let p = &self.preferenze;
        non_negative(
            "preferenze.tessuto_consolidato.punti",
            p.tessuto_consolidato.punti,
        )?;
        share(
            "preferenze.tessuto_consolidato.quota_minima",
            p.tessuto_consolidato.quota_minima,
        )?;
        for c in &p.tessuto_consolidato.classi {
            if ClasseZona::from_code(c).is_none() {
                return Err(bad(
                    "preferenze.tessuto_consolidato.classi",
                    format!("classe sconosciuta {c:?}"),
                ));
            }
        }
        non_negative("preferenze.servizi.punti", p.servizi.punti)?;
        non_negative(
            "preferenze.servizi.distanza_max_m",
            p.servizi.distanza_max_m,
        )?;
        let v = &p.alloggi_pubblici_vicini;
        non_negative(
            "preferenze.alloggi_pubblici_vicini.punti_per_unita",
            v.punti_per_unita,
        )?;
        non_negative("preferenze.alloggi_pubblici_vicini.punti_max", v.punti_max)?;
        non_negative("preferenze.alloggi_pubblici_vicini.raggio_m", v.raggio_m)?;
        non_negative(
            "preferenze.proprieta_pubblica.punti",
            p.proprieta_pubblica.punti,
        )?;
        let d = &p.domanda;
        non_negative("preferenze.domanda.punti_popolazione", d.punti_popolazione)?;
        non_negative(
            "preferenze.domanda.popolazione_riferimento",
            d.popolazione_riferimento,
        )?;
        non_negative("preferenze.domanda.punti_pressione", d.punti_pressione)?;
        for (k, v) in &d.pressione {
            share(&format!("preferenze.domanda.pressione.{k:?}"), *v)?;
        }
        for (k, v) in &p.servizi_puntuali {
            non_negative(&format!("preferenze.servizi_puntuali.{k}.punti"), v.punti)?;
            non_negative(
                &format!("preferenze.servizi_puntuali.{k}.distanza_max_m"),
                v.distanza_max_m,
            )?;
        }
        Ok(())
    }

    /// The rule for a constraint kind, `None` when the kind is not excluded.
    pub(super) fn vincolo(&self, codice: Option<&str>) -> Option<&RegolaVincolo> {
        let key = codice.map(|c| c.trim().to_lowercase()).unwrap_or_default();
        self.esclusioni
            .vincoli
            .get(&key)
            .or_else(|| self.esclusioni.vincoli.get("*"))
            .filter(|r| r.escludi)
    }
}

/// The state of use a rules file names (`dismesso`, `sottoutilizzato`, `in_uso`).
pub(super) fn stato_proprieta(code: &str) -> Option<StatoProprieta> {
    [
        StatoProprieta::InUso,
        StatoProprieta::Sottoutilizzato,
        StatoProprieta::Dismesso,
    ]
    .into_iter()
    .find(|s| s.code() == code.trim().to_lowercase())
}

fn parse_err(origine: &str, e: impl std::fmt::Display) -> RegoleError {
    RegoleError::Parse {
        origine: origine.into(),
        message: e.to_string().trim().replace('\n', " "),
    }
}

/// Deep merge: tables are merged key by key, anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_rules_parse_and_are_on() {
        let r = Regole::parse(REGOLE_PREDEFINITE, "predefinite").expect("built-in rules");
        assert!(r.fonti.servizi_previsti.attiva && r.esclusioni.agricolo);
        assert!(r.esclusioni.vincoli.contains_key("*"));
        assert_eq!(Regole::predefinite(), r);
        let back = Regole::parse(&r.to_toml(), "copia").expect("round trip");
        assert_eq!(back.generale, r.generale);
        assert_eq!(back.esclusioni, r.esclusioni);
    }

    #[test]
    fn project_rules_extend_or_replace() {
        let r = Regole::del_progetto("[generale]\narea_minima_mq = 5.0\n", "p").expect("extend");
        assert_eq!(r.generale.area_minima_mq, 5.0);
        assert_eq!(r.generale.densita_alloggi_ha, 60.0);
        assert!(r.fonti.rigenerazione.attiva);
        let r = Regole::del_progetto(
            "modo = \"sostituisci\"\n[fonti.rigenerazione]\nattiva = true\nquota = 1.0\n",
            "p",
        )
        .expect("replace");
        assert!(!r.fonti.servizi_previsti.attiva && r.fonti.rigenerazione.attiva);
        let e = Regole::del_progetto("[generale]\ndensita = 3\n", "p.toml").expect_err("unknown");
        assert!(e.to_string().contains("densita"), "{e}");
        let e = Regole::del_progetto("[fonti.rigenerazione]\nquota = 2.0\n", "p.toml")
            .expect_err("bad share");
        assert!(e.to_string().contains("fonti.rigenerazione.quota"), "{e}");
    }
}
