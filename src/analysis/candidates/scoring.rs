//! The preferences: one function per rule of `[preferenze]`, each measuring the area left after
//! the exclusions and giving one [`VocePunteggio`] (zero points when the threshold is missed,
//! none when the rule is off or has nothing to measure).

use geo::{Area, BooleanOps, BoundingRect, MultiPolygon, Point, Rect};

use super::geometry::{boxes_touch, grow_ll, mp_distance, point_distance, Ctx};
use super::rules::PrefServizi;
use super::sources::Source;
use super::{round_to, VocePunteggio};
use crate::italiano::numero_it;
use crate::model::ClasseZona;

/// What the preferences measure.
pub(super) struct Misura<'a> {
    pub(super) src: &'a Source,
    /// The area left after the exclusions (UTM 32N).
    pub(super) geometry: &'a MultiPolygon<f64>,
    /// Its area, m².
    pub(super) area_m2: f64,
    /// The box of the source geometry (lon/lat), for the R-tree queries.
    pub(super) bbox_ll: Rect<f64>,
}

/// Every preference in rule order, points rounded to one decimal.
pub(super) fn voci(ctx: &mut Ctx<'_>, m: &Misura<'_>) -> Vec<VocePunteggio> {
    let p = &ctx.rules.preferenze;
    let mut voci: Vec<VocePunteggio> = Vec::new();
    voci.extend(tessuto_consolidato(ctx, m));
    voci.extend(servizi(ctx, m));
    for (tipo, rule) in &p.servizi_puntuali {
        voci.extend(servizio_puntuale(ctx, m, tipo, rule));
    }
    voci.extend(alloggi_pubblici_vicini(ctx, m));
    voci.extend(proprieta_pubblica(ctx, m));
    voci.extend(domanda_popolazione(ctx, m));
    voci.extend(pressione_abitativa(ctx, m));
    for voce in &mut voci {
        voce.punti = round_to(voce.punti, 1);
    }
    voci
}

/// Share of the area inside the consolidated urban fabric (the zone classes the rule names).
fn tessuto_consolidato(ctx: &mut Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let (model, index) = (ctx.model, ctx.index);
    let rule = &ctx.rules.preferenze.tessuto_consolidato;
    if rule.punti <= 0.0 {
        return None;
    }
    let classi: Vec<ClasseZona> = rule
        .classi
        .iter()
        .filter_map(|c| ClasseZona::from_code(c))
        .collect();
    let cur_box = m.geometry.bounding_rect();
    let mut inside = 0.0;
    for zi in index.pgt_zone.query_bbox(m.bbox_ll) {
        if !classi.contains(&model.pgt_zone[zi].classe) {
            continue;
        }
        let Some(zm) = ctx.zone(zi) else { continue };
        if !boxes_touch(cur_box, zm.bounding_rect()) {
            continue;
        }
        inside += m.geometry.intersection(zm).unsigned_area();
    }
    let share = if m.area_m2 > 0.0 {
        (inside / m.area_m2).min(1.0)
    } else {
        0.0
    };
    let pass = share >= rule.quota_minima && share > 0.0;
    let misura = format!(
        "nel tessuto urbano consolidato: {} % dell'area {} {} %",
        numero_it(share * 100.0, 0),
        if pass { "≥" } else { "<" },
        numero_it(rule.quota_minima * 100.0, 0)
    );
    Some(VocePunteggio {
        regola: "tessuto_consolidato".into(),
        punti: if pass { rule.punti } else { 0.0 },
        misura,
    })
}

/// Distance to the nearest existing service zone of the PGT.
fn servizi(ctx: &mut Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let (model, index) = (ctx.model, ctx.index);
    let rule = &ctx.rules.preferenze.servizi;
    if rule.punti <= 0.0 {
        return None;
    }
    let max = rule.distanza_max_m;
    let mut best = f64::INFINITY;
    // Searched up to three times the threshold, so a miss can say by how much.
    for zi in index.pgt_zone.query_bbox(grow_ll(m.bbox_ll, 3.0 * max)) {
        if model.pgt_zone[zi].classe != ClasseZona::ServiziEsistenti {
            continue;
        }
        let Some(zm) = ctx.zone(zi) else { continue };
        best = best.min(mp_distance(m.geometry, zm));
    }
    let (punti, misura) = if best <= max {
        (
            rule.punti,
            format!(
                "distanza dai servizi esistenti {} m ≤ {} m",
                numero_it(best, 0),
                numero_it(max, 0)
            ),
        )
    } else if best.is_finite() {
        (
            0.0,
            format!(
                "distanza dai servizi esistenti {} m > {} m",
                numero_it(best, 0),
                numero_it(max, 0)
            ),
        )
    } else {
        (
            0.0,
            format!(
                "nessun servizio esistente entro {} m",
                numero_it(3.0 * max, 0)
            ),
        )
    };
    Some(VocePunteggio {
        regola: "servizi".into(),
        punti,
        misura,
    })
}

/// Distance to the nearest existing service point of one kind (`input.servizi_puntuali`).
fn servizio_puntuale(
    ctx: &Ctx<'_>,
    m: &Misura<'_>,
    tipo: &str,
    rule: &PrefServizi,
) -> Option<VocePunteggio> {
    if rule.punti <= 0.0 {
        return None;
    }
    let max = rule.distanza_max_m;
    // Searched up to three times the threshold, so a miss can say by how much.
    let reach = 3.0 * max;
    let mut best: Option<(f64, Option<&str>)> = None;
    if let (Some(tree), Some(b)) = (ctx.servizi.get(tipo), m.geometry.bounding_rect()) {
        let env = rstar::AABB::from_corners(
            [b.min().x - reach, b.min().y - reach],
            [b.max().x + reach, b.max().y + reach],
        );
        for s in tree.locate_in_envelope(&env) {
            let d = point_distance(&Point::new(s.geom()[0], s.geom()[1]), m.geometry);
            if d <= reach && best.is_none_or(|(b, _)| d < b) {
                best = Some((d, ctx.model.servizi_puntuali[s.data].nome.as_deref()));
            }
        }
    }
    let nome_tipo = tipo_servizio_it(tipo);
    let (punti, misura) = match best {
        Some((d, nome)) => {
            let chi = nome.map(|n| format!(" ({n})")).unwrap_or_default();
            let ok = d <= max;
            (
                if ok { rule.punti } else { 0.0 },
                format!(
                    "distanza {nome_tipo}{chi} {} m {} {} m",
                    numero_it(d, 0),
                    if ok { "≤" } else { ">" },
                    numero_it(max, 0)
                ),
            )
        }
        None => (
            0.0,
            format!(
                "nessun punto di tipo «{nome_tipo}» entro {} m",
                numero_it(reach, 0)
            ),
        ),
    };
    Some(VocePunteggio {
        regola: format!("servizi_puntuali:{tipo}"),
        punti,
        misura,
    })
}

/// Unused public units within the radius (not those that made the area a source).
fn alloggi_pubblici_vicini(ctx: &Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let (model, index) = (ctx.model, ctx.index);
    let v = &ctx.rules.preferenze.alloggi_pubblici_vicini;
    if v.punti_per_unita <= 0.0 || v.punti_max <= 0.0 {
        return None;
    }
    let mut n = 0u32;
    for ui in index
        .alloggi_pubblici
        .query_bbox(grow_ll(m.bbox_ll, v.raggio_m))
    {
        let u = &model.alloggi_pubblici[ui];
        if !u.stato.is_unused() || m.src.unita_proprie.contains(&ui) {
            continue;
        }
        let Some(pm) = u.posizione.as_ref().and_then(|p| ctx.metric.point_m(p)) else {
            continue;
        };
        if point_distance(&pm, m.geometry) <= v.raggio_m {
            n += 1;
        }
    }
    Some(VocePunteggio {
        regola: "alloggi_pubblici_vicini".into(),
        punti: (f64::from(n) * v.punti_per_unita).min(v.punti_max),
        misura: format!(
            "{n} alloggi pubblici inutilizzati entro {} m",
            numero_it(v.raggio_m, 0)
        ),
    })
}

/// Public ownership of the area.
fn proprieta_pubblica(ctx: &Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let rule = &ctx.rules.preferenze.proprieta_pubblica;
    if rule.punti <= 0.0 || m.src.proprietari.is_empty() {
        return None;
    }
    Some(VocePunteggio {
        regola: "proprieta_pubblica".into(),
        punti: rule.punti,
        misura: format!("proprietà pubblica: {}", m.src.proprietari.join(", ")),
    })
}

/// Demand of the comune: its population against the reference population.
fn domanda_popolazione(ctx: &Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let d = &ctx.rules.preferenze.domanda;
    if d.punti_popolazione <= 0.0 {
        return None;
    }
    let c = m
        .src
        .comune_istat
        .as_deref()
        .and_then(|k| ctx.model.comune_by_istat(k))?;
    let ratio = if d.popolazione_riferimento > 0.0 {
        (f64::from(c.popolazione) / d.popolazione_riferimento).min(1.0)
    } else {
        1.0
    };
    Some(VocePunteggio {
        regola: "domanda_popolazione".into(),
        punti: d.punti_popolazione * ratio,
        misura: format!(
            "domanda del comune: {} abitanti su {} di riferimento",
            numero_it(f64::from(c.popolazione), 0),
            numero_it(d.popolazione_riferimento, 0)
        ),
    })
}

/// Housing pressure of the comune, as the rules give it by ISTAT code.
fn pressione_abitativa(ctx: &Ctx<'_>, m: &Misura<'_>) -> Option<VocePunteggio> {
    let d = &ctx.rules.preferenze.domanda;
    if d.punti_pressione <= 0.0 {
        return None;
    }
    let pr = m
        .src
        .comune_istat
        .as_deref()
        .and_then(|k| d.pressione.get(k))?;
    Some(VocePunteggio {
        regola: "pressione_abitativa".into(),
        punti: d.punti_pressione * pr,
        misura: format!("pressione abitativa del comune {}", numero_it(*pr, 2)),
    })
}

/// Italian name of a service kind in the reasons (`sanita` → `servizio sanitario`).
pub(super) fn tipo_servizio_it(tipo: &str) -> String {
    match tipo {
        "scuola" => "scuola".into(),
        "sanita" => "servizio sanitario".into(),
        "commercio" => "negozio di vicinato".into(),
        "fermata" => "fermata del trasporto pubblico".into(),
        other => other.replace('_', " "),
    }
}
