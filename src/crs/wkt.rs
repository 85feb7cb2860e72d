//! A reader of WKT1 coordinate reference systems, in both dialects found in `.prj` files
//! (ESRI: `PARAMETER["False_Easting",500000.0]`; OGC/EPSG: `PARAMETER["false_easting",500000]`,
//! with `AUTHORITY`, `TOWGS84`, `AXIS`). It keeps the tree as written; [`CrsParams`] then
//! takes from it what defines the maths of the CRS, so that two WKTs can be compared.

/// One value inside the brackets of a WKT node.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    /// A quoted string (`""` inside it stands for one `"`).
    Text(String),
    Number(f64),
    /// A bare word such as `EAST`.
    Word(String),
    Node(Node),
}

/// `KEYWORD[value, value, …]` (round brackets are accepted too).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub keyword: String,
    pub values: Vec<Value>,
}

/// Deeper nesting than any real CRS (a PROJCS is four levels deep): a lying file cannot
/// exhaust the stack.
const MAX_DEPTH: usize = 16;

impl Node {
    /// The first child node named `keyword` (case-insensitive).
    pub fn child(&self, keyword: &str) -> Option<&Node> {
        self.values.iter().find_map(|v| match v {
            Value::Node(n) if n.keyword.eq_ignore_ascii_case(keyword) => Some(n),
            _ => None,
        })
    }

    pub fn children<'a>(&'a self, keyword: &'a str) -> impl Iterator<Item = &'a Node> + 'a {
        self.values.iter().filter_map(move |v| match v {
            Value::Node(n) if n.keyword.eq_ignore_ascii_case(keyword) => Some(n),
            _ => None,
        })
    }

    /// The first quoted string (the name of a CRS, datum, parameter…).
    pub fn name(&self) -> Option<&str> {
        self.values.iter().find_map(|v| match v {
            Value::Text(s) => Some(s.as_str()),
            _ => None,
        })
    }

    /// The numbers among the values, in order.
    pub fn numbers(&self) -> Vec<f64> {
        self.values
            .iter()
            .filter_map(|v| match v {
                Value::Number(n) => Some(*n),
                _ => None,
            })
            .collect()
    }
}

/// Parses one WKT1 node; the error says, in Italian, where the text stops making sense.
pub(crate) fn parse(text: &str) -> Result<Node, String> {
    let mut p = Parser {
        bytes: text.as_bytes(),
        pos: 0,
    };
    p.skip_space();
    let node = p.node(0)?;
    p.skip_space();
    if p.pos < p.bytes.len() {
        return Err(format!(
            "testo inatteso dopo la fine del WKT (byte {})",
            p.pos
        ));
    }
    Ok(node)
}

struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|b| b.is_ascii_whitespace()) {
            self.pos += 1;
        }
    }

    fn word(&mut self) -> String {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        {
            self.pos += 1;
        }
        String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned()
    }

    fn node(&mut self, depth: usize) -> Result<Node, String> {
        if depth > MAX_DEPTH {
            return Err(format!(
                "WKT annidato oltre {MAX_DEPTH} livelli (byte {})",
                self.pos
            ));
        }
        let keyword = self.word();
        if keyword.is_empty() {
            return Err(format!("parola chiave attesa al byte {}", self.pos));
        }
        self.skip_space();
        let close = match self.peek() {
            Some(b'[') => b']',
            Some(b'(') => b')',
            _ => return Err(format!("\"[\" atteso dopo {keyword} (byte {})", self.pos)),
        };
        self.pos += 1;
        let mut values = Vec::new();
        loop {
            self.skip_space();
            values.push(self.value(depth)?);
            self.skip_space();
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b) if b == close => {
                    self.pos += 1;
                    return Ok(Node { keyword, values });
                }
                _ => {
                    return Err(format!(
                        "\",\" o \"{}\" attesi nel nodo {keyword} (byte {})",
                        char::from(close),
                        self.pos
                    ))
                }
            }
        }
    }

    fn value(&mut self, depth: usize) -> Result<Value, String> {
        match self.peek() {
            Some(b'"') => {
                self.pos += 1;
                let mut text = Vec::new();
                loop {
                    match self.peek() {
                        None => return Err("stringa non chiusa nel WKT".to_string()),
                        Some(b'"') if self.bytes.get(self.pos + 1) == Some(&b'"') => {
                            text.push(b'"');
                            self.pos += 2;
                        }
                        Some(b'"') => {
                            self.pos += 1;
                            return Ok(Value::Text(String::from_utf8_lossy(&text).into_owned()));
                        }
                        Some(b) => {
                            text.push(b);
                            self.pos += 1;
                        }
                    }
                }
            }
            Some(b) if b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.') => {
                let start = self.pos;
                while self.peek().is_some_and(|b| {
                    b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.' | b'e' | b'E')
                }) {
                    self.pos += 1;
                }
                let s = String::from_utf8_lossy(&self.bytes[start..self.pos]);
                s.parse::<f64>()
                    .map(Value::Number)
                    .map_err(|_| format!("numero non valido {s:?} nel WKT (byte {start})"))
            }
            Some(b) if b.is_ascii_alphabetic() => {
                let start = self.pos;
                let word = self.word();
                self.skip_space();
                if matches!(self.peek(), Some(b'[' | b'(')) {
                    self.pos = start;
                    Ok(Value::Node(self.node(depth + 1)?))
                } else {
                    Ok(Value::Word(word))
                }
            }
            _ => Err(format!("valore atteso nel WKT (byte {})", self.pos)),
        }
    }
}

/// The projection method, normalised across dialects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    TransverseMercator,
    /// Mercator and its spherical "auxiliary sphere"/pseudo variants (EPSG:3857).
    Mercator,
    /// Any other method, named as written.
    Other,
}

/// What defines the maths of a WKT1 CRS.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CrsParams {
    /// `PROJCS` rather than `GEOGCS`.
    pub projected: bool,
    pub method: Method,
    /// The `PROJECTION` name as written.
    pub method_name: String,
    /// Projection parameters in [`PARAMETERS`] order: (name as written, value); a parameter
    /// the WKT leaves out takes its WKT1 default (0, or 1 for the scale factor).
    pub parameters: Vec<(String, f64)>,
    pub semi_major: f64,
    pub inverse_flattening: f64,
    pub towgs84: Option<Vec<f64>>,
    /// Degrees east of Greenwich.
    pub prime_meridian: f64,
    /// Radians per angular unit of the geographic CRS.
    pub angular_unit: f64,
    /// Metres per linear unit of the projected CRS (1 for a geographic one).
    pub linear_unit: f64,
}

/// The projection parameters compared and used: canonical name, accepted spellings (lower
/// case), WKT1 default.
pub(crate) const PARAMETERS: [(&str, &[&str], f64); 5] = [
    (
        "latitude_of_origin",
        &["latitude_of_origin", "latitude_of_center"],
        0.0,
    ),
    (
        "central_meridian",
        &[
            "central_meridian",
            "longitude_of_origin",
            "longitude_of_center",
        ],
        0.0,
    ),
    ("scale_factor", &["scale_factor"], 1.0),
    ("false_easting", &["false_easting"], 0.0),
    ("false_northing", &["false_northing"], 0.0),
];

impl CrsParams {
    /// Reads the parameters of a parsed `PROJCS` or `GEOGCS`.
    pub fn from_node(root: &Node) -> Result<CrsParams, String> {
        let projected = root.keyword.eq_ignore_ascii_case("PROJCS");
        let geogcs = if projected {
            root.child("GEOGCS")
                .ok_or_else(|| "PROJCS senza GEOGCS".to_string())?
        } else if root.keyword.eq_ignore_ascii_case("GEOGCS") {
            root
        } else {
            return Err(format!(
                "{} non è un sistema di riferimento WKT1 (attesi PROJCS o GEOGCS)",
                root.keyword
            ));
        };
        let datum = geogcs
            .child("DATUM")
            .ok_or_else(|| "GEOGCS senza DATUM".to_string())?;
        let spheroid = datum
            .child("SPHEROID")
            .ok_or_else(|| "DATUM senza SPHEROID".to_string())?;
        let (semi_major, inverse_flattening) = match spheroid.numbers()[..] {
            [a, rf, ..] => (a, rf),
            _ => return Err("SPHEROID senza semiasse e schiacciamento".to_string()),
        };
        let towgs84 = datum.child("TOWGS84").map(Node::numbers);
        let prime_meridian = geogcs
            .child("PRIMEM")
            .and_then(|p| p.numbers().first().copied())
            .unwrap_or(0.0);
        let angular_unit = geogcs
            .child("UNIT")
            .and_then(|u| u.numbers().first().copied())
            .unwrap_or(std::f64::consts::PI / 180.0);
        let (method, method_name, parameters, linear_unit) = if projected {
            let name = root
                .child("PROJECTION")
                .and_then(Node::name)
                .ok_or_else(|| "PROJCS senza PROJECTION".to_string())?
                .to_string();
            let lower = name.to_ascii_lowercase();
            let method = if lower == "transverse_mercator" || lower == "gauss_kruger" {
                Method::TransverseMercator
            } else if lower.starts_with("mercator") || lower.contains("pseudo_mercator") {
                Method::Mercator
            } else {
                Method::Other
            };
            let written: Vec<(&str, f64)> = root
                .children("PARAMETER")
                .filter_map(|p| Some((p.name()?, *p.numbers().first()?)))
                .collect();
            let parameters = PARAMETERS
                .iter()
                .map(|(canonical, spellings, default)| {
                    written
                        .iter()
                        .find(|(n, _)| spellings.contains(&n.to_ascii_lowercase().as_str()))
                        .map(|(n, v)| (n.to_string(), *v))
                        .unwrap_or(((*canonical).to_string(), *default))
                })
                .collect();
            let unit = root
                .child("UNIT")
                .and_then(|u| u.numbers().first().copied())
                .unwrap_or(1.0);
            (method, name, parameters, unit)
        } else {
            (Method::Other, String::new(), Vec::new(), 1.0)
        };
        Ok(CrsParams {
            projected,
            method,
            method_name,
            parameters,
            semi_major,
            inverse_flattening,
            towgs84,
            prime_meridian,
            angular_unit,
            linear_unit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_dialects() {
        let esri = r#"PROJCS["WGS_1984_UTM_Zone_32N",GEOGCS["GCS_WGS_1984",DATUM["D_WGS_1984",SPHEROID["WGS_1984",6378137.0,298.257223563]],PRIMEM["Greenwich",0.0],UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],PARAMETER["False_Easting",500000.0],PARAMETER["False_Northing",0.0],PARAMETER["Central_Meridian",9.0],PARAMETER["Scale_Factor",0.9996],PARAMETER["Latitude_Of_Origin",0.0],UNIT["Meter",1.0]]"#;
        let p = CrsParams::from_node(&parse(esri).expect("wkt")).expect("params");
        assert_eq!(p.method, Method::TransverseMercator);
        assert_eq!(p.parameters[3], ("False_Easting".to_string(), 500000.0));
        assert_eq!(p.parameters[1].1, 9.0);
        let epsg = crs_definitions::from_code(3003).expect("known").wkt;
        let p = CrsParams::from_node(&parse(epsg).expect("wkt")).expect("params");
        assert_eq!(p.towgs84.as_ref().map(Vec::len), Some(7));
        assert_eq!(p.semi_major, 6378388.0);
    }

    #[test]
    fn malformed_wkt_is_an_error() {
        assert!(parse(r#"PROJCS["x",GEOGCS["y""#).is_err());
        assert!(parse("PROJCS").is_err());
        let deep = format!("{}1{}", "A[".repeat(100), "]".repeat(100));
        assert!(parse(&deep).is_err());
    }
}
