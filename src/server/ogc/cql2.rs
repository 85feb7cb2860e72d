//! CQL2 text filters (OGC API - Features Part 3, OGC CQL2 21-065): a recursive-descent parser
//! into [`Expr`], checked against the columns of the layer the caller was granted, and a
//! three-valued evaluator (a comparison with a null or missing value is unknown, and an
//! unknown filter selects nothing).
//!
//! What is understood: `AND`, `OR`, `NOT`, parentheses; `=`, `<>`, `<`, `<=`, `>`, `>=`;
//! `LIKE` (`%`, `_`, `\` escapes), `BETWEEN … AND …`, `IN (…)`, `IS [NOT] NULL`, each with
//! `NOT`; string (`'…'`, `''` for a quote), number, `TRUE`/`FALSE` and `DATE('…')` literals;
//! property names bare or in double quotes; `S_INTERSECTS(geometry, <literal>)` with `BBOX(…)`
//! and the WKT geometries (`POINT`, `LINESTRING`, `POLYGON`, their `MULTI` forms,
//! `GEOMETRYCOLLECTION`), in the `filter-crs` (CRS84 by default). Keywords are
//! case-insensitive. Messages are Italian and give the position (1-based character) and what
//! was expected.

use std::fmt;

use geo::{BoundingRect, Intersects, Rect};
use serde_json::Value;

use super::crs::OgcCrs;
use crate::crs::ToLonLat;
use crate::output::layers::{Kind, LayerInfo};

/// The name of the geometry in filters and in the queryables.
pub(super) const GEOMETRY: &str = "geometry";

/// Why a filter was refused: where, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct FilterError {
    /// 1-based character position in the filter text.
    pub(super) pos: usize,
    pub(super) message: String,
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "posizione {}: {}", self.pos, self.message)
    }
}

fn err<T>(pos: usize, message: impl Into<String>) -> Result<T, FilterError> {
    Err(FilterError {
        pos,
        message: message.into(),
    })
}

// ---------------------------------------------------------------------------------------------
// Tokens

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    /// A keyword, function or property name.
    Word(String),
    /// A property name in double quotes.
    Quoted(String),
    Str(String),
    Num(f64),
    LParen,
    RParen,
    Comma,
    Op(CmpOp),
    End,
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    pos: usize,
}

impl Token {
    /// How the token reads in a message.
    fn describe(&self) -> String {
        match &self.tok {
            Tok::Word(w) => format!("{w:?}"),
            Tok::Quoted(w) => format!("\"{w}\""),
            Tok::Str(s) => format!("'{s}'"),
            Tok::Num(n) => n.to_string(),
            Tok::LParen => "\"(\"".into(),
            Tok::RParen => "\")\"".into(),
            Tok::Comma => "\",\"".into(),
            Tok::Op(op) => format!("\"{}\"", op_text(*op)),
            Tok::End => "la fine del filtro".into(),
        }
    }

    fn is_word(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }
}

fn op_text(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Ne => "<>",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn lex(text: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '=' => {
                i += 1;
                Tok::Op(CmpOp::Eq)
            }
            '<' => match next {
                Some('>') => {
                    i += 2;
                    Tok::Op(CmpOp::Ne)
                }
                Some('=') => {
                    i += 2;
                    Tok::Op(CmpOp::Le)
                }
                _ => {
                    i += 1;
                    Tok::Op(CmpOp::Lt)
                }
            },
            '>' => {
                if next == Some('=') {
                    i += 2;
                    Tok::Op(CmpOp::Ge)
                } else {
                    i += 1;
                    Tok::Op(CmpOp::Gt)
                }
            }
            '!' if next == Some('=') => {
                return err(pos, "operatore \"!=\" non previsto da CQL2: usare \"<>\"");
            }
            '\'' | '"' => {
                let quote = c;
                let mut s = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return err(
                                pos,
                                if quote == '\'' {
                                    "testo tra apici non chiuso (manca l'apice finale ')"
                                } else {
                                    "nome tra virgolette non chiuso (manca \" finale)"
                                },
                            )
                        }
                        Some(&q) if q == quote => {
                            if chars.get(j + 1) == Some(&quote) {
                                s.push(quote);
                                j += 2;
                            } else {
                                j += 1;
                                break;
                            }
                        }
                        Some(&ch) => {
                            s.push(ch);
                            j += 1;
                        }
                    }
                }
                i = j;
                if quote == '\'' {
                    Tok::Str(s)
                } else {
                    Tok::Quoted(s)
                }
            }
            c if c.is_ascii_digit()
                || (c == '.' && next.is_some_and(|n| n.is_ascii_digit()))
                || ((c == '-' || c == '+')
                    && next.is_some_and(|n| n.is_ascii_digit() || n == '.')) =>
            {
                let start = i;
                let mut j = i + 1;
                while let Some(&ch) = chars.get(j) {
                    let after_exponent =
                        (ch == '-' || ch == '+') && matches!(chars[j - 1], 'e' | 'E');
                    if ch.is_ascii_digit() || ch == '.' || ch == 'e' || ch == 'E' || after_exponent
                    {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let s: String = chars[start..j].iter().collect();
                i = j;
                match s.parse::<f64>() {
                    Ok(n) if n.is_finite() => Tok::Num(n),
                    _ => return err(pos, format!("numero non valido: {s:?}")),
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                let mut j = i + 1;
                while let Some(&ch) = chars.get(j) {
                    if ch.is_alphanumeric() || ch == '_' || ch == ':' || ch == '.' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                i = j;
                Tok::Word(chars[start..j].iter().collect())
            }
            other => return err(pos, format!("carattere inatteso {other:?}")),
        };
        out.push(Token { tok, pos });
    }
    out.push(Token {
        tok: Tok::End,
        pos: chars.len() + 1,
    });
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Expressions

/// The type of a value, as the comparisons see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Number,
    Boolean,
    Date,
    Timestamp,
}

impl Ty {
    fn of(kind: Kind) -> Ty {
        match kind {
            Kind::Text => Ty::Text,
            Kind::Integer | Kind::Real => Ty::Number,
            Kind::Boolean => Ty::Boolean,
            Kind::Date => Ty::Date,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Ty::Text => "testo",
            Ty::Number => "numero",
            Ty::Boolean => "booleano",
            Ty::Date => "data",
            Ty::Timestamp => "istante",
        }
    }

    /// Dates are ISO strings in the layers, so text literals compare with them.
    fn compatible(self, other: Ty) -> bool {
        self == other || matches!((self, other), (Ty::Text, Ty::Date) | (Ty::Date, Ty::Text))
    }
}

/// A value in a predicate: a property of the feature or a literal.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Scalar {
    Property(&'static str, Kind),
    Text(String),
    Number(f64),
    Boolean(bool),
    /// `DATE('YYYY-MM-DD')`.
    Date(String),
    /// `TIMESTAMP('…')`: parsed, but no layer has an instant to compare it with.
    Timestamp(String),
}

impl Scalar {
    fn ty(&self) -> Ty {
        match self {
            Scalar::Property(_, k) => Ty::of(*k),
            Scalar::Text(_) => Ty::Text,
            Scalar::Number(_) => Ty::Number,
            Scalar::Boolean(_) => Ty::Boolean,
            Scalar::Date(_) => Ty::Date,
            Scalar::Timestamp(_) => Ty::Timestamp,
        }
    }
}

/// A parsed filter.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Literal(bool),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(CmpOp, Scalar, Scalar),
    Like {
        value: Scalar,
        pattern: String,
        negated: bool,
    },
    Between {
        value: Scalar,
        low: Scalar,
        high: Scalar,
        negated: bool,
    },
    In {
        value: Scalar,
        list: Vec<Scalar>,
        negated: bool,
    },
    IsNull {
        value: Scalar,
        negated: bool,
    },
    /// `S_INTERSECTS(geometry, literal)`, the literal in lon/lat.
    Intersects(geo::Geometry<f64>),
}

/// What a filter reads of a feature.
pub(super) trait Record {
    fn property(&self, name: &str) -> Option<&Value>;
    fn geometry(&self) -> Option<&geo::Geometry<f64>>;
}

/// A comparable value at evaluation time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Val<'a> {
    Text(&'a str),
    Number(f64),
    Boolean(bool),
}

fn and3(a: Option<bool>, b: impl FnOnce() -> Option<bool>) -> Option<bool> {
    if a == Some(false) {
        return Some(false);
    }
    match (a, b()) {
        (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

fn or3(a: Option<bool>, b: impl FnOnce() -> Option<bool>) -> Option<bool> {
    if a == Some(true) {
        return Some(true);
    }
    match (a, b()) {
        (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

fn negate(v: Option<bool>, negated: bool) -> Option<bool> {
    if negated {
        v.map(|b| !b)
    } else {
        v
    }
}

impl Expr {
    /// Whether the feature is selected: only a filter that is true selects it.
    pub(super) fn selects<R: Record + ?Sized>(&self, r: &R) -> bool {
        self.eval(r) == Some(true)
    }

    /// Three-valued: `None` when unknown (a null or missing value took part).
    fn eval<R: Record + ?Sized>(&self, r: &R) -> Option<bool> {
        match self {
            Expr::Literal(b) => Some(*b),
            Expr::And(a, b) => and3(a.eval(r), || b.eval(r)),
            Expr::Or(a, b) => or3(a.eval(r), || b.eval(r)),
            Expr::Not(a) => a.eval(r).map(|b| !b),
            Expr::Compare(op, a, b) => {
                let ord = compare(value(a, r)?, value(b, r)?)?;
                Some(match op {
                    CmpOp::Eq => ord.is_eq(),
                    CmpOp::Ne => ord.is_ne(),
                    CmpOp::Lt => ord.is_lt(),
                    CmpOp::Le => ord.is_le(),
                    CmpOp::Gt => ord.is_gt(),
                    CmpOp::Ge => ord.is_ge(),
                })
            }
            Expr::Like {
                value: v,
                pattern,
                negated,
            } => {
                let Val::Text(s) = value(v, r)? else {
                    return None;
                };
                negate(Some(like(s, pattern)), *negated)
            }
            Expr::Between {
                value: v,
                low,
                high,
                negated,
            } => {
                let x = value(v, r)?;
                let lo = compare(x, value(low, r)?)?;
                let hi = compare(x, value(high, r)?)?;
                negate(Some(lo.is_ge() && hi.is_le()), *negated)
            }
            Expr::In {
                value: v,
                list,
                negated,
            } => {
                let x = value(v, r)?;
                let mut any_unknown = false;
                for item in list {
                    match value(item, r).and_then(|y| compare(x, y)) {
                        Some(o) if o.is_eq() => return negate(Some(true), *negated),
                        Some(_) => {}
                        None => any_unknown = true,
                    }
                }
                if any_unknown {
                    None
                } else {
                    negate(Some(false), *negated)
                }
            }
            Expr::IsNull { value: v, negated } => {
                let null = match v {
                    Scalar::Property(name, _) => r.property(name).is_none_or(Value::is_null),
                    _ => false,
                };
                negate(Some(null), *negated)
            }
            Expr::Intersects(g) => r.geometry().map(|f| f.intersects(g)),
        }
    }

    /// The properties the filter reads, without repetition.
    pub(super) fn properties(&self) -> Vec<&'static str> {
        fn scalar(s: &Scalar, out: &mut Vec<&'static str>) {
            if let Scalar::Property(name, _) = s {
                if !out.contains(name) {
                    out.push(name);
                }
            }
        }
        fn walk(e: &Expr, out: &mut Vec<&'static str>) {
            match e {
                Expr::Literal(_) | Expr::Intersects(_) => {}
                Expr::And(a, b) | Expr::Or(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
                Expr::Compare(_, a, b) => {
                    scalar(a, out);
                    scalar(b, out);
                }
                Expr::Like { value, .. } | Expr::IsNull { value, .. } => scalar(value, out),
                Expr::Between {
                    value, low, high, ..
                } => {
                    for s in [value, low, high] {
                        scalar(s, out);
                    }
                }
                Expr::In { value, list, .. } => {
                    scalar(value, out);
                    list.iter().for_each(|s| scalar(s, out));
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// Whether the filter reads the geometry.
    pub(super) fn spatial(&self) -> bool {
        match self {
            Expr::Intersects(_) => true,
            Expr::And(a, b) | Expr::Or(a, b) => a.spatial() || b.spatial(),
            Expr::Not(a) => a.spatial(),
            _ => false,
        }
    }

    /// A lon/lat box every selected feature's geometry must touch, when the filter is a
    /// conjunction holding an `S_INTERSECTS` (for the R-tree).
    pub(super) fn required_envelope(&self) -> Option<Rect<f64>> {
        match self {
            Expr::Intersects(g) => g.bounding_rect(),
            Expr::And(a, b) => a.required_envelope().or_else(|| b.required_envelope()),
            _ => None,
        }
    }
}

fn value<'a, R: Record + ?Sized>(s: &'a Scalar, r: &'a R) -> Option<Val<'a>> {
    match s {
        Scalar::Property(name, _) => match r.property(name)? {
            Value::String(t) => Some(Val::Text(t)),
            Value::Number(n) => n.as_f64().map(Val::Number),
            Value::Bool(b) => Some(Val::Boolean(*b)),
            _ => None,
        },
        Scalar::Text(t) | Scalar::Date(t) | Scalar::Timestamp(t) => Some(Val::Text(t)),
        Scalar::Number(n) => Some(Val::Number(*n)),
        Scalar::Boolean(b) => Some(Val::Boolean(*b)),
    }
}

fn compare(a: Val<'_>, b: Val<'_>) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Val::Text(x), Val::Text(y)) => Some(x.cmp(y)),
        (Val::Number(x), Val::Number(y)) => x.partial_cmp(&y),
        (Val::Boolean(x), Val::Boolean(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// SQL `LIKE`: `%` any run of characters, `_` one character, `\` makes the next one literal.
fn like(s: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum P {
        Any,
        One,
        Char(char),
    }
    let mut pat = Vec::new();
    let mut it = pattern.chars();
    while let Some(c) = it.next() {
        pat.push(match c {
            '%' => P::Any,
            '_' => P::One,
            '\\' => P::Char(it.next().unwrap_or('\\')),
            c => P::Char(c),
        });
    }
    let s: Vec<char> = s.chars().collect();
    // Greedy matching with one backtrack point (the last `%`).
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        match pat.get(j) {
            Some(P::Any) => {
                star = Some((j, i));
                j += 1;
            }
            Some(P::One) => {
                i += 1;
                j += 1;
            }
            Some(P::Char(c)) if *c == s[i] => {
                i += 1;
                j += 1;
            }
            _ => match star {
                Some((sj, si)) => {
                    j = sj + 1;
                    i = si + 1;
                    star = Some((sj, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[j..].iter().all(|p| *p == P::Any)
}

// ---------------------------------------------------------------------------------------------
// Parser

struct Parser<'a> {
    toks: Vec<Token>,
    at: usize,
    layer: &'a LayerInfo,
    crs: OgcCrs,
    to_lonlat: Option<ToLonLat>,
}

/// Parses `text` for `layer`: properties must be columns of the layer (or `geometry`);
/// coordinates of spatial literals are in `filter_crs`.
pub(super) fn parse(
    text: &str,
    layer: &LayerInfo,
    filter_crs: OgcCrs,
) -> Result<Expr, FilterError> {
    let toks = lex(text)?;
    let mut p = Parser {
        toks,
        at: 0,
        layer,
        crs: filter_crs,
        to_lonlat: None,
    };
    if matches!(p.peek().tok, Tok::End) {
        return err(
            1,
            "filtro vuoto: attesa un'espressione (es. punteggio > 60)",
        );
    }
    let e = p.expr()?;
    let t = p.peek();
    if !matches!(t.tok, Tok::End) {
        return err(
            t.pos,
            format!(
                "atteso AND, OR o la fine del filtro, trovato {}",
                t.describe()
            ),
        );
    }
    Ok(e)
}

const VALUE_EXPECTED: &str =
    "un valore (proprietà, testo tra apici, numero, TRUE/FALSE, DATE('AAAA-MM-GG'))";

impl Parser<'_> {
    fn peek(&self) -> &Token {
        // `lex` always ends with `End`, and the parser never moves past it.
        &self.toks[self.at.min(self.toks.len() - 1)]
    }

    fn bump(&mut self) -> Token {
        let t = self.peek().clone();
        if !matches!(t.tok, Tok::End) {
            self.at += 1;
        }
        t
    }

    fn eat_word(&mut self, kw: &str) -> bool {
        if self.peek().is_word(kw) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<Token, FilterError> {
        let t = self.bump();
        if t.tok == want {
            Ok(t)
        } else {
            err(t.pos, format!("atteso {what}, trovato {}", t.describe()))
        }
    }

    fn expr(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.term()?;
        while self.eat_word("OR") {
            let right = self.term()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn term(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.factor()?;
        while self.eat_word("AND") {
            let right = self.factor()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn factor(&mut self) -> Result<Expr, FilterError> {
        if self.eat_word("NOT") {
            return Ok(Expr::Not(Box::new(self.factor()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        let t = self.peek().clone();
        if t.tok == Tok::LParen {
            self.bump();
            let e = self.expr()?;
            self.expect(Tok::RParen, "\")\" a chiudere la parentesi")?;
            return Ok(e);
        }
        if let Tok::Word(w) = &t.tok {
            let upper = w.to_ascii_uppercase();
            if upper == "S_INTERSECTS" {
                self.bump();
                return self.intersects();
            }
            if upper.starts_with("S_") || upper.starts_with("T_") || upper.starts_with("A_") {
                return err(
                    t.pos,
                    format!("funzione {w} non supportata (delle funzioni spaziali è disponibile S_INTERSECTS)"),
                );
            }
            if (upper == "TRUE" || upper == "FALSE") && !self.next_is_operator() {
                self.bump();
                return Ok(Expr::Literal(upper == "TRUE"));
            }
        }
        let value = self.scalar()?;
        self.predicate(value, t.pos)
    }

    /// Whether the token after the current one continues a comparison (`TRUE = inutilizzato`
    /// compares; `TRUE AND …` is the boolean literal).
    fn next_is_operator(&self) -> bool {
        self.toks.get(self.at + 1).is_some_and(|t| {
            matches!(t.tok, Tok::Op(_))
                || ["LIKE", "IN", "BETWEEN", "IS", "NOT"]
                    .iter()
                    .any(|k| t.is_word(k))
        })
    }

    fn predicate(&mut self, value: Scalar, start: usize) -> Result<Expr, FilterError> {
        let t = self.bump();
        match &t.tok {
            Tok::Op(op) => {
                let rt = self.peek().pos;
                let right = self.scalar()?;
                check_types(&value, &right, rt)?;
                Ok(Expr::Compare(*op, value, right))
            }
            Tok::Word(_) if t.is_word("IS") => {
                let negated = self.eat_word("NOT");
                let n = self.bump();
                if !n.is_word("NULL") {
                    return err(n.pos, format!("atteso NULL, trovato {}", n.describe()));
                }
                if !matches!(value, Scalar::Property(..)) {
                    return err(start, "IS NULL si applica a una proprietà");
                }
                Ok(Expr::IsNull { value, negated })
            }
            Tok::Word(_) if t.is_word("NOT") => {
                let n = self.bump();
                self.negatable(value, n, true, start)
            }
            Tok::Word(_) if ["LIKE", "IN", "BETWEEN"].iter().any(|k| t.is_word(k)) => {
                self.negatable(value, t, false, start)
            }
            _ => err(
                t.pos,
                format!(
                    "atteso un operatore di confronto (=, <>, <, <=, >, >=, LIKE, IN, BETWEEN, IS NULL), trovato {}",
                    t.describe()
                ),
            ),
        }
    }

    fn negatable(
        &mut self,
        value: Scalar,
        t: Token,
        negated: bool,
        start: usize,
    ) -> Result<Expr, FilterError> {
        if t.is_word("LIKE") {
            let p = self.bump();
            let Tok::Str(pattern) = p.tok else {
                return err(
                    p.pos,
                    format!(
                        "atteso il modello di LIKE tra apici (es. 'Berg%'), trovato {}",
                        p.describe()
                    ),
                );
            };
            if !matches!(value.ty(), Ty::Text | Ty::Date) {
                return err(
                    start,
                    format!(
                        "LIKE confronta testi, non un valore di tipo {}",
                        value.ty().name()
                    ),
                );
            }
            return Ok(Expr::Like {
                value,
                pattern,
                negated,
            });
        }
        if t.is_word("BETWEEN") {
            let lp = self.peek().pos;
            let low = self.scalar()?;
            check_types(&value, &low, lp)?;
            let and = self.bump();
            if !and.is_word("AND") {
                return err(
                    and.pos,
                    format!(
                        "atteso AND tra i due estremi di BETWEEN, trovato {}",
                        and.describe()
                    ),
                );
            }
            let hp = self.peek().pos;
            let high = self.scalar()?;
            check_types(&value, &high, hp)?;
            return Ok(Expr::Between {
                value,
                low,
                high,
                negated,
            });
        }
        if t.is_word("IN") {
            self.expect(Tok::LParen, "\"(\" dopo IN")?;
            let mut list = Vec::new();
            loop {
                let ip = self.peek().pos;
                let item = self.scalar()?;
                check_types(&value, &item, ip)?;
                list.push(item);
                let sep = self.bump();
                match sep.tok {
                    Tok::Comma => continue,
                    Tok::RParen => break,
                    _ => {
                        return err(
                            sep.pos,
                            format!(
                                "atteso \",\" o \")\" nell'elenco di IN, trovato {}",
                                sep.describe()
                            ),
                        )
                    }
                }
            }
            return Ok(Expr::In {
                value,
                list,
                negated,
            });
        }
        err(
            t.pos,
            format!(
                "atteso LIKE, IN o BETWEEN dopo NOT, trovato {}",
                t.describe()
            ),
        )
    }

    fn scalar(&mut self) -> Result<Scalar, FilterError> {
        let t = self.bump();
        match t.tok {
            Tok::Str(s) => Ok(Scalar::Text(s)),
            Tok::Num(n) => Ok(Scalar::Number(n)),
            Tok::Quoted(name) => self.property(&name, t.pos),
            Tok::Word(w) => {
                let upper = w.to_ascii_uppercase();
                match upper.as_str() {
                    "TRUE" => Ok(Scalar::Boolean(true)),
                    "FALSE" => Ok(Scalar::Boolean(false)),
                    "DATE" | "TIMESTAMP" => {
                        self.expect(Tok::LParen, &format!("\"(\" dopo {upper}"))?;
                        let v = self.bump();
                        let Tok::Str(s) = v.tok else {
                            return err(
                                v.pos,
                                format!(
                                    "atteso il valore di {upper} tra apici, trovato {}",
                                    v.describe()
                                ),
                            );
                        };
                        self.expect(Tok::RParen, &format!("\")\" a chiudere {upper}"))?;
                        if upper == "DATE" {
                            if chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").is_err() {
                                return err(
                                    v.pos,
                                    format!("data non valida: {s:?} (attesa AAAA-MM-GG)"),
                                );
                            }
                            Ok(Scalar::Date(s))
                        } else {
                            if chrono::DateTime::parse_from_rfc3339(&s).is_err() {
                                return err(
                                    v.pos,
                                    format!("istante non valido: {s:?} (atteso RFC 3339)"),
                                );
                            }
                            Ok(Scalar::Timestamp(s))
                        }
                    }
                    "AND" | "OR" | "NOT" | "LIKE" | "IN" | "BETWEEN" | "IS" | "NULL" => err(
                        t.pos,
                        format!("atteso {VALUE_EXPECTED}, trovata la parola chiave {w}"),
                    ),
                    _ => {
                        if self.peek().tok == Tok::LParen {
                            return err(t.pos, format!("funzione {w} non supportata"));
                        }
                        self.property(&w, t.pos)
                    }
                }
            }
            _ => err(
                t.pos,
                format!("atteso {VALUE_EXPECTED}, trovato {}", t.describe()),
            ),
        }
    }

    fn property(&self, name: &str, pos: usize) -> Result<Scalar, FilterError> {
        if name == GEOMETRY {
            return err(
                pos,
                "la geometria si interroga solo con S_INTERSECTS(geometry, …)",
            );
        }
        match self.layer.column(name) {
            Some(c) => Ok(Scalar::Property(c.name, c.kind)),
            None => err(
                pos,
                format!(
                    "proprietà sconosciuta {name:?} nella collezione {} (interrogabili: {}, {GEOMETRY})",
                    self.layer.name,
                    self.layer
                        .columns
                        .iter()
                        .map(|c| c.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }

    // -- spatial --------------------------------------------------------------------------

    fn intersects(&mut self) -> Result<Expr, FilterError> {
        self.expect(Tok::LParen, "\"(\" dopo S_INTERSECTS")?;
        let first = self.spatial_arg()?;
        self.expect(Tok::Comma, "\",\" tra i due argomenti di S_INTERSECTS")?;
        let second = self.spatial_arg()?;
        let close = self.expect(Tok::RParen, "\")\" a chiudere S_INTERSECTS")?;
        match (first, second) {
            (None, Some(g)) | (Some(g), None) => Ok(Expr::Intersects(g)),
            _ => err(
                close.pos,
                format!("S_INTERSECTS confronta la proprietà {GEOMETRY} con una geometria (BBOX, POINT, POLYGON…)"),
            ),
        }
    }

    /// `None` for the geometry property, else a literal in lon/lat.
    fn spatial_arg(&mut self) -> Result<Option<geo::Geometry<f64>>, FilterError> {
        let t = self.bump();
        let word = match &t.tok {
            Tok::Word(w) | Tok::Quoted(w) => w.clone(),
            _ => {
                return err(
                    t.pos,
                    format!("attesa la proprietà {GEOMETRY} o una geometria (BBOX, POINT, POLYGON…), trovato {}", t.describe()),
                )
            }
        };
        if word == GEOMETRY {
            return Ok(None);
        }
        let upper = word.to_ascii_uppercase();
        if upper == "BBOX" {
            return self.bbox().map(Some);
        }
        if matches!(t.tok, Tok::Word(_)) {
            if let Some(g) = self.wkt_body(&upper, t.pos)? {
                return Ok(Some(g));
            }
        }
        if self.layer.column(&word).is_some() {
            return err(
                t.pos,
                format!(
                    "{word} non è una geometria: S_INTERSECTS si applica alla proprietà {GEOMETRY}"
                ),
            );
        }
        err(
            t.pos,
            format!("attesa la proprietà {GEOMETRY} o una geometria (BBOX, POINT, LINESTRING, POLYGON, MULTIPOINT, MULTILINESTRING, MULTIPOLYGON, GEOMETRYCOLLECTION), trovato {word:?}"),
        )
    }

    fn number(&mut self) -> Result<f64, FilterError> {
        let t = self.bump();
        match t.tok {
            Tok::Num(n) => Ok(n),
            _ => err(t.pos, format!("atteso un numero, trovato {}", t.describe())),
        }
    }

    fn bbox(&mut self) -> Result<geo::Geometry<f64>, FilterError> {
        let open = self.expect(Tok::LParen, "\"(\" dopo BBOX")?;
        let mut n = vec![self.number()?];
        while self.peek().tok == Tok::Comma {
            self.bump();
            n.push(self.number()?);
        }
        self.expect(Tok::RParen, "\")\" a chiudere BBOX")?;
        let c = match n.len() {
            4 => [n[0], n[1], n[2], n[3]],
            6 => [n[0], n[1], n[3], n[4]],
            k => return err(open.pos, format!("BBOX vuole 4 o 6 numeri, ne ha {k}")),
        };
        if c[0] > c[2] || c[1] > c[3] {
            return err(open.pos, "BBOX: i minimi vanno prima dei massimi");
        }
        if self.crs == OgcCrs::Crs84 {
            check_lonlat(c[0], c[1], open.pos)?;
            check_lonlat(c[2], c[3], open.pos)?;
            return Ok(geo::Geometry::Rect(Rect::new((c[0], c[1]), (c[2], c[3]))));
        }
        // A box of another CRS is no box in lon/lat: its outline, densified, as a polygon.
        const STEPS: usize = 16;
        let mut ring = Vec::with_capacity(4 * STEPS + 1);
        let corners = [(c[0], c[1]), (c[2], c[1]), (c[2], c[3]), (c[0], c[3])];
        for k in 0..4 {
            let (a, b) = (corners[k], corners[(k + 1) % 4]);
            for i in 0..STEPS {
                let t = i as f64 / STEPS as f64;
                ring.push(self.lonlat_of(
                    a.0 + (b.0 - a.0) * t,
                    a.1 + (b.1 - a.1) * t,
                    open.pos,
                )?);
            }
        }
        ring.push(ring[0]);
        Ok(geo::Geometry::Polygon(geo::Polygon::new(
            geo::LineString(ring),
            vec![],
        )))
    }

    /// A WKT geometry after its type word, or `None` if `kind` is no WKT type.
    fn wkt_body(
        &mut self,
        kind: &str,
        pos: usize,
    ) -> Result<Option<geo::Geometry<f64>>, FilterError> {
        use geo::{Geometry as G, LineString, MultiLineString, MultiPoint, MultiPolygon, Point};
        let g = match kind {
            "POINT" => {
                self.expect(Tok::LParen, "\"(\" dopo POINT")?;
                let c = self.coord()?;
                self.expect(Tok::RParen, "\")\" a chiudere POINT")?;
                G::Point(Point(c))
            }
            "LINESTRING" => G::LineString(LineString(self.coord_list()?)),
            "POLYGON" => G::Polygon(self.polygon(pos)?),
            "MULTIPOINT" => {
                self.expect(Tok::LParen, "\"(\" dopo MULTIPOINT")?;
                let mut pts = Vec::new();
                loop {
                    // Both `MULTIPOINT((1 2), (3 4))` and `MULTIPOINT(1 2, 3 4)`.
                    let c = if self.peek().tok == Tok::LParen {
                        self.bump();
                        let c = self.coord()?;
                        self.expect(Tok::RParen, "\")\" a chiudere il punto")?;
                        c
                    } else {
                        self.coord()?
                    };
                    pts.push(Point(c));
                    if self.peek().tok == Tok::Comma {
                        self.bump();
                    } else {
                        break;
                    }
                }
                self.expect(Tok::RParen, "\")\" a chiudere MULTIPOINT")?;
                G::MultiPoint(MultiPoint(pts))
            }
            "MULTILINESTRING" => {
                let lines = self.list(|p| p.coord_list().map(LineString))?;
                G::MultiLineString(MultiLineString(lines))
            }
            "MULTIPOLYGON" => {
                let polys = self.list(|p| p.polygon(pos))?;
                G::MultiPolygon(MultiPolygon(polys))
            }
            "GEOMETRYCOLLECTION" => {
                let gs = self.list(|p| {
                    let t = p.bump();
                    let inner = match &t.tok {
                        Tok::Word(w) => w.to_ascii_uppercase(),
                        _ => String::new(),
                    };
                    match p.wkt_body(&inner, t.pos)? {
                        Some(g) => Ok(g),
                        None => err(
                            t.pos,
                            format!("attesa una geometria WKT, trovato {}", t.describe()),
                        ),
                    }
                })?;
                G::GeometryCollection(geo::GeometryCollection(gs))
            }
            _ => return Ok(None),
        };
        Ok(Some(g))
    }

    /// `( item, item, … )`
    fn list<T>(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<T, FilterError>,
    ) -> Result<Vec<T>, FilterError> {
        self.expect(Tok::LParen, "\"(\"")?;
        let mut out = vec![item(self)?];
        loop {
            let t = self.bump();
            match t.tok {
                Tok::Comma => out.push(item(self)?),
                Tok::RParen => return Ok(out),
                _ => {
                    return err(
                        t.pos,
                        format!("atteso \",\" o \")\", trovato {}", t.describe()),
                    )
                }
            }
        }
    }

    fn polygon(&mut self, pos: usize) -> Result<geo::Polygon<f64>, FilterError> {
        let mut rings = self
            .list(|p| p.coord_list())?
            .into_iter()
            .map(geo::LineString);
        let exterior = rings.next().ok_or(FilterError {
            pos,
            message: "poligono senza anelli".into(),
        })?;
        if exterior.0.len() < 4 || exterior.0.first() != exterior.0.last() {
            return err(
                pos,
                "l'anello esterno di un poligono vuole almeno 4 posizioni, la prima uguale all'ultima",
            );
        }
        Ok(geo::Polygon::new(exterior, rings.collect()))
    }

    /// `( x y, x y, … )`
    fn coord_list(&mut self) -> Result<Vec<geo::Coord<f64>>, FilterError> {
        self.list(|p| p.coord())
    }

    /// `x y` (a third number, a height, is ignored), in lon/lat.
    fn coord(&mut self) -> Result<geo::Coord<f64>, FilterError> {
        let pos = self.peek().pos;
        let a = self.number()?;
        let b = self.number()?;
        if matches!(self.peek().tok, Tok::Num(_)) {
            self.bump();
        }
        if self.crs == OgcCrs::Crs84 {
            check_lonlat(a, b, pos)?;
            return Ok(geo::Coord { x: a, y: b });
        }
        self.lonlat_of(a, b, pos)
    }

    /// A position of the filter CRS, in its axis order, as lon/lat.
    fn lonlat_of(&mut self, a: f64, b: f64, pos: usize) -> Result<geo::Coord<f64>, FilterError> {
        if self.to_lonlat.is_none() {
            self.to_lonlat = Some(ToLonLat::new(self.crs.epsg()).map_err(|e| FilterError {
                pos,
                message: e.to_string(),
            })?);
        }
        let to = self.to_lonlat.as_ref().ok_or(FilterError {
            pos,
            message: "trasformazione non disponibile".into(),
        })?;
        let (x, y) = self
            .crs
            .point_to_lonlat(to, a, b)
            .map_err(|e| FilterError {
                pos,
                message: format!("posizione non trasformabile da {}: {e}", self.crs.uri()),
            })?;
        Ok(geo::Coord { x, y })
    }
}

fn check_lonlat(lon: f64, lat: f64, pos: usize) -> Result<(), FilterError> {
    if (-180.0..=180.0).contains(&lon) && (-90.0..=90.0).contains(&lat) {
        Ok(())
    } else {
        err(
            pos,
            format!("coordinate ({lon}, {lat}) fuori dai limiti di longitudine e latitudine (CRS84); per coordinate in metri indicare filter-crs"),
        )
    }
}

fn check_types(a: &Scalar, b: &Scalar, pos: usize) -> Result<(), FilterError> {
    let (ta, tb) = (a.ty(), b.ty());
    if ta.compatible(tb) {
        return Ok(());
    }
    let name = |s: &Scalar| match s {
        Scalar::Property(n, _) => format!("la proprietà {n}"),
        _ => "il valore".to_string(),
    };
    err(
        pos,
        format!(
            "tipi non confrontabili: {} è di tipo {}, {} di tipo {}",
            name(a),
            ta.name(),
            name(b),
            tb.name()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::layers;

    struct Rec(serde_json::Map<String, Value>, Option<geo::Geometry<f64>>);

    impl Record for Rec {
        fn property(&self, name: &str) -> Option<&Value> {
            self.0.get(name)
        }
        fn geometry(&self) -> Option<&geo::Geometry<f64>> {
            self.1.as_ref()
        }
    }

    fn candidate() -> Rec {
        let v = serde_json::json!({
            "id": "AT-016001-01", "fonte": "ambito_trasformazione", "punteggio": 72.5,
            "alloggi_stimati": 12, "comune": "Bergamo", "denominazione": null,
        });
        let Value::Object(m) = v else { panic!() };
        Rec(m, Some(geo::Geometry::Point(geo::Point::new(9.67, 45.69))))
    }

    fn layer() -> &'static LayerInfo {
        layers::info("aree_candidate").expect("layer")
    }

    fn sel(text: &str) -> bool {
        parse(text, layer(), OgcCrs::Crs84)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .selects(&candidate())
    }

    fn error(text: &str) -> FilterError {
        parse(text, layer(), OgcCrs::Crs84).expect_err(text)
    }

    #[test]
    fn predicates_and_logic() {
        for yes in [
            "punteggio > 60 AND fonte = 'ambito_trasformazione'",
            "punteggio >= 72.5 and punteggio <= 72.5",
            "NOT (punteggio < 50) OR fonte = 'x'",
            "fonte <> 'rigenerazione'",
            "comune LIKE 'Berg%'",
            "comune LIKE '_ergam_'",
            "comune NOT LIKE '%x%'",
            "alloggi_stimati BETWEEN 10 AND 12",
            "alloggi_stimati IN (1, 12, 40)",
            "alloggi_stimati NOT IN (1, 2)",
            "denominazione IS NULL",
            "comune IS NOT NULL",
            "\"punteggio\" > 7e1",
            "TRUE",
            "((punteggio > 1))",
            "S_INTERSECTS(geometry, BBOX(9.6, 45.6, 9.7, 45.7))",
            "s_intersects(POLYGON((9.6 45.6, 9.7 45.6, 9.7 45.7, 9.6 45.7, 9.6 45.6)), geometry)",
            "S_INTERSECTS(geometry, POINT(9.67 45.69))",
        ] {
            assert!(sel(yes), "{yes}");
        }
        for no in [
            "punteggio > 80",
            "fonte = 'ambito_trasformazione' AND punteggio < 10",
            "comune LIKE 'berg%'",
            "alloggi_stimati BETWEEN 13 AND 20",
            "alloggi_stimati NOT BETWEEN 10 AND 12",
            "alloggi_stimati IN (1, 2)",
            "denominazione IS NOT NULL",
            "FALSE",
            "S_INTERSECTS(geometry, BBOX(9.0, 45.0, 9.1, 45.1))",
            // Unknown (a null took part) selects nothing, and neither does its negation.
            "denominazione = 'x'",
            "NOT (denominazione = 'x')",
        ] {
            assert!(!sel(no), "{no}");
        }
        // Unknown OR true is true; unknown AND false is false.
        assert!(sel("denominazione = 'x' OR punteggio > 1"));
        assert!(!sel(
            "NOT (denominazione = 'x' AND punteggio < 1) AND FALSE"
        ));
        assert!(sel("NOT (denominazione = 'x' AND punteggio < 1)"));
    }

    #[test]
    fn like_patterns() {
        assert!(like("abc", "a%"));
        assert!(like("abc", "%c"));
        assert!(like("abc", "%b%"));
        assert!(like("abc", "a_c"));
        assert!(!like("abc", "a_"));
        assert!(like("a%c", "a\\%c"));
        assert!(!like("abc", "a\\%c"));
        assert!(like("", "%"));
        assert!(like("aXbXc", "a%b%c"));
        assert!(!like("aXbX", "a%b%c"));
    }

    #[test]
    fn errors_name_the_position_and_what_was_expected() {
        let e = error("punteggio >");
        assert_eq!(e.pos, 12);
        assert!(e.message.contains("atteso un valore"), "{e}");
        let e = error("punteggio 60");
        assert_eq!(e.pos, 11);
        assert!(e.message.contains("operatore di confronto"), "{e}");
        let e = error("colore = 'rosso'");
        assert_eq!(e.pos, 1);
        assert!(
            e.message.contains("proprietà sconosciuta") && e.message.contains("punteggio"),
            "{e}"
        );
        let e = error("fonte = 'abc");
        assert_eq!(e.pos, 9);
        assert!(e.message.contains("apici"), "{e}");
        let e = error("punteggio = 'alto'");
        assert_eq!(e.pos, 13);
        assert!(
            e.message.contains("numero") && e.message.contains("testo"),
            "{e}"
        );
        let e = error("(punteggio > 1");
        assert_eq!(e.pos, 15);
        assert!(e.message.contains("\")\""), "{e}");
        let e = error("punteggio > 1 fonte = 'x'");
        assert_eq!(e.pos, 15);
        assert!(e.message.contains("AND, OR"), "{e}");
        let e = error("punteggio != 1");
        assert_eq!(e.pos, 11);
        let e = error("S_INTERSECTS(geometry, BBOX(9, 45, 10))");
        assert!(e.message.contains("4 o 6"), "{e}");
        let e = error("S_CONTAINS(geometry, POINT(9 45))");
        assert!(e.message.contains("S_INTERSECTS"), "{e}");
        let e = error("S_INTERSECTS(geometry, POINT(500000 5000000))");
        assert!(e.message.contains("filter-crs"), "{e}");
        let e = error("");
        assert_eq!(e.pos, 1);
        let e = error("punteggio BETWEEN 1 OR 2");
        assert_eq!(e.pos, 21);
    }

    #[test]
    fn filter_crs_coordinates_are_projected_to_lonlat() {
        let to = crate::crs::FromLonLat::new(32632).expect("utm");
        let (x, y) = to.convert(9.67, 45.69).expect("point");
        let text = format!(
            "S_INTERSECTS(geometry, BBOX({}, {}, {}, {}))",
            x - 5.0,
            y - 5.0,
            x + 5.0,
            y + 5.0
        );
        let e = parse(&text, layer(), OgcCrs::Epsg(32632)).expect("parse");
        assert!(e.selects(&candidate()));
        assert!(e.required_envelope().is_some());
        // EPSG:4326 is latitude first.
        let e = parse(
            "S_INTERSECTS(geometry, POINT(45.69 9.67))",
            layer(),
            OgcCrs::Epsg(4326),
        )
        .expect("parse");
        assert!(e.selects(&candidate()));
    }
}
