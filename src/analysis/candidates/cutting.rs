//! The exclusions, as exact boolean differences in metres: constraints (each kind with its
//! buffer), then the zone classes the rules exclude, then the parts below the minimum area.
//! Each cut is recorded with the hectares it removed, in the order the rules were applied.

use geo::{Area, BooleanOps, BoundingRect, MultiPolygon, Polygon, Rect};

use super::geometry::{boxes_touch, grow_ll, Ctx};
use super::{ha, EsclusioneParziale};
use crate::italiano::numero_it;
use crate::model::ClasseZona;

/// Areas removed below this many square metres are rounding noise, not exclusions.
const EPSILON_M2: f64 = 0.01;

/// An area being cut: what is left of it (UTM 32N) and what each rule removed.
pub(super) struct Taglio {
    pub(super) rimasta: MultiPolygon<f64>,
    pub(super) esclusioni: Vec<EsclusioneParziale>,
}

impl Taglio {
    pub(super) fn new(area: MultiPolygon<f64>) -> Taglio {
        Taglio {
            rimasta: area,
            esclusioni: Vec::new(),
        }
    }

    /// Removes the constraints the rules exclude, each widened by its kind's buffer.
    pub(super) fn vincoli(&mut self, ctx: &mut Ctx<'_>, bbox_ll: Rect<f64>) {
        let (model, index, rules) = (ctx.model, ctx.index, ctx.rules);
        let max_buffer = rules
            .esclusioni
            .vincoli
            .values()
            .map(|r| r.buffer_m)
            .fold(0.0, f64::max);
        for vi in index.vincoli.query_bbox(grow_ll(bbox_ll, max_buffer)) {
            let v = &model.vincoli[vi];
            let Some(rule) = rules.vincolo(v.codice.as_deref()) else {
                continue;
            };
            let buffer = rule.buffer_m;
            let kind = v
                .codice
                .as_deref()
                .map(|c| c.trim().to_lowercase())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "*".into());
            let descrizione = if buffer > 0.0 {
                format!("{} (fascia di {} m)", v.nome, numero_it(buffer, 0))
            } else {
                v.nome.clone()
            };
            let Some(vm) = ctx.vincolo(vi, buffer) else {
                continue;
            };
            self.subtract(vm, format!("vincolo:{kind}"), descrizione);
            if self.rimasta.0.is_empty() {
                break;
            }
        }
    }

    /// Removes agricultural land and areas not subject to transformation, when the rules say
    /// so.
    pub(super) fn classi_escluse(&mut self, ctx: &mut Ctx<'_>, bbox_ll: Rect<f64>) {
        let (model, index, rules) = (ctx.model, ctx.index, ctx.rules);
        let excluded_classes: Vec<ClasseZona> = [
            (rules.esclusioni.agricolo, ClasseZona::Agricolo),
            (
                rules.esclusioni.non_soggetto_trasformazione,
                ClasseZona::NonSoggettoTrasformazione,
            ),
        ]
        .into_iter()
        .filter_map(|(on, c)| on.then_some(c))
        .collect();
        if excluded_classes.is_empty() || self.rimasta.0.is_empty() {
            return;
        }
        for zi in index.pgt_zone.query_bbox(bbox_ll) {
            let classe = model.pgt_zone[zi].classe;
            if !excluded_classes.contains(&classe) {
                continue;
            }
            let descrizione = match classe {
                ClasseZona::Agricolo => "area agricola (esclusa dalle regole)".to_string(),
                _ => "area non soggetta a trasformazione urbanistica".to_string(),
            };
            let Some(zm) = ctx.zone(zi) else { continue };
            self.subtract(zm, classe.code().to_string(), descrizione);
            if self.rimasta.0.is_empty() {
                break;
            }
        }
    }

    /// Drops the parts below `min` square metres (and the slivers below rounding noise).
    pub(super) fn area_minima(&mut self, min: f64) {
        let parts = std::mem::take(&mut self.rimasta.0);
        let (kept, dropped): (Vec<Polygon<f64>>, Vec<Polygon<f64>>) = parts
            .into_iter()
            .partition(|p| p.unsigned_area() >= min && p.unsigned_area() > EPSILON_M2);
        self.rimasta = MultiPolygon(kept);
        self.record(
            "area_minima".into(),
            format!(
                "parti sotto la superficie minima di {} m²",
                numero_it(min, 0)
            ),
            dropped.iter().map(|p| p.unsigned_area()).sum(),
        );
    }

    /// Subtracts `other` (nothing when the boxes are apart), recording the removed area under
    /// `regola`.
    fn subtract(&mut self, other: &MultiPolygon<f64>, regola: String, descrizione: String) {
        if !boxes_touch(self.rimasta.bounding_rect(), other.bounding_rect()) {
            return;
        }
        let before = self.rimasta.unsigned_area();
        self.rimasta = self.rimasta.difference(other);
        let removed = before - self.rimasta.unsigned_area();
        self.record(regola, descrizione, removed);
    }

    /// Records what a cut removed, merging repeated cuts by the same rule and description.
    fn record(&mut self, regola: String, descrizione: String, m2: f64) {
        if m2 <= EPSILON_M2 {
            return;
        }
        if let Some(e) = self
            .esclusioni
            .iter_mut()
            .find(|e| e.regola == regola && e.descrizione == descrizione)
        {
            e.ettari += ha(m2);
        } else {
            self.esclusioni.push(EsclusioneParziale {
                regola,
                descrizione,
                ettari: ha(m2),
            });
        }
    }
}
