//! How names and kinds written by people are compared: lower case, accents folded, every run
//! of other characters as one `_` (`Codice unità` → `codice_unita`, `Sanità` → `sanita`).
//! Readers normalise headers and values with it; the candidate-area rules normalise the kinds
//! they name with it, so a kind written in a rules file meets the same kind read from a file.

/// Lower case, accents removed, every run of other characters turned into one `_`, no `_` at
/// either end.
pub fn normalize_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.trim().chars().flat_map(char::to_lowercase) {
        let c = strip_accent(c);
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// A service kind as the rules name it (`Sanità` → `sanita`, ` Fermata TPL ` → `fermata_tpl`).
pub fn normalize_tipo(v: &str) -> String {
    normalize_key(v)
}

/// The letter without its accent (`à` → `a`, `ñ` → `n`); any other character as it is.
pub fn strip_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
        'è' | 'é' | 'ê' | 'ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' => 'i',
        'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
        'ù' | 'ú' | 'û' | 'ü' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_kinds_normalise() {
        assert_eq!(normalize_key(" Codice unità "), "codice_unita");
        assert_eq!(normalize_key("Superficie (mq.)"), "superficie_mq");
        assert_eq!(normalize_tipo("Sanità"), "sanita");
        assert_eq!(normalize_tipo(" Fermata TPL "), "fermata_tpl");
        assert_eq!(normalize_key(""), "");
    }
}
