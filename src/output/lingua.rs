//! The language of what a person reads in the reports: Italian (the default, the language of
//! the Piano Annuale) or English, for the Regione's and the EU's partners.
//!
//! Renderers call [`Lingua::t`] on every fixed Italian string they write; strings built with
//! values are written per language by the renderer itself. What the analysis wrote in Italian
//! (section titles, data-quality warnings) goes through [`Lingua::frasi`], which replaces the
//! known phrases. Names (owner bodies, comuni, the Ambito) are never translated.
//! `tests/report_english.rs` renders every report in English and fails on Italian left over.

use std::borrow::Cow;

/// The language of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lingua {
    #[default]
    It,
    En,
}

impl Lingua {
    /// `it` or `en` (any case); `None` for anything else.
    pub fn parse(s: &str) -> Option<Lingua> {
        match s.trim().to_ascii_lowercase().as_str() {
            "it" | "ita" | "italiano" => Some(Lingua::It),
            "en" | "eng" | "english" | "inglese" => Some(Lingua::En),
            _ => None,
        }
    }

    /// The BCP 47 tag for `<html lang>`.
    pub fn code(self) -> &'static str {
        match self {
            Lingua::It => "it",
            Lingua::En => "en",
        }
    }

    /// A fixed string in this language: the English of an Italian string of the table, or the
    /// string itself (Italian, or a string with no words such as `SAP`).
    pub fn t(self, it: &'static str) -> &'static str {
        match self {
            Lingua::It => it,
            Lingua::En => TERMINI
                .iter()
                .find(|(k, _)| *k == it)
                .map_or(it, |(_, en)| *en),
        }
    }

    /// Text written by the analysis in Italian, in this language: a title of the table as a
    /// whole, else each known phrase replaced (longest first), values and names kept.
    pub fn frasi<'a>(self, it: &'a str) -> Cow<'a, str> {
        if self == Lingua::It {
            return Cow::Borrowed(it);
        }
        if let Some((_, en)) = TERMINI.iter().find(|(k, _)| *k == it) {
            return Cow::Borrowed(en);
        }
        let mut out = it.to_string();
        for (k, en) in FRASI {
            if out.contains(k) {
                out = out.replace(k, en);
            }
        }
        Cow::Owned(numeri_en(&out))
    }

    /// A number as people read it in this language: `1.234,5` or `1,234.5`.
    pub fn numero(self, v: f64, decimals: usize) -> String {
        let it = crate::italiano::numero_it(v, decimals);
        match self {
            Lingua::It => it,
            Lingua::En => it
                .chars()
                .map(|c| match c {
                    '.' => ',',
                    ',' => '.',
                    c => c,
                })
                .collect(),
        }
    }
}

/// The figures of an Italian sentence with English separators: `1.000 m²` → `1,000 m²`,
/// `0,13 ha` → `0.13 ha`. A `.` counts as a thousands separator only after a group of 1–3
/// digits (or another group) and before exactly three, so codes such as `001300.125` stay.
fn numeri_en(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let digit = |i: usize| c.get(i).is_some_and(char::is_ascii_digit);
    let mut out = String::with_capacity(s.len());
    for (i, &ch) in c.iter().enumerate() {
        let swapped = match ch {
            ',' if i > 0 && digit(i - 1) && digit(i + 1) => Some('.'),
            '.' if i > 0 && digit(i - 1) && digit(i + 1) => {
                // The digits before, back to the start of the figure.
                let mut j = i;
                while j > 0 && (digit(j - 1) || (c[j - 1] == '.' && j >= 2 && digit(j - 2))) {
                    j -= 1;
                }
                let starts_figure = j == 0 || !(c[j - 1].is_alphanumeric() || c[j - 1] == '_');
                let lead = c[j..i].iter().take_while(|d| d.is_ascii_digit()).count();
                let three_after = digit(i + 1) && digit(i + 2) && digit(i + 3) && !digit(i + 4);
                (starts_figure && (1..=3).contains(&lead) && three_after).then_some(',')
            }
            _ => None,
        };
        out.push(swapped.unwrap_or(ch));
    }
    out
}

/// Whole strings: headings, column heads, labels, section titles.
const TERMINI: &[(&str, &str)] = &[
    // Piano Annuale: tables and headings.
    ("Alloggi SAP per ente proprietario e stato", "SAP dwellings by owner body and state"),
    ("Ente proprietario", "Owner body"),
    ("Di proprietà", "Owned"),
    ("Stato libero", "Vacant (free)"),
    ("Sfitto per carenze manutentive", "Empty for lack of maintenance"),
    ("Sfitto per ristrutturazione", "Empty for renovation"),
    ("Stato occupato", "Occupied"),
    ("Disponibili nell'anno", "Available in the year"),
    ("Totale", "Total"),
    ("Totale Ambito", "Ambito total"),
    ("Unità", "Units"),
    ("Nessuna unità.", "No units."),
    (
        "a) Consistenza aggiornata del patrimonio abitativo pubblico e sociale",
        "a) Current stock of public and social housing",
    ),
    ("Alloggi complessivi", "All dwellings"),
    ("Altro uso residenziale", "Other residential use"),
    ("Da sezioni b–f", "From sections b–f"),
    ("di cui turn over", "of which turnover"),
    (
        "b) Unità SAP in carenza manutentiva assegnabili nello stato di fatto nel corso dell'anno",
        "b) SAP units lacking maintenance, assignable as they are during the year",
    ),
    (
        "c) Unità SAP oggetto di piani e programmi già formalizzati di ristrutturazione, recupero, riqualificazione",
        "c) SAP units in formal renovation, recovery or upgrading programmes",
    ),
    (
        "d) Unità SAP oggetto di piani e programmi già formalizzati di nuova edificazione, assegnabili nell'anno",
        "d) SAP units in formal new-construction programmes, assignable in the year",
    ),
    (
        "e) Unità SAP che si libereranno nel corso dell'anno per turn over",
        "e) SAP units that turnover will free during the year",
    ),
    (
        "f) Unità conferite da soggetti privati e destinate a SAP (art. 23 c. 2 L.R. 16/2016)",
        "f) Units conferred by private owners for SAP (art. 23 c. 2 L.R. 16/2016)",
    ),
    (
        "g) Unità SAP complessivamente assegnabili nell'anno (totale da b a f)",
        "g) SAP units assignable in the year in all (total of b to f)",
    ),
    (
        "h) Soglia percentuale eccedente il 20% per i nuclei familiari in condizione di indigenza",
        "h) Share above 20% for households in poverty",
    ),
    (
        "i) Ulteriori categorie di particolare e motivata rilevanza sociale e relative quote",
        "i) Further categories of particular, justified social relevance and their shares",
    ),
    (
        "j) Unità abitative destinate ai servizi abitativi transitori (SAT)",
        "j) Dwellings for transitional housing services (SAT)",
    ),
    (
        "k) Unità SAP assegnate nel corso dell'anno precedente",
        "k) SAP units assigned during the previous year",
    ),
    (
        "Scelta di indirizzo di ciascun comune: non si calcola dall'inventario.",
        "A policy choice of each comune: not computed from the inventory.",
    ),
    ("Avvisi sulla qualità dei dati", "Data-quality warnings"),
    ("In sintesi", "At a glance"),
    ("Ambito territoriale", "Ambito territoriale (district)"),
    (
        "Dati dimostrativi: generati per illustrare il servizio, non descrivono alloggi reali.",
        "Demonstration data: generated to show the service, they describe no real dwellings.",
    ),
    (
        "DATI DIMOSTRATIVI: generati per dimostrazione, non sono dati reali.",
        "DEMONSTRATION DATA: generated for a demonstration, not real data.",
    ),
    // Private stock.
    ("Patrimonio privato", "Private stock"),
    ("Comune", "Comune (municipality)"),
    ("Alloggi pubblici inutilizzati", "Unused public dwellings"),
    ("Abitazioni (stima)", "Dwellings (estimate)"),
    ("Abitazioni non occupate (stima)", "Non-occupied dwellings (estimate)"),
    ("Quota non occupate", "Non-occupied share"),
    ("Privati offerti", "Private units offered"),
    ("Ancora in offerta", "Still on offer"),
    ("Locati a canone concordato", "Let at agreed rent"),
    ("Ritirati", "Withdrawn"),
    ("Rimessi in uso", "Back in use"),
    (
        "Alloggi privati offerti, locati e ritirati per anno",
        "Private units offered, let and withdrawn by year",
    ),
    ("Anno", "Year"),
    ("Offerti", "Offered"),
    // Charts.
    ("Occupati", "Occupied"),
    ("Liberi", "Vacant (free)"),
    ("Sfitti per carenze manutentive", "Empty for lack of maintenance"),
    ("Sfitti per ristrutturazione", "Empty for renovation"),
    ("b) assegnabili nello stato di fatto", "b) assignable as they are"),
    ("c) in ristrutturazione, assegnabili", "c) in renovation, assignable"),
    ("d) di nuova edificazione", "d) new construction"),
    ("e) liberati per turn over", "e) freed by turnover"),
    ("f) conferiti da privati", "f) conferred by private owners"),
    ("g) disponibili nell'anno (dichiarati)", "g) available in the year (declared)"),
    ("j) per servizi transitori (SAT)", "j) for transitional services (SAT)"),
    ("k) assegnati l'anno precedente", "k) assigned the previous year"),
    ("Unità SAP del Piano per sezione", "SAP units of the plan by section"),
    (
        "Unità SAP del Piano per sezione (totali dell'Ambito).",
        "SAP units of the plan by section (Ambito totals).",
    ),
    (
        "Mappa dei comuni per alloggi pubblici inutilizzati",
        "Map of the comuni by unused public dwellings",
    ),
    ("Alloggi inutilizzati", "Unused dwellings"),
    ("nessuno", "none"),
    (
        "Alloggi pubblici inutilizzati (liberi + sfitti) per comune, di tutti i proprietari.",
        "Unused public dwellings (free + empty) by comune, of every owner body.",
    ),
    (
        "Alloggi SAP di ciascun ente proprietario, per stato. Inutilizzati = liberi + sfitti.",
        "SAP dwellings of each owner body, by state. Unused = free + empty.",
    ),
    // Candidate areas.
    (
        "Aree candidate a standard di edilizia residenziale sociale",
        "Candidate areas for social housing as a planning standard",
    ),
    ("Come si calcola il punteggio", "How the score is computed"),
    ("Preferenza", "Preference"),
    ("Punti al massimo", "Most points"),
    ("Totale (= punteggio 100)", "Total (= score 100)"),
    ("Riepilogo dell'Ambito per fonte", "Ambito summary by source"),
    ("Fonte", "Source"),
    ("Aree candidate", "Candidate areas"),
    ("Ettari", "Hectares"),
    ("Alloggi stimati", "Estimated dwellings"),
    ("Aree escluse", "Excluded areas"),
    ("Aree candidate, per punteggio", "Candidate areas, by score"),
    ("N.", "No."),
    ("Area", "Area"),
    ("Punteggio", "Score"),
    ("Alloggi", "Dwellings"),
    ("Motivi", "Reasons"),
    ("Parti escluse", "Parts excluded"),
    ("Motivo", "Reason"),
    ("Nessuna area candidata.", "No candidate area."),
    ("Nessuna area esclusa.", "No excluded area."),
    (
        "Dati dimostrativi: generati per illustrare il servizio, non descrivono aree reali.",
        "Demonstration data: generated to show the service, they describe no real areas.",
    ),
    (
        "Aree dove il PGT potrebbe localizzare alloggi sociali come servizio (L. 244/2007, D.M. 22 aprile 2008, L.R. 12/2005): aree per servizi previste, ambiti di trasformazione, ambiti di rigenerazione, patrimonio abitativo pubblico inutilizzato e altri immobili pubblici dismessi o sottoutilizzati, al netto di vincoli, aree agricole e parti sotto la superficie minima. Il punteggio e gli alloggi stimati dipendono dalle regole applicate; ogni area riporta i propri motivi.",
        "Areas where the PGT could place social housing as a public service (L. 244/2007, D.M. 22 April 2008, L.R. 12/2005): planned service areas, transformation areas, regeneration areas, unused public housing and other dismissed or underused public property, less constraints, agricultural land and parts below the minimum area. Score and estimated dwellings depend on the rules applied; every area carries its reasons.",
    ),
    (
        "Il punteggio misura quanto il luogo è adatto, non quanto è grande (la dimensione è negli alloggi stimati): è la somma dei punti delle preferenze soddisfatte, in centesimi del massimo che le regole possono dare.",
        "The score measures how suitable the place is, not how large (the size is in the estimated dwellings): the points of the preferences met, as hundredths of the most the rules can give.",
    ),
    (
        "Nessuna area candidata secondo le regole applicate.",
        "No candidate area under the rules applied.",
    ),
    ("Aree", "Areas"),
    ("Escluse", "Excluded"),
    ("Avvisi", "Warnings"),
    (
        "Area per servizi prevista dal Piano dei Servizi",
        "Service area planned by the Piano dei Servizi",
    ),
    (
        "Ambito di trasformazione (standard cedibile)",
        "Transformation area (standard to be ceded)",
    ),
    ("Ambito di rigenerazione urbana", "Urban regeneration area"),
    ("Patrimonio pubblico inutilizzato", "Unused public housing"),
    (
        "Altra proprietà pubblica dismessa o sottoutilizzata",
        "Other public property, dismissed or underused",
    ),
];

/// Phrases inside text the analysis wrote (data-quality warnings, reasons), longest first
/// where one contains another.
const FRASI: &[(&str, &str)] = &[
    (
        "Sezione g): il totale dichiarato di unità SAP disponibili nell'anno (",
        "Section g): the declared total of SAP units available in the year (",
    ),
    (
        ") non coincide con la somma delle sezioni b–f (",
        ") differs from the sum of sections b–f (",
    ),
    ("dichiarate disponibili", "declared available"),
    ("dalle sezioni b–f", "from sections b–f"),
    ("Sezione g),", "Section g),"),
    ("Catasto non caricato: le ", "Cadastre not loaded: the "),
    (
        " unità non sono collegate alle particelle.",
        " units are not linked to parcels.",
    ),
    (
        "nessuna particella corrisponde al riferimento catastale",
        "no parcel matches the cadastral reference",
    ),
    (
        "; posizionata dalle coordinate",
        "; placed by its coordinates",
    ),
    ("; non rappresentata sulla mappa", "; not shown on the map"),
    (" – unità ", " – unit "),
    ("(riga ", "(line "),
    // Reasons of the candidate areas and their score breakdown.
    (
        "area per servizi prevista dal Piano dei Servizi, non ancora realizzata",
        "service area planned by the Piano dei Servizi, not yet built",
    ),
    ("ambito di rigenerazione urbana", "urban regeneration area"),
    (
        "ambito di trasformazione del Documento di Piano: standard",
        "transformation area of the Documento di Piano: standard",
    ),
    (
        "% cedibile come alloggi sociali",
        "% to be ceded as social housing",
    ),
    (", di cui ", ", of which "),
    ("ambito di trasformazione", "transformation area"),
    ("particella pubblica", "public parcel"),
    (
        "proprietà pubblica non abitativa",
        "non-residential public property",
    ),
    ("(libere o sfitte)", "(free or empty)"),
    (
        "unità inutilizzate da riattivare",
        "unused units to bring back into use",
    ),
    ("superficie utile", "usable area"),
    ("≥ minima", "≥ minimum"),
    ("superficie", "area"),
    ("inferiore alla minima di", "below the minimum of"),
    ("interamente esclusa", "excluded whole"),
    ("alloggi stimati", "estimated dwellings"),
    ("alloggi/ha", "dwellings/ha"),
    (
        "nel tessuto urbano consolidato",
        "in the consolidated urban fabric",
    ),
    ("almeno il", "at least"),
    ("dell'area", "of the area"),
    (
        "distanza dai servizi esistenti",
        "distance to existing services",
    ),
    (
        "servizi esistenti del Piano dei Servizi entro",
        "existing services of the Piano dei Servizi within",
    ),
    (
        "nessun servizio esistente entro",
        "no existing service within",
    ),
    ("distanza ", "distance to "),
    ("nessun punto di tipo", "no point of kind"),
    ("servizio sanitario", "health service"),
    ("negozio di vicinato", "local shop"),
    ("fermata del trasporto pubblico", "public transport stop"),
    ("to scuola", "to school"),
    ("scuola entro", "school within"),
    ("(stato: dismesso)", "(state: dismissed)"),
    ("(stato: sottoutilizzato)", "(state: underused)"),
    ("(stato: in uso)", "(state: in use)"),
    (
        "alloggi pubblici inutilizzati entro",
        "unused public dwellings within",
    ),
    ("meno di 3", "fewer than 3"),
    ("punti ciascuno", "points each"),
    (
        "area già di proprietà pubblica",
        "area already publicly owned",
    ),
    ("proprietà pubblica", "public ownership"),
    ("domanda del comune", "the comune's demand"),
    (
        "popolazione del comune, fino a",
        "the comune's population, up to",
    ),
    ("abitanti su", "inhabitants of"),
    ("abitanti", "inhabitants"),
    ("di riferimento", "as reference"),
    (
        "pressione abitativa del comune",
        "housing pressure of the comune",
    ),
    ("punti)", "points)"),
    ("fascia di", "band of"),
    (
        "parti sotto la superficie minima di",
        "parts below the minimum area of",
    ),
    (
        "area agricola (esclusa dalle regole)",
        "agricultural land (excluded by the rules)",
    ),
    (
        "area non soggetta a trasformazione urbanistica",
        "area not subject to transformation",
    ),
    (" entro ", " within "),
    (") di ", ") of "),
    (" con ", " with "),
    (" unità ", " units "),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_and_phrases_in_english() {
        assert_eq!(Lingua::parse("EN"), Some(Lingua::En));
        assert_eq!(Lingua::parse("it"), Some(Lingua::It));
        assert_eq!(Lingua::parse("fr"), None);
        assert_eq!(Lingua::En.t("Totale"), "Total");
        assert_eq!(Lingua::It.t("Totale"), "Totale");
        assert_eq!(Lingua::En.t("SAP"), "SAP");
        assert_eq!(
            Lingua::En.frasi("Comune di Ardesio – unità U-7 (riga 12): nessuna particella corrisponde al riferimento catastale; posizionata dalle coordinate."),
            "Comune di Ardesio – unit U-7 (line 12): no parcel matches the cadastral reference; placed by its coordinates."
        );
        assert_eq!(Lingua::En.numero(1234.5, 1), "1,234.5");
        assert_eq!(
            numeri_en(
                "0,13 ha ≥ minima 1.000 m², 12.345.678 m (+30,0), PP-C800_001300.125, L.R. 16/2016"
            ),
            "0.13 ha ≥ minima 1,000 m², 12,345,678 m (+30.0), PP-C800_001300.125, L.R. 16/2016"
        );
        assert_eq!(Lingua::It.numero(1234.5, 1), "1.234,5");
    }

    #[test]
    fn every_term_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for (k, _) in TERMINI {
            assert!(seen.insert(*k), "{k} twice");
        }
    }
}
