// Mappa web di abitare: alloggi pubblici dell'Ambito, comuni, PGT, vincoli, catasto, stime
// aggregate del patrimonio privato (mai singoli alloggi privati).
// Nessuna richiesta esterna: niente basemap, niente glifi, niente sprite. I testi sono HTML.
import * as maplibregl from './vendor/maplibre-gl.mjs';
import { PMTiles, Protocol } from './vendor/pmtiles.mjs';

// ---------------------------------------------------------------------------
// Costanti di presentazione

// Okabe–Ito (sicura per daltonici), ordinata dal meno al più urgente.
const STATI = [
  { id: 'occupato', label: 'Occupato', colore: '#0072B2' },
  { id: 'libero', label: 'Libero', colore: '#009E73' },
  { id: 'sfitto_carenze_manutentive', label: 'Sfitto per carenze manutentive', colore: '#E69F00' },
  { id: 'sfitto_ristrutturazione', label: 'Sfitto per ristrutturazione', colore: '#D55E00' },
];
const STATO_PER_ID = Object.fromEntries(STATI.map((s) => [s.id, s]));
const COLORE_STATO_IGNOTO = '#999999';

const SERVIZI = {
  SAP: 'Alloggio SAP – servizio abitativo pubblico (canone sociale)',
  SAS: 'Alloggio SAS – servizio abitativo sociale (canone moderato)',
  SAT: 'Alloggio SAT – servizio abitativo transitorio',
  altro: 'Alloggio per altro uso residenziale',
};

// ColorBrewer YlOrRd a 5 classi (sequenziale, leggibile da daltonici e in scala di grigi).
const YLORRD = ['#ffffb2', '#fecc5c', '#fd8d3c', '#f03b20', '#bd0026'];
const GRIGIO_NESSUNO = '#e3e3e3';

// Abitazioni private non occupate: ColorBrewer Purples a 5 classi (sequenziale, sicura per
// daltonici, distinta dalla scala dei comuni), classi fisse sulla quota di non occupate.
const PURPLES = ['#f2f0f7', '#cbc9e2', '#9e9ac8', '#756bb1', '#54278f'];
const SOGLIE_PRIVATO = [0, 0.2, 0.35, 0.5, 0.65];

const METRICHE = {
  inutilizzati: {
    titolo: 'Alloggi pubblici inutilizzati',
    nota: 'liberi + sfitti, per comune',
    tipo: 'intero',
    nessuno: 'Nessun alloggio inutilizzato',
    zeroENessuno: true, // 0 inutilizzati → grigio
  },
  tasso_inutilizzo: {
    titolo: 'Quota di alloggi pubblici inutilizzati',
    nota: 'inutilizzati sul totale degli alloggi pubblici del comune',
    tipo: 'percentuale',
    nessuno: 'Nessun alloggio pubblico nel comune',
    zeroENessuno: false, // 0% è un valore vero (tutti occupati)
  },
  alloggi_per_1000_ab: {
    titolo: 'Alloggi pubblici ogni 1.000 abitanti',
    nota: 'tutti gli alloggi pubblici, su popolazione residente',
    tipo: 'decimale',
    nessuno: 'Nessun alloggio pubblico nel comune',
    zeroENessuno: true,
  },
};

// Classi del PGT (codici del modello di abitare) → colori tenui, distinguibili.
const PGT_CLASSI = {
  tessuto_urbano_consolidato: { label: 'Tessuto urbano consolidato', colore: '#bdbdbd' },
  nucleo_antica_formazione: { label: 'Nucleo di antica formazione', colore: '#8c6d31' },
  ambito_trasformazione: { label: 'Ambito di trasformazione', colore: '#cc79a7' },
  rigenerazione: { label: 'Ambito di rigenerazione', colore: '#f0e442' },
  servizi_esistenti: { label: 'Servizi esistenti', colore: '#56b4e9' },
  servizi_previsti: { label: 'Servizi previsti', colore: '#0072b2' },
  agricolo: { label: 'Area agricola', colore: '#b8e186' },
  non_soggetto_trasformazione: { label: 'Area non soggetta a trasformazione', colore: '#4d9221' },
};
const PGT_ALTRO = '#dddddd';

// Aree candidate: punteggio 0–100 in 5 classi fisse, viridis (sicura per daltonici, leggibile
// in scala di grigi): chiaro = punteggio basso, scuro = alto. Come src/output/style.rs.
const VIRIDIS = ['#fde725', '#5ec962', '#21918c', '#3b528b', '#440154'];
const SOGLIE_PUNTEGGIO = [0, 20, 40, 60, 80];
const FONTI = {
  servizi_previsti: 'Aree per servizi previste dal Piano dei Servizi',
  ambito_trasformazione: 'Ambiti di trasformazione (standard cedibile)',
  ambiti_trasformazione: 'Ambiti di trasformazione (standard cedibile)',
  rigenerazione: 'Ambiti di rigenerazione urbana',
  patrimonio_pubblico: 'Patrimonio pubblico inutilizzato',
  altra_proprieta_pubblica: 'Altra proprietà pubblica',
};
// Alloggi privati offerti allo sportello: cerchi per comune (solo numeri aggregati).
const COLORE_OFFERTI = '#CC79A7';
const CLASSI_SERVIZI = ['servizi_esistenti', 'servizi_previsti'];

// Zoom da cui le tile contengono fogli e particelle (vedi /tiles.json).
const ZOOM_FOGLI = 12;
const ZOOM_PARTICELLE = 14;
// Sorgente vettoriale dello stile del server (/style.json): tutte le tile in un'unica sorgente.
const SORGENTE = 'abitare';

const fmtIntero = new Intl.NumberFormat('it-IT', { maximumFractionDigits: 0 });
const fmtDecimale = new Intl.NumberFormat('it-IT', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
const fmtPercento = new Intl.NumberFormat('it-IT', { style: 'percent', maximumFractionDigits: 0 });
const fmtData = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

// ---------------------------------------------------------------------------
// Utilità

const $ = (sel) => document.querySelector(sel);

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

function numero(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : fmtIntero.format(v);
}

function dataIt(iso) {
  if (!iso) return null;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : fmtData.format(d);
}

function mesi(n) {
  if (n === null || n === undefined) return null;
  if (n === 0) return 'meno di un mese';
  return n === 1 ? '1 mese' : `${fmtIntero.format(n)} mesi`;
}

function formattaMetrica(tipo, v) {
  if (v === null || v === undefined) return '–';
  if (tipo === 'percentuale') return fmtPercento.format(v);
  if (tipo === 'decimale') return fmtDecimale.format(v);
  return fmtIntero.format(v);
}

async function getJson(url, signal) {
  const r = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

function avviso(testo, tipo = 'info') {
  const el = $('#avviso');
  if (!testo) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  el.dataset.tipo = tipo;
  el.textContent = testo;
}

// ---------------------------------------------------------------------------
// Classi del coroplete: quantili arrotondati a valori "parlanti".

function arrotonda(tipo, v) {
  if (tipo === 'intero') return Math.ceil(v);
  if (tipo === 'percentuale') return Math.ceil(v * 100 - 1e-9) / 100;
  return Math.ceil(v * 10 - 1e-9) / 10;
}

function passo(tipo) {
  if (tipo === 'intero') return 1;
  if (tipo === 'percentuale') return 0.01;
  return 0.1;
}

// Restituisce le soglie inferiori delle classi (la prima è il minimo).
function calcolaClassi(valori, tipo, k = 5) {
  const v = valori.filter((x) => x !== null && x !== undefined && !Number.isNaN(x)).sort((a, b) => a - b);
  if (v.length === 0) return [];
  const min = v[0];
  const soglie = [tipo === 'intero' ? Math.floor(min) : min];
  for (let i = 1; i < k; i++) {
    const q = v[Math.min(v.length - 1, Math.floor((i * v.length) / k))];
    const s = arrotonda(tipo, q);
    if (s > soglie[soglie.length - 1] + 1e-9 && s <= v[v.length - 1]) soglie.push(s);
  }
  return { soglie, max: v[v.length - 1] };
}

function etichettaClasse(tipo, da, a, ultima, max) {
  const f = (x) => formattaMetrica(tipo, x);
  if (ultima) return da >= max - 1e-9 ? f(da) : `${f(da)} e oltre (fino a ${f(max)})`;
  const fino = tipo === 'intero' ? a - 1 : a - passo(tipo);
  if (fino <= da + 1e-9) return f(da);
  return tipo === 'intero' ? `da ${f(da)} a ${f(fino)}` : `da ${f(da)} a meno di ${f(a)}`;
}

// ---------------------------------------------------------------------------
// Stato dell'applicazione

const stato = {
  privatoAree: [],
  candidate: null, // GeoJSON delle aree candidate (caricato quando serve)
  fontiCandidate: new Set(), // fonti accese (vuoto = tutte, prima del caricamento)
  punteggioMin: 0,
  esclusePresenti: false,
  filtri: { ente: '', comune: '', stati: new Set(STATI.map((s) => s.id)), mesi: 0 },
  sintesiAmbito: null,
  sintesiComune: null,
  schedaIstat: null,
  stampa: null, // 'A4' | 'A3' nella vista di stampa
  indiceCerca: [],
  ambito: null,
  comuni: null,
  alloggi: null,
  alloggiPerPunto: new Map(),
  puntoPerAlloggio: new Map(), // id dell'alloggio → coordinate esatte (quelle di queryRenderedFeatures sono arrotondate alla tile)
  metrica: 'inutilizzati',
  classi: null,
  pgtClassiViste: new Set(),
  richieste: {},
  popup: null,
  comuneSelezionato: null,
};

function chiavePunto(coord) {
  return `${coord[0].toFixed(6)},${coord[1].toFixed(6)}`;
}

// ---------------------------------------------------------------------------
// Mappa

// Vista di stampa: ?stampa=A4 o ?stampa=A3.
const MODO_STAMPA = (() => {
  const v = new URLSearchParams(window.location.search).get('stampa');
  return v === null ? null : (v.toUpperCase() === 'A3' ? 'A3' : 'A4');
})();

const map = new maplibregl.Map({
  container: 'mappa',
  // Nella vista di stampa il disegno deve restare nel canvas perché il browser lo stampi.
  canvasContextAttributes: { preserveDrawingBuffer: MODO_STAMPA !== null },
  style: {
    version: 8,
    sources: {},
    layers: [{ id: 'sfondo', type: 'background', paint: { 'background-color': '#f4f3ef' } }],
  },
  center: [10.0, 45.9],
  zoom: 9,
  attributionControl: { compact: true, customAttribution: 'abitare – dati dell\'Ambito' },
  maxPitch: 0,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
  locale: {
    'NavigationControl.ZoomIn': 'Avvicina',
    'NavigationControl.ZoomOut': 'Allontana',
    'NavigationControl.ResetBearing': 'Orienta a nord',
    'ScaleControl.Meters': 'm',
    'ScaleControl.Kilometers': 'km',
    'Popup.Close': 'Chiudi',
    'Map.Title': 'Mappa',
    'AttributionControl.ToggleAttribution': 'Mostra o nascondi le fonti',
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
  avviso('Si è verificato un errore nel disegnare la mappa. Ricarica la pagina; se il problema resta, segnalalo.', 'errore');
});

function retino(colore) {
  const n = 10;
  const c = document.createElement('canvas');
  c.width = n;
  c.height = n;
  const g = c.getContext('2d');
  g.fillStyle = 'rgba(127, 127, 127, 0.25)';
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
      properties: { istat: f.properties.istat, nome: f.properties.nome, privati_offerti: f.properties.privati_offerti ?? 0, privati_in_offerta: f.properties.privati_in_offerta ?? 0, privati_locati_concordato: f.properties.privati_locati_concordato ?? 0 },
      geometry: { type: 'Point', coordinates: centroApprossimato(f).centro },
    })),
  };
}

function retinoVincoli() {
  // Tratteggio diagonale generato al volo (nessuno sprite esterno).
  const n = 12;
  const c = document.createElement('canvas');
  c.width = n;
  c.height = n;
  const g = c.getContext('2d');
  g.strokeStyle = 'rgba(120, 28, 129, 0.85)';
  g.lineWidth = 1.5;
  g.beginPath();
  for (const o of [-n, 0, n]) {
    g.moveTo(o, n);
    g.lineTo(o + n, 0);
  }
  g.stroke();
  return g.getImageData(0, 0, n, n);
}

function espressioneColoreComuni() {
  const m = METRICHE[stato.metrica];
  const { soglie } = stato.classi;
  const valore = ['get', stato.metrica];
  if (!soglie || soglie.length === 0) return GRIGIO_NESSUNO;
  const step = ['step', ['to-number', valore], YLORRD[0]];
  for (let i = 1; i < soglie.length; i++) step.push(soglie[i], YLORRD[i]);
  const nessuno = m.zeroENessuno
    ? ['any', ['==', valore, null], ['<=', ['to-number', valore, 0], 0]]
    : ['==', valore, null];
  return ['case', nessuno, GRIGIO_NESSUNO, step];
}

function valoriMetrica(metrica) {
  const m = METRICHE[metrica];
  return stato.comuni.features
    .map((f) => f.properties[metrica])
    .filter((v) => v !== null && v !== undefined && !(m.zeroENessuno && v <= 0));
}

function aggiornaColoreComuni() {
  const m = METRICHE[stato.metrica];
  stato.classi = calcolaClassi(valoriMetrica(stato.metrica), m.tipo, YLORRD.length);
  if (map.getLayer('comuni-fill')) map.setPaintProperty('comuni-fill', 'fill-color', espressioneColoreComuni());
  aggiornaLegenda();
}

// Filtri sugli alloggi: la stessa regola come espressione MapLibre e come funzione (legenda,
// conteggi), così ciò che la legenda conta è ciò che la mappa disegna.
function filtriAttivi() {
  const f = stato.filtri;
  const stati = STATI.map((s) => s.id).filter((id) => f.stati.has(id) && !($('#chk-solo-inutilizzati').checked && id === 'occupato'));
  return { ente: f.ente, comune: f.comune, stati, mesi: f.mesi, tutti: stati.length === STATI.length && !f.ente && !f.comune && !f.mesi };
}

function filtroAlloggi() {
  const f = filtriAttivi();
  if (f.tutti) return null;
  const cond = ['all', ['in', ['get', 'stato'], ['literal', f.stati]]];
  if (f.ente) cond.push(['==', ['get', 'ente_proprietario'], f.ente]);
  if (f.comune) cond.push(['==', ['get', 'comune_istat'], f.comune]);
  if (f.mesi > 0) cond.push(['>=', ['to-number', ['get', 'mesi_sfitto'], -1], f.mesi]);
  return cond;
}

function passaFiltro(p) {
  const f = filtriAttivi();
  if (!f.stati.includes(p.stato)) return false;
  if (f.ente && p.ente_proprietario !== f.ente) return false;
  if (f.comune && p.comune_istat !== f.comune) return false;
  if (f.mesi > 0 && !(typeof p.mesi_sfitto === 'number' && p.mesi_sfitto >= f.mesi)) return false;
  return true;
}

function filtroCandidate() {
  const cond = ['all', ['>=', ['to-number', ['get', 'punteggio'], 0], stato.punteggioMin]];
  if (stato.candidate) cond.push(['in', ['get', 'fonte'], ['literal', [...stato.fontiCandidate]]]);
  return cond;
}

function passaCandidata(p) {
  return (p.punteggio ?? 0) >= stato.punteggioMin && (!stato.candidate || stato.fontiCandidate.has(p.fonte));
}

function applicaFiltri() {
  if (!map.getLayer('alloggi')) return;
  map.setFilter('alloggi', filtroAlloggi());
  const n = stato.alloggi.features.filter((f) => f.geometry && passaFiltro(f.properties)).length;
  const tot = stato.alloggi.features.filter((f) => f.geometry).length;
  $('#filtri-esito').textContent = n === tot ? `Tutti gli alloggi sono mostrati (${numero(tot)}).` : `Mostrati ${numero(n)} alloggi su ${numero(tot)}.`;
  aggiornaLegenda();
  scriviUrl();
}

// Lo stile (livelli, colori, sorgente vettoriale) arriva dal server in /style.json; qui si
// aggiungono solo ciò che dipende dalla pagina: il retino dei vincoli, le classi dei comuni
// calcolate sui dati e il filtro degli alloggi.
function aggiungiLivelli() {
  map.addImage('retino-vincoli', retinoVincoli(), { pixelRatio: 1 });
  map.addImage('retino-escluse', retino('rgba(60, 60, 60, 0.9)'), { pixelRatio: 1 });
  if (map.getLayer('aree-escluse-fill')) {
    map.setPaintProperty('aree-escluse-fill', 'fill-opacity', 1);
    map.setPaintProperty('aree-escluse-fill', 'fill-pattern', 'retino-escluse');
  }
  // Servizi del PGT: le stesse zone, solo le classi dei servizi, sopra le altre zone.
  if (map.getLayer('pgt-fill') && !map.getLayer('pgt-servizi-fill')) {
    const pgt = map.getLayer('pgt-fill');
    map.addLayer({
      id: 'pgt-servizi-fill', type: 'fill', source: SORGENTE, 'source-layer': 'pgt_zone', minzoom: pgt.minzoom || 0,
      layout: { visibility: 'none' },
      filter: ['in', ['get', 'classe'], ['literal', CLASSI_SERVIZI]],
      paint: { 'fill-color': ['match', ['get', 'classe'], 'servizi_previsti', PGT_CLASSI.servizi_previsti.colore, PGT_CLASSI.servizi_esistenti.colore], 'fill-opacity': 0.75, 'fill-outline-color': '#08306b' },
    }, 'comuni-line');
  }
  // Alloggi privati offerti: un cerchio per comune, area proporzionale al numero.
  map.addSource('offerti', { type: 'geojson', data: puntiOfferti() });
  map.addLayer({
    id: 'offerti', type: 'circle', source: 'offerti', layout: { visibility: 'none' },
    filter: ['>', ['get', 'privati_offerti'], 0],
    paint: {
      'circle-color': COLORE_OFFERTI, 'circle-opacity': 0.85,
      'circle-radius': ['*', 4, ['sqrt', ['get', 'privati_offerti']]],
      'circle-stroke-color': '#3d1f33', 'circle-stroke-width': 1.2,
    },
  }, 'alloggi');
  // Aree candidate lontano: molte sono piccole (una particella) e sparirebbero; fino allo zoom
  // 13 anche un punto per area, con lo stesso colore del punteggio.
  if (map.getLayer('aree-candidate-fill')) {
    const passo = ['step', ['to-number', ['get', 'punteggio'], 0], VIRIDIS[0]];
    for (let i = 1; i < VIRIDIS.length; i++) passo.push(SOGLIE_PUNTEGGIO[i], VIRIDIS[i]);
    map.addSource('candidate-punti', { type: 'geojson', data: { type: 'FeatureCollection', features: [] }, promoteId: 'id' });
    // Quadrati (non cerchi): non si confondono con gli alloggi.
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
  if (f) map.setFilter('alloggi', f);
}

// Stile del server; con ?pmtiles=URL le tile vengono da un archivio PMTiles (protocollo
// pmtiles://, letto a intervalli di byte) invece che dal server.
async function caricaStile() {
  const stile = await getJson('style.json');
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

// ---------------------------------------------------------------------------
// Legenda (sempre coerente con ciò che è visibile)

function voceLegenda(simbolo, testo, extra = '') {
  return `<li>${simbolo}<span>${testo}${extra ? ` <span class="piccolo">${extra}</span>` : ''}</span></li>`;
}
const quadrato = (colore, classe = '') => `<span class="simbolo quadrato ${classe}" style="background:${colore}" aria-hidden="true"></span>`;
const cerchio = (colore) => `<span class="simbolo cerchio" style="background:${colore}" aria-hidden="true"></span>`;

function aggiornaLegenda() {
  if (!stato.comuni) return;
  const m = METRICHE[stato.metrica];
  const parti = [];

  // Comuni
  const { soglie, max } = stato.classi || {};
  const voci = [];
  if (soglie && soglie.length) {
    const conteggi = new Array(soglie.length).fill(0);
    for (const v of valoriMetrica(stato.metrica)) {
      let i = 0;
      while (i + 1 < soglie.length && v >= soglie[i + 1] - 1e-9) i++;
      conteggi[i]++;
    }
    for (let i = 0; i < soglie.length; i++) {
      const ultima = i === soglie.length - 1;
      const et = etichettaClasse(m.tipo, soglie[i], ultima ? null : soglie[i + 1], ultima, max);
      voci.push(voceLegenda(quadrato(YLORRD[i]), esc(et), `(${conteggi[i]} ${conteggi[i] === 1 ? 'comune' : 'comuni'})`));
    }
  }
  const nNessuno = stato.comuni.features.length - valoriMetrica(stato.metrica).length;
  if (nNessuno > 0) voci.push(voceLegenda(quadrato(GRIGIO_NESSUNO), esc(m.nessuno), `(${nNessuno})`));
  parti.push(`<h3>Comuni: ${esc(m.titolo.toLowerCase())}</h3><p class="piccolo">${esc(m.nota)}</p><ul class="voci">${voci.join('')}</ul>`);

  // Alloggi
  if (map.getLayer('alloggi') && map.getLayoutProperty('alloggi', 'visibility') !== 'none') {
    const solo = $('#chk-solo-inutilizzati').checked;
    const fa = filtriAttivi();
    const conteggi = {};
    for (const f of stato.alloggi.features) {
      if (passaFiltro(f.properties)) conteggi[f.properties.stato] = (conteggi[f.properties.stato] || 0) + 1;
    }
    const vociA = STATI.filter((s) => fa.stati.includes(s.id))
      .map((s) => voceLegenda(cerchio(s.colore), esc(s.label), `(${numero(conteggi[s.id] || 0)})`));
    const descr = [];
    if (fa.ente) descr.push(`proprietario: ${fa.ente}`);
    if (fa.comune) descr.push(`comune: ${nomeComune(fa.comune)}`);
    if (fa.mesi) descr.push(`vuoti da almeno ${mesi(fa.mesi)}`);
    if (descr.length) vociA.push(`<li class="piccolo filtro-legenda">Filtro: ${esc(descr.join('; '))}</li>`);
    const senzaPosizione = stato.alloggi.features.filter((f) => !f.geometry).length;
    if (senzaPosizione > 0) {
      vociA.push(`<li class="piccolo">${numero(senzaPosizione)} ${senzaPosizione === 1 ? 'alloggio' : 'alloggi'} senza posizione: contati nei totali, non disegnati.</li>`);
    }
    parti.push(`<h3>Alloggi pubblici, per stato${solo ? ' (solo inutilizzati)' : ''}${fa.tutti ? '' : ' – filtrati'}</h3>
      <p class="piccolo">Un punto per alloggio; più alloggi nello stesso edificio si sovrappongono (clicca per l'elenco).</p>
      <ul class="voci">${vociA.join('')}</ul>`);
  }

  // Alloggi privati offerti (per comune)
  if ($('#chk-offerti').checked) {
    const valori = stato.comuni.features.map((f) => f.properties.privati_offerti ?? 0).filter((v) => v > 0);
    const max = valori.length ? Math.max(...valori) : 0;
    const esempi = [...new Set([1, Math.round(max / 2), max].filter((v) => v > 0))];
    const vociO = esempi.map((v) => {
      const d = 2 * 4 * Math.sqrt(v);
      return voceLegenda(`<span class="simbolo cerchio-offerti" style="width:${d}px;height:${d}px;background:${COLORE_OFFERTI}" aria-hidden="true"></span>`, `${numero(v)} ${v === 1 ? 'alloggio offerto' : 'alloggi offerti'}`);
    });
    parti.push(`<h3>Alloggi privati offerti allo sportello</h3>
      <p class="piccolo">Un cerchio per comune, area proporzionale al numero. Solo dati aggregati.</p>
      ${vociO.length ? `<ul class="voci">${vociO.join('')}</ul>` : '<p class="piccolo">Nessun alloggio offerto.</p>'}`);
  }

  // Aree candidate
  if ($('#chk-candidate').checked) {
    const feats = stato.candidate ? stato.candidate.features.filter((f) => passaCandidata(f.properties)) : [];
    const conteggi = new Array(VIRIDIS.length).fill(0);
    for (const f of feats) {
      let i = 0;
      while (i + 1 < SOGLIE_PUNTEGGIO.length && (f.properties.punteggio ?? 0) >= SOGLIE_PUNTEGGIO[i + 1]) i++;
      conteggi[i]++;
    }
    const vociC = VIRIDIS.map((c, i) => ({ c, i })).filter(({ i }) => i + 1 >= SOGLIE_PUNTEGGIO.length || SOGLIE_PUNTEGGIO[i + 1] > stato.punteggioMin).map(({ c, i }) => {
      const da = Math.max(SOGLIE_PUNTEGGIO[i], stato.punteggioMin);
      const et = i === VIRIDIS.length - 1 ? `punteggio ${da} e oltre` : `punteggio da ${da} a meno di ${SOGLIE_PUNTEGGIO[i + 1]}`;
      return { vuota: stato.candidate && conteggi[i] === 0, html: voceLegenda(quadrato(c), esc(et), stato.candidate ? `(${conteggi[i]} ${conteggi[i] === 1 ? 'area' : 'aree'})` : '') };
    }).filter((v) => !v.vuota).map((v) => v.html);
    const ha = feats.reduce((a, f) => a + (f.properties.area_ha || 0), 0);
    const al = feats.reduce((a, f) => a + (f.properties.alloggi_stimati || 0), 0);
    parti.push(`<h3>Aree candidate per l'edilizia sociale</h3>
      <p class="piccolo">Colore secondo il punteggio (0–100): più scuro = più adatta; da lontano un quadrato per area. ${stato.candidate ? `${numero(feats.length)} aree, ${fmtDecimale.format(ha)} ha, circa ${numero(al)} alloggi.` : ''}</p>
      ${vociC.length ? `<ul class="voci">${vociC.join('')}</ul>` : '<p class="piccolo">Nessuna area con questi filtri.</p>'}`);
  }
  if (stato.esclusePresenti && $('#chk-escluse').checked) {
    parti.push(`<h3>Aree escluse</h3><ul class="voci">${voceLegenda('<span class="simbolo quadrato retino-escluse" aria-hidden="true"></span>', 'Area esclusa per intero', '(clicca per il motivo)')}</ul>`);
  }

  // Servizi del PGT
  if ($('#chk-servizi').checked) {
    const nota = map.getZoom() < 12 ? '<p class="piccolo">Aree piccole: si vedono avvicinandosi.</p>' : '';
    parti.push(`<h3>Servizi del PGT</h3>${nota}<ul class="voci">${voceLegenda(quadrato(PGT_CLASSI.servizi_esistenti.colore), 'Servizi esistenti')}${voceLegenda(quadrato(PGT_CLASSI.servizi_previsti.colore), 'Servizi previsti')}</ul>`);
  }

  // Patrimonio privato (stime per area)
  if ($('#chk-privato').checked) {
    const conteggi = new Array(PURPLES.length).fill(0);
    for (const p of stato.privatoAree) {
      const q = p.quota_non_occupate;
      if (q === null || q === undefined) continue;
      let i = 0;
      while (i + 1 < SOGLIE_PRIVATO.length && q >= SOGLIE_PRIVATO[i + 1]) i++;
      conteggi[i]++;
    }
    const vociV = PURPLES.map((c, i) => {
      const da = fmtPercento.format(SOGLIE_PRIVATO[i]);
      const et = i === PURPLES.length - 1 ? `${da} e oltre` : `da ${da} a meno di ${fmtPercento.format(SOGLIE_PRIVATO[i + 1])}`;
      return voceLegenda(quadrato(c), esc(et), `(${conteggi[i]} ${conteggi[i] === 1 ? 'area' : 'aree'})`);
    });
    parti.push(`<h3>Abitazioni private non occupate (stima)</h3>
      <p class="piccolo">Quota di abitazioni non occupate per area (es. sezione di censimento). Dati aggregati.</p>
      <ul class="voci">${vociV.join('')}</ul>`);
  }

  // PGT
  if ($('#chk-pgt').checked) {
    const classi = [...stato.pgtClassiViste];
    const vociP = Object.entries(PGT_CLASSI)
      .filter(([k]) => classi.includes(k))
      .map(([, v]) => voceLegenda(quadrato(v.colore, 'trasparente'), esc(v.label)));
    if (classi.some((k) => !PGT_CLASSI[k])) vociP.push(voceLegenda(quadrato(PGT_ALTRO, 'trasparente'), 'Altre zone'));
    parti.push(`<h3>Zone del PGT</h3>${vociP.length ? `<ul class="voci">${vociP.join('')}</ul>` : '<p class="piccolo">Nessuna zona nell\'area visibile.</p>'}
`);
  }

  // Vincoli
  if ($('#chk-vincoli').checked) {
    parti.push(`<h3>Vincoli</h3><ul class="voci">${voceLegenda('<span class="simbolo quadrato retino" aria-hidden="true"></span>', 'Area vincolata', '(clicca per il nome)')}</ul>`);
  }

  // Catasto
  if ($('#chk-catasto').checked) {
    const z = map.getZoom();
    const vociC = [
      voceLegenda('<span class="simbolo linea tratteggiata" aria-hidden="true"></span>', 'Foglio catastale', z < ZOOM_FOGLI ? '(visibile avvicinandosi)' : ''),
      voceLegenda('<span class="simbolo linea" aria-hidden="true"></span>', 'Particella catastale', z < ZOOM_PARTICELLE ? '(visibile avvicinandosi di più)' : ''),
    ];
    parti.push(`<h3>Catasto</h3><ul class="voci">${vociC.join('')}</ul>`);
  }

  $('#legenda').innerHTML = parti.join('');
  adattaPagina();
}

// ---------------------------------------------------------------------------
// Popup

function chiudiPopup() {
  if (stato.popup) stato.popup.remove();
  stato.popup = null;
}

function apriPopup(lngLat, html, classe) {
  chiudiPopup();
  stato.popup = new maplibregl.Popup({ maxWidth: '360px', className: classe, focusAfterOpen: true })
    .setLngLat(lngLat)
    .setHTML(`<div class="popup-corpo">${html}</div>`)
    .addTo(map);
  // Se il popup esce dalla mappa, sposta la vista quanto basta per mostrarlo intero.
  const popup = stato.popup;
  requestAnimationFrame(() => {
    if (!popup.isOpen()) return;
    const r = popup.getElement().getBoundingClientRect();
    const c = map.getContainer().getBoundingClientRect();
    const m = 10;
    let dx = 0;
    let dy = 0;
    if (r.bottom > c.bottom - m) dy = r.bottom - (c.bottom - m);
    if (r.top - dy < c.top + m) dy = r.top - (c.top + m);
    if (r.right > c.right - m) dx = r.right - (c.right - m);
    if (r.left - dx < c.left + m) dx = r.left - (c.left + m);
    if (dx || dy) map.panBy([dx, dy], { duration: 300 });
  });
  stato.popup.on('close', () => {
    if (stato.popup && !stato.popup.isOpen()) stato.popup = null;
    selezionaComune(null);
  });
}

function descriviAlloggio(p) {
  const s = STATO_PER_ID[p.stato];
  const colore = s ? s.colore : COLORE_STATO_IGNOTO;
  const etichettaStato = p.stato_label || (s ? s.label : p.stato);
  const righe = [];
  righe.push(`<div class="alloggio-stato"><span class="punto" style="background:${colore}" aria-hidden="true"></span><strong>${esc(etichettaStato)}</strong></div>`);
  if (p.inutilizzato) {
    const dal = dataIt(p.sfitto_dal);
    const m = mesi(p.mesi_sfitto);
    if (dal && m) righe.push(`<div>Vuoto dal ${esc(dal)} (da ${esc(m)})</div>`);
    else if (dal) righe.push(`<div>Vuoto dal ${esc(dal)}</div>`);
    else if (m) righe.push(`<div>Vuoto da ${esc(m)}</div>`);
    else righe.push('<div>Data di inizio dello sfitto non indicata</div>');
  }
  const dati = [];
  dati.push(['Tipo', SERVIZI[p.servizio] || p.servizio_label || (p.servizio ? `Servizio ${p.servizio}` : 'Non indicato')]);
  dati.push(['Proprietario', p.ente_proprietario || 'Non indicato']);
  if (p.indirizzo) dati.push(['Indirizzo', p.comune ? `${p.indirizzo}, ${p.comune}` : p.indirizzo]);
  dati.push(['Catasto', p.riferimento_catastale || 'Riferimento non indicato']);
  if (p.categoria_catastale) dati.push(['Categoria', p.categoria_catastale]);
  if (p.superficie_mq !== null && p.superficie_mq !== undefined) dati.push(['Superficie', `${fmtIntero.format(p.superficie_mq)} m²`]);
  if (p.codice_unita) dati.push(['Codice', p.codice_unita]);
  if (p.localizzazione === 'particella') dati.push(['Posizione', 'al centro della particella catastale']);
  else if (p.localizzazione === 'coordinate') dati.push(['Posizione', 'dalle coordinate dell\'inventario']);
  righe.push(`<dl class="scheda">${dati.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`);
  return `<li class="alloggio" style="border-left-color:${colore}">${righe.join('')}</li>`;
}

function popupAlloggi(coord) {
  let tutti = stato.alloggiPerPunto.get(chiavePunto(coord)) || [];
  if (tutti.length === 0) {
    // Senza id: gli alloggi entro circa 5 m dal punto cliccato.
    tutti = stato.alloggi.features
      .filter((f) => f.geometry && Math.abs(f.geometry.coordinates[0] - coord[0]) < 6e-5 && Math.abs(f.geometry.coordinates[1] - coord[1]) < 4e-5)
      .map((f) => f.properties);
  }
  const ordine = Object.fromEntries(STATI.map((s, i) => [s.id, i]));
  const elenco = [...tutti].sort((a, b) => (ordine[b.stato] ?? -1) - (ordine[a.stato] ?? -1) || String(a.codice_unita).localeCompare(String(b.codice_unita)));
  const n = elenco.length;
  const inut = elenco.filter((p) => p.inutilizzato).length;
  const primo = elenco[0] || {};
  const luogo = [primo.indirizzo, primo.comune].filter(Boolean).join(', ');
  const titolo = n === 1 ? '1 alloggio pubblico in questo punto' : `${n} alloggi pubblici in questo edificio`;
  const sintesi = n > 1 ? `<p class="piccolo">${inut === 0 ? 'Tutti occupati.' : `${inut} ${inut === 1 ? 'inutilizzato' : 'inutilizzati'} su ${n}.`}</p>` : '';
  return `<h3>${esc(titolo)}</h3>${luogo ? `<p class="luogo">${esc(luogo)}</p>` : ''}${sintesi}
    <ul class="elenco-alloggi">${elenco.map(descriviAlloggio).join('')}</ul>`;
}

function popupComune(p) {
  const tot = p.alloggi ?? 0;
  const righe = [];
  righe.push(['Abitanti', numero(p.popolazione)]);
  righe.push(['Alloggi pubblici', numero(tot)]);
  if (p.alloggi_sap !== undefined) righe.push(['di cui SAP', numero(p.alloggi_sap)]);
  righe.push(['Occupati', numero(p.occupati)]);
  const corpo = `<dl class="scheda">${righe.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  let inut = '';
  if (tot > 0) {
    inut = `<p class="evidenza"><strong>${numero(p.inutilizzati)}</strong> ${p.inutilizzati === 1 ? 'alloggio inutilizzato' : 'alloggi inutilizzati'}
      ${p.tasso_inutilizzo !== null && p.tasso_inutilizzo !== undefined ? ` (${fmtPercento.format(p.tasso_inutilizzo)} del totale)` : ''}</p>
      <ul class="motivi">
        <li>${cerchio(STATO_PER_ID.libero.colore)} liberi: ${numero(p.liberi)}</li>
        <li>${cerchio(STATO_PER_ID.sfitto_carenze_manutentive.colore)} sfitti per carenze manutentive: ${numero(p.sfitto_carenze_manutentive)}</li>
        <li>${cerchio(STATO_PER_ID.sfitto_ristrutturazione.colore)} sfitti per ristrutturazione: ${numero(p.sfitto_ristrutturazione)}</li>
      </ul>`;
    const extra = [];
    if (p.sfitti_oltre_24_mesi) extra.push(`<li>vuoti da più di 2 anni: <strong>${numero(p.sfitti_oltre_24_mesi)}</strong></li>`);
    if (p.mesi_sfitto_medi !== null && p.mesi_sfitto_medi !== undefined) extra.push(`<li>in media vuoti da ${esc(mesi(Math.round(p.mesi_sfitto_medi)))}</li>`);
    if (p.quota_inutilizzati_ambito !== null && p.quota_inutilizzati_ambito !== undefined && p.inutilizzati > 0) {
      extra.push(`<li>${fmtPercento.format(p.quota_inutilizzati_ambito)} degli alloggi inutilizzati dell'Ambito</li>`);
    }
    if (extra.length) inut += `<ul class="motivi">${extra.join('')}</ul>`;
  } else {
    inut = '<p>Nessun alloggio pubblico registrato in questo comune.</p>';
  }
  const per1000 = `<dl class="scheda">
      <dt>Alloggi ogni 1.000 ab.</dt><dd>${esc(formattaMetrica('decimale', p.alloggi_per_1000_ab))}</dd>
      <dt>Inutilizzati ogni 1.000 ab.</dt><dd>${esc(formattaMetrica('decimale', p.inutilizzati_per_1000_ab))}</dd>
    </dl>`;
  let priv = '';
  if ((p.abitazioni_stimate ?? 0) > 0 || (p.privati_offerti ?? 0) > 0) {
    const r = [];
    if ((p.abitazioni_stimate ?? 0) > 0) {
      const q = p.quota_non_occupate !== null && p.quota_non_occupate !== undefined ? ` (${fmtPercento.format(p.quota_non_occupate)})` : '';
      r.push(['Abitazioni non occupate (stima)', `${numero(p.abitazioni_non_occupate_stimate)} su ${numero(p.abitazioni_stimate)}${q}`]);
    }
    r.push(['Offerte allo sportello', numero(p.privati_offerti ?? 0)]);
    r.push(['locate a canone concordato', numero(p.privati_locati_concordato ?? 0)]);
    r.push(['ritirate', numero(p.privati_ritirati ?? 0)]);
    priv = `<h4>Patrimonio privato</h4><dl class="scheda">${r.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  }
  const sub = p.sub_ambito ? `<p class="piccolo">Sub-ambito ${esc(p.sub_ambito)} · ISTAT ${esc(p.istat)}</p>` : `<p class="piccolo">ISTAT ${esc(p.istat)}</p>`;
  return `<h3>${esc(p.nome)}</h3>${sub}${corpo}${inut}${per1000}${priv}`;
}

function popupPrivato(p) {
  const q = p.quota_non_occupate !== null && p.quota_non_occupate !== undefined ? fmtPercento.format(p.quota_non_occupate) : '–';
  return `<h3>Abitazioni private non occupate (stima)</h3>
    <p class="luogo">${esc(p.comune || 'Comune non attribuito')}${p.codice ? ` · area ${esc(p.codice)}` : ''}</p>
    <dl class="scheda">
      <dt>Abitazioni</dt><dd>${esc(numero(p.abitazioni_totali))}</dd>
      <dt>Non occupate</dt><dd>${esc(numero(p.abitazioni_non_occupate))}</dd>
      <dt>Quota non occupate</dt><dd>${esc(q)}</dd>
    </dl>
    <p class="piccolo">Stima per area: nessun dato su singoli alloggi o proprietari.</p>`;
}

function popupCandidata(p) {
  const motivi = String(p.motivi || '').split('; ').filter(Boolean);
  const punti = String(p.punteggio_dettaglio || '').split('; ').filter(Boolean);
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  const dati = [
    ['Comune', p.comune || 'non attribuito'],
    ['Fonte', p.fonte_label || FONTI[p.fonte] || p.fonte || ''],
    ['Superficie utile', p.area_ha !== undefined && p.area_ha !== null ? `${fmtDecimale.format(p.area_ha)} ha` : '–'],
    ['Alloggi stimati', numero(p.alloggi_stimati)],
    ['Punteggio', p.punteggio !== undefined && p.punteggio !== null ? `${fmtDecimale.format(p.punteggio)} su 100` : '–'],
  ];
  return `<h3>Area candidata per l'edilizia sociale</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">${dati.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
    ${punti.length ? `<h4>Perché ha questo punteggio</h4><ul class="elenco-punti">${punti.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${motivi.length ? `<h4>Motivi</h4><ul class="elenco-punti">${motivi.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${escl.length ? `<h4>Parti escluse</h4><ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : '<p class="piccolo">Nessuna parte esclusa.</p>'}`;
}

function popupEsclusa(p) {
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  return `<h3>Area esclusa</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">
      <dt>Comune</dt><dd>${esc(p.comune || 'non attribuito')}</dd>
      <dt>Fonte</dt><dd>${esc(p.fonte_label || FONTI[p.fonte] || p.fonte || '')}</dd>
      <dt>Superficie</dt><dd>${p.area_ha !== undefined && p.area_ha !== null ? `${esc(fmtDecimale.format(p.area_ha))} ha` : '–'}</dd>
    </dl>
    <h4>Perché è esclusa</h4><p>${esc(p.motivo || 'motivo non indicato')}</p>
    ${escl.length ? `<ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}`;
}

function popupOfferti(p) {
  return `<h3>Alloggi privati offerti – ${esc(p.nome)}</h3>
    <dl class="scheda">
      <dt>Offerti allo sportello</dt><dd>${esc(numero(p.privati_offerti))}</dd>
      <dt>locati a canone concordato</dt><dd>${esc(numero(p.privati_locati_concordato))}</dd>
      <dt>ancora in offerta</dt><dd>${esc(numero(p.privati_in_offerta))}</dd>
    </dl>
    <p class="piccolo">Numeri aggregati per comune: nessun dato dei proprietari.</p>`;
}

function selezionaComune(istat) {
  if (stato.comuneSelezionato !== null) {
    map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id: stato.comuneSelezionato }, { selezionato: false });
  }
  stato.comuneSelezionato = istat;
  if (istat !== null) map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id: istat }, { selezionato: true });
}

function mostraComune(feature, lngLat) {
  const p = feature.properties;
  apriPopup(lngLat, popupComune(p), 'popup-comune');
  selezionaComune(p.istat);
  mostraScheda(p.istat);
}

// Margini per non nascondere l'Ambito sotto la legenda.
function paddingMappa() {
  const leg = document.querySelector('.legenda-mappa');
  const w = map.getContainer().clientWidth;
  const sopra = leg && leg.open && leg.closest('.mappa-contenitore');
  const sinistra = sopra && w > 700 ? leg.offsetWidth + 24 : 24;
  return { top: 24, bottom: 24, left: sinistra, right: 56 };
}

function centroApprossimato(feature) {
  // Riquadro dell'anello esterno più lungo e un punto interno del comune.
  const g = feature.geometry;
  const poligoni = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let anello = poligoni[0][0];
  for (const p of poligoni) if (p[0].length > anello.length) anello = p[0];
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of anello) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  // Il server dà un punto sicuramente interno al comune (lon_interno, lat_interno).
  const p = feature.properties || {};
  const centro = Number.isFinite(p.lon_interno) && Number.isFinite(p.lat_interno)
    ? [p.lon_interno, p.lat_interno]
    : [(x0 + x1) / 2, (y0 + y1) / 2];
  return { bounds: [[x0, y0], [x1, y1]], centro };
}

function gestisciClick(e) {
  const r = 6;
  const area = [[e.point.x - r, e.point.y - r], [e.point.x + r, e.point.y + r]];
  const livelliPunti = ['alloggi'].filter((l) => map.getLayoutProperty(l, 'visibility') !== 'none');
  const alloggi = livelliPunti.length ? map.queryRenderedFeatures(area, { layers: livelliPunti }) : [];
  if (alloggi.length) {
    // Il punto più vicino al click.
    let migliore = alloggi[0];
    let dmin = Infinity;
    for (const f of alloggi) {
      const p = map.project(f.geometry.coordinates);
      const d = (p.x - e.point.x) ** 2 + (p.y - e.point.y) ** 2;
      if (d < dmin) { dmin = d; migliore = f; }
    }
    const coord = stato.puntoPerAlloggio.get(String(migliore.properties.id)) || migliore.geometry.coordinates;
    selezionaComune(null);
    apriPopup(coord, popupAlloggi(coord), 'popup-alloggi');
    return;
  }
  if ($('#chk-offerti').checked) {
    const o = map.queryRenderedFeatures(area, { layers: ['offerti'] });
    if (o.length) {
      selezionaComune(null);
      apriPopup(o[0].geometry.coordinates, popupOfferti(o[0].properties), 'popup-offerti');
      return;
    }
  }
  if ($('#chk-candidate').checked && map.getLayer('aree-candidate-fill')) {
    const c = map.queryRenderedFeatures(area, { layers: ['aree-candidate-punti'].filter((l) => map.getLayer(l)) })
      .concat(map.queryRenderedFeatures(e.point, { layers: ['aree-candidate-fill'] }));
    if (c.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupCandidata(c[0].properties), 'popup-candidata');
      return;
    }
  }
  if (stato.esclusePresenti && $('#chk-escluse').checked && map.getLayer('aree-escluse-fill')) {
    const x = map.queryRenderedFeatures(e.point, { layers: ['aree-escluse-fill'] });
    if (x.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupEsclusa(x[0].properties), 'popup-esclusa');
      return;
    }
  }
  if ($('#chk-privato').checked) {
    const aree = map.queryRenderedFeatures(e.point, { layers: ['privato-fill'] });
    if (aree.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupPrivato(aree[0].properties), 'popup-privato');
      return;
    }
  }
  const altri = [];
  if ($('#chk-vincoli').checked) altri.push(...map.queryRenderedFeatures(e.point, { layers: ['vincoli-fill'] }).map((f) => ['vincolo', f]));
  if ($('#chk-catasto').checked && map.getZoom() >= ZOOM_PARTICELLE) altri.push(...map.queryRenderedFeatures(area, { layers: ['particelle-line'] }).map((f) => ['particella', f]));
  const livelliPgt = ['pgt-fill', 'pgt-servizi-fill'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
  if (livelliPgt.length) altri.push(...map.queryRenderedFeatures(e.point, { layers: livelliPgt }).map((f) => ['pgt', f]));
  const comuni = map.queryRenderedFeatures(e.point, { layers: ['comuni-fill'] });
  if (altri.length && comuni.length) {
    // Vincoli, particelle e zone PGT: una scheda breve, insieme al comune.
    const righe = altri.slice(0, 6).map(([tipo, f]) => {
      const p = f.properties;
      if (tipo === 'vincolo') return `<li><strong>Vincolo:</strong> ${esc(p.nome || p.codice || 'senza nome')}</li>`;
      if (tipo === 'particella') return `<li><strong>Particella:</strong> ${esc(p.riferimento || `Foglio ${p.foglio}, particella ${p.particella}`)}</li>`;
      return `<li><strong>PGT:</strong> ${esc(p.classe_label || (PGT_CLASSI[p.classe] || {}).label || p.classe || '')}${p.legenda ? ` – ${esc(p.legenda)}` : ''}</li>`;
    });
    apriPopup(e.lngLat, `${popupComune(comuni[0].properties)}<h4>In questo punto</h4><ul class="motivi">${righe.join('')}</ul>`, 'popup-comune');
    selezionaComune(comuni[0].properties.istat);
    mostraScheda(comuni[0].properties.istat);
    return;
  }
  if (comuni.length) {
    mostraComune(comuni[0], e.lngLat);
    return;
  }
  chiudiPopup();
}

// ---------------------------------------------------------------------------
// Livelli accesi: i dati sono già nelle tile vettoriali; la legenda segue ciò che è caricato.

function quandoFerma(fn) {
  if (map.loaded() && !map.isMoving()) fn();
  map.once('idle', fn);
}

function aggiornaPgt() {
  if (!$('#chk-pgt').checked) return;
  quandoFerma(() => {
    stato.pgtClassiViste = new Set(map.queryRenderedFeatures({ layers: ['pgt-fill'] }).map((f) => f.properties.classe));
    aggiornaLegenda();
  });
}

function aggiornaPrivato() {
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

function visibilita(layers, on) {
  for (const l of layers) map.setLayoutProperty(l, 'visibility', on ? 'visible' : 'none');
}

// Livelli della mappa: casella → livelli dello stile (più l'eventuale aggiornamento).
const LIVELLI = {
  alloggi: { chk: '#chk-alloggi', layers: ['alloggi'] },
  offerti: { chk: '#chk-offerti', layers: ['offerti'] },
  privato: { chk: '#chk-privato', layers: ['privato-fill', 'privato-line'], dopo: () => aggiornaPrivato() },
  pgt: { chk: '#chk-pgt', layers: ['pgt-fill', 'pgt-line'], dopo: () => aggiornaPgt() },
  servizi: { chk: '#chk-servizi', layers: ['pgt-servizi-fill'] },
  vincoli: { chk: '#chk-vincoli', layers: ['vincoli-fill', 'vincoli-line'] },
  catasto: { chk: '#chk-catasto', layers: ['fogli-line', 'particelle-line'] },
  candidate: { chk: '#chk-candidate', layers: ['aree-candidate-fill', 'aree-candidate-line', 'aree-candidate-punti'], dopo: () => caricaCandidate() },
  escluse: { chk: '#chk-escluse', layers: ['aree-escluse-fill', 'aree-escluse-line'] },
};

function applicaLivello(nome) {
  const l = LIVELLI[nome];
  const on = $(l.chk).checked;
  visibilita(l.layers.filter((x) => map.getLayer(x)), on);
  if (nome === 'alloggi') $('#chk-solo-inutilizzati').disabled = !on;
  if (nome === 'candidate') $('#filtri-candidate').classList.toggle('spento', !on);
  if (on && l.dopo) l.dopo();
}

// ---------------------------------------------------------------------------
// Stato nell'URL (#...): vista, colore, livelli, filtri, scheda. Un link condiviso riapre la
// stessa mappa; la vista di stampa (?stampa=A4) legge lo stesso frammento.

function statoUrl() {
  const q = new URLSearchParams();
  const c = map.getCenter();
  q.set('mappa', `${map.getZoom().toFixed(2)}/${c.lat.toFixed(5)}/${c.lng.toFixed(5)}`);
  if (stato.metrica !== 'inutilizzati') q.set('colore', stato.metrica);
  const accesi = Object.keys(LIVELLI).filter((k) => $(LIVELLI[k].chk).checked);
  q.set('livelli', accesi.join(','));
  if ($('#chk-solo-inutilizzati').checked) q.set('solo_inutilizzati', '1');
  const f = stato.filtri;
  if (f.ente) q.set('ente', f.ente);
  if (f.comune) q.set('comune', f.comune);
  if (f.stati.size !== STATI.length) q.set('stati', [...f.stati].join(','));
  if (f.mesi) q.set('mesi', String(f.mesi));
  if (stato.punteggioMin) q.set('punteggio', String(stato.punteggioMin));
  if (stato.candidate && stato.fontiCandidate.size !== new Set(stato.candidate.features.map((x) => x.properties.fonte)).size) {
    q.set('fonti', [...stato.fontiCandidate].join(','));
  }
  if (stato.schedaIstat) q.set('scheda', stato.schedaIstat);
  return q;
}

let timerUrl = null;
function scriviUrl() {
  if (!stato.pronto) return;
  clearTimeout(timerUrl);
  timerUrl = setTimeout(() => {
    const q = statoUrl().toString();
    history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${q}`);
    const formato = stato.stampa || 'A4';
    $('#link-stampa').href = `?stampa=${formato}#${q}`;
  }, 60);
}

function leggiUrl() {
  const q = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const u = { vista: null };
  const v = (q.get('mappa') || '').split('/').map(Number);
  if (v.length === 3 && v.every(Number.isFinite)) u.vista = { zoom: v[0], center: [v[2], v[1]] };
  const col = q.get('colore');
  if (col && METRICHE[col]) {
    stato.metrica = col;
    $('#sel-colore').value = col;
  }
  if (q.has('livelli')) {
    const acc = new Set(q.get('livelli').split(',').filter(Boolean));
    for (const [k, l] of Object.entries(LIVELLI)) $(l.chk).checked = acc.has(k);
  }
  $('#chk-solo-inutilizzati').checked = q.get('solo_inutilizzati') === '1';
  const f = stato.filtri;
  f.ente = q.get('ente') || '';
  f.comune = q.get('comune') || '';
  if (q.has('stati')) f.stati = new Set(q.get('stati').split(',').filter((s) => STATO_PER_ID[s]));
  f.mesi = Math.max(0, Number(q.get('mesi')) || 0);
  stato.punteggioMin = Math.min(100, Math.max(0, Number(q.get('punteggio')) || 0));
  if (q.has('fonti')) stato.fontiRichieste = new Set(q.get('fonti').split(',').filter(Boolean));
  stato.schedaIstat = q.get('scheda') || null;
  return u;
}

// Riporta i comandi ai valori dello stato (dopo leggiUrl o "Azzera").
function sincronizzaComandi() {
  const f = stato.filtri;
  $('#sel-ente').value = f.ente;
  if ($('#sel-ente').value !== f.ente) { f.ente = ''; $('#sel-ente').value = ''; }
  $('#sel-filtro-comune').value = f.comune;
  if ($('#sel-filtro-comune').value !== f.comune) { f.comune = ''; $('#sel-filtro-comune').value = ''; }
  for (const c of document.querySelectorAll('#filtro-stati input')) c.checked = f.stati.has(c.value);
  $('#sel-mesi').value = String(f.mesi);
  if ($('#sel-mesi').value !== String(f.mesi)) {
    const o = document.createElement('option');
    o.value = String(f.mesi);
    o.textContent = mesi(f.mesi);
    $('#sel-mesi').append(o);
    $('#sel-mesi').value = String(f.mesi);
  }
  $('#rng-punteggio').value = String(stato.punteggioMin);
  $('#out-punteggio').textContent = String(stato.punteggioMin);
}

// ---------------------------------------------------------------------------
// Aree candidate: il GeoJSON (poche decine di aree) serve per le fonti, i conteggi della
// legenda e la ricerca; la mappa le disegna dalle tile.

let caricamentoCandidate = null;
function caricaCandidate() {
  if (!caricamentoCandidate) {
    caricamentoCandidate = getJson('api/layers/aree_candidate')
      .then((fc) => {
        stato.candidate = fc;
        const src = map.getSource('candidate-punti');
        if (src) {
          src.setData({
            type: 'FeatureCollection',
            features: fc.features.filter((f) => f.geometry).map((f) => ({ type: 'Feature', properties: f.properties, geometry: { type: 'Point', coordinates: centroApprossimato(f).centro } })),
          });
        }
        const fonti = [...new Set(fc.features.map((f) => f.properties.fonte))].sort();
        const richieste = stato.fontiRichieste;
        stato.fontiCandidate = new Set(fonti.filter((x) => !richieste || richieste.has(x)));
        const box = $('#fonti-candidate');
        box.innerHTML = `<span class="campo">Fonti</span>${fonti.map((x) => {
          const n = fc.features.filter((f) => f.properties.fonte === x).length;
          const label = (fc.features.find((f) => f.properties.fonte === x) || {}).properties.fonte_label || FONTI[x] || x;
          return `<label><input type="checkbox" value="${esc(x)}" ${stato.fontiCandidate.has(x) ? 'checked' : ''}> <span>${esc(label)} <span class="piccolo">(${n})</span></span></label>`;
        }).join('')}`;
        for (const c of box.querySelectorAll('input')) {
          c.addEventListener('change', () => {
            if (c.checked) stato.fontiCandidate.add(c.value);
            else stato.fontiCandidate.delete(c.value);
            aggiornaFiltroCandidate();
          });
        }
        aggiornaFiltroCandidate();
      })
      .catch((err) => {
        console.error(err);
        caricamentoCandidate = null;
        avviso('Impossibile caricare le aree candidate. Riprova più tardi.', 'errore');
      });
  }
  return caricamentoCandidate;
}

function aggiornaFiltroCandidate() {
  for (const l of ['aree-candidate-fill', 'aree-candidate-line', 'aree-candidate-punti']) if (map.getLayer(l)) map.setFilter(l, filtroCandidate());
  aggiornaLegenda();
  scriviUrl();
}

// ---------------------------------------------------------------------------
// Ricerca: comuni, indirizzi, riferimenti catastali e codici degli alloggi pubblici.

function normalizza(t) {
  return String(t || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

function costruisciIndiceCerca() {
  const voci = [];
  for (const f of stato.comuni.features) {
    voci.push({ tipo: 'comune', testo: f.properties.nome, dettaglio: 'Comune', chiave: normalizza(`${f.properties.nome} ${f.properties.istat}`), feature: f });
  }
  const visti = new Set();
  for (const f of stato.alloggi.features) {
    if (!f.geometry) continue;
    const p = f.properties;
    const luogo = [p.indirizzo, p.comune].filter(Boolean).join(', ');
    const k = `${luogo}|${p.riferimento_catastale}`;
    if (visti.has(k)) continue;
    visti.add(k);
    voci.push({
      tipo: 'alloggio',
      testo: luogo || p.riferimento_catastale || p.codice_unita,
      dettaglio: [p.riferimento_catastale, p.ente_proprietario].filter(Boolean).join(' · '),
      chiave: normalizza(`${luogo} ${p.riferimento_catastale || ''} ${p.codice_unita || ''}`),
      coord: f.geometry.coordinates,
    });
  }
  stato.indiceCerca = voci;
}

function cerca(testo) {
  const parole = normalizza(testo).split(' ').filter(Boolean);
  if (!parole.length) return [];
  return stato.indiceCerca.filter((v) => parole.every((w) => v.chiave.includes(w))).slice(0, 8);
}

function mostraRisultati(risultati, testo) {
  const ul = $('#cerca-risultati');
  ul.innerHTML = risultati.map((r, i) => `<li><button type="button" class="risultato" data-i="${i}">
    <strong>${esc(r.testo)}</strong><span class="piccolo">${esc(r.dettaglio)}</span></button></li>`).join('');
  const aiuto = $('#cerca-aiuto');
  aiuto.hidden = !(testo && !risultati.length);
  aiuto.textContent = testo && !risultati.length ? `Nessun risultato per «${testo}».` : '';
  for (const b of ul.querySelectorAll('button')) b.addEventListener('click', () => vaiA(risultati[Number(b.dataset.i)]));
}

function vaiA(r) {
  if (!r) return;
  $('#cerca-risultati').innerHTML = '';
  if (r.tipo === 'comune') {
    const { bounds, centro } = centroApprossimato(r.feature);
    map.fitBounds(bounds, { padding: paddingMappa(), maxZoom: 13, duration: 500 });
    map.once('moveend', () => mostraComune(r.feature, centro));
  } else {
    map.flyTo({ center: r.coord, zoom: Math.max(map.getZoom(), 16), duration: 600 });
    map.once('moveend', () => apriPopup(r.coord, popupAlloggi(r.coord), 'popup-alloggi'));
  }
}

// ---------------------------------------------------------------------------
// Comandi

function collegaComandi() {
  $('#sel-colore').addEventListener('change', (e) => {
    stato.metrica = e.target.value;
    aggiornaColoreComuni();
    scriviUrl();
  });
  for (const nome of Object.keys(LIVELLI)) {
    $(LIVELLI[nome].chk).addEventListener('change', () => {
      applicaLivello(nome);
      aggiornaLegenda();
      scriviUrl();
    });
  }
  $('#chk-solo-inutilizzati').addEventListener('change', applicaFiltri);
  $('#sel-ente').addEventListener('change', (e) => { stato.filtri.ente = e.target.value; applicaFiltri(); });
  $('#sel-filtro-comune').addEventListener('change', (e) => { stato.filtri.comune = e.target.value; applicaFiltri(); });
  $('#sel-mesi').addEventListener('change', (e) => { stato.filtri.mesi = Number(e.target.value) || 0; applicaFiltri(); });
  for (const c of document.querySelectorAll('#filtro-stati input')) {
    c.addEventListener('change', () => {
      if (c.checked) stato.filtri.stati.add(c.value);
      else stato.filtri.stati.delete(c.value);
      applicaFiltri();
    });
  }
  $('#btn-azzera').addEventListener('click', () => {
    stato.filtri = { ente: '', comune: '', stati: new Set(STATI.map((s) => s.id)), mesi: 0 };
    $('#chk-solo-inutilizzati').checked = false;
    sincronizzaComandi();
    applicaFiltri();
  });
  $('#rng-punteggio').addEventListener('input', (e) => {
    stato.punteggioMin = Number(e.target.value) || 0;
    $('#out-punteggio').textContent = String(stato.punteggioMin);
    aggiornaFiltroCandidate();
  });
  $('#cerca').addEventListener('input', (e) => {
    const t = e.target.value;
    mostraRisultati(t.trim().length >= 2 ? cerca(t) : [], '');
  });
  $('#form-cerca').addEventListener('submit', (e) => {
    e.preventDefault();
    const t = $('#cerca').value;
    const r = cerca(t);
    if (r.length) vaiA(r[0]);
    else mostraRisultati([], t);
  });
  const schedaVisibile = (on) => {
    document.body.classList.toggle('senza-scheda', !on);
    $('#btn-mostra-scheda').hidden = on;
    map.resize();
    (on ? $('#btn-nascondi-scheda') : $('#btn-mostra-scheda')).focus();
  };
  $('#btn-nascondi-scheda').addEventListener('click', () => schedaVisibile(false));
  $('#btn-mostra-scheda').addEventListener('click', () => schedaVisibile(true));
  $('#btn-scheda-ambito').addEventListener('click', () => {
    chiudiPopup();
    mostraScheda(null);
  });

  map.on('click', gestisciClick);
  map.on('moveend', () => {
    aggiornaPgt();
    aggiornaPrivato();
    if ($('#chk-catasto').checked || $('#chk-servizi').checked) aggiornaLegenda();
    scriviUrl();
  });
  for (const l of ['alloggi', 'comuni-fill', 'privato-fill', 'offerti', 'aree-candidate-fill', 'aree-candidate-punti', 'aree-escluse-fill']) {
    if (!map.getLayer(l)) continue;
    map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') chiudiPopup();
  });
  $('#sel-formato').addEventListener('change', (e) => impostaFormato(e.target.value));
  $('#btn-stampa').addEventListener('click', () => window.print());
  window.addEventListener('beforeprint', adattaPagina);
}


// ---------------------------------------------------------------------------
// Pannello

function mostraAmbito(a) {
  const nome = a.numero ? `Ambito ${a.numero} – ${a.nome}` : a.nome;
  $('#ambito-nome').textContent = nome;
  document.title = `${nome} – alloggi pubblici`;
  const dataRif = dataIt(a.data_riferimento);
  $('#ambito-sottotitolo').textContent = `Alloggi pubblici: dove sono, quali sono vuoti e perché${a.anno ? ` · Piano ${a.anno}` : ''}`;
  $('#totali-riferimento').textContent = dataRif ? `Situazione al ${dataRif}` : '';
  if (a.dimostrativo) {
    $('#badge-dimostrativi').hidden = false;
    $('#nota-dimostrativi').hidden = false;
    document.body.classList.add('dimostrativo');
  }
  const t = a.totali || {};
  for (const dd of document.querySelectorAll('#totali dd')) {
    const v = t[dd.dataset.campo];
    dd.textContent = numero(v);
  }
  if (t.mesi_sfitto_medi !== null && t.mesi_sfitto_medi !== undefined) {
    $('#riga-mesi-medi').hidden = false;
    document.querySelector('#totali [data-campo="mesi_sfitto_medi"]').textContent = mesi(Math.round(t.mesi_sfitto_medi));
  }
  const pr = a.privato;
  if (pr && pr.dati_presenti) {
    $('#riquadro-privato').hidden = false;
    for (const dd of document.querySelectorAll('#totali-privato dd')) dd.textContent = numero(pr[dd.dataset.campo]);
    const nonOcc = document.querySelector('#totali-privato [data-campo="abitazioni_non_occupate_stimate"]');
    if (pr.quota_non_occupate !== null && pr.quota_non_occupate !== undefined) {
      nonOcc.textContent = `${numero(pr.abitazioni_non_occupate_stimate)} (${fmtPercento.format(pr.quota_non_occupate)})`;
    }
    if (Array.isArray(pr.finestra_rimessi)) {
      $('#dt-rimessi').textContent = `Rimesse in uso ${pr.finestra_rimessi[0]}–${pr.finestra_rimessi[1]}`;
    }
  }
  const pct = t.alloggi ? ` (${fmtPercento.format(t.inutilizzati / t.alloggi)})` : '';
  const ev = document.querySelector('#totali [data-campo="inutilizzati"]');
  if (ev && t.inutilizzati !== undefined) ev.textContent = `${numero(t.inutilizzati)}${pct}`;
}

function nomeComune(istat) {
  const f = stato.comuni && stato.comuni.features.find((x) => x.properties.istat === istat);
  return f ? f.properties.nome : istat;
}

// Elenchi dei filtri: proprietari e comuni dai dati, stati con il loro colore.
function riempiScelte() {
  const enti = [...new Set(stato.alloggi.features.map((f) => f.properties.ente_proprietario).filter(Boolean))]
    .sort((a, b) => a.localeCompare(b, 'it'));
  const selE = $('#sel-ente');
  for (const e of enti) {
    const o = document.createElement('option');
    o.value = e;
    const n = stato.alloggi.features.filter((f) => f.properties.ente_proprietario === e).length;
    o.textContent = `${e} (${n})`;
    selE.append(o);
  }
  const selC = $('#sel-filtro-comune');
  const ord = [...stato.comuni.features].sort((a, b) => a.properties.nome.localeCompare(b.properties.nome, 'it'));
  for (const f of ord) {
    const o = document.createElement('option');
    o.value = f.properties.istat;
    const n = f.properties.inutilizzati ?? 0;
    o.textContent = `${f.properties.nome} (${n} ${n === 1 ? 'inutilizzato' : 'inutilizzati'})`;
    selC.append(o);
  }
  $('#filtro-stati').insertAdjacentHTML('beforeend', STATI.map((s) => `<label><input type="checkbox" value="${s.id}" checked>
    <span class="simbolo cerchio" style="background:${s.colore}" aria-hidden="true"></span> <span>${esc(s.label)}</span></label>`).join(''));
}


function indicizzaAlloggi() {
  stato.alloggiPerPunto.clear();
  stato.puntoPerAlloggio.clear();
  for (const f of stato.alloggi.features) {
    if (!f.geometry || f.geometry.type !== 'Point') continue;
    const k = chiavePunto(f.geometry.coordinates);
    if (!stato.alloggiPerPunto.has(k)) stato.alloggiPerPunto.set(k, []);
    stato.alloggiPerPunto.get(k).push(f.properties);
    if (f.properties.id !== undefined && f.properties.id !== null) stato.puntoPerAlloggio.set(String(f.properties.id), f.geometry.coordinates);
  }
}

// ---------------------------------------------------------------------------
// Scheda laterale: numeri chiave dell'Ambito o del comune scelto (da /api/sintesi/...), con
// il grafico degli stati per proprietario, la quota dell'offerta dell'Ambito e i collegamenti.

function graficoStatiPerEnte(perEnte) {
  const righe = perEnte.filter((e) => e.alloggi > 0);
  if (!righe.length) return '<p class="piccolo">Nessun alloggio pubblico.</p>';
  const max = Math.max(...righe.map((e) => e.alloggi));
  const labW = 150;
  const barW = 130;
  const rh = stato.stampa ? 15 : 20;
  const h = rh * righe.length + 4;
  const chiavi = [['occupati', 'occupato'], ['liberi', 'libero'], ['sfitto_carenze_manutentive', 'sfitto_carenze_manutentive'], ['sfitto_ristrutturazione', 'sfitto_ristrutturazione']];
  const barre = righe.map((e, i) => {
    const y = i * rh;
    let x = labW;
    const rett = chiavi.map(([campo, id]) => {
      const v = e[campo] || 0;
      if (!v) return '';
      const w = (barW * v) / max;
      const r = `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rh - 6}" fill="${STATO_PER_ID[id].colore}"><title>${esc(e.ente)} – ${esc(STATO_PER_ID[id].label)}: ${v}</title></rect>`;
      x += w;
      return r;
    }).join('');
    const breve = e.ente.replace(/^Comune di /, '');
    const nome = breve.length > 24 ? `${breve.slice(0, 23)}…` : breve;
    return `<text x="${labW - 5}" y="${y + 14}" text-anchor="end">${esc(nome)}</text>${rett}<text x="${(x + 4).toFixed(1)}" y="${y + 14}">${e.alloggi}</text>`;
  }).join('');
  const leg = STATI.map((s) => `<li>${cerchio(s.colore)} ${esc(s.label)}</li>`).join('');
  return `<svg class="grafico" id="grafico-enti" role="img" aria-label="Alloggi per proprietario e stato" viewBox="0 0 ${labW + barW + 30} ${h}" width="100%" font-size="11">${barre}</svg>
    <ul class="motivi legenda-grafico">${leg}</ul>`;
}

function barraQuota(q, etichetta) {
  const pct = q === null || q === undefined ? 0 : Math.max(0, Math.min(1, q));
  return `<div class="barra-quota" role="img" aria-label="${esc(etichetta)}: ${fmtPercento.format(pct)}">
    <span style="width:${(pct * 100).toFixed(1)}%"></span></div>`;
}

function riga(etichetta, valore, campo, classe = '') {
  return `<div class="${classe}"><dt>${esc(etichetta)}</dt><dd data-campo="${campo}">${esc(valore)}</dd></div>`;
}

function htmlScheda(d) {
  const a = d.alloggi;
  const comune = d.livello === 'comune';
  const parti = [];
  parti.push(`<p class="piccolo">Situazione al ${esc(d.data_riferimento_it)} · Piano ${esc(d.anno)}${d.dimostrativo ? ' · <strong>dati dimostrativi</strong>' : ''}</p>`);
  const tasso = a.tasso_inutilizzo !== null && a.tasso_inutilizzo !== undefined ? ` (${fmtPercento.format(a.tasso_inutilizzo)})` : '';
  parti.push(`<dl class="totali cifre" id="scheda-cifre">
    ${riga('Abitanti', numero(d.popolazione), 'popolazione')}
    ${riga('Alloggi pubblici', numero(a.alloggi), 'alloggi')}
    ${riga('Inutilizzati', `${numero(a.inutilizzati)}${tasso}`, 'inutilizzati', 'evidenza')}
    ${riga('liberi', numero(a.liberi), 'liberi', 'rientro')}
    ${riga('sfitti per carenze manutentive', numero(a.sfitto_carenze_manutentive), 'sfitto_carenze_manutentive', 'rientro')}
    ${riga('sfitti per ristrutturazione', numero(a.sfitto_ristrutturazione), 'sfitto_ristrutturazione', 'rientro')}
    ${a.sfitti_oltre_24_mesi ? riga('vuoti da più di 2 anni', numero(a.sfitti_oltre_24_mesi), 'sfitti_oltre_24_mesi', 'rientro') : ''}
    ${riga('Quota di alloggi inutilizzati', formattaMetrica('percentuale', a.tasso_inutilizzo), 'tasso_inutilizzo')}
    ${riga('Alloggi ogni 1.000 abitanti', formattaMetrica('decimale', a.alloggi_per_1000_ab), 'alloggi_per_1000_ab')}
    ${riga('Inutilizzati ogni 1.000 abitanti', formattaMetrica('decimale', a.inutilizzati_per_1000_ab), 'inutilizzati_per_1000_ab')}
    ${comune ? riga("Quota degli inutilizzati dell'Ambito", a.quota_inutilizzati_ambito === null || a.quota_inutilizzati_ambito === undefined ? '–' : fmtPercento.format(a.quota_inutilizzati_ambito), 'quota_inutilizzati_ambito') : ''}
  </dl>`);
  parti.push(`<h3>Alloggi per proprietario e stato</h3>${comune ? '<p class="piccolo">Alloggi che si trovano nel comune, di tutti i proprietari.</p>' : ''}${graficoStatiPerEnte(d.per_ente)}`);

  const pa = d.piano_annuale;
  const st = pa.stato || {};
  parti.push(`<h3>Nel Piano annuale ${esc(pa.anno)}${comune ? ` – ${esc(pa.ente)}` : ''}</h3>
    <p class="piccolo">${comune ? 'Alloggi SAP di proprietà del comune (ovunque si trovino), come nel Piano.' : 'Alloggi SAP di tutti i proprietari, come nel Piano.'}</p>
    <dl class="totali" id="scheda-piano">
      ${riga('Alloggi SAP di proprietà', numero(st.di_proprieta ?? 0), 'di_proprieta')}
      ${riga('occupati', numero(st.occupato ?? 0), 'occupato', 'rientro')}
      ${riga('liberi', numero(st.libero ?? 0), 'libero', 'rientro')}
      ${riga('sfitti per carenze manutentive', numero(st.sfitto_carenze_manutentive ?? 0), 'sfitto_carenze_manutentive', 'rientro')}
      ${riga('sfitti per ristrutturazione', numero(st.sfitto_ristrutturazione ?? 0), 'sfitto_ristrutturazione', 'rientro')}
      ${riga("Disponibili nell'anno", numero(st.disponibili_anno ?? 0), 'disponibili_anno', 'evidenza')}
    </dl>`);

  const o = d.offerta;
  if (comune) {
    parti.push(`<h3>Contributo all'offerta dell'Ambito</h3>
      ${barraQuota(o.quota_ambito, "Quota dell'offerta dell'Ambito")}
      <p><strong data-campo="quota_offerta">${o.quota_ambito === null || o.quota_ambito === undefined ? '–' : fmtPercento.format(o.quota_ambito)}</strong> dell'offerta dell'Ambito:
      ${numero(o.disponibili_anno)} alloggi SAP disponibili nell'anno${o.quota_disponibili_anno !== null && o.quota_disponibili_anno !== undefined ? ` (${fmtPercento.format(o.quota_disponibili_anno)})` : ''}
      e ${numero(o.privati_offerti)} alloggi privati offerti allo sportello${o.quota_privati_offerti !== null && o.quota_privati_offerti !== undefined ? ` (${fmtPercento.format(o.quota_privati_offerti)})` : ''}.</p>`);
  } else {
    const ord = [...(d.comuni || [])].filter((c) => c.offerta.totale > 0).sort((x, y) => y.offerta.totale - x.offerta.totale).slice(0, 8);
    parti.push(`<h3>Offerta dell'Ambito: ${numero(o.totale)} alloggi</h3>
      <p class="piccolo">${numero(o.disponibili_anno)} SAP disponibili nell'anno + ${numero(o.privati_offerti)} privati offerti allo sportello. Quota di ciascun comune (per una compensazione tra comuni):</p>
      <ul class="quote" id="quote-comuni">${ord.map((c) => `<li><button type="button" class="collegamento" data-istat="${esc(c.istat)}">${esc(c.nome)}</button>
        ${barraQuota(c.offerta.quota_ambito, c.nome)}<span>${fmtPercento.format(c.offerta.quota_ambito || 0)} (${numero(c.offerta.totale)})</span></li>`).join('')}</ul>`);
  }

  const c = d.candidate;
  parti.push(`<h3>Aree candidate per l'edilizia sociale</h3>
    ${c.aree ? `<dl class="totali" id="scheda-candidate">
      ${riga('Aree', numero(c.aree), 'candidate_aree')}
      ${riga('Superficie', `${fmtDecimale.format(c.ettari)} ha`, 'candidate_ettari')}
      ${riga('Alloggi stimati', numero(c.alloggi_stimati), 'candidate_alloggi')}
      ${c.per_fonte.map((f) => riga(f.fonte_label, `${numero(f.aree)} · ${fmtDecimale.format(f.ettari)} ha · ${numero(f.alloggi_stimati)} all.`, `fonte_${f.fonte}`, 'rientro')).join('')}
    </dl>` : '<p class="piccolo">Nessuna area candidata.</p>'}`);

  const p = d.privato;
  if (p && (p.abitazioni_stimate > 0 || p.privati_offerti > 0)) {
    parti.push(`<h3>Patrimonio privato</h3><dl class="totali">
      ${riga('Abitazioni non occupate (stima)', `${numero(p.abitazioni_non_occupate_stimate)} su ${numero(p.abitazioni_stimate)}`, 'privato_non_occupate')}
      ${riga('Offerte allo sportello', numero(p.privati_offerti), 'privati_offerti')}
      ${riga('locate a canone concordato', numero(p.privati_locati_concordato), 'privati_locati_concordato', 'rientro')}
    </dl>`);
  }
  const l = d.link;
  parti.push(`<h3>Documenti ed esportazioni</h3><ul class="collegamenti">
    <li><a href="${esc(l.piano_annuale_html)}" target="_blank" rel="noopener">Piano annuale (stampabile, con grafici)</a></li>
    <li><a href="${esc(l.aree_candidate_html)}" target="_blank" rel="noopener">Report delle aree candidate</a></li>
    <li><a href="${esc(l.stampa)}" target="_blank" rel="noopener" id="link-stampa-scheda">Stampa questa scheda con la mappa</a></li>
    <li>Dati: <a href="${esc(l.alloggi_csv)}">alloggi (CSV)</a>, <a href="${esc(l.alloggi_xlsx)}">alloggi (Excel)</a>, <a href="${esc(l.comuni_csv)}">comuni (CSV)</a>, <a href="${esc(l.tutto_gpkg)}">tutto (GeoPackage)</a></li>
  </ul>`);
  return parti.join('');
}

let richiestaScheda = 0;
async function mostraScheda(istat) {
  const n = ++richiestaScheda;
  stato.schedaIstat = istat;
  const corpo = $('#scheda-corpo');
  let d;
  try {
    if (istat) {
      corpo.setAttribute('aria-busy', 'true');
      d = await getJson(`api/sintesi/comuni/${encodeURIComponent(istat)}`);
    } else {
      d = stato.sintesiAmbito || (stato.sintesiAmbito = await getJson('api/sintesi/ambito'));
    }
  } catch (err) {
    console.error(err);
    if (n === richiestaScheda) corpo.innerHTML = '<p>Impossibile caricare i numeri. Riprova.</p>';
    return;
  } finally {
    corpo.removeAttribute('aria-busy');
  }
  if (n !== richiestaScheda) return;
  stato.sintesiComune = istat ? d : null;
  if (istat && document.body.classList.contains('senza-scheda')) {
    document.body.classList.remove('senza-scheda');
    $('#btn-mostra-scheda').hidden = true;
    map.resize();
  }
  $('#scheda-titolo').textContent = istat ? d.nome : 'Ambito';
  $('#btn-scheda-ambito').hidden = !istat;
  corpo.innerHTML = htmlScheda(d);
  corpo.dataset.istat = istat || '';
  for (const b of corpo.querySelectorAll('#quote-comuni button')) {
    b.addEventListener('click', () => {
      const f = stato.comuni.features.find((x) => x.properties.istat === b.dataset.istat);
      if (f) vaiA({ tipo: 'comune', feature: f });
    });
  }
  const ls = $('#link-stampa-scheda');
  if (ls) ls.href = `?stampa=${stato.stampa || 'A4'}#${statoUrl().toString()}`;
  if (stato.stampa) {
    riempiPiedeStampa(d);
    adattaPagina();
  }
  scriviUrl();
}

// ---------------------------------------------------------------------------
// Vista di stampa (?stampa=A4|A3): stessa mappa, stessi livelli e filtri (dall'URL), impaginata
// per una pagina orizzontale con titolo, Ambito, data, legenda, scala, numeri chiave e fonte.

function impostaFormato(f) {
  const formato = f === 'A3' ? 'A3' : 'A4';
  stato.stampa = formato;
  document.body.classList.remove('formato-A4', 'formato-A3');
  document.body.classList.add(`formato-${formato}`);
  let st = document.getElementById('pagina-stampa');
  if (!st) {
    st = document.createElement('style');
    st.id = 'pagina-stampa';
    document.head.append(st);
  }
  st.textContent = `@page { size: ${formato} landscape; margin: 8mm; }`;
  $('#sel-formato').value = formato;
  const q = new URLSearchParams(window.location.search);
  q.set('stampa', formato);
  history.replaceState(null, '', `${window.location.pathname}?${q}${window.location.hash}`);
  map.resize();
}

// Una pagina sola: se legenda e scheda non ci stanno, la stampa rimpicciolisce tutto quanto
// basta (solo in stampa: a schermo la pagina resta interattiva).
function adattaPagina() {
  if (!stato.stampa) return;
  const mm = stato.stampa === 'A3' ? 281 : 194;
  const disponibile = (mm * 96) / 25.4;
  const fine = $('#piede-stampa').getBoundingClientRect().bottom + window.scrollY;
  const h = fine - $('#barra-stampa').offsetHeight;
  document.body.style.setProperty('--adatta', Math.min(1, (0.97 * disponibile) / h).toFixed(3));
}

function riempiPiedeStampa(d) {
  const oggi = fmtData.format(new Date());
  $('#piede-stampa').innerHTML = `Fonte: inventario degli alloggi pubblici dell'Ambito, catasto (Agenzia delle Entrate), PGT dei comuni;
    elaborazione abitare. Dati al ${esc(d.data_riferimento_it)}. Stampato il ${esc(oggi)}.${d.dimostrativo ? ' <strong>Dati dimostrativi, non reali.</strong>' : ''}`;
}

// ---------------------------------------------------------------------------
// Avvio

async function avvia() {
  const t0 = performance.now();
  avviso('Caricamento dei dati…');
  if (MODO_STAMPA) {
    document.body.classList.add('modo-stampa');
    // Legenda accanto alla mappa, non sopra: nella pagina stampata deve leggersi per intero.
    const leg = document.querySelector('.legenda-mappa');
    leg.open = true;
    document.querySelector('.contenuto').insertBefore(leg, $('#scheda'));
    $('#barra-stampa').hidden = false;
    $('#piede-stampa').hidden = false;
    impostaFormato(MODO_STAMPA);
  }
  let ambito;
  let comuni;
  let alloggi;
  let stile;
  let tilejson;
  try {
    // Comuni e alloggi anche in GeoJSON (pochi elementi): classi della legenda, elenco dei
    // comuni, alloggi nello stesso edificio, ricerca. La mappa li disegna dalle tile.
    [ambito, comuni, alloggi, stile, tilejson] = await Promise.all([
      getJson('api/ambito'),
      getJson('api/layers/comuni'),
      getJson('api/layers/alloggi_pubblici'),
      caricaStile(),
      getJson('tiles.json').catch(() => null),
    ]);
  } catch (err) {
    console.error(err);
    avviso('Impossibile caricare i dati dell\'Ambito dal server. Ricarica la pagina; se il problema resta, segnalalo.', 'errore');
    document.body.dataset.loadError = String(err.message || err);
    return;
  }
  stato.ambito = ambito;
  stato.comuni = comuni;
  stato.alloggi = alloggi;
  // Le aree escluse compaiono solo se il server le serve (TileJSON).
  const strati = tilejson && Array.isArray(tilejson.vector_layers) ? tilejson.vector_layers.map((l) => l.id) : [];
  stato.esclusePresenti = strati.includes('aree_escluse') && !!(stile.layers || []).find((l) => l.id === 'aree-escluse-fill');
  $('#riga-escluse').hidden = !stato.esclusePresenti;
  mostraAmbito(ambito);
  indicizzaAlloggi();
  riempiScelte();
  costruisciIndiceCerca();
  const u = leggiUrl();
  sincronizzaComandi();

  await new Promise((res) => {
    map.once('style.load', res);
    map.setStyle(stile, { diff: false });
  });
  const m = METRICHE[stato.metrica];
  stato.classi = calcolaClassi(valoriMetrica(stato.metrica), m.tipo, YLORRD.length);
  aggiungiLivelli();
  collegaComandi();
  for (const nome of Object.keys(LIVELLI)) applicaLivello(nome);
  map.setFilter('alloggi', filtroAlloggi());
  applicaFiltri();
  if (u.vista) {
    map.jumpTo(u.vista);
  } else if (Array.isArray(ambito.bbox) && ambito.bbox.length === 4) {
    const [x0, y0, x1, y1] = ambito.bbox;
    map.fitBounds([[x0, y0], [x1, y1]], { padding: paddingMappa(), duration: 0 });
  }
  avviso(null);
  stato.pronto = true;
  const scheda = mostraScheda(stato.schedaIstat);
  if (stato.schedaIstat) selezionaComune(stato.schedaIstat);
  map.once('idle', async () => {
    await scheda;
    document.body.dataset.ready = '1';
    document.body.dataset.readyMs = String(Math.round(performance.now() - t0));
  });
  map.triggerRepaint();
}

avvia();

