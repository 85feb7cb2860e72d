//! The figures the Tavolo Abitare reads in a meeting: key figures of the Ambito and of each
//! comune, per owner, the comune's share of the Ambito's offer (the compensation idea of seed
//! 000) and the candidate areas in hectares and dwellings.
//!
//! Every figure is read from [`Analisi`] (vacancy, report, private stock, screening): nothing is
//! recomputed differently from the report, so the panel and the report agree by construction.
//! The structs are plain data; the server serialises them.

use std::collections::BTreeMap;

use serde::Serialize;

use super::piano_annuale::{PianoAnnuale, RigaConsistenza, RigaStato, Sezione};
use super::private::FigurePrivate;
use super::vacancy::{Conteggi, StatComune};
use super::Analisi;
use crate::italiano::data_it;

/// The owner name of a comune in the Piano Annuale.
pub fn ente_comune(nome: &str) -> String {
    format!("Comune di {nome}")
}

fn same_owner(a: &str, b: &str) -> bool {
    a.to_lowercase() == b.to_lowercase()
}

fn share(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| part / whole)
}

fn round2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

/// Units by state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stati {
    pub alloggi: u32,
    pub alloggi_sap: u32,
    pub occupati: u32,
    pub liberi: u32,
    pub sfitto_carenze_manutentive: u32,
    pub sfitto_ristrutturazione: u32,
    pub inutilizzati: u32,
    /// Unused units with a known date (the mean below is over these).
    pub inutilizzati_con_data: u32,
    pub mesi_sfitto_medi: Option<f64>,
    pub sfitti_oltre_24_mesi: u32,
    pub tasso_inutilizzo: Option<f64>,
}

impl Stati {
    fn new(c: &Conteggi, tasso_inutilizzo: Option<f64>) -> Stati {
        Stati {
            alloggi: c.alloggi,
            alloggi_sap: c.alloggi_sap,
            occupati: c.occupati,
            liberi: c.liberi,
            sfitto_carenze_manutentive: c.sfitto_carenze_manutentive,
            sfitto_ristrutturazione: c.sfitto_ristrutturazione,
            inutilizzati: c.inutilizzati,
            inutilizzati_con_data: c.inutilizzati_con_data,
            mesi_sfitto_medi: c.mesi_sfitto_medi,
            sfitti_oltre_24_mesi: c.sfitti_oltre_24_mesi,
            tasso_inutilizzo,
        }
    }
}

/// The units of one owner by state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatiEnte {
    pub ente: String,
    #[serde(flatten)]
    pub stati: Stati,
}

impl StatiEnte {
    fn new(ente: &str, c: &Conteggi) -> StatiEnte {
        StatiEnte {
            ente: ente.to_string(),
            stati: Stati::new(c, c.tasso_inutilizzo()),
        }
    }
}

/// The units of a comune or of the Ambito by state, with the ratios to population.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alloggi {
    #[serde(flatten)]
    pub stati: Stati,
    pub alloggi_per_1000_ab: Option<f64>,
    pub inutilizzati_per_1000_ab: Option<f64>,
    pub quota_inutilizzati_ambito: Option<f64>,
}

/// Section g) of one owner, or of the Ambito.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DisponibiliG {
    pub dichiarati: u32,
    pub somma_b_f: u32,
    pub di_cui_turn_over: u32,
}

/// Section counts of the Piano Annuale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ContiSezioni {
    pub b: u32,
    pub c: u32,
    pub d: u32,
    pub e: u32,
    pub f: u32,
    pub g: DisponibiliG,
    pub j: u32,
    pub k: u32,
}

/// Section counts of one owner (or the totals when `ente` is `None`).
fn sezioni(r: &PianoAnnuale, ente: Option<&str>) -> ContiSezioni {
    let s = &r.sezioni;
    let v = |sec: &Sezione| -> u32 {
        match ente {
            None => sec.totale,
            Some(e) => sec
                .per_ente
                .iter()
                .filter(|x| same_owner(&x.ente, e))
                .map(|x| x.valore)
                .sum(),
        }
    };
    let g = match ente {
        None => DisponibiliG {
            dichiarati: s.g.totale,
            somma_b_f: s.g.somma_b_f,
            di_cui_turn_over: s.e.totale,
        },
        Some(e) => {
            let row = s.g.per_ente.iter().find(|x| same_owner(&x.ente, e));
            DisponibiliG {
                dichiarati: row.map_or(0, |x| x.dichiarati),
                somma_b_f: row.map_or(0, |x| x.somma_b_f),
                di_cui_turn_over: row.map_or(0, |x| x.di_cui_turn_over),
            }
        }
    };
    ContiSezioni {
        b: v(&s.b),
        c: v(&s.c),
        d: v(&s.d),
        e: v(&s.e),
        f: v(&s.f),
        g,
        j: v(&s.j),
        k: v(&s.k),
    }
}

/// The Piano Annuale rows of an owner (or the totals): state table (SAP), section a),
/// sections b–k.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PianoEnte {
    pub ente: String,
    pub anno: i32,
    pub stato: Option<RigaStato>,
    pub consistenza: Option<RigaConsistenza>,
    pub sezioni: ContiSezioni,
}

fn piano_ente(r: &PianoAnnuale, ente: &str) -> PianoEnte {
    PianoEnte {
        ente: ente.to_string(),
        anno: r.anno,
        stato: r
            .stato_per_ente
            .iter()
            .find(|x| same_owner(&x.ente, ente))
            .cloned(),
        consistenza: r
            .consistenza
            .iter()
            .find(|x| same_owner(&x.ente, ente))
            .cloned(),
        sezioni: sezioni(r, Some(ente)),
    }
}

/// What a comune offers now, and over which period: the SAP units its owner bodies declare
/// available in the plan's year (section g) and the private units still on offer at the housing
/// desk (not let, not withdrawn). Private offers ever received, let or withdrawn are kept apart,
/// with the years their offers were made in: they are the desk's record, not today's offer.
struct Offerta {
    disponibili_anno: u32,
    privati_in_offerta: u32,
    privati_offerti: u32,
    privati_locati_concordato: u32,
    privati_ritirati: u32,
    anni_offerte: Option<(i32, i32)>,
}

impl Offerta {
    fn totale(&self) -> u32 {
        self.disponibili_anno + self.privati_in_offerta
    }

    fn of_figures(
        disponibili_anno: u32,
        p: Option<&crate::analysis::private::FigurePrivate>,
    ) -> Offerta {
        let anni = p.and_then(|p| {
            let offerti = p.per_anno.iter().filter(|a| a.offerti > 0);
            let da = offerti.clone().map(|a| a.anno).min()?;
            let a = offerti.map(|a| a.anno).max()?;
            Some((da, a))
        });
        Offerta {
            disponibili_anno,
            privati_in_offerta: p.map_or(0, |p| p.privati_in_offerta),
            privati_offerti: p.map_or(0, |p| p.privati_offerti),
            privati_locati_concordato: p.map_or(0, |p| p.privati_locati_concordato),
            privati_ritirati: p.map_or(0, |p| p.privati_ritirati),
            anni_offerte: anni,
        }
    }

    fn of_comune(s: &Analisi, istat: &str, nome: &str) -> Offerta {
        let ente = ente_comune(nome);
        let disponibili = s
            .report
            .sezioni
            .g
            .per_ente
            .iter()
            .filter(|x| same_owner(&x.ente, &ente))
            .map(|x| x.dichiarati)
            .sum();
        let p = s.privato.per_comune.iter().find(|p| p.istat == istat);
        Offerta::of_figures(disponibili, p.map(|p| &p.figure))
    }

    fn of_ambito(s: &Analisi) -> Offerta {
        Offerta::of_figures(s.report.sezioni.g.totale, Some(&s.privato.ambito))
    }
}

/// An offer and its shares of the Ambito's. `totale` = `disponibili_anno` (SAP units available
/// in `anno`) + `privati_in_offerta` (private units on offer today); the private offers received
/// in `offerte_dal`–`offerte_al` (`privati_offerti`) are the desk's record, and of those the let
/// and the withdrawn ones are no longer on offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteOfferta {
    pub anno: i32,
    pub disponibili_anno: u32,
    pub quota_disponibili_anno: Option<f64>,
    pub privati_in_offerta: u32,
    pub quota_privati_in_offerta: Option<f64>,
    pub totale: u32,
    pub quota_ambito: Option<f64>,
    pub privati_offerti: u32,
    pub privati_locati_concordato: u32,
    pub privati_ritirati: u32,
    pub offerte_dal: Option<i32>,
    pub offerte_al: Option<i32>,
}

impl QuoteOfferta {
    fn new(anno: i32, o: &Offerta, ambito: &Offerta) -> QuoteOfferta {
        let q = |part: u32, whole: u32| share(f64::from(part), f64::from(whole));
        QuoteOfferta {
            anno,
            disponibili_anno: o.disponibili_anno,
            quota_disponibili_anno: q(o.disponibili_anno, ambito.disponibili_anno),
            privati_in_offerta: o.privati_in_offerta,
            quota_privati_in_offerta: q(o.privati_in_offerta, ambito.privati_in_offerta),
            totale: o.totale(),
            quota_ambito: q(o.totale(), ambito.totale()),
            privati_offerti: o.privati_offerti,
            privati_locati_concordato: o.privati_locati_concordato,
            privati_ritirati: o.privati_ritirati,
            offerte_dal: o.anni_offerte.map(|a| a.0),
            offerte_al: o.anni_offerte.map(|a| a.1),
        }
    }
}

/// Candidate areas of one source.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateFonte {
    pub fonte: &'static str,
    pub fonte_label: &'static str,
    pub aree: usize,
    pub ettari: f64,
    pub alloggi_stimati: u32,
}

/// Candidate areas (of one comune, or all), in hectares and estimated dwellings, per source
/// in the order of the source codes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub aree: usize,
    pub ettari: f64,
    pub alloggi_stimati: u32,
    pub escluse: usize,
    pub per_fonte: Vec<CandidateFonte>,
}

fn candidate(s: &Analisi, istat: Option<&str>) -> Candidate {
    let keep = |c: &Option<String>| istat.is_none() || c.as_deref() == istat;
    let mut per_fonte: BTreeMap<&'static str, (&'static str, usize, f64, u32)> = BTreeMap::new();
    let (mut n, mut ha, mut alloggi) = (0usize, 0.0f64, 0u32);
    for c in s
        .candidate
        .candidate
        .iter()
        .filter(|c| keep(&c.comune_istat))
    {
        n += 1;
        ha += c.area_ha;
        alloggi += c.alloggi_stimati;
        let e = per_fonte
            .entry(c.fonte.code())
            .or_insert((c.fonte.label_it(), 0, 0.0, 0));
        e.1 += 1;
        e.2 += c.area_ha;
        e.3 += c.alloggi_stimati;
    }
    let escluse = s
        .candidate
        .escluse
        .iter()
        .filter(|x| keep(&x.comune_istat))
        .count();
    Candidate {
        aree: n,
        ettari: round2(ha),
        alloggi_stimati: alloggi,
        escluse,
        per_fonte: per_fonte
            .into_iter()
            .map(|(fonte, (fonte_label, aree, ha, al))| CandidateFonte {
                fonte,
                fonte_label,
                aree,
                ettari: round2(ha),
                alloggi_stimati: al,
            })
            .collect(),
    }
}

/// The figures of one comune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SintesiComune {
    /// Always `comune`.
    pub livello: &'static str,
    pub istat: String,
    pub belfiore: String,
    pub nome: String,
    pub sub_ambito: Option<String>,
    pub popolazione: u32,
    pub area_km2: f64,
    pub ambito: String,
    pub ambito_numero: Option<u32>,
    pub anno: i32,
    /// `2025-10-27`.
    pub data_riferimento: String,
    /// `27 ottobre 2025`.
    pub data_riferimento_it: String,
    pub dimostrativo: bool,
    pub alloggi: Alloggi,
    /// Units in the comune per owner, most units first.
    pub per_ente: Vec<StatiEnte>,
    /// The Piano Annuale rows of the comune as owner (`Comune di X`).
    pub piano_annuale: PianoEnte,
    pub offerta: QuoteOfferta,
    pub candidate: Candidate,
    pub privato: Option<FigurePrivate>,
}

/// The figures of one comune; `None` for an ISTAT code not in the Ambito.
pub fn comune(s: &Analisi, istat: &str) -> Option<SintesiComune> {
    let stat = s.vacancy.per_comune.iter().find(|c| c.istat == istat)?;
    Some(sintesi_comune(s, stat))
}

/// The figures of every comune, in the order of the vacancy figures.
pub fn comuni(s: &Analisi) -> Vec<SintesiComune> {
    s.vacancy
        .per_comune
        .iter()
        .filter_map(|c| comune(s, &c.istat))
        .collect()
}

fn sintesi_comune(s: &Analisi, stat: &StatComune) -> SintesiComune {
    let istat = stat.istat.as_str();
    let reference = s.model.ambito.data_riferimento;
    let mut per_ente: BTreeMap<String, (String, Conteggi)> = BTreeMap::new();
    for u in s
        .model
        .alloggi_pubblici
        .iter()
        .filter(|u| u.comune_istat.as_deref() == Some(istat))
    {
        per_ente
            .entry(u.ente_proprietario.to_lowercase())
            .or_insert_with(|| (u.ente_proprietario.clone(), Conteggi::default()))
            .1
            .add(u, reference);
    }
    let mut per_ente: Vec<(String, Conteggi)> = per_ente.into_values().collect();
    per_ente.sort_by(|a, b| b.1.alloggi.cmp(&a.1.alloggi).then(a.0.cmp(&b.0)));
    let a = &s.model.ambito;
    SintesiComune {
        livello: "comune",
        istat: stat.istat.clone(),
        belfiore: stat.belfiore.clone(),
        nome: stat.nome.clone(),
        sub_ambito: stat.sub_ambito.clone(),
        popolazione: stat.popolazione,
        area_km2: round2(stat.area_km2),
        ambito: a.nome.clone(),
        ambito_numero: a.numero,
        anno: a.anno,
        data_riferimento: a.data_riferimento.format("%Y-%m-%d").to_string(),
        data_riferimento_it: data_it(a.data_riferimento),
        dimostrativo: a.dimostrativo,
        alloggi: Alloggi {
            stati: Stati::new(&stat.conteggi, stat.tasso_inutilizzo),
            alloggi_per_1000_ab: stat.alloggi_per_1000_ab,
            inutilizzati_per_1000_ab: stat.inutilizzati_per_1000_ab,
            quota_inutilizzati_ambito: stat.quota_inutilizzati_ambito,
        },
        per_ente: per_ente.iter().map(|(e, c)| StatiEnte::new(e, c)).collect(),
        piano_annuale: piano_ente(&s.report, &ente_comune(&stat.nome)),
        offerta: QuoteOfferta::new(
            s.report.anno,
            &Offerta::of_comune(s, istat, &stat.nome),
            &Offerta::of_ambito(s),
        ),
        candidate: candidate(s, Some(istat)),
        privato: s
            .privato
            .per_comune
            .iter()
            .find(|p| p.istat == istat)
            .map(|p| p.figure.clone()),
    }
}

/// One comune in the Ambito's figures: its units and its share of the offer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OffertaComune {
    pub istat: String,
    pub nome: String,
    pub popolazione: u32,
    pub alloggi: u32,
    pub inutilizzati: u32,
    pub tasso_inutilizzo: Option<f64>,
    pub alloggi_per_1000_ab: Option<f64>,
    pub offerta: QuoteOfferta,
}

/// The figures of the Ambito, with the offer of each comune.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SintesiAmbito {
    /// Always `ambito`.
    pub livello: &'static str,
    pub nome: String,
    pub numero: Option<u32>,
    pub capofila: Option<String>,
    pub anno: i32,
    /// `2025-10-27`.
    pub data_riferimento: String,
    /// `27 ottobre 2025`.
    pub data_riferimento_it: String,
    pub dimostrativo: bool,
    pub popolazione: u32,
    pub comuni_n: usize,
    pub alloggi: Alloggi,
    pub per_ente: Vec<StatiEnte>,
    /// The Piano Annuale totals (`ente` is `Totale`).
    pub piano_annuale: PianoEnte,
    pub offerta: QuoteOfferta,
    pub candidate: Candidate,
    pub privato: FigurePrivate,
    pub comuni: Vec<OffertaComune>,
}

/// The figures of the Ambito.
pub fn ambito(s: &Analisi) -> SintesiAmbito {
    let a = &s.model.ambito;
    let t = &s.vacancy.ambito;
    let tot = Offerta::of_ambito(s);
    SintesiAmbito {
        livello: "ambito",
        nome: a.nome.clone(),
        numero: a.numero,
        capofila: a.capofila.clone(),
        anno: a.anno,
        data_riferimento: a.data_riferimento.format("%Y-%m-%d").to_string(),
        data_riferimento_it: data_it(a.data_riferimento),
        dimostrativo: a.dimostrativo,
        popolazione: t.popolazione,
        comuni_n: s.model.comuni.len(),
        alloggi: Alloggi {
            stati: Stati::new(&t.conteggi, t.tasso_inutilizzo),
            alloggi_per_1000_ab: t.alloggi_per_1000_ab,
            inutilizzati_per_1000_ab: t.inutilizzati_per_1000_ab,
            quota_inutilizzati_ambito: Some(1.0),
        },
        per_ente: s
            .vacancy
            .per_ente
            .iter()
            .map(|e| StatiEnte::new(&e.ente, &e.conteggi))
            .collect(),
        piano_annuale: PianoEnte {
            ente: "Totale".into(),
            anno: s.report.anno,
            stato: Some(s.report.totale.clone()),
            consistenza: Some(s.report.totale_consistenza.clone()),
            sezioni: sezioni(&s.report, None),
        },
        offerta: QuoteOfferta::new(s.report.anno, &tot, &tot),
        candidate: candidate(s, None),
        privato: s.privato.ambito.clone(),
        comuni: s
            .vacancy
            .per_comune
            .iter()
            .map(|c| OffertaComune {
                istat: c.istat.clone(),
                nome: c.nome.clone(),
                popolazione: c.popolazione,
                alloggi: c.conteggi.alloggi,
                inutilizzati: c.conteggi.inutilizzati,
                tasso_inutilizzo: c.tasso_inutilizzo,
                alloggi_per_1000_ab: c.alloggi_per_1000_ab,
                offerta: QuoteOfferta::new(
                    s.report.anno,
                    &Offerta::of_comune(s, &c.istat, &c.nome),
                    &tot,
                ),
            })
            .collect(),
    }
}
