//! The tables of the Piano Annuale dell'offerta abitativa (L.R. 16/2016 art. 6, R.R. 4/2017),
//! computed from the inventory. The result's serde form is the JSON contract of FORMATS.md §6.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::{AlloggioPubblico, FlagPiano, Localizzazione, Model, Servizio, Stato};

/// One row of the state table per owner (SAP units only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RigaStato {
    pub ente: String,
    pub di_proprieta: u32,
    pub libero: u32,
    pub sfitto_carenze_manutentive: u32,
    pub sfitto_ristrutturazione: u32,
    pub occupato: u32,
    pub disponibili_anno: u32,
}

impl RigaStato {
    fn add(&mut self, u: &AlloggioPubblico) {
        self.di_proprieta += 1;
        match u.stato {
            Stato::Libero => self.libero += 1,
            Stato::SfittoCarenzeManutentive => self.sfitto_carenze_manutentive += 1,
            Stato::SfittoRistrutturazione => self.sfitto_ristrutturazione += 1,
            Stato::Occupato => self.occupato += 1,
        }
        if u.flag.disponibile_anno {
            self.disponibili_anno += 1;
        }
    }
    fn sum(&mut self, o: &RigaStato) {
        self.di_proprieta += o.di_proprieta;
        self.libero += o.libero;
        self.sfitto_carenze_manutentive += o.sfitto_carenze_manutentive;
        self.sfitto_ristrutturazione += o.sfitto_ristrutturazione;
        self.occupato += o.occupato;
        self.disponibili_anno += o.disponibili_anno;
    }
}

/// Section a): the stock per owner.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RigaConsistenza {
    pub ente: String,
    pub alloggi_complessivi: u32,
    pub sas: u32,
    pub sap: u32,
    pub altro_uso_residenziale: u32,
}

/// A count of one owner in a section.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValoreEnte {
    pub ente: String,
    pub valore: u32,
}

/// A counted section (b–f, j, k).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sezione {
    pub titolo: String,
    pub totale: u32,
    pub per_ente: Vec<ValoreEnte>,
}

/// Section g) per owner: the declared available units and their breakdown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RigaG {
    pub ente: String,
    /// Units declared available in the year.
    pub dichiarati: u32,
    /// Sum of sections b–f for this owner.
    pub somma_b_f: u32,
    pub di_cui_turn_over: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SezioneG {
    pub titolo: String,
    /// Declared total ("disponibili nell'anno").
    pub totale: u32,
    /// b + c + d + e + f.
    pub somma_b_f: u32,
    pub per_ente: Vec<RigaG>,
}

/// A section that is a policy choice per comune, not computed from the inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SezionePolitica {
    pub titolo: String,
    pub nota: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sezioni {
    pub b: Sezione,
    pub c: Sezione,
    pub d: Sezione,
    pub e: Sezione,
    pub f: Sezione,
    pub g: SezioneG,
    pub h: SezionePolitica,
    pub i: SezionePolitica,
    pub j: Sezione,
    pub k: Sezione,
}

/// A data-quality warning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Avviso {
    /// Stable machine code (`totale_g_diverso_da_somma`, `unita_non_collegata`, …).
    pub codice: String,
    pub messaggio: String,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PianoAnnuale {
    pub ambito: String,
    pub anno: i32,
    pub dimostrativo: bool,
    pub stato_per_ente: Vec<RigaStato>,
    pub totale: RigaStato,
    pub consistenza: Vec<RigaConsistenza>,
    pub totale_consistenza: RigaConsistenza,
    pub sezioni: Sezioni,
    pub avvisi: Vec<Avviso>,
}

/// What the report needs besides the units.
#[derive(Debug, Clone, Default)]
pub struct Contesto {
    pub ambito: String,
    pub anno: i32,
    pub dimostrativo: bool,
    /// Owners to list even with no units (e.g. `Comune di X` for every comune of the Ambito).
    pub enti_attesi: Vec<String>,
    /// Warnings computed elsewhere (linkage) to carry into the report.
    pub avvisi: Vec<Avviso>,
}

/// The report context of a model: the Ambito, the owners expected (every comune), and
/// data-quality warnings about units not linked to the cadastre.
pub fn contesto(model: &Model) -> Contesto {
    let mut avvisi = Vec::new();
    let unlinked: Vec<_> = model
        .alloggi_pubblici
        .iter()
        .filter(|u| u.localizzazione != Localizzazione::Particella)
        .collect();
    if model.particelle.is_empty() {
        if !model.alloggi_pubblici.is_empty() {
            avvisi.push(Avviso {
                codice: "catasto_assente".into(),
                messaggio: format!(
                    "Catasto non caricato: le {} unità non sono collegate alle particelle.",
                    model.alloggi_pubblici.len()
                ),
            });
        }
    } else {
        for u in unlinked {
            avvisi.push(Avviso {
                codice: "unita_non_collegata".into(),
                messaggio: format!(
                    "{} – unità {} (riga {}): nessuna particella corrisponde al riferimento catastale{}.",
                    u.ente_proprietario,
                    u.codice_unita,
                    u.riga,
                    match u.localizzazione {
                        Localizzazione::Coordinate => "; posizionata dalle coordinate",
                        _ => "; non rappresentata sulla mappa",
                    }
                ),
            });
        }
    }
    Contesto {
        ambito: model.ambito.nome.clone(),
        anno: model.ambito.anno,
        dimostrativo: model.ambito.dimostrativo,
        enti_attesi: model
            .comuni
            .iter()
            .map(|c| format!("Comune di {}", c.nome))
            .collect(),
        avvisi,
    }
}

fn name_key(s: &str) -> String {
    s.to_lowercase()
}

/// Owner names by [`name_key`]: the spelling the state table shows (the first met).
type Spellings = BTreeMap<String, String>;

fn spelling(names: &Spellings, ente: &str) -> String {
    names
        .get(&name_key(ente))
        .cloned()
        .unwrap_or_else(|| ente.to_string())
}

fn section(
    titolo: &str,
    units: &[&AlloggioPubblico],
    names: &Spellings,
    pick: impl Fn(&FlagPiano) -> bool,
) -> Sezione {
    let mut per: BTreeMap<String, (String, u32)> = BTreeMap::new();
    for u in units.iter().filter(|u| pick(&u.flag)) {
        per.entry(name_key(&u.ente_proprietario))
            .or_insert_with(|| (spelling(names, &u.ente_proprietario), 0))
            .1 += 1;
    }
    let per_ente: Vec<ValoreEnte> = per
        .into_values()
        .map(|(ente, valore)| ValoreEnte { ente, valore })
        .collect();
    Sezione {
        titolo: titolo.to_string(),
        totale: per_ente.iter().map(|v| v.valore).sum(),
        per_ente,
    }
}

/// Computes the report. Pure: no I/O.
pub fn piano_annuale(units: &[AlloggioPubblico], ctx: &Contesto) -> PianoAnnuale {
    // Owner names are matched case-insensitively; the first spelling met is kept.
    let mut stato: BTreeMap<String, RigaStato> = BTreeMap::new();
    let mut consistenza: BTreeMap<String, RigaConsistenza> = BTreeMap::new();
    for ente in &ctx.enti_attesi {
        stato.entry(name_key(ente)).or_insert_with(|| RigaStato {
            ente: ente.clone(),
            ..Default::default()
        });
        consistenza
            .entry(name_key(ente))
            .or_insert_with(|| RigaConsistenza {
                ente: ente.clone(),
                ..Default::default()
            });
    }
    for u in units {
        let key = name_key(&u.ente_proprietario);
        let c = consistenza
            .entry(key.clone())
            .or_insert_with(|| RigaConsistenza {
                ente: u.ente_proprietario.clone(),
                ..Default::default()
            });
        c.alloggi_complessivi += 1;
        match u.servizio {
            Servizio::Sap => c.sap += 1,
            Servizio::Sas => c.sas += 1,
            Servizio::Sat | Servizio::Altro => c.altro_uso_residenziale += 1,
        }
        let row = stato.entry(key).or_insert_with(|| RigaStato {
            ente: u.ente_proprietario.clone(),
            ..Default::default()
        });
        if u.servizio == Servizio::Sap {
            row.add(u);
        }
    }

    // Sections list each owner under the same spelling as the state table, whichever of its
    // rows carries the flag.
    let names: Spellings = stato
        .iter()
        .map(|(k, r)| (k.clone(), r.ente.clone()))
        .collect();
    let mut stato_per_ente: Vec<RigaStato> = stato.into_values().collect();
    stato_per_ente.sort_by(|a, b| {
        b.di_proprieta
            .cmp(&a.di_proprieta)
            .then_with(|| name_key(&a.ente).cmp(&name_key(&b.ente)))
    });
    let mut totale = RigaStato {
        ente: "Totale".into(),
        ..Default::default()
    };
    for r in &stato_per_ente {
        totale.sum(r);
    }

    let mut consistenza: Vec<RigaConsistenza> = consistenza.into_values().collect();
    consistenza.sort_by(|a, b| {
        (a.alloggi_complessivi == 0)
            .cmp(&(b.alloggi_complessivi == 0))
            .then_with(|| name_key(&a.ente).cmp(&name_key(&b.ente)))
    });
    let mut totale_consistenza = RigaConsistenza {
        ente: "Totale".into(),
        ..Default::default()
    };
    for r in &consistenza {
        totale_consistenza.alloggi_complessivi += r.alloggi_complessivi;
        totale_consistenza.sas += r.sas;
        totale_consistenza.sap += r.sap;
        totale_consistenza.altro_uso_residenziale += r.altro_uso_residenziale;
    }

    let sap: Vec<&AlloggioPubblico> = units
        .iter()
        .filter(|u| u.servizio == Servizio::Sap)
        .collect();
    let b = section(
        "b) Unità SAP in carenza manutentiva assegnabili nello stato di fatto nel corso dell'anno",
        &sap,
        &names,
        |f| f.assegnabile_stato_di_fatto,
    );
    let c = section(
        "c) Unità SAP oggetto di piani e programmi già formalizzati di ristrutturazione, recupero, riqualificazione",
        &sap,
        &names,
        |f| f.in_programma_ristrutturazione,
    );
    let d = section(
        "d) Unità SAP oggetto di piani e programmi già formalizzati di nuova edificazione, assegnabili nell'anno",
        &sap,
        &names,
        |f| f.nuova_edificazione,
    );
    let e = section(
        "e) Unità SAP che si libereranno nel corso dell'anno per turn over",
        &sap,
        &names,
        |f| f.turn_over,
    );
    let f = section(
        "f) Unità conferite da soggetti privati e destinate a SAP (art. 23 c. 2 L.R. 16/2016)",
        &sap,
        &names,
        |f| f.conferita_da_privati,
    );
    let k = section(
        "k) Unità SAP assegnate nel corso dell'anno precedente",
        &sap,
        &names,
        |f| f.assegnata_anno_precedente,
    );
    let sat: Vec<&AlloggioPubblico> = units
        .iter()
        .filter(|u| u.servizio == Servizio::Sat)
        .collect();
    let j = section(
        "j) Unità abitative destinate ai servizi abitativi transitori (SAT)",
        &sat,
        &names,
        |_| true,
    );

    // g): declared available units per owner, with the b–f breakdown.
    let mut g_rows: BTreeMap<String, RigaG> = BTreeMap::new();
    for u in &sap {
        let f = &u.flag;
        let parts = u32::from(f.assegnabile_stato_di_fatto)
            + u32::from(f.in_programma_ristrutturazione)
            + u32::from(f.nuova_edificazione)
            + u32::from(f.turn_over)
            + u32::from(f.conferita_da_privati);
        if !f.disponibile_anno && parts == 0 {
            continue;
        }
        let row = g_rows
            .entry(name_key(&u.ente_proprietario))
            .or_insert_with(|| RigaG {
                ente: spelling(&names, &u.ente_proprietario),
                dichiarati: 0,
                somma_b_f: 0,
                di_cui_turn_over: 0,
            });
        row.dichiarati += u32::from(f.disponibile_anno);
        row.somma_b_f += parts;
        row.di_cui_turn_over += u32::from(f.turn_over);
    }
    let g_per_ente: Vec<RigaG> = g_rows.into_values().collect();
    let somma_b_f = b.totale + c.totale + d.totale + e.totale + f.totale;
    let g = SezioneG {
        titolo: "g) Unità SAP complessivamente assegnabili nell'anno (totale da b a f)".into(),
        totale: totale.disponibili_anno,
        somma_b_f,
        per_ente: g_per_ente,
    };

    let mut avvisi = Vec::new();
    if g.totale != g.somma_b_f {
        avvisi.push(Avviso {
            codice: "totale_g_diverso_da_somma".into(),
            messaggio: format!(
                "Sezione g): il totale dichiarato di unità SAP disponibili nell'anno ({}) non coincide con la somma delle sezioni b–f ({}).",
                g.totale, g.somma_b_f
            ),
        });
        for r in g.per_ente.iter().filter(|r| r.dichiarati != r.somma_b_f) {
            avvisi.push(Avviso {
                codice: "totale_g_diverso_da_somma_ente".into(),
                messaggio: format!(
                    "Sezione g), {}: {} dichiarate disponibili, {} dalle sezioni b–f.",
                    r.ente, r.dichiarati, r.somma_b_f
                ),
            });
        }
    }
    avvisi.extend(ctx.avvisi.iter().cloned());

    let policy = |titolo: &str| SezionePolitica {
        titolo: titolo.to_string(),
        nota: "Scelta di indirizzo di ciascun comune: non si calcola dall'inventario.".into(),
    };

    PianoAnnuale {
        ambito: ctx.ambito.clone(),
        anno: ctx.anno,
        dimostrativo: ctx.dimostrativo,
        stato_per_ente,
        totale,
        consistenza,
        totale_consistenza,
        sezioni: Sezioni {
            b,
            c,
            d,
            e,
            f,
            g,
            h: policy("h) Soglia percentuale eccedente il 20% per i nuclei familiari in condizione di indigenza"),
            i: policy("i) Ulteriori categorie di particolare e motivata rilevanza sociale e relative quote"),
            j,
            k,
        },
        avvisi,
    }
}
