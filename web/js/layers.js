// Layers that depend on the page (hatches, PGT services, circles of offered private units,
// squares of candidate areas) and the table checkbox → style layers.
import { caricaCandidate, filtroAlloggi, filtroCandidate } from './filters.js';
import { espressioneColoreComuni } from './choropleth.js';
import { conteggio, protetto } from './format.js';
import { aggiornaLegenda } from './legend.js';
import { centroApprossimato, map, quandoFerma, SORGENTE, visibilita } from './map.js';
import {
  COLORE_ESCLUSE, COLORE_OFFERTI, COLORE_VINCOLI, PGT_CLASSI, rgba, SOGLIE_PUNTEGGIO, VIRIDIS,
} from './palette.js';
import { t } from './i18n.js';
import { stato } from './state.js';
import { $ } from './util.js';

// PGT classes shown by the "Servizi" layer.
const CLASSI_SERVIZI = ['servizi_esistenti', 'servizi_previsti'];

// Hatch of the excluded areas: dark strokes over a veil of the registry's grey (aree_escluse).
function retino(colore) {
  const n = 10;
  const c = document.createElement('canvas');
  c.width = n;
  c.height = n;
  const g = c.getContext('2d');
  g.fillStyle = rgba(COLORE_ESCLUSE, 0.25);
  g.fillRect(0, 0, n, n);
  g.strokeStyle = colore;
  g.lineWidth = 1.2;
  g.beginPath();
  for (const o of [-n, 0, n]) {
    g.moveTo(o, 0);
    g.lineTo(o + n, n);
  }
  g.stroke();
  return g.getImageData(0, 0, n, n);
}

function quadratino(colore) {
  const n = 13;
  const c = document.createElement('canvas');
  c.width = n;
  c.height = n;
  const g = c.getContext('2d');
  g.fillStyle = '#1a1a1a';
  g.fillRect(0, 0, n, n);
  g.fillStyle = colore;
  g.fillRect(1.5, 1.5, n - 3, n - 3);
  return g.getImageData(0, 0, n, n);
}

function puntiOfferti() {
  return {
    type: 'FeatureCollection',
    features: stato.comuni.features.map((f) => ({
      type: 'Feature',
      id: f.properties.istat,
      properties: {
        istat: f.properties.istat,
        nome: f.properties.nome,
        privati_offerti: conteggio(f.properties, 'privati_offerti') ?? 0,
        privati_in_offerta: conteggio(f.properties, 'privati_in_offerta') ?? 0,
        privati_locati_concordato: conteggio(f.properties, 'privati_locati_concordato') ?? 0,
        // Circle size: a withheld count ("< 3") is drawn as the smallest circle.
        raggio_offerti: protetto(f.properties, 'privati_offerti') ? 1 : (typeof f.properties.privati_offerti === 'number' ? f.properties.privati_offerti : 0),
      },
      geometry: { type: 'Point', coordinates: centroApprossimato(f).centro },
    })),
  };
}

function retinoVincoli() {
  // Diagonal hatch drawn on the fly (no external sprite), in the registry's colour of vincoli.
  const n = 12;
  const c = document.createElement('canvas');
  c.width = n;
  c.height = n;
  const g = c.getContext('2d');
  g.strokeStyle = rgba(COLORE_VINCOLI, 0.85);
  g.lineWidth = 1.5;
  g.beginPath();
  for (const o of [-n, 0, n]) {
    g.moveTo(o, n);
    g.lineTo(o + n, 0);
  }
  g.stroke();
  return g.getImageData(0, 0, n, n);
}

// The style (layers, colours, vector source) comes from the server in /style.json; only what
// depends on the page is added here: the hatches, the comuni classes computed on the data and
// the units' filter.
export function aggiungiLivelli() {
  map.addImage('retino-vincoli', retinoVincoli(), { pixelRatio: 1 });
  if (map.getLayer('aree-escluse-fill')) {
    map.addImage('retino-escluse', retino('rgba(60, 60, 60, 0.9)'), { pixelRatio: 1 });
    map.setPaintProperty('aree-escluse-fill', 'fill-opacity', 1);
    map.setPaintProperty('aree-escluse-fill', 'fill-pattern', 'retino-escluse');
  }
  // PGT services: the same zones, only the service classes, above the other zones.
  if (map.getLayer('pgt-fill') && !map.getLayer('pgt-servizi-fill')) {
    const pgt = map.getLayer('pgt-fill');
    map.addLayer({
      id: 'pgt-servizi-fill', type: 'fill', source: SORGENTE, 'source-layer': 'pgt_zone', minzoom: pgt.minzoom || 0,
      layout: { visibility: 'none' },
      filter: ['in', ['get', 'classe'], ['literal', CLASSI_SERVIZI]],
      paint: { 'fill-color': ['match', ['get', 'classe'], 'servizi_previsti', PGT_CLASSI.servizi_previsti.colore, PGT_CLASSI.servizi_esistenti.colore], 'fill-opacity': 0.75, 'fill-outline-color': '#08306b' },
    }, 'comuni-line');
  }
  // Offered private units: one circle per comune, area proportional to the number.
  map.addSource('offerti', { type: 'geojson', data: puntiOfferti() });
  map.addLayer({
    id: 'offerti', type: 'circle', source: 'offerti', layout: { visibility: 'none' },
    filter: ['>', ['get', 'raggio_offerti'], 0],
    paint: {
      'circle-color': COLORE_OFFERTI, 'circle-opacity': 0.85,
      'circle-radius': ['*', 4, ['sqrt', ['get', 'raggio_offerti']]],
      'circle-stroke-color': '#3d1f33', 'circle-stroke-width': 1.2,
    },
  }, primoPresente(['alloggi', 'alloggi-privati']));
  // Candidate areas from afar: many are small (one parcel) and would vanish; up to zoom 13
  // also one point per area, in the colour of its score.
  if (map.getLayer('aree-candidate-fill')) {
    map.addSource('candidate-punti', { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, promoteId: 'id' });
    // Squares (not circles): not mistaken for the units.
    const icone = ['step', ['to-number', ['get', 'punteggio'], 0], 'candidata-0'];
    VIRIDIS.forEach((c, i) => {
      map.addImage(`candidata-${i}`, quadratino(c), { pixelRatio: 1 });
      if (i > 0) icone.push(SOGLIE_PUNTEGGIO[i], `candidata-${i}`);
    });
    map.addLayer({
      id: 'aree-candidate-punti', type: 'symbol', source: 'candidate-punti', maxzoom: 13,
      layout: {
        visibility: 'none', 'icon-image': icone, 'icon-allow-overlap': true, 'icon-ignore-placement': true,
        'symbol-sort-key': ['to-number', ['get', 'punteggio'], 0],
      },
    }, 'offerti');
  }
  for (const l of ['aree-candidate-fill', 'aree-candidate-line', 'aree-candidate-punti']) if (map.getLayer(l)) map.setFilter(l, filtroCandidate());
  map.setPaintProperty('vincoli-fill', 'fill-opacity', 1);
  map.setPaintProperty('vincoli-fill', 'fill-pattern', 'retino-vincoli');
  map.setPaintProperty('comuni-fill', 'fill-color', espressioneColoreComuni());
  const f = filtroAlloggi();
  for (const l of ['alloggi', 'alloggi-indirizzi']) if (f && map.getLayer(l)) map.setFilter(l, f);
  // The page's language in the map's own labels.
  if (map.getLayer('fogli-etichette')) map.setLayoutProperty('fogli-etichette', 'text-field', ['concat', t('Foglio '), ['get', 'foglio']]);
}

// The first of these layers that the style has (a beforeId), or undefined (on top).
function primoPresente(ids) {
  return ids.find((l) => map.getLayer(l));
}

// Layers turned on: the data are already in the vector tiles; the legend follows what is loaded.

export function aggiornaPgt() {
  if (!$('#chk-pgt').checked) return;
  quandoFerma(() => {
    stato.pgtClassiViste = new Set(map.queryRenderedFeatures({ layers: ['pgt-fill'] }).map((f) => f.properties.classe));
    aggiornaLegenda();
  });
}

export function aggiornaPrivato() {
  if (!$('#chk-privato').checked) return;
  quandoFerma(() => {
    const viste = new Map();
    for (const f of map.querySourceFeatures(SORGENTE, { sourceLayer: 'stock_privato' })) {
      viste.set(f.id ?? f.properties.codice ?? JSON.stringify(f.properties), f.properties);
    }
    stato.privatoAree = [...viste.values()];
    aggiornaLegenda();
  });
}

// Map layers: checkbox → style layers (plus the update to run, if any).
export const LIVELLI = {
  alloggi: { chk: '#chk-alloggi', layers: ['alloggi', 'alloggi-indirizzi'] },
  offerti: { chk: '#chk-offerti', layers: ['offerti'] },
  privato: { chk: '#chk-privato', layers: ['privato-fill', 'privato-line'], dopo: () => aggiornaPrivato() },
  pgt: { chk: '#chk-pgt', layers: ['pgt-fill', 'pgt-line'], dopo: () => aggiornaPgt() },
  servizi: { chk: '#chk-servizi', layers: ['pgt-servizi-fill'] },
  vincoli: { chk: '#chk-vincoli', layers: ['vincoli-fill', 'vincoli-line'] },
  catasto: { chk: '#chk-catasto', layers: ['fogli-line', 'particelle-line', 'fogli-etichette', 'particelle-etichette'] },
  candidate: { chk: '#chk-candidate', layers: ['aree-candidate-fill', 'aree-candidate-line', 'aree-candidate-punti'], dopo: () => caricaCandidate() },
  escluse: { chk: '#chk-escluse', layers: ['aree-escluse-fill', 'aree-escluse-line'] },
  // Only in the office's style (individual private units offered).
  alloggiPrivati: { chk: '#chk-alloggi-privati', layers: ['alloggi-privati'] },
  // Only when the project names a raster background.
  sfondo: { chk: '#chk-sfondo', layers: ['sfondo-raster'] },
};

// Layers that cover the comuni with their own colours: while one is on, the comuni's colours
// step back (lighter) so that both stay readable.
const SOPRA_I_COMUNI = ['privato', 'pgt', 'servizi', 'candidate', 'escluse'];
let opacitaComuni = null;

function adattaOpacitaComuni() {
  if (!map.getLayer('comuni-fill')) return;
  if (opacitaComuni === null) opacitaComuni = map.getPaintProperty('comuni-fill', 'fill-opacity') ?? 0.85;
  const coperti = SOPRA_I_COMUNI.some((n) => $(LIVELLI[n].chk).checked);
  map.setPaintProperty('comuni-fill', 'fill-opacity', coperti
    ? ['interpolate', ['linear'], ['zoom'], 10, 0.3, 14, 0.18, 16, 0.1]
    : opacitaComuni);
}

export function applicaLivello(nome) {
  const l = LIVELLI[nome];
  const on = $(l.chk).checked;
  visibilita(l.layers.filter((x) => map.getLayer(x)), on);
  if (nome === 'alloggi') $('#chk-solo-inutilizzati').disabled = !on || !map.getLayer('alloggi');
  if (nome === 'candidate') $('#filtri-candidate').classList.toggle('spento', !on);
  if (SOPRA_I_COMUNI.includes(nome)) adattaOpacitaComuni();
  if (on && l.dopo) l.dopo();
}
