//! The layer registry: every layer abitare serves, exports or writes to the workspace, once,
//! with who may see it, its Italian title and description, geometry kind, minimum zoom, its
//! columns (order, type, Italian label) and its palette. The API, the OGC collections, the
//! TileJSON and the style, the exports and their QGIS styles, the workspace's `layers/` and the
//! web page (through `style.json`) all read this table: a layer added here appears everywhere.
//!
//! **Who sees what is data.** Each layer names the least [`Audience`] that may see it; a caller
//! gets a [`Layer`] only from [`layer`] or [`visible`], which take the caller's audience and
//! refuse what it may not see. Every function that renders features takes a [`Layer`], so no
//! code path can render a restricted layer into a response for a caller who may not see it.

use serde::Serialize;

/// Who may see a layer, from the widest audience to the narrowest. A caller of audience `a`
/// sees the layers whose audience is `a` or wider (`layer.audience <= a`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Anyone, with no login: the public map, API, OGC collections, tiles and exports, and the
    /// workspace's `layers/`. Public units only as aggregates per comune, with small counts
    /// withheld ([`crate::output::protect`]).
    Pubblico,
    /// Members of the Tavolo Abitare and the officers of the owner bodies: the unit-level public
    /// stock (state, since when, address, cadastral reference).
    Tavolo,
    /// The Ambito office and its housing desk: also the individual private units offered to
    /// the desk (owners' names are never stored).
    Ufficio,
}

impl Audience {
    pub fn code(self) -> &'static str {
        match self {
            Audience::Pubblico => "pubblico",
            Audience::Tavolo => "tavolo",
            Audience::Ufficio => "ufficio",
        }
    }
    /// Italian name, for messages.
    pub fn label_it(self) -> &'static str {
        match self {
            Audience::Pubblico => "pubblico",
            Audience::Tavolo => "Tavolo Abitare ed enti proprietari",
            Audience::Ufficio => "ufficio dell'Ambito",
        }
    }

    /// Every audience, from the widest to the narrowest.
    pub const ALL: [Audience; 3] = [Audience::Pubblico, Audience::Tavolo, Audience::Ufficio];

    /// Position in [`Audience::ALL`] (cache keys).
    pub fn index(self) -> usize {
        self as usize
    }
}

/// The layers. The registry ([`LAYERS`]) gives each one its facts; per-layer code (rendering,
/// counts, indexes) matches on this enum exhaustively, so a new layer cannot be forgotten.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerId {
    Comuni,
    Fogli,
    Particelle,
    Fabbricati,
    AlloggiPubblici,
    PgtZone,
    Vincoli,
    StockPrivato,
    AreeCandidate,
    AreeEscluse,
    PuntiServizio,
    AlloggiPrivati,
}

/// Geometry of a layer's features.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GeometryKind {
    Point,
    MultiPolygon,
}

impl GeometryKind {
    /// GeoPackage / OGC geometry type name.
    pub fn name(self) -> &'static str {
        match self {
            GeometryKind::Point => "Point",
            GeometryKind::MultiPolygon => "MultiPolygon",
        }
    }
}

/// Type of a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Integer,
    Real,
    Boolean,
    /// ISO `YYYY-MM-DD` strings.
    Date,
}

/// How a column's values read best in a spreadsheet or a popup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    Plain,
    /// A share 0–1, shown as a percentage.
    Percent,
}

/// A column (a feature property) of a layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    /// Italian label (spreadsheet headers, QGIS aliases).
    pub label: &'static str,
    pub display: Display,
    /// What the public may not see of the values (see [`crate::output::protect`]).
    pub protection: Protection,
}

/// How a column's values are withheld from the public audience, as statistical offices do
/// with small cells. Audiences from [`Audience::Tavolo`] on see every value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Protection {
    /// Shown to everyone who sees the layer.
    Open,
    /// A count of units or dwellings: a count of 1 or 2 is withheld (`null` in data formats,
    /// "< 3" where a person reads it), and so is one more cell of each sum it belongs to
    /// ([`LayerInfo::sums`]), so that it cannot be recovered by subtraction.
    SmallCount,
    /// Computed from these counts (a rate, a mean, a share): withheld whenever one of them is.
    DerivedFrom(&'static [&'static str]),
}

const fn c(name: &'static str, kind: Kind, label: &'static str) -> Column {
    Column {
        name,
        kind,
        label,
        display: Display::Plain,
        protection: Protection::Open,
    }
}

const fn pct(name: &'static str, label: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Real,
        label,
        display: Display::Percent,
        protection: Protection::Open,
    }
}

/// A count withheld from the public when small.
const fn n(name: &'static str, label: &'static str) -> Column {
    Column {
        name,
        kind: Kind::Integer,
        label,
        display: Display::Plain,
        protection: Protection::SmallCount,
    }
}

impl Column {
    /// This column, withheld whenever one of the counts `from` is.
    const fn derived(mut self, from: &'static [&'static str]) -> Column {
        self.protection = Protection::DerivedFrom(from);
        self
    }
}

/// A count that is the sum of other counts of the same feature (for the secondary
/// suppression of [`Protection::SmallCount`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Sum {
    pub total: &'static str,
    pub parts: &'static [&'static str],
}

/// One class of a categorical palette.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Category {
    pub value: &'static str,
    pub label: &'static str,
    pub colour: &'static str,
}

/// How a layer is coloured: by the map, the QGIS styles and the page's legend alike.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "tipo", rename_all = "snake_case")]
pub enum Palette {
    /// One colour per value of `property`; `other` for any other value.
    Categorie {
        property: &'static str,
        classes: &'static [Category],
        other: &'static str,
        other_label: &'static str,
    },
    /// Fixed classes of `property`: class `i` holds values from `thresholds[i]` (inclusive)
    /// to `thresholds[i + 1]` (exclusive), in `colours[i]`; `none` for a missing value.
    Soglie {
        property: &'static str,
        thresholds: &'static [f64],
        colours: &'static [&'static str],
        none: &'static str,
    },
    /// Quantile classes of `property`, computed from the data (see
    /// [`crate::output::style::class_breaks`]); `none` for zero or missing.
    Quantili {
        property: &'static str,
        colours: &'static [&'static str],
        none: &'static str,
        none_label: &'static str,
    },
    /// One fill and one outline colour (`fill` is `none` for outlines only); `hatched` areas
    /// are drawn with diagonal lines instead of a solid fill.
    Unico {
        fill: &'static str,
        outline: &'static str,
        hatched: bool,
    },
}

/// Everything known about a layer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LayerInfo {
    pub id: LayerId,
    /// Name in URLs, files, tiles and tables.
    pub name: &'static str,
    /// The widest audience that may see the layer.
    pub audience: Audience,
    /// Italian title (OGC collections, spreadsheet sheets, QGIS layer names).
    pub title: &'static str,
    /// Short Italian title (spreadsheet sheets, GeoPackage and QGIS layer names; at most 31
    /// characters, the limit of a sheet name).
    pub short_title: &'static str,
    /// Italian description (OGC collections, TileJSON `vector_layers`).
    pub description: &'static str,
    pub geometry: GeometryKind,
    /// First zoom at which the layer is in the vector tiles.
    pub min_zoom: u8,
    /// The property that identifies a feature (`promoteId` of the style), when it is unique.
    pub id_property: Option<&'static str>,
    /// The properties of a feature, in export order.
    pub columns: &'static [Column],
    /// Counts of a feature that are sums of other counts of it.
    pub sums: &'static [Sum],
    pub palette: Palette,
}

impl LayerInfo {
    /// Whether a caller of audience `caller` may see this layer.
    pub fn visible_to(&self, caller: Audience) -> bool {
        self.audience <= caller
    }

    /// The column called `name`.
    pub fn column(&self, name: &str) -> Option<&'static Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A layer the caller may see: obtained only from [`layer`] or [`visible`], which check the
/// caller's audience. Rendering functions take this handle, never a name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Layer {
    info: &'static LayerInfo,
    caller: Audience,
}

impl Layer {
    pub fn info(self) -> &'static LayerInfo {
        self.info
    }
    pub fn id(self) -> LayerId {
        self.info.id
    }
    pub fn name(self) -> &'static str {
        self.info.name
    }
    /// The audience the handle was granted to.
    pub fn caller(self) -> Audience {
        self.caller
    }
}

/// Why [`layer`] refused a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// No layer has this name.
    Unknown,
    /// The layer exists, for a narrower audience than the caller's.
    Restricted { required: Audience },
}

/// The layer called `name`, if the caller may see it.
pub fn layer(name: &str, caller: Audience) -> Result<Layer, Refusal> {
    let info = info(name).ok_or(Refusal::Unknown)?;
    if info.visible_to(caller) {
        Ok(Layer { info, caller })
    } else {
        Err(Refusal::Restricted {
            required: info.audience,
        })
    }
}

/// Every layer the caller may see, in registry order.
pub fn visible(caller: Audience) -> impl Iterator<Item = Layer> {
    LAYERS
        .iter()
        .filter(move |l| l.visible_to(caller))
        .map(move |info| Layer { info, caller })
}

/// Names of the layers the caller may see, in registry order.
pub fn names(caller: Audience) -> Vec<&'static str> {
    visible(caller).map(Layer::name).collect()
}

/// Names of the layers the caller may see, comma separated (for messages).
pub fn visible_names(caller: Audience) -> String {
    names(caller).join(", ")
}

/// The facts of a layer by name, whoever asks (no features come from this).
pub fn info(name: &str) -> Option<&'static LayerInfo> {
    LAYERS.iter().find(|l| l.name == name)
}

/// The facts of a layer.
pub fn info_of(id: LayerId) -> &'static LayerInfo {
    // Every id has exactly one entry (tested); the fallback is never taken.
    LAYERS.iter().find(|l| l.id == id).unwrap_or(&LAYERS[0])
}

// ---------------------------------------------------------------------------------------------
// Palettes

/// Okabe–Ito colours of the unit states (colour-blind safe), from the least to the most urgent.
pub const STATI: &[Category] = &[
    Category {
        value: "occupato",
        label: "Occupato",
        colour: "#0072B2",
    },
    Category {
        value: "libero",
        label: "Libero",
        colour: "#009E73",
    },
    Category {
        value: "sfitto_carenze_manutentive",
        label: "Sfitto per carenze manutentive",
        colour: "#E69F00",
    },
    Category {
        value: "sfitto_ristrutturazione",
        label: "Sfitto per ristrutturazione",
        colour: "#D55E00",
    },
];
pub const COLORE_STATO_IGNOTO: &str = "#999999";

/// PGT classes and their colours.
pub const PGT_CLASSI: &[Category] = &[
    Category {
        value: "tessuto_urbano_consolidato",
        label: "Tessuto urbano consolidato",
        colour: "#bdbdbd",
    },
    Category {
        value: "nucleo_antica_formazione",
        label: "Nucleo di antica formazione",
        colour: "#8c6d31",
    },
    Category {
        value: "ambito_trasformazione",
        label: "Ambito di trasformazione",
        colour: "#cc79a7",
    },
    Category {
        value: "rigenerazione",
        label: "Ambito di rigenerazione",
        colour: "#f0e442",
    },
    Category {
        value: "servizi_esistenti",
        label: "Servizi esistenti",
        colour: "#56b4e9",
    },
    Category {
        value: "servizi_previsti",
        label: "Servizi previsti",
        colour: "#0072b2",
    },
    Category {
        value: "agricolo",
        label: "Area agricola",
        colour: "#b8e186",
    },
    Category {
        value: "non_soggetto_trasformazione",
        label: "Area non soggetta a trasformazione",
        colour: "#4d9221",
    },
];
pub const PGT_ALTRO: &str = "#dddddd";

/// Colour of the private units offered to the desk: their state `offerto`, and the page's
/// circles of offered units per comune (aggregates only).
pub const COLORE_OFFERTI: &str = "#CC79A7";

/// States of the private units offered to the desk.
pub const STATI_PRIVATI: &[Category] = &[
    Category {
        value: "offerto",
        label: "Offerto",
        colour: COLORE_OFFERTI,
    },
    Category {
        value: "locato_concordato",
        label: "Locato a canone concordato",
        colour: "#009E73",
    },
    Category {
        value: "ritirato",
        label: "Ritirato dal proprietario",
        colour: "#999999",
    },
];

/// ColorBrewer YlOrRd, 5 classes (comuni by unused units).
pub const YLORRD: &[&str] = &["#ffffb2", "#fecc5c", "#fd8d3c", "#f03b20", "#bd0026"];
/// Grey of comuni with no unused units, and of missing values.
pub const GRIGIO_NESSUNO: &str = "#e3e3e3";
/// ColorBrewer Purples, 5 classes, for the share of non-occupied private dwellings.
pub const PURPLES: &[&str] = &["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"];
pub const SOGLIE_PRIVATO: &[f64] = &[0.0, 0.2, 0.35, 0.5, 0.65];
/// Viridis, 5 steps (colour-blind safe, readable in grey), for the candidate areas' score:
/// low scores light, high scores dark.
pub const VIRIDIS: &[&str] = &["#fde725", "#5ec962", "#21918c", "#3b528b", "#440154"];
/// Lower bounds of the score classes (score 0–100).
pub const SOGLIE_PUNTEGGIO: &[f64] = &[0.0, 20.0, 40.0, 60.0, 80.0];
/// Grey of the areas excluded whole.
pub const GRIGIO_ESCLUSE: &str = "#7f7f7f";

/// The kinds of service points the built-in rules score (ColorBrewer Dark2); any other kind
/// the project's rules name is drawn in [`SERVIZI_ALTRO`].
pub const TIPI_SERVIZIO: &[Category] = &[
    Category {
        value: "scuola",
        label: "Scuola",
        colour: "#1b9e77",
    },
    Category {
        value: "sanita",
        label: "Sanità",
        colour: "#d95f02",
    },
    Category {
        value: "commercio",
        label: "Commercio",
        colour: "#7570b3",
    },
    Category {
        value: "fermata",
        label: "Fermata del trasporto pubblico",
        colour: "#e7298a",
    },
];
pub const SERVIZI_ALTRO: &str = "#a6761d";

// ---------------------------------------------------------------------------------------------
// Columns

use Kind::{Boolean, Date, Integer, Real, Text};

const COMUNI: &[Column] = &[
    c("istat", Text, "Codice ISTAT"),
    c("belfiore", Text, "Codice catastale (Belfiore)"),
    c("nome", Text, "Comune"),
    c("sub_ambito", Text, "Sub-ambito"),
    c("popolazione", Integer, "Popolazione"),
    c("area_km2", Real, "Superficie (km²)"),
    n("alloggi", "Alloggi pubblici"),
    n("alloggi_sap", "Alloggi SAP"),
    n("occupati", "Occupati"),
    n("liberi", "Liberi"),
    n(
        "sfitto_carenze_manutentive",
        "Sfitti per carenze manutentive",
    ),
    n("sfitto_ristrutturazione", "Sfitti per ristrutturazione"),
    n("inutilizzati", "Inutilizzati"),
    pct("tasso_inutilizzo", "Quota inutilizzati").derived(&["inutilizzati", "alloggi"]),
    c("alloggi_per_1000_ab", Real, "Alloggi ogni 1.000 abitanti").derived(&["alloggi"]),
    c(
        "inutilizzati_per_1000_ab",
        Real,
        "Inutilizzati ogni 1.000 abitanti",
    )
    .derived(&["inutilizzati"]),
    pct(
        "quota_inutilizzati_ambito",
        "Quota degli inutilizzati dell'Ambito",
    )
    .derived(&["inutilizzati"]),
    n("inutilizzati_con_data", "Inutilizzati con data di sfitto"),
    c("mesi_sfitto_medi", Real, "Mesi di sfitto (media)").derived(&["inutilizzati_con_data"]),
    n("sfitti_oltre_24_mesi", "Sfitti da oltre 24 mesi"),
    n(
        "abitazioni_non_occupate_stimate",
        "Abitazioni private non occupate (stima)",
    ),
    n("abitazioni_stimate", "Abitazioni (stima)"),
    c("lat_interno", Real, "Latitudine di un punto interno"),
    c("lon_interno", Real, "Longitudine di un punto interno"),
    n("privati_in_offerta", "Alloggi privati in offerta"),
    n(
        "privati_locati_concordato",
        "Alloggi privati locati a canone concordato",
    ),
    n("privati_offerti", "Alloggi privati offerti"),
    n("privati_rimessi_in_uso", "Alloggi privati rimessi in uso"),
    n("privati_ritirati", "Alloggi privati ritirati"),
    pct(
        "quota_non_occupate",
        "Quota di abitazioni private non occupate",
    )
    .derived(&["abitazioni_non_occupate_stimate", "abitazioni_stimate"]),
    c(
        "valori_protetti",
        Text,
        "Valori non pubblicati (per non rivelare conteggi inferiori a 3)",
    ),
    c(
        "valori_inferiori_a_3",
        Text,
        "Conteggi inferiori a 3 (non pubblicati)",
    ),
];

/// The state counts of a comune add up to its units, the unused ones to `inutilizzati`; the
/// private offers by state add up to the offers.
pub const SOMME_COMUNI: &[Sum] = &[
    Sum {
        total: "alloggi",
        parts: &[
            "occupati",
            "liberi",
            "sfitto_carenze_manutentive",
            "sfitto_ristrutturazione",
        ],
    },
    Sum {
        total: "inutilizzati",
        parts: &[
            "liberi",
            "sfitto_carenze_manutentive",
            "sfitto_ristrutturazione",
        ],
    },
    Sum {
        total: "privati_offerti",
        parts: &[
            "privati_in_offerta",
            "privati_locati_concordato",
            "privati_ritirati",
        ],
    },
];

const FOGLI: &[Column] = &[
    c("riferimento", Text, "Riferimento"),
    c("belfiore", Text, "Codice catastale (Belfiore)"),
    c("sezione", Text, "Sezione"),
    c("foglio", Text, "Foglio"),
    c("scala", Integer, "Scala"),
];

const PARTICELLE: &[Column] = &[
    c("riferimento", Text, "Riferimento"),
    c("belfiore", Text, "Codice catastale (Belfiore)"),
    c("sezione", Text, "Sezione"),
    c("foglio", Text, "Foglio"),
    c("particella", Text, "Particella"),
    c("area_m2", Real, "Superficie (m²)"),
];

const ALLOGGI_PUBBLICI: &[Column] = &[
    c("id", Text, "Identificativo"),
    c("ente_proprietario", Text, "Ente proprietario"),
    c("codice_unita", Text, "Codice unità"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("indirizzo", Text, "Indirizzo"),
    c("servizio", Text, "Servizio (codice)"),
    c("servizio_label", Text, "Servizio"),
    c("stato", Text, "Stato (codice)"),
    c("stato_label", Text, "Stato"),
    c("inutilizzato", Boolean, "Inutilizzato"),
    c("sfitto_dal", Date, "Sfitto dal"),
    c("mesi_sfitto", Integer, "Mesi di sfitto"),
    c("riferimento_catastale", Text, "Riferimento catastale"),
    c("categoria_catastale", Text, "Categoria catastale"),
    c("superficie_mq", Real, "Superficie (m²)"),
    c("localizzazione", Text, "Localizzazione"),
    c(
        "disponibile_anno",
        Boolean,
        "Disponibile nell'anno (Piano annuale, g)",
    ),
    c(
        "assegnabile_stato_di_fatto",
        Boolean,
        "Assegnabile nello stato di fatto (b)",
    ),
    c(
        "in_programma_ristrutturazione",
        Boolean,
        "In programma di ristrutturazione (c)",
    ),
    c("nuova_edificazione", Boolean, "Nuova edificazione (d)"),
    c("turn_over", Boolean, "Liberato per turn-over (e)"),
    c("conferita_da_privati", Boolean, "Conferito da privati (f)"),
    c(
        "assegnata_anno_precedente",
        Boolean,
        "Assegnato nell'anno precedente (k)",
    ),
];

const PGT_ZONE: &[Column] = &[
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("classe", Text, "Classe (codice)"),
    c("classe_label", Text, "Classe"),
    c("legenda", Text, "Legenda"),
    c("codice_destinazione", Text, "Codice di destinazione"),
    c("fonte", Text, "Fonte"),
];

const VINCOLI: &[Column] = &[
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("codice", Text, "Tipo di vincolo"),
    c("nome", Text, "Nome del vincolo"),
    c("fonte", Text, "Fonte"),
];

const STOCK_PRIVATO: &[Column] = &[
    n("abitazioni_non_occupate", "Abitazioni non occupate (stima)"),
    n("abitazioni_totali", "Abitazioni (stima)"),
    c("codice", Text, "Codice dell'area di stima"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    pct("quota_non_occupate", "Quota non occupate")
        .derived(&["abitazioni_non_occupate", "abitazioni_totali"]),
    c(
        "valori_protetti",
        Text,
        "Valori non pubblicati (per non rivelare conteggi inferiori a 3)",
    ),
    c(
        "valori_inferiori_a_3",
        Text,
        "Conteggi inferiori a 3 (non pubblicati)",
    ),
];

const AREE_CANDIDATE: &[Column] = &[
    c("id", Text, "Identificativo"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("fonte", Text, "Fonte (codice)"),
    c("fonte_label", Text, "Fonte"),
    c("denominazione", Text, "Denominazione"),
    c("punteggio", Real, "Punteggio"),
    c("area_ha", Real, "Superficie (ha)"),
    c("alloggi_stimati", Integer, "Alloggi stimati"),
    c("motivi", Text, "Motivi"),
    c("punteggio_dettaglio", Text, "Punteggio in dettaglio"),
    c("esclusioni", Text, "Esclusioni"),
];

const AREE_ESCLUSE: &[Column] = &[
    c("id", Text, "Identificativo"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("fonte", Text, "Fonte (codice)"),
    c("fonte_label", Text, "Fonte"),
    c("denominazione", Text, "Denominazione"),
    c("area_ha", Real, "Superficie (ha)"),
    c("motivo", Text, "Motivo dell'esclusione"),
    c("esclusioni", Text, "Esclusioni"),
];

const PUNTI_SERVIZIO: &[Column] = &[
    c("tipo", Text, "Tipo di servizio (codice)"),
    c("tipo_label", Text, "Tipo di servizio"),
    c("nome", Text, "Nome"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c(
        "nel_punteggio",
        Boolean,
        "Considerato nel punteggio delle aree candidate",
    ),
    c(
        "distanza_max_m",
        Real,
        "Distanza entro cui conta nel punteggio (m)",
    ),
    c("punti", Real, "Punti nel punteggio"),
];

const ALLOGGI_PRIVATI: &[Column] = &[
    c("codice", Text, "Codice dell'offerta"),
    c("comune", Text, "Comune"),
    c("comune_istat", Text, "Codice ISTAT del comune"),
    c("indirizzo", Text, "Indirizzo"),
    c("riferimento_catastale", Text, "Riferimento catastale"),
    c("categoria_catastale", Text, "Categoria catastale"),
    c("superficie_mq", Real, "Superficie (m²)"),
    c("canone_mensile", Real, "Canone mensile (€)"),
    c("stato", Text, "Stato (codice)"),
    c("stato_label", Text, "Stato"),
    c("data_offerta", Date, "Data dell'offerta"),
    c("data_locazione", Date, "Data della locazione"),
    c("data_ritiro", Date, "Data del ritiro"),
    c("localizzazione", Text, "Localizzazione"),
];

// ---------------------------------------------------------------------------------------------
// The registry

/// Every layer, in the order the API, the OGC collections, the tiles and the exports list them.
pub static LAYERS: [LayerInfo; 12] = [
    LayerInfo {
        id: LayerId::Comuni,
        name: "comuni",
        audience: Audience::Pubblico,
        title: "Comuni dell'Ambito",
        short_title: "Comuni",
        description: "Confini dei comuni con gli alloggi pubblici inutilizzati e i tassi.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: Some("istat"),
        columns: COMUNI,
        sums: SOMME_COMUNI,
        palette: Palette::Quantili {
            property: "inutilizzati",
            colours: YLORRD,
            none: GRIGIO_NESSUNO,
            none_label: "Nessun alloggio inutilizzato",
        },
    },
    LayerInfo {
        id: LayerId::Fogli,
        name: "fogli",
        audience: Audience::Pubblico,
        title: "Fogli catastali",
        short_title: "Fogli catastali",
        description: "Fogli della mappa catastale (Agenzia delle Entrate).",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 12,
        id_property: None,
        columns: FOGLI,
        sums: &[],
        palette: Palette::Unico {
            fill: "none",
            outline: "#1a1a1a",
            hatched: false,
        },
    },
    LayerInfo {
        id: LayerId::Particelle,
        name: "particelle",
        audience: Audience::Pubblico,
        title: "Particelle catastali",
        short_title: "Particelle catastali",
        description: "Particelle della mappa catastale con la superficie.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 14,
        id_property: None,
        columns: PARTICELLE,
        sums: &[],
        palette: Palette::Unico {
            fill: "none",
            outline: "#333333",
            hatched: false,
        },
    },
    LayerInfo {
        id: LayerId::Fabbricati,
        name: "fabbricati",
        audience: Audience::Pubblico,
        title: "Fabbricati (mappa catastale)",
        short_title: "Fabbricati",
        description: "Fabbricati della mappa catastale.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 14,
        id_property: None,
        columns: PARTICELLE,
        sums: &[],
        palette: Palette::Unico {
            fill: "#8c8c8c",
            outline: "#4d4d4d",
            hatched: false,
        },
    },
    LayerInfo {
        id: LayerId::AlloggiPubblici,
        name: "alloggi_pubblici",
        audience: Audience::Tavolo,
        title: "Alloggi pubblici",
        short_title: "Alloggi pubblici",
        description: "Singoli alloggi pubblici con stato, data di sfitto, indirizzo, ente \
                      proprietario e riferimento catastale (riservato al Tavolo Abitare, agli \
                      enti proprietari e all'ufficio dell'Ambito; il pubblico vede i conteggi \
                      per comune).",
        geometry: GeometryKind::Point,
        min_zoom: 0,
        id_property: Some("id"),
        columns: ALLOGGI_PUBBLICI,
        sums: &[],
        palette: Palette::Categorie {
            property: "stato",
            classes: STATI,
            other: COLORE_STATO_IGNOTO,
            other_label: "Stato non indicato",
        },
    },
    LayerInfo {
        id: LayerId::PgtZone,
        name: "pgt_zone",
        audience: Audience::Pubblico,
        title: "Zone del PGT",
        short_title: "Zone PGT",
        description: "Zone degli strumenti urbanistici comunali (PGT).",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: None,
        columns: PGT_ZONE,
        sums: &[],
        palette: Palette::Categorie {
            property: "classe",
            classes: PGT_CLASSI,
            other: PGT_ALTRO,
            other_label: "Altro",
        },
    },
    LayerInfo {
        id: LayerId::Vincoli,
        name: "vincoli",
        audience: Audience::Pubblico,
        title: "Vincoli",
        short_title: "Vincoli",
        description: "Vincoli territoriali.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: None,
        columns: VINCOLI,
        sums: &[],
        palette: Palette::Unico {
            fill: "#781c81",
            outline: "#781c81",
            hatched: true,
        },
    },
    LayerInfo {
        id: LayerId::StockPrivato,
        name: "stock_privato",
        audience: Audience::Pubblico,
        title: "Stock abitativo privato (aggregato)",
        short_title: "Stock privato",
        description: "Abitazioni private non occupate stimate per area (solo dati aggregati).",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: None,
        columns: STOCK_PRIVATO,
        sums: &[],
        palette: Palette::Soglie {
            property: "quota_non_occupate",
            thresholds: SOGLIE_PRIVATO,
            colours: PURPLES,
            none: GRIGIO_NESSUNO,
        },
    },
    LayerInfo {
        id: LayerId::AreeCandidate,
        name: "aree_candidate",
        audience: Audience::Pubblico,
        title: "Aree candidate a standard di edilizia sociale",
        short_title: "Aree candidate",
        description: "Aree candidate a standard urbanistico di edilizia residenziale sociale, \
                      con punteggio, motivi, superficie e alloggi stimati.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: Some("id"),
        columns: AREE_CANDIDATE,
        sums: &[],
        palette: Palette::Soglie {
            property: "punteggio",
            thresholds: SOGLIE_PUNTEGGIO,
            colours: VIRIDIS,
            none: GRIGIO_NESSUNO,
        },
    },
    LayerInfo {
        id: LayerId::AreeEscluse,
        name: "aree_escluse",
        audience: Audience::Pubblico,
        title: "Aree escluse dallo screening",
        short_title: "Aree escluse",
        description: "Aree proposte dalle fonti ed escluse per intero, con la regola che le \
                      esclude.",
        geometry: GeometryKind::MultiPolygon,
        min_zoom: 0,
        id_property: Some("id"),
        columns: AREE_ESCLUSE,
        sums: &[],
        palette: Palette::Unico {
            fill: GRIGIO_ESCLUSE,
            outline: "#4d4d4d",
            hatched: true,
        },
    },
    LayerInfo {
        id: LayerId::PuntiServizio,
        name: "punti_servizio",
        audience: Audience::Pubblico,
        title: "Servizi puntuali",
        short_title: "Servizi puntuali",
        description: "Servizi esistenti come punti (scuole, sanità, commercio, fermate) da cui \
                      si misurano le distanze nel punteggio delle aree candidate, con i punti e \
                      la distanza massima che le regole assegnano a ciascun tipo.",
        geometry: GeometryKind::Point,
        min_zoom: 0,
        id_property: None,
        columns: PUNTI_SERVIZIO,
        sums: &[],
        palette: Palette::Categorie {
            property: "tipo",
            classes: TIPI_SERVIZIO,
            other: SERVIZI_ALTRO,
            other_label: "Altro servizio",
        },
    },
    LayerInfo {
        id: LayerId::AlloggiPrivati,
        name: "alloggi_privati",
        audience: Audience::Ufficio,
        title: "Alloggi privati offerti allo sportello",
        short_title: "Alloggi privati",
        description: "Singoli alloggi privati offerti allo sportello per la locazione a canone \
                      concordato (riservato all'ufficio dell'Ambito; i nomi dei proprietari non \
                      sono mai conservati).",
        geometry: GeometryKind::Point,
        min_zoom: 0,
        id_property: Some("codice"),
        columns: ALLOGGI_PRIVATI,
        sums: &[],
        palette: Palette::Categorie {
            property: "stato",
            classes: STATI_PRIVATI,
            other: COLORE_STATO_IGNOTO,
            other_label: "Stato non indicato",
        },
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_id_has_one_entry_and_names_are_unique() {
        let ids: HashSet<LayerId> = LAYERS.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), LAYERS.len());
        let names: HashSet<&str> = LAYERS.iter().map(|l| l.name).collect();
        assert_eq!(names.len(), LAYERS.len());
        for l in &LAYERS {
            assert_eq!(info_of(l.id).name, l.name);
            let cols: HashSet<&str> = l.columns.iter().map(|c| c.name).collect();
            assert_eq!(cols.len(), l.columns.len(), "{}: duplicate column", l.name);
            assert!(!l.title.is_empty() && !l.description.is_empty());
            assert!(l.short_title.chars().count() <= 31, "{}", l.name);
            if let Some(p) = l.id_property {
                assert!(l.column(p).is_some(), "{}: id {p} is a column", l.name);
            }
            let property = match l.palette {
                Palette::Categorie { property, .. }
                | Palette::Soglie { property, .. }
                | Palette::Quantili { property, .. } => Some(property),
                Palette::Unico { .. } => None,
            };
            if let Some(p) = property {
                assert!(l.column(p).is_some(), "{}: palette on {p}", l.name);
            }
            if let Palette::Soglie {
                thresholds,
                colours,
                ..
            } = l.palette
            {
                assert_eq!(thresholds.len(), colours.len(), "{}", l.name);
            }
        }
    }

    /// Every column has a label written for people: unique in its layer, no field-name
    /// syntax, and not the field name turned into words where that does not read as Italian
    /// (`lat_interno` → "Lat interno", `fonte_label` → "Fonte label", `area_m2` → "Area m2").
    #[test]
    fn every_column_has_a_hand_written_italian_label() {
        for l in &LAYERS {
            let mut seen = HashSet::new();
            for c in l.columns {
                let label = c.label;
                assert!(!label.trim().is_empty(), "{}.{}", l.name, c.name);
                assert!(seen.insert(label), "{}: label {label:?} twice", l.name);
                assert!(
                    !label.contains('_') && !label.to_lowercase().contains("label"),
                    "{}.{}: {label:?}",
                    l.name,
                    c.name
                );
                let words = c.name.replace('_', " ");
                let generated: String = words
                    .chars()
                    .take(1)
                    .flat_map(char::to_uppercase)
                    .chain(words.chars().skip(1))
                    .collect();
                const FIELD_WORDS: [&str; 11] = [
                    "label", "lat", "lon", "m2", "mq", "km2", "ha", "istat", "ab", "id", "per",
                ];
                let raw = c.name.split('_').any(|w| FIELD_WORDS.contains(&w));
                assert!(
                    !(raw && label == generated),
                    "{}.{}: {label:?} is the field name, not a label",
                    l.name,
                    c.name
                );
            }
        }
    }

    #[test]
    fn the_public_is_refused_restricted_layers() {
        assert!(layer("comuni", Audience::Pubblico).is_ok());
        assert_eq!(
            layer("alloggi_privati", Audience::Pubblico),
            Err(Refusal::Restricted {
                required: Audience::Ufficio
            })
        );
        assert!(layer("alloggi_privati", Audience::Ufficio).is_ok());
        assert_eq!(layer("nessuno", Audience::Ufficio), Err(Refusal::Unknown));
        assert!(visible(Audience::Pubblico).all(|l| l.info().audience == Audience::Pubblico));
        assert!(!visible(Audience::Pubblico).any(|l| l.id() == LayerId::AlloggiPrivati));
        assert_eq!(visible(Audience::Ufficio).count(), LAYERS.len());
    }
}
