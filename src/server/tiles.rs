//! Vector tiles of the public layers, on the fly: `/tiles/{layer}/{z}/{x}/{y}.mvt`, all layers
//! in `/tiles/{z}/{x}/{y}.mvt`, TileJSON (`/tiles.json`, `/tiles/{layer}.json`) and a MapLibre
//! style (`/style.json`).
//!
//! The [`TileSource`] is prepared on the first request (in `spawn_blocking`) from the state's
//! model. Encoded tiles are kept in an LRU cache bounded by bytes (`ABITARE_TILE_CACHE_MB`,
//! default 256, `0` turns it off) keyed by (layer, z, x, y), with a strong `ETag` per
//! representation and the gzipped bytes kept beside the plain ones once asked for.

use std::sync::{Arc, Mutex, OnceLock};

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use flate2::write::GzEncoder;
use lru::LruCache;
use sha2::{Digest, Sha256};
use std::io::Write;

use super::auth::{Auth, Resolved};
use super::base::BaseUrl;
use super::heavy::{Heavy, Refusal};
use super::routes::{Access, Routes};
use super::MapConfig;
use super::{ApiError, AppState, Caller};
use crate::output::contesto::comuni_etichette;
use crate::output::layers::Audience;
use crate::output::mvt::{valid_tile, TileSource, MAX_ZOOM};
use crate::output::style::{style, StyleOptions};
use crate::output::tilejson::{tilejson, TileSetInfo, SERVER_MAX_ZOOM, SERVER_MIN_ZOOM};

/// `Cache-Control` of tiles, TileJSON and style.
const CACHE_CONTROL: &str = "public, max-age=3600";
/// Media type of MVT.
const MVT_TYPE: &str = "application/vnd.mapbox-vector-tile";
const DEFAULT_CACHE_MB: usize = 256;

/// (audience; layer position in the source, or `u8::MAX` for all layers; z; x; y): each
/// audience has its own tiles.
type Key = (u8, u8, u8, u32, u32);

/// The prepared sources of one state, one per audience.
type Sources = (usize, [Option<Arc<TileSource>>; 3]);

struct CachedTile {
    raw: Bytes,
    etag: String,
    gz: OnceLock<(Bytes, String)>,
}

impl CachedTile {
    fn new(raw: Vec<u8>) -> CachedTile {
        let digest = Sha256::digest(&raw);
        let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
        CachedTile {
            raw: Bytes::from(raw),
            etag: format!("\"{hex}\""),
            gz: OnceLock::new(),
        }
    }

    fn gzipped(&self) -> &(Bytes, String) {
        self.gz.get_or_init(|| {
            let mut enc = GzEncoder::new(
                Vec::with_capacity(self.raw.len() / 2 + 64),
                flate2::Compression::fast(),
            );
            // Writing into a Vec cannot fail.
            let gz = enc
                .write_all(&self.raw)
                .and_then(|_| enc.finish())
                .unwrap_or_default();
            let etag = format!("{}-gz\"", self.etag.trim_end_matches('"'));
            (Bytes::from(gz), etag)
        })
    }

    fn size(&self) -> usize {
        self.raw.len() + self.gz.get().map(|(b, _)| b.len()).unwrap_or(0) + 64
    }
}

struct Cache {
    lru: LruCache<Key, Arc<CachedTile>>,
    bytes: usize,
}

/// Per-router tile state: the prepared source (of the state it was prepared from) and the cache.
struct TileService {
    source: Mutex<Option<Sources>>,
    /// Held by the one request preparing the source.
    preparing: tokio::sync::Mutex<()>,
    cache: Mutex<Cache>,
    max_bytes: usize,
}

impl TileService {
    fn from_env() -> TileService {
        let mb = std::env::var("ABITARE_TILE_CACHE_MB")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(DEFAULT_CACHE_MB);
        TileService {
            source: Mutex::new(None),
            preparing: tokio::sync::Mutex::new(()),
            cache: Mutex::new(Cache {
                lru: LruCache::unbounded(),
                bytes: 0,
            }),
            max_bytes: mb.saturating_mul(1 << 20),
        }
    }

    /// The source of `state` when it is already prepared, without waiting: `None` while it is
    /// being prepared (the lock is held then) or not yet asked for.
    fn ready(&self, state: &AppState, caller: Audience) -> Option<Arc<TileSource>> {
        let id = Arc::as_ptr(state) as usize;
        let guard = self.source.try_lock().ok()?;
        match guard.as_ref() {
            Some((sid, srcs)) if *sid == id => srcs[caller.index()].clone(),
            _ => None,
        }
    }

    /// The source of `state` for `caller`, prepared on first use (blocking): of the layers
    /// and features that audience may see.
    fn source(&self, state: &AppState, caller: Audience) -> Arc<TileSource> {
        let id = Arc::as_ptr(state) as usize;
        let mut guard = match self.source.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let fresh_state = !matches!(guard.as_ref(), Some((sid, _)) if *sid == id);
        if fresh_state {
            *guard = Some((id, [None, None, None]));
            // A new state: tiles of the previous one are stale.
            let mut c = self.lock_cache();
            c.lru.clear();
            c.bytes = 0;
        }
        if let Some((_, srcs)) = guard.as_mut() {
            if let Some(src) = &srcs[caller.index()] {
                return src.clone();
            }
            let src = Arc::new(TileSource::for_audience(state, caller));
            srcs[caller.index()] = Some(src.clone());
            return src;
        }
        Arc::new(TileSource::for_audience(state, caller))
    }

    fn lock_cache(&self) -> std::sync::MutexGuard<'_, Cache> {
        match self.cache.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    fn get(&self, key: &Key) -> Option<Arc<CachedTile>> {
        if self.max_bytes == 0 {
            return None;
        }
        self.lock_cache().lru.get(key).cloned()
    }

    fn put(&self, key: Key, tile: &Arc<CachedTile>) {
        let size = tile.size();
        if self.max_bytes == 0 || size > self.max_bytes {
            return;
        }
        let mut c = self.lock_cache();
        if let Some(old) = c.lru.put(key, tile.clone()) {
            c.bytes = c.bytes.saturating_sub(old.size());
        }
        c.bytes += size;
        while c.bytes > self.max_bytes {
            match c.lru.pop_lru() {
                Some((_, t)) => c.bytes = c.bytes.saturating_sub(t.size()),
                None => break,
            }
        }
    }

    /// Accounts for gzipped bytes added to a cached tile.
    fn grew(&self, key: &Key, by: usize) {
        if self.max_bytes == 0 {
            return;
        }
        let mut c = self.lock_cache();
        if c.lru.contains(key) {
            c.bytes += by;
        }
    }
}

/// The tile routes; they keep their own cache.
pub fn routes() -> Routes {
    let svc = Arc::new(TileService::from_env());
    Routes::new()
        .get("/tiles.json", Access::Public, tilejson_all)
        .get("/style.json", Access::Public, style_json)
        .get("/tiles/{file}", Access::Layer, tilejson_layer)
        .get("/tiles/{z}/{x}/{y}", Access::Public, tile_all)
        .get("/tiles/{layer}/{z}/{x}/{y}", Access::Layer, tile_layer)
        .map(|r| r.layer(Extension(svc)))
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(e)
}

/// The tile source, prepared on first use within the bound of heavy work; requests that
/// arrive meanwhile wait for that one preparation without taking a place in the queue.
async fn prepared(
    svc: &Arc<TileService>,
    state: &AppState,
    heavy: &Heavy,
    caller: Audience,
) -> Result<Arc<TileSource>, Refusal> {
    if let Some(src) = svc.ready(state, caller) {
        return Ok(src);
    }
    let _one = svc.preparing.lock().await;
    if let Some(src) = svc.ready(state, caller) {
        return Ok(src);
    }
    let (svc, state) = (svc.clone(), state.clone());
    Ok(heavy.run(move |_| svc.source(&state, caller)).await?)
}

fn json_response(v: serde_json::Value) -> Response {
    let mut r = Json(v).into_response();
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=60"),
    );
    r
}

fn info(base: &str, path: &str, dimostrativo: bool) -> TileSetInfo<'static> {
    TileSetInfo {
        tiles_url: format!("{base}{path}"),
        name: "abitare",
        description: if dimostrativo {
            "Patrimonio abitativo pubblico dell'Ambito (dati dimostrativi)".into()
        } else {
            "Patrimonio abitativo pubblico dell'Ambito".into()
        },
        attribution: "abitare – dati dell'Ambito",
        min_zoom: SERVER_MIN_ZOOM,
        max_zoom: SERVER_MAX_ZOOM,
    }
}

async fn tilejson_all(
    State(s): State<AppState>,
    Caller(c): Caller,
    Extension(svc): Extension<Arc<TileService>>,
    Extension(heavy): Extension<Arc<Heavy>>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, Refusal> {
    let src = prepared(&svc, &s, &heavy, c).await?;
    let i = info(&base, "/tiles/{z}/{x}/{y}.mvt", s.model.ambito.dimostrativo);
    Ok(json_response(tilejson(&src, None, &i)))
}

async fn tilejson_layer(
    State(s): State<AppState>,
    Caller(c): Caller,
    Extension(svc): Extension<Arc<TileService>>,
    Extension(heavy): Extension<Arc<Heavy>>,
    Path(file): Path<String>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, Refusal> {
    let src = prepared(&svc, &s, &heavy, c).await?;
    if file == "metadata.json" {
        // Tile-directory metadata (as GDAL's MVT driver reads it): TileJSON plus `json`.
        let i = info(&base, "/tiles/{z}/{x}/{y}.mvt", s.model.ambito.dimostrativo);
        let mut v = tilejson(&src, None, &i);
        let layers = serde_json::json!({ "vector_layers": v["vector_layers"].clone() });
        v["json"] = serde_json::Value::String(layers.to_string());
        return Ok(json_response(v));
    }
    let Some(name) = file.strip_suffix(".json") else {
        return Err(ApiError::not_found(format!(
            "risorsa non trovata: /tiles/{file} (TileJSON di un layer: /tiles/{{layer}}.json)"
        ))
        .into());
    };
    let Some(layer) = src.layer(name) else {
        return Err(unknown_layer(name, &src, c).into());
    };
    let path = format!("/tiles/{}/{{z}}/{{x}}/{{y}}.mvt", layer.name());
    let i = info(&base, &path, s.model.ambito.dimostrativo);
    Ok(json_response(tilejson(&src, Some(layer.name()), &i)))
}

async fn style_json(
    State(s): State<AppState>,
    Caller(c): Caller,
    Extension(svc): Extension<Arc<TileService>>,
    Extension(heavy): Extension<Arc<Heavy>>,
    config: Option<Extension<Arc<MapConfig>>>,
    BaseUrl(base): BaseUrl,
) -> Result<Response, Refusal> {
    let src = prepared(&svc, &s, &heavy, c).await?;
    let bounds = src
        .bounds()
        .map(|b| [b.min().x, b.min().y, b.max().x, b.max().y]);
    let config = config.map(|Extension(c)| c);
    let opts = StyleOptions {
        base: &base,
        bounds,
        max_zoom: SERVER_MAX_ZOOM,
        comuni_etichette: comuni_etichette(&s.model),
        sfondo: config.as_ref().and_then(|c| c.sfondo.as_ref()),
    };
    Ok(json_response(style(c, &s.vacancy, &opts)))
}

fn unknown_layer(name: &str, src: &TileSource, caller: Audience) -> ApiError {
    if let Err(e @ ApiError { .. }) = super::layer_for(caller, name) {
        if e.status == StatusCode::FORBIDDEN {
            return e;
        }
    }
    let names: Vec<&str> = src.layers().iter().map(|l| l.name()).collect();
    ApiError::not_found(format!(
        "layer sconosciuto: {name:?} (disponibili: {})",
        names.join(", ")
    ))
}

/// Parses `z`, `x` and `y` (`y` may end in `.mvt` or `.pbf`).
fn parse_zxy(z: &str, x: &str, y: &str) -> Result<(u8, u32, u32), ApiError> {
    let y = y
        .strip_suffix(".mvt")
        .or_else(|| y.strip_suffix(".pbf"))
        .unwrap_or(y);
    let bad = || {
        ApiError::bad_request(format!(
            "tile non valida: {z}/{x}/{y} (attesi z tra 0 e {MAX_ZOOM}, x e y tra 0 e 2^z − 1)"
        ))
    };
    let zv: u8 = z.parse().map_err(|_| bad())?;
    let xv: u32 = x.parse().map_err(|_| bad())?;
    let yv: u32 = y.parse().map_err(|_| bad())?;
    if !valid_tile(zv, xv, yv) {
        return Err(bad());
    }
    Ok((zv, xv, yv))
}

async fn tile_all(
    State(s): State<AppState>,
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Extension(svc): Extension<Arc<TileService>>,
    Extension(heavy): Extension<Arc<Heavy>>,
    Path((z, x, y)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let c = who.audience;
    let zxy = parse_zxy(&z, &x, &y)?;
    audit_tiles(&auth, &who, c, None);
    tile(s, svc, &heavy, c, None, zxy, &headers).await
}

async fn tile_layer(
    State(s): State<AppState>,
    who: Resolved,
    Extension(auth): Extension<Auth>,
    Extension(svc): Extension<Arc<TileService>>,
    Extension(heavy): Extension<Arc<Heavy>>,
    Path((layer, z, x, y)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, Refusal> {
    let c = who.audience;
    let src = prepared(&svc, &s, &heavy, c).await?;
    if src.layer(&layer).is_none() {
        return Err(unknown_layer(&layer, &src, c).into());
    }
    let zxy = parse_zxy(&z, &x, &y)?;
    audit_tiles(&auth, &who, c, Some(&layer));
    tile(s, svc, &heavy, c, Some(layer), zxy, &headers).await
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';');
            let coding = parts.next().unwrap_or("").trim();
            let zero_q = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (coding.eq_ignore_ascii_case("gzip") || coding == "*") && !zero_q
        })
}

fn etag_matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim())
        .any(|t| t == "*" || t == etag || t.strip_prefix("W/") == Some(etag))
}

/// Tiles that hold unit-level private data are reads the audit log records.
fn audit_tiles(auth: &Auth, who: &Resolved, caller: Audience, layer: Option<&str>) {
    let private = crate::output::layers::info_of(crate::output::layers::LayerId::AlloggiPrivati);
    if private.visible_to(caller) && layer.is_none_or(|l| l == private.name) {
        auth.audit_tiles(who, &format!("{} (tile)", private.name));
    }
}

async fn tile(
    s: AppState,
    svc: Arc<TileService>,
    heavy: &Heavy,
    caller: Audience,
    layer: Option<String>,
    (z, x, y): (u8, u32, u32),
    headers: &HeaderMap,
) -> Result<Response, Refusal> {
    let gzip = accepts_gzip(headers);
    let src = prepared(&svc, &s, heavy, caller).await?;
    let layer_pos = match &layer {
        None => u8::MAX,
        Some(n) => src
            .layers()
            .iter()
            .position(|l| l.name() == n)
            .and_then(|p| u8::try_from(p).ok())
            .ok_or_else(|| unknown_layer(n, &src, caller))?,
    };
    let key: Key = (caller.index() as u8, layer_pos, z, x, y);
    let (cached, fresh) = match svc.get(&key) {
        Some(t) => (t, false),
        None => {
            let src = src.clone();
            let t = tokio::task::spawn_blocking(move || {
                let t = Arc::new(CachedTile::new(src.encode(layer.as_deref(), z, x, y)));
                if gzip && !t.raw.is_empty() {
                    t.gzipped();
                }
                t
            })
            .await
            .map_err(internal)?;
            svc.put(key, &t);
            (t, true)
        }
    };
    let mut h = HeaderMap::new();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    if cached.raw.is_empty() {
        return Ok((StatusCode::NO_CONTENT, h).into_response());
    }
    let (body, etag) = if gzip {
        let had = cached.gz.get().is_some();
        let (b, e) = cached.gzipped();
        if !had && !fresh {
            svc.grew(&key, b.len());
        }
        (b.clone(), e.as_str())
    } else {
        (cached.raw.clone(), cached.etag.as_str())
    };
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
    if etag_matches(headers, etag) {
        return Ok((StatusCode::NOT_MODIFIED, h).into_response());
    }
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT_TYPE));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    Ok((h, Body::from(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gzip_negotiation() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip;q=0.8"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn zxy_parsing() {
        assert_eq!(
            parse_zxy("14", "8600", "5850.mvt").ok(),
            Some((14, 8600, 5850))
        );
        assert!(parse_zxy("3", "8", "0").is_err());
        assert!(parse_zxy("23", "0", "0").is_err());
        assert!(parse_zxy("a", "0", "0").is_err());
        assert!(parse_zxy("1", "-1", "0").is_err());
    }
}
