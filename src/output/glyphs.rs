//! Signed-distance-field glyph ranges for the map's labels, in the format MapLibre asks for
//! through the style's `glyphs` URL (`{fontstack}/{range}.pbf`): a protobuf `glyphs` message
//! holding one `fontstack` with the glyphs of 256 code points, each an SDF bitmap of the glyph
//! at 24 px with a 3 px border, its metrics and advance (the layout node-fontnik and
//! `pbf_font_tools` write, so MapLibre places them as it places any tile server's glyphs).
//!
//! The font is DejaVu Sans (Bitstream Vera licence, `data/fonts/`), embedded in the binary.
//! Outlines are read with `ttf-parser`, their curves flattened into segments, and each pixel's
//! distance to the outline is computed exactly from the segments (inside/outside by the
//! non-zero winding rule), which needs neither FreeType nor a rasteriser. A range is
//! generated on first request and kept in memory for the life of the process.

use std::sync::OnceLock;

use thiserror::Error;

/// The one font stack served (MapLibre's `text-font`).
pub const FONT_NAME: &str = "DejaVu Sans";

/// DejaVu Sans 2.37 (`data/fonts/LICENSE-DejaVu.txt`).
static FONT: &[u8] = include_bytes!("../../data/fonts/DejaVuSans.ttf");

/// Size at which glyphs are rendered, in pixels per em (MapLibre's SDF glyphs are 24 px).
const SIZE: f64 = 24.0;
/// Border around each bitmap, in pixels (fixed by MapLibre).
const BORDER: usize = 3;
/// Distance from the outline, in pixels, that the field spans before it is clamped.
const RADIUS: f64 = 8.0;
/// Share of the byte range given to the inside of the glyph: the outline is at
/// `255 × (1 − CUTOFF)` = 191, the value MapLibre draws as the edge (0.75).
const CUTOFF: f64 = 0.25;
/// Code points per range.
const RANGE: u32 = 256;
/// Ranges cover the Basic Multilingual Plane.
const RANGES: usize = 256;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum GlyphError {
    #[error("carattere non disponibile: {0:?} (è servito solo \"DejaVu Sans\")")]
    UnknownFont(String),
    #[error(
        "intervallo di glifi non valido: {0:?} (atteso INIZIO-FINE.pbf con INIZIO multiplo di 256, \
         FINE = INIZIO + 255, fino a 65535; es. 0-255.pbf)"
    )]
    BadRange(String),
    #[error("il carattere incorporato non è leggibile")]
    Font,
}

/// The first code point of `range` (`"256-511"`), when it names one range of 256.
pub fn parse_range(range: &str) -> Result<u32, GlyphError> {
    let bad = || GlyphError::BadRange(range.to_string());
    let (a, b) = range.split_once('-').ok_or_else(bad)?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 5 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return Err(bad());
    }
    let start: u32 = a.parse().map_err(|_| bad())?;
    let end: u32 = b.parse().map_err(|_| bad())?;
    if !start.is_multiple_of(RANGE) || end != start + RANGE - 1 || end > 0xFFFF {
        return Err(bad());
    }
    Ok(start)
}

/// The encoded range of `fontstack` starting at a code point [`parse_range`] returned
/// (generated once, then served from memory).
pub fn glyph_range(fontstack: &str, range: &str) -> Result<&'static [u8], GlyphError> {
    // MapLibre joins the `text-font` list with commas; the page asks for this font only.
    if fontstack.trim() != FONT_NAME {
        return Err(GlyphError::UnknownFont(fontstack.to_string()));
    }
    let start = parse_range(range)?;
    static CACHE: [OnceLock<Result<Vec<u8>, GlyphError>>; RANGES] =
        [const { OnceLock::new() }; RANGES];
    let slot = CACHE
        .get((start / RANGE) as usize)
        .ok_or_else(|| GlyphError::BadRange(range.to_string()))?;
    match slot.get_or_init(|| encode_range(start)) {
        Ok(bytes) => Ok(bytes.as_slice()),
        Err(e) => Err(e.clone()),
    }
}

/// One rendered glyph: the metrics of the protobuf `glyph` message, in pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    pub id: u32,
    /// `(width + 6) × (height + 6)` bytes, rows from the top; empty for a glyph with no ink.
    pub bitmap: Vec<u8>,
    pub width: u32,
    pub height: u32,
    /// From the pen position to the left edge of the ink.
    pub left: i32,
    /// From the font's ascender line to the top of the ink (negative below it).
    pub top: i32,
    pub advance: u32,
}

/// The glyphs of the code points `start..start + 256` that the font has.
pub fn render_range(start: u32) -> Result<Vec<Glyph>, GlyphError> {
    let face = ttf_parser::Face::parse(FONT, 0).map_err(|_| GlyphError::Font)?;
    let scale = SIZE / f64::from(face.units_per_em());
    // FreeType's scaled ascender is rounded up to a whole pixel.
    let ascender = (f64::from(face.ascender()) * scale).ceil() as i32;
    let mut out = Vec::new();
    for cp in start..start + RANGE {
        let Some(ch) = char::from_u32(cp) else {
            continue;
        };
        let Some(gid) = face.glyph_index(ch) else {
            continue;
        };
        let advance = face
            .glyph_hor_advance(gid)
            .map_or(0, |a| (f64::from(a) * scale).round() as u32);
        let mut outline = Outline::new(scale);
        let bbox = face.outline_glyph(gid, &mut outline);
        outline.finish_contour();
        let glyph = match bbox {
            Some(_) if !outline.segments.is_empty() => {
                let (x0, y0, x1, y1) = outline.pixel_box();
                let width = (x1 - x0) as u32;
                let height = (y1 - y0) as u32;
                Glyph {
                    id: cp,
                    bitmap: sdf(&outline.segments, x0, y1, width as usize, height as usize),
                    width,
                    height,
                    left: x0,
                    top: y1 - ascender,
                    advance,
                }
            }
            _ => Glyph {
                id: cp,
                bitmap: Vec::new(),
                width: 0,
                height: 0,
                left: 0,
                top: -ascender,
                advance,
            },
        };
        out.push(glyph);
    }
    Ok(out)
}

fn encode_range(start: u32) -> Result<Vec<u8>, GlyphError> {
    let glyphs = render_range(start)?;
    Ok(encode(FONT_NAME, start, &glyphs))
}

/// A segment of a flattened outline, in pixels, y up.
type Segment = [f64; 4];

/// Collects a glyph's contours as line segments in pixels (curves flattened).
struct Outline {
    scale: f64,
    segments: Vec<Segment>,
    start: (f64, f64),
    pen: (f64, f64),
}

impl Outline {
    fn new(scale: f64) -> Outline {
        Outline {
            scale,
            segments: Vec::new(),
            start: (0.0, 0.0),
            pen: (0.0, 0.0),
        }
    }

    fn line(&mut self, x: f64, y: f64) {
        let (px, py) = self.pen;
        if (px, py) != (x, y) {
            self.segments.push([px, py, x, y]);
        }
        self.pen = (x, y);
    }

    fn finish_contour(&mut self) {
        let (x, y) = self.start;
        self.line(x, y);
    }

    /// The ink's box in whole pixels: (left, bottom, right, top).
    fn pixel_box(&self) -> (i32, i32, i32, i32) {
        let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
        for s in &self.segments {
            x0 = x0.min(s[0]).min(s[2]);
            x1 = x1.max(s[0]).max(s[2]);
            y0 = y0.min(s[1]).min(s[3]);
            y1 = y1.max(s[1]).max(s[3]);
        }
        (
            x0.floor() as i32,
            y0.floor() as i32,
            (x1.ceil() as i32).max(x0.floor() as i32 + 1),
            (y1.ceil() as i32).max(y0.floor() as i32 + 1),
        )
    }

    /// Pieces for a curve whose control polygon is `len` pixels long (about one per 1.5 px).
    fn pieces(len: f64) -> usize {
        ((len / 1.5).ceil() as usize).clamp(2, 16)
    }
}

impl ttf_parser::OutlineBuilder for Outline {
    fn move_to(&mut self, x: f32, y: f32) {
        self.finish_contour();
        let p = (f64::from(x) * self.scale, f64::from(y) * self.scale);
        self.start = p;
        self.pen = p;
    }

    fn line_to(&mut self, x: f32, y: f32) {
        self.line(f64::from(x) * self.scale, f64::from(y) * self.scale);
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (ax, ay) = self.pen;
        let (bx, by) = (f64::from(x1) * self.scale, f64::from(y1) * self.scale);
        let (cx, cy) = (f64::from(x) * self.scale, f64::from(y) * self.scale);
        let n = Self::pieces((bx - ax).hypot(by - ay) + (cx - bx).hypot(cy - by));
        for i in 1..=n {
            let t = i as f64 / n as f64;
            let u = 1.0 - t;
            self.line(
                u * u * ax + 2.0 * u * t * bx + t * t * cx,
                u * u * ay + 2.0 * u * t * by + t * t * cy,
            );
        }
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (ax, ay) = self.pen;
        let s = self.scale;
        let (bx, by) = (f64::from(x1) * s, f64::from(y1) * s);
        let (cx, cy) = (f64::from(x2) * s, f64::from(y2) * s);
        let (dx, dy) = (f64::from(x) * s, f64::from(y) * s);
        let n = Self::pieces(
            (bx - ax).hypot(by - ay) + (cx - bx).hypot(cy - by) + (dx - cx).hypot(dy - cy),
        );
        for i in 1..=n {
            let t = i as f64 / n as f64;
            let u = 1.0 - t;
            let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
            self.line(
                a * ax + b * bx + c * cx + d * dx,
                a * ay + b * by + c * cy + d * dy,
            );
        }
    }

    fn close(&mut self) {
        self.finish_contour();
    }
}

/// The signed distance field of the outline `segments` over a bitmap of `width × height`
/// pixels whose top-left corner is at (`left`, `top`) in pixels (y up), plus the border: one
/// byte per pixel, 191 on the outline, more inside, less outside.
fn sdf(segments: &[Segment], left: i32, top: i32, width: usize, height: usize) -> Vec<u8> {
    let (w, h) = (width + 2 * BORDER, height + 2 * BORDER);
    let mut out = Vec::with_capacity(w * h);
    for row in 0..h {
        let y = f64::from(top) + BORDER as f64 - row as f64 - 0.5;
        for col in 0..w {
            let x = f64::from(left) - BORDER as f64 + col as f64 + 0.5;
            let mut best = f64::MAX;
            let mut winding = 0i32;
            for &[ax, ay, bx, by] in segments {
                best = best.min(distance2(x, y, ax, ay, bx, by));
                // Non-zero winding: signed crossings of the ray to the right of the point.
                if (ay <= y) != (by <= y) {
                    let cross = ax + (y - ay) * (bx - ax) / (by - ay);
                    if cross > x {
                        winding += if by > ay { 1 } else { -1 };
                    }
                }
            }
            let d = best.sqrt();
            let signed = if winding != 0 { -d } else { d };
            let v = 255.0 - 255.0 * ((signed / RADIUS).clamp(-1.0, 1.0) + CUTOFF);
            out.push(v.clamp(0.0, 255.0) as u8);
        }
    }
    out
}

/// Squared distance from (x, y) to the segment (ax, ay)–(bx, by).
fn distance2(x: f64, y: f64, ax: f64, ay: f64, bx: f64, by: f64) -> f64 {
    let (dx, dy) = (bx - ax, by - ay);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((x - ax) * dx + (y - ay) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    let (px, py) = (ax + t * dx - x, ay + t * dy - y);
    px * px + py * py
}

/// The protobuf `glyphs` message with one `fontstack` (`name`, `range`, `glyphs`).
pub fn encode(name: &str, start: u32, glyphs: &[Glyph]) -> Vec<u8> {
    let mut stack = Vec::new();
    bytes_field(&mut stack, 1, name.as_bytes());
    bytes_field(
        &mut stack,
        2,
        format!("{start}-{}", start + RANGE - 1).as_bytes(),
    );
    for g in glyphs {
        let mut m = Vec::with_capacity(g.bitmap.len() + 24);
        varint_field(&mut m, 1, u64::from(g.id));
        if !g.bitmap.is_empty() {
            bytes_field(&mut m, 2, &g.bitmap);
        }
        varint_field(&mut m, 3, u64::from(g.width));
        varint_field(&mut m, 4, u64::from(g.height));
        varint_field(&mut m, 5, zigzag(g.left));
        varint_field(&mut m, 6, zigzag(g.top));
        varint_field(&mut m, 7, u64::from(g.advance));
        bytes_field(&mut stack, 3, &m);
    }
    let mut out = Vec::with_capacity(stack.len() + 8);
    bytes_field(&mut out, 1, &stack);
    out
}

fn zigzag(v: i32) -> u64 {
    u64::from(((v << 1) ^ (v >> 31)) as u32)
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_field(out: &mut Vec<u8>, field: u32, v: u64) {
    varint(out, u64::from(field << 3));
    varint(out, v);
}

fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    varint(out, u64::from(field << 3 | 2));
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_parsed_strictly() {
        assert_eq!(parse_range("0-255"), Ok(0));
        assert_eq!(parse_range("256-511"), Ok(256));
        assert_eq!(parse_range("65280-65535"), Ok(65280));
        for bad in [
            "",
            "0-254",
            "1-256",
            "0-256",
            "65536-65791",
            "-0-255",
            "0–255",
            "a-b",
            "0255",
        ] {
            assert!(parse_range(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_of_a_square_measures_distance_to_its_edges() {
        // A 10 px square, counter-clockwise, from (0, 0) to (10, 10).
        let sq = [
            [0.0, 0.0, 10.0, 0.0],
            [10.0, 0.0, 10.0, 10.0],
            [10.0, 10.0, 0.0, 10.0],
            [0.0, 10.0, 0.0, 0.0],
        ];
        let f = sdf(&sq, 0, 10, 10, 10);
        let w = 10 + 2 * BORDER;
        assert_eq!(f.len(), w * w);
        let at = |col: usize, row: usize| f[row * w + col];
        // Centre of the square: 5 px inside, clamped to the top of the range.
        assert_eq!(at(BORDER + 5, BORDER + 5), 255);
        // The first pixel inside, 0.5 px from the edge: a little above 191.
        let inner = at(BORDER, BORDER + 5);
        assert!((200..=208).contains(&inner), "{inner}");
        // The first pixel outside, 0.5 px out: a little below 191.
        let outer = at(BORDER - 1, BORDER + 5);
        assert!((174..=182).contains(&outer), "{outer}");
        // The corner of the border, 2.5 × √2 px out.
        let corner = at(0, 0);
        let want = 255.0 - 255.0 * ((2.5f64 * 2f64.sqrt()) / RADIUS + CUTOFF);
        assert!(
            (f64::from(corner) - want).abs() <= 1.0,
            "{corner} vs {want}"
        );
    }

    #[test]
    fn letters_have_ink_and_metrics() {
        let glyphs = render_range(0).expect("range 0");
        let a = glyphs.iter().find(|g| g.id == u32::from('a')).expect("a");
        assert!(a.width >= 9 && a.width <= 14, "{a:?}");
        assert_eq!(a.bitmap.len(), ((a.width + 6) * (a.height + 6)) as usize);
        assert!(a.bitmap.iter().any(|&v| v > 191) && a.bitmap.iter().any(|&v| v < 100));
        let space = glyphs.iter().find(|g| g.id == 32).expect("space");
        assert!(space.bitmap.is_empty() && space.advance > 4);
    }
}
