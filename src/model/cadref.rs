//! The national cadastral reference (`CCCC S FFFF A V . PARTICELLA`) and the key that links
//! an inventory row to a parcel.

use std::fmt;

/// A parsed national sheet reference (`C800_001300`, `G113A002700`, `H833_0013A0`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SheetRef {
    pub belfiore: String,
    pub sezione: Option<String>,
    /// Foglio number (`13`).
    pub numero: u32,
    /// Allegato letter, if any.
    pub allegato: Option<char>,
    /// Sviluppo letter, if any.
    pub sviluppo: Option<char>,
}

impl SheetRef {
    /// Parses the 11-character sheet part of a national reference.
    pub fn parse(s: &str) -> Option<SheetRef> {
        let s = s.trim();
        if s.len() != 11 || !s.is_ascii() {
            return None;
        }
        let belfiore = &s[0..4];
        let sez = &s[4..5];
        let num = &s[5..9];
        let all = s.as_bytes()[9] as char;
        let svi = s.as_bytes()[10] as char;
        if !belfiore.chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let numero: u32 = num.parse().ok()?;
        let letter = |c: char| -> Option<Option<char>> {
            if c == '0' {
                Some(None)
            } else if c.is_ascii_alphabetic() {
                Some(Some(c.to_ascii_uppercase()))
            } else {
                None
            }
        };
        Some(SheetRef {
            belfiore: belfiore.to_ascii_uppercase(),
            sezione: if sez == "_" {
                None
            } else {
                Some(sez.to_ascii_uppercase())
            },
            numero,
            allegato: letter(all)?,
            sviluppo: letter(svi)?,
        })
    }

    /// The normalised foglio key: number plus allegato letter (`13`, `13A`).
    pub fn foglio_key(&self) -> String {
        match self.allegato {
            Some(a) => format!("{}{}", self.numero, a),
            None => self.numero.to_string(),
        }
    }
}

impl fmt::Display for SheetRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}{}{:04}{}{}",
            self.belfiore,
            self.sezione.as_deref().unwrap_or("_"),
            self.numero,
            self.allegato.unwrap_or('0'),
            self.sviluppo.unwrap_or('0')
        )
    }
}

/// A parsed national parcel reference (`C800_001300.125`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParcelRef {
    pub sheet: SheetRef,
    pub particella: String,
}

impl ParcelRef {
    pub fn parse(s: &str) -> Option<ParcelRef> {
        let (sheet, particella) = s.trim().split_once('.')?;
        if particella.is_empty() {
            return None;
        }
        Some(ParcelRef {
            sheet: SheetRef::parse(sheet)?,
            particella: particella.to_string(),
        })
    }
}

/// Normalises a foglio as written by people (`0013`, `13`, `13 A`, `13a`) to the key form.
pub fn normalize_foglio(s: &str) -> String {
    let compact: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let digits: String = compact.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest: String = compact[digits.len()..].to_ascii_uppercase();
    let number = digits.trim_start_matches('0');
    let number = if number.is_empty() && !digits.is_empty() {
        "0"
    } else {
        number
    };
    format!("{number}{rest}")
}

/// Normalises a particella: numeric labels lose leading zeros, text labels are upper-cased.
pub fn normalize_particella(s: &str) -> String {
    let t = s.trim();
    if !t.is_empty() && t.chars().all(|c| c.is_ascii_digit()) {
        let n = t.trim_start_matches('0');
        if n.is_empty() {
            "0".to_string()
        } else {
            n.to_string()
        }
    } else {
        t.to_ascii_uppercase()
    }
}

/// The key linking a unit to a parcel: comune + sezione + foglio + particella, normalised.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ParcelKey(String);

impl ParcelKey {
    pub fn new(belfiore: &str, sezione: Option<&str>, foglio: &str, particella: &str) -> ParcelKey {
        let sez = sezione
            .map(|s| s.trim().to_ascii_uppercase())
            .filter(|s| !s.is_empty() && s != "_")
            .unwrap_or_default();
        ParcelKey(format!(
            "{}|{}|{}|{}",
            belfiore.trim().to_ascii_uppercase(),
            sez,
            normalize_foglio(foglio),
            normalize_particella(particella)
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ParcelKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_references_of_formats_md() {
        let r = ParcelRef::parse("G113A002700.100").expect("valid");
        assert_eq!(r.sheet.belfiore, "G113");
        assert_eq!(r.sheet.sezione.as_deref(), Some("A"));
        assert_eq!(r.sheet.numero, 27);
        assert_eq!(r.sheet.allegato, None);
        assert_eq!(r.particella, "100");

        let s = SheetRef::parse("H833_0013A0").expect("valid");
        assert_eq!(s.sezione, None);
        assert_eq!(s.foglio_key(), "13A");
        assert_eq!(s.to_string(), "H833_0013A0");

        let w = ParcelRef::parse("A000W000200.STRADA001").expect("valid");
        assert_eq!(w.sheet.sezione.as_deref(), Some("W"));
        assert_eq!(w.sheet.numero, 2);
        assert_eq!(w.particella, "STRADA001");

        assert!(SheetRef::parse("C800_0013").is_none());
        assert!(SheetRef::parse("C800_00X300").is_none());
        assert!(ParcelRef::parse("C800_001300").is_none());
    }

    #[test]
    fn keys_ignore_how_people_write_numbers() {
        assert_eq!(
            ParcelKey::new("c800", None, "0013", "0125"),
            ParcelKey::new("C800", Some("_"), "13", "125")
        );
        assert_eq!(normalize_foglio("13 a"), "13A");
        assert_ne!(
            ParcelKey::new("C800", Some("A"), "13", "125"),
            ParcelKey::new("C800", None, "13", "125")
        );
    }
}
