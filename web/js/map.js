// The MapLibre map and what concerns only it: creation, the server's style (/style.json), the
// selected comune, padding, layer visibility.
import * as maplibregl from '../vendor/maplibre-gl.mjs';
import { PMTiles, Protocol } from '../vendor/pmtiles.mjs';
import { t } from './i18n.js';
import { MODO_STAMPA } from './print.js';
import { stato } from './state.js';
import { avviso, getJson } from './util.js';

// Vector source of the server's style (/style.json): all tiles in one source.
export const SORGENTE = 'abitare';

export const map = new maplibregl.Map({
  container: 'mappa',
  // In the print view the drawing must stay in the canvas for the browser to print it.
  canvasContextAttributes: { preserveDrawingBuffer: MODO_STAMPA !== null },
  style: {
    version: 8,
    sources: {},
    layers: [{ id: 'sfondo', type: 'background', paint: { 'background-color': '#f4f3ef' } }],
  },
  center: [10.0, 45.9],
  zoom: 9,
  attributionControl: { compact: true },
  maxPitch: 0,
  // Labels appear at once: no fade to wait for (the first view is ready sooner, and a
  // projector gains nothing from the animation).
  fadeDuration: 0,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
  locale: {
    'NavigationControl.ZoomIn': t('Avvicina'),
    'NavigationControl.ZoomOut': t('Allontana'),
    'NavigationControl.ResetBearing': t('Orienta a nord'),
    'ScaleControl.Meters': 'm',
    'ScaleControl.Kilometers': 'km',
    'Popup.Close': t('Chiudi'),
    'Map.Title': t('Mappa'),
    'AttributionControl.ToggleAttribution': t('Mostra o nascondi le fonti'),
  },
});
map.touchZoomRotate.disableRotation();
map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-right');
map.addControl(new maplibregl.ScaleControl({ unit: 'metric' }), 'bottom-right');
window.abitareMap = map;

let erroreMappa = null;
map.on('error', (e) => {
  erroreMappa = e && e.error ? e.error : e;
  console.error('Errore della mappa:', erroreMappa);
  document.body.dataset.mapError = String((erroreMappa && erroreMappa.message) || erroreMappa);
  avviso(t('Si è verificato un errore nel disegnare la mappa. Ricarica la pagina; se il problema resta, segnalalo.'), 'errore');
});

// The server's style; with ?pmtiles=URL the tiles come from a PMTiles archive (pmtiles://
// protocol, read by byte ranges) instead of the server.
export async function caricaStile() {
  const stile = await getJson('style.json');
  // The sources' attributions in the page's language.
  for (const src of Object.values(stile.sources || {})) if (src.attribution) src.attribution = t(src.attribution);
  const archivio = new URLSearchParams(window.location.search).get('pmtiles');
  if (archivio) {
    const url = new URL(archivio, window.location.href).href;
    const protocollo = new Protocol();
    maplibregl.addProtocol('pmtiles', protocollo.tile);
    protocollo.add(new PMTiles(url));
    const vecchia = stile.sources[SORGENTE] || {};
    stile.sources[SORGENTE] = {
      type: 'vector',
      url: `pmtiles://${url}`,
      promoteId: vecchia.promoteId,
      attribution: vecchia.attribution,
    };
  }
  return stile;
}

// Outlines the comune `istat` (or the comuni of a list, a sub-ambito; null: none).
export function selezionaComune(istat) {
  for (const id of stato.comuniSelezionati) {
    map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id }, { selezionato: false });
  }
  const ids = istat === null || istat === undefined ? [] : [].concat(istat);
  stato.comuniSelezionati = ids;
  stato.comuneSelezionato = ids.length === 1 ? ids[0] : null;
  for (const id of ids) map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id }, { selezionato: true });
}

// Padding so that the legend does not hide the Ambito.
export function paddingMappa() {
  const leg = document.querySelector('.legenda-mappa');
  const w = map.getContainer().clientWidth;
  const sopra = leg && leg.open && leg.closest('.mappa-contenitore');
  const sinistra = sopra && w > 700 ? leg.offsetWidth + 24 : 24;
  return { top: 24, bottom: 24, left: sinistra, right: 56 };
}

export function centroApprossimato(feature) {
  // Bounding box of the longest outer ring and a point inside the comune.
  const g = feature.geometry;
  const poligoni = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let anello = poligoni[0][0];
  for (const p of poligoni) if (p[0].length > anello.length) anello = p[0];
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of anello) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  // The server gives a point surely inside the comune (lon_interno, lat_interno).
  const p = feature.properties || {};
  const centro = Number.isFinite(p.lon_interno) && Number.isFinite(p.lat_interno)
    ? [p.lon_interno, p.lat_interno]
    : [(x0 + x1) / 2, (y0 + y1) / 2];
  return { bounds: [[x0, y0], [x1, y1]], centro };
}

export function quandoFerma(fn) {
  if (map.loaded() && !map.isMoving()) fn();
  map.once('idle', fn);
}

export function visibilita(layers, on) {
  for (const l of layers) map.setLayoutProperty(l, 'visibility', on ? 'visible' : 'none');
}

