//! Typed layers of an Ambito: the in-memory model every analysis reads.
//!
//! Invariant: every geometry in the model is in lon/lat (EPSG:4326 axis order, x = longitude).
//! Readers settle CRS and axis order before anything lands here. Areas are geodesic
//! (`geo::GeodesicArea` on the WGS84 ellipsoid) unless a function says otherwise.

pub mod cadref;
pub mod normalize;
pub mod validity;
pub mod workspace;

use chrono::NaiveDate;
use geo::{MultiPolygon, Point};
use serde::{Deserialize, Serialize};

/// The names of the layers, as used by the API, tiles and exports (FORMATS.md §6).
pub const LAYER_NAMES: [&str; 10] = [
    "comuni",
    "fogli",
    "particelle",
    "fabbricati",
    "alloggi_pubblici",
    "alloggi_privati",
    "pgt_zone",
    "vincoli",
    "aree_candidate",
    "aree_escluse",
];

/// A comune of the Ambito with its boundary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comune {
    /// ISTAT code, 6 digits (`016077`).
    pub istat: String,
    /// Cadastral (Belfiore) code, 4 characters (`C800`).
    pub belfiore: String,
    pub nome: String,
    pub sub_ambito: Option<String>,
    pub popolazione: u32,
    pub geometry: MultiPolygon<f64>,
}

/// A cadastral sheet (foglio), from the `_map` GML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Foglio {
    /// National zoning reference, e.g. `C800_001300`.
    pub riferimento: String,
    pub belfiore: String,
    /// Sezione letter, `None` when the comune has no sections.
    pub sezione: Option<String>,
    /// Normalised foglio key: number without leading zeros plus allegato letter (`13`, `13A`).
    pub foglio: String,
    pub scala: Option<u32>,
    pub geometry: MultiPolygon<f64>,
}

/// A land parcel (particella), from the `_ple` GML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Particella {
    /// National cadastral reference, e.g. `C800_001300.125`.
    pub riferimento: String,
    pub belfiore: String,
    pub sezione: Option<String>,
    /// Normalised foglio key (see [`Foglio::foglio`]).
    pub foglio: String,
    /// The parcel label as text (`125`, `STRADA001`).
    pub particella: String,
    pub geometry: MultiPolygon<f64>,
}

impl Particella {
    pub fn key(&self) -> cadref::ParcelKey {
        cadref::ParcelKey::new(
            &self.belfiore,
            self.sezione.as_deref(),
            &self.foglio,
            &self.particella,
        )
    }
}

/// A building (fabbricato) on a parcel, from a CXF sheet (code ending in `+`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fabbricato {
    /// Sheet reference plus particella (`H501D076700.123`).
    pub riferimento: String,
    pub belfiore: String,
    pub sezione: Option<String>,
    /// Normalised foglio key (see [`Foglio::foglio`]).
    pub foglio: String,
    /// The particella the building stands on.
    pub particella: String,
    pub geometry: MultiPolygon<f64>,
}

impl Fabbricato {
    pub fn key(&self) -> cadref::ParcelKey {
        cadref::ParcelKey::new(
            &self.belfiore,
            self.sezione.as_deref(),
            &self.foglio,
            &self.particella,
        )
    }
}

/// Housing service of a public unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Servizio {
    Sap,
    Sas,
    Sat,
    /// Altro uso residenziale.
    Altro,
}

impl Servizio {
    pub fn code(self) -> &'static str {
        match self {
            Servizio::Sap => "SAP",
            Servizio::Sas => "SAS",
            Servizio::Sat => "SAT",
            Servizio::Altro => "altro",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            Servizio::Sap => "Servizio abitativo pubblico (SAP)",
            Servizio::Sas => "Servizio abitativo sociale (SAS)",
            Servizio::Sat => "Servizio abitativo transitorio (SAT)",
            Servizio::Altro => "Altro uso residenziale",
        }
    }
}

/// State of a public unit, as on the regional platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Stato {
    Occupato,
    Libero,
    SfittoCarenzeManutentive,
    SfittoRistrutturazione,
}

impl Stato {
    pub const ALL: [Stato; 4] = [
        Stato::Occupato,
        Stato::Libero,
        Stato::SfittoCarenzeManutentive,
        Stato::SfittoRistrutturazione,
    ];
    /// Canonical code (`sfitto_carenze_manutentive`).
    pub fn code(self) -> &'static str {
        match self {
            Stato::Occupato => "occupato",
            Stato::Libero => "libero",
            Stato::SfittoCarenzeManutentive => "sfitto_carenze_manutentive",
            Stato::SfittoRistrutturazione => "sfitto_ristrutturazione",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            Stato::Occupato => "Occupato",
            Stato::Libero => "Libero",
            Stato::SfittoCarenzeManutentive => "Sfitto per carenze manutentive",
            Stato::SfittoRistrutturazione => "Sfitto per ristrutturazione",
        }
    }
    /// "Unused public stock": free or empty for either reason.
    pub fn is_unused(self) -> bool {
        !matches!(self, Stato::Occupato)
    }
}

/// The plan-section flags of a unit (FORMATS.md §4).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FlagPiano {
    /// b) lacking maintenance but assignable as it is during the year.
    pub assegnabile_stato_di_fatto: bool,
    /// c) in a formal renovation programme, assignable in the year.
    pub in_programma_ristrutturazione: bool,
    /// d) new construction, assignable in the year.
    pub nuova_edificazione: bool,
    /// e) freed by normal turnover during the year.
    pub turn_over: bool,
    /// f) conferred by private owners (art. 23 c.2 L.R. 16/2016).
    pub conferita_da_privati: bool,
    /// Counted in "disponibili nell'anno" (declared total of section g).
    pub disponibile_anno: bool,
    /// k) assigned in the previous year.
    pub assegnata_anno_precedente: bool,
}

/// How a public unit got its position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Localizzazione {
    /// Interior point of the parcel its cadastral reference names.
    Particella,
    /// `lon`/`lat` columns of the inventory.
    Coordinate,
    /// Neither: the unit is counted but not drawn.
    NonLocalizzato,
}

/// One public-housing unit of the inventory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlloggioPubblico {
    pub ente_proprietario: String,
    pub codice_unita: String,
    /// Comune where the unit stands, resolved to its codes when the Ambito knows it.
    pub comune_istat: Option<String>,
    pub belfiore: Option<String>,
    pub comune_nome: Option<String>,
    pub indirizzo: Option<String>,
    pub sezione: Option<String>,
    pub foglio: Option<String>,
    pub particella: Option<String>,
    pub subalterno: Option<String>,
    /// Normalised as `A/3`.
    pub categoria_catastale: Option<String>,
    pub superficie_mq: Option<f64>,
    pub servizio: Servizio,
    pub stato: Stato,
    pub sfitto_dal: Option<NaiveDate>,
    pub flag: FlagPiano,
    /// `lon`/`lat` given in the inventory (EPSG:4326).
    pub lonlat: Option<Point<f64>>,
    /// Line of the source file (1-based, header is line 1), for messages.
    pub riga: usize,
    /// Position on the map, set by linkage.
    pub posizione: Option<Point<f64>>,
    pub localizzazione: Localizzazione,
}

impl AlloggioPubblico {
    /// The cadastral key this unit names, if it names one completely.
    pub fn parcel_key(&self) -> Option<cadref::ParcelKey> {
        let belfiore = self.belfiore.as_deref()?;
        let foglio = self.foglio.as_deref()?;
        let particella = self.particella.as_deref()?;
        Some(cadref::ParcelKey::new(
            belfiore,
            self.sezione.as_deref(),
            foglio,
            particella,
        ))
    }

    /// Whole months the unit has been empty at `reference`, when it is unused and `sfitto_dal` is known.
    pub fn mesi_sfitto(&self, reference: NaiveDate) -> Option<u32> {
        if !self.stato.is_unused() {
            return None;
        }
        let since = self.sfitto_dal?;
        if since > reference {
            return Some(0);
        }
        let months = (reference.year_ce_months()) - (since.year_ce_months());
        let adjust = if reference.day0() < since.day0() {
            1
        } else {
            0
        };
        Some((months - adjust).max(0) as u32)
    }
}

trait MonthIndex {
    fn year_ce_months(&self) -> i64;
    fn day0(&self) -> u32;
}

impl MonthIndex for NaiveDate {
    fn year_ce_months(&self) -> i64 {
        use chrono::Datelike;
        i64::from(self.year()) * 12 + i64::from(self.month0())
    }
    fn day0(&self) -> u32 {
        use chrono::Datelike;
        Datelike::day0(self)
    }
}

/// State of a private unit offered to the housing desk (FORMATS.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum StatoPrivato {
    /// Offered by its owner, not (yet) let.
    Offerto,
    /// Let at agreed rent (canone concordato) through the desk.
    LocatoConcordato,
    /// Withdrawn by its owner.
    Ritirato,
}

impl StatoPrivato {
    pub const ALL: [StatoPrivato; 3] = [
        StatoPrivato::Offerto,
        StatoPrivato::LocatoConcordato,
        StatoPrivato::Ritirato,
    ];
    pub fn code(self) -> &'static str {
        match self {
            StatoPrivato::Offerto => "offerto",
            StatoPrivato::LocatoConcordato => "locato_concordato",
            StatoPrivato::Ritirato => "ritirato",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            StatoPrivato::Offerto => "Offerto",
            StatoPrivato::LocatoConcordato => "Locato a canone concordato",
            StatoPrivato::Ritirato => "Ritirato dal proprietario",
        }
    }
}

/// One private unit offered by its owner to the housing desk. Owners' names are never part of
/// it: the reader drops them. Individual private units are for officers only (not served, not
/// exported to `layers/`); see `output::geojson::Pubblico`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlloggioPrivato {
    /// The desk's id of the offer.
    pub codice: String,
    /// Comune where the unit stands, resolved to its codes when the Ambito knows it.
    pub comune_istat: Option<String>,
    pub belfiore: Option<String>,
    pub comune_nome: Option<String>,
    pub indirizzo: Option<String>,
    pub sezione: Option<String>,
    pub foglio: Option<String>,
    pub particella: Option<String>,
    pub subalterno: Option<String>,
    /// Normalised as `A/3`.
    pub categoria_catastale: Option<String>,
    pub superficie_mq: Option<f64>,
    /// Rent asked, € per month.
    pub canone_mensile: Option<f64>,
    pub stato: StatoPrivato,
    pub data_offerta: NaiveDate,
    pub data_locazione: Option<NaiveDate>,
    pub data_ritiro: Option<NaiveDate>,
    /// `lon`/`lat` given in the file (EPSG:4326).
    pub lonlat: Option<Point<f64>>,
    /// Line of the source file (1-based, header is line 1), for messages.
    pub riga: usize,
    /// Position, set by linkage.
    pub posizione: Option<Point<f64>>,
    pub localizzazione: Localizzazione,
}

/// How a public property other than housing is used (seed 004: offices, schools, depots the
/// comune could reuse for housing services).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatoProprieta {
    InUso,
    Sottoutilizzato,
    Dismesso,
}

impl StatoProprieta {
    pub fn code(self) -> &'static str {
        match self {
            StatoProprieta::InUso => "in_uso",
            StatoProprieta::Sottoutilizzato => "sottoutilizzato",
            StatoProprieta::Dismesso => "dismesso",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            StatoProprieta::InUso => "in uso",
            StatoProprieta::Sottoutilizzato => "sottoutilizzato",
            StatoProprieta::Dismesso => "dismesso",
        }
    }
}

/// A public property that is not housing (office, school, depot…), listed by cadastral
/// reference by the comune's property office.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProprietaPubblica {
    pub codice: String,
    pub comune_istat: Option<String>,
    pub belfiore: Option<String>,
    pub comune_nome: Option<String>,
    pub sezione: Option<String>,
    pub foglio: String,
    pub particella: String,
    /// Owner (`Comune di Lecco`, `ALER Bergamo Lecco Sondrio`, …).
    pub ente: String,
    /// Current or last use (`ufficio`, `scuola`, `magazzino`…), as written.
    pub uso: Option<String>,
    pub stato: StatoProprieta,
    /// Floor area, m², when given.
    pub superficie_mq: Option<f64>,
    pub note: Option<String>,
    /// Line of the source file (1-based, header is line 1).
    pub riga: usize,
}

/// An existing service as a point (school, health centre, shop, public-transport stop…).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServizioPuntuale {
    /// Kind, lower case (`scuola`, `sanita`, `commercio`, `fermata`, or any other the rules name).
    pub tipo: String,
    pub nome: Option<String>,
    pub posizione: Point<f64>,
}

/// An area estimate of non-occupied private dwellings (e.g. a census tract).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StimaNonOccupate {
    /// The area's own code (census tract), when given.
    pub codice: Option<String>,
    /// The comune declared in the file (`comune_istat`), when given.
    pub comune_istat_dichiarato: Option<String>,
    /// The comune holding most of the polygon, set by `analysis::private::assign_tracts`.
    pub comune_istat: Option<String>,
    pub abitazioni_totali: u32,
    pub abitazioni_non_occupate: u32,
    /// Feature position in the source file (1-based), for messages.
    pub elemento: usize,
    pub geometry: MultiPolygon<f64>,
}

/// Zone classes abitare understands, whatever the comune called them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum ClasseZona {
    AmbitoTrasformazione,
    TessutoUrbanoConsolidato,
    NucleoAnticaFormazione,
    Agricolo,
    NonSoggettoTrasformazione,
    ServiziEsistenti,
    ServiziPrevisti,
    Rigenerazione,
}

impl ClasseZona {
    pub const ALL: [ClasseZona; 8] = [
        ClasseZona::AmbitoTrasformazione,
        ClasseZona::TessutoUrbanoConsolidato,
        ClasseZona::NucleoAnticaFormazione,
        ClasseZona::Agricolo,
        ClasseZona::NonSoggettoTrasformazione,
        ClasseZona::ServiziEsistenti,
        ClasseZona::ServiziPrevisti,
        ClasseZona::Rigenerazione,
    ];
    pub fn code(self) -> &'static str {
        match self {
            ClasseZona::AmbitoTrasformazione => "ambito_trasformazione",
            ClasseZona::TessutoUrbanoConsolidato => "tessuto_urbano_consolidato",
            ClasseZona::NucleoAnticaFormazione => "nucleo_antica_formazione",
            ClasseZona::Agricolo => "agricolo",
            ClasseZona::NonSoggettoTrasformazione => "non_soggetto_trasformazione",
            ClasseZona::ServiziEsistenti => "servizi_esistenti",
            ClasseZona::ServiziPrevisti => "servizi_previsti",
            ClasseZona::Rigenerazione => "rigenerazione",
        }
    }
    pub fn label_it(self) -> &'static str {
        match self {
            ClasseZona::AmbitoTrasformazione => "Ambito di trasformazione",
            ClasseZona::TessutoUrbanoConsolidato => "Tessuto urbano consolidato",
            ClasseZona::NucleoAnticaFormazione => "Nucleo di antica formazione",
            ClasseZona::Agricolo => "Area agricola",
            ClasseZona::NonSoggettoTrasformazione => "Area non soggetta a trasformazione",
            ClasseZona::ServiziEsistenti => "Servizi esistenti",
            ClasseZona::ServiziPrevisti => "Servizi previsti",
            ClasseZona::Rigenerazione => "Ambito di rigenerazione",
        }
    }
    pub fn from_code(code: &str) -> Option<ClasseZona> {
        ClasseZona::ALL.into_iter().find(|c| c.code() == code)
    }
}

/// A PGT zone, mapped to an abitare class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZonaPgt {
    pub comune_istat: Option<String>,
    pub comune_nome: Option<String>,
    pub classe: ClasseZona,
    /// The comune's own class name (`LEGENDA`), or the ambito name (`NOME_AMB`).
    pub legenda: Option<String>,
    /// Destination code (`COD_DEST1` / `FUN_PREV1`) when given.
    pub codice_destinazione: Option<String>,
    /// Source layer (file stem) the zone came from.
    pub fonte: String,
    pub geometry: MultiPolygon<f64>,
}

/// A constraint area (vincolo, fascia di rispetto).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Vincolo {
    pub comune_istat: Option<String>,
    pub comune_nome: Option<String>,
    /// Kind of constraint (`COD_VINC`).
    pub codice: Option<String>,
    /// Name of the constraint (`NOME_VINC_PRINC`).
    pub nome: String,
    pub fonte: String,
    pub geometry: MultiPolygon<f64>,
}

/// Identity of the Ambito a model describes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AmbitoInfo {
    pub numero: Option<u32>,
    pub nome: String,
    pub capofila: Option<String>,
    /// Year of the annual plan (`2026`).
    pub anno: i32,
    /// Date at which vacancy durations are measured.
    pub data_riferimento: NaiveDate,
    /// True when the data are generated demonstration data.
    pub dimostrativo: bool,
}

/// The whole model of an Ambito: what ingest produces and analysis consumes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub ambito: AmbitoInfo,
    pub comuni: Vec<Comune>,
    pub fogli: Vec<Foglio>,
    pub particelle: Vec<Particella>,
    #[serde(default)]
    pub fabbricati: Vec<Fabbricato>,
    pub alloggi_pubblici: Vec<AlloggioPubblico>,
    pub pgt_zone: Vec<ZonaPgt>,
    pub vincoli: Vec<Vincolo>,
    /// Private units offered to the housing desk (officers only).
    #[serde(default)]
    pub alloggi_privati: Vec<AlloggioPrivato>,
    /// Area estimates of non-occupied private dwellings.
    #[serde(default)]
    pub stime_non_occupate: Vec<StimaNonOccupate>,
    /// Public property other than housing (offices, schools, depots), by cadastral reference.
    #[serde(default)]
    pub altra_proprieta_pubblica: Vec<ProprietaPubblica>,
    /// Existing services as points (schools, health, shops, stops).
    #[serde(default)]
    pub servizi_puntuali: Vec<ServizioPuntuale>,
}

impl Model {
    pub fn empty(ambito: AmbitoInfo) -> Model {
        Model {
            ambito,
            comuni: Vec::new(),
            fogli: Vec::new(),
            particelle: Vec::new(),
            fabbricati: Vec::new(),
            alloggi_pubblici: Vec::new(),
            pgt_zone: Vec::new(),
            vincoli: Vec::new(),
            alloggi_privati: Vec::new(),
            stime_non_occupate: Vec::new(),
            altra_proprieta_pubblica: Vec::new(),
            servizi_puntuali: Vec::new(),
        }
    }

    pub fn comune_by_istat(&self, istat: &str) -> Option<&Comune> {
        self.comuni.iter().find(|c| c.istat == istat)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(stato: Stato, since: Option<&str>) -> AlloggioPubblico {
        AlloggioPubblico {
            ente_proprietario: "Comune di Clusone".into(),
            codice_unita: "1".into(),
            comune_istat: None,
            belfiore: None,
            comune_nome: None,
            indirizzo: None,
            sezione: None,
            foglio: None,
            particella: None,
            subalterno: None,
            categoria_catastale: None,
            superficie_mq: None,
            servizio: Servizio::Sap,
            stato,
            sfitto_dal: since.map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("test date")),
            flag: FlagPiano::default(),
            lonlat: None,
            riga: 2,
            posizione: None,
            localizzazione: Localizzazione::NonLocalizzato,
        }
    }

    #[test]
    fn months_empty_counts_whole_months() {
        let r = NaiveDate::from_ymd_opt(2025, 10, 27).expect("date");
        assert_eq!(
            unit(Stato::Libero, Some("2025-09-27")).mesi_sfitto(r),
            Some(1)
        );
        assert_eq!(
            unit(Stato::Libero, Some("2025-09-28")).mesi_sfitto(r),
            Some(0)
        );
        assert_eq!(
            unit(Stato::SfittoRistrutturazione, Some("2023-01-15")).mesi_sfitto(r),
            Some(33)
        );
        assert_eq!(
            unit(Stato::Occupato, Some("2023-01-15")).mesi_sfitto(r),
            None
        );
        assert_eq!(unit(Stato::Libero, None).mesi_sfitto(r), None);
        assert_eq!(
            unit(Stato::Libero, Some("2026-01-01")).mesi_sfitto(r),
            Some(0)
        );
    }
}
