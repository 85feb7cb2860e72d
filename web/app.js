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

const map = new maplibregl.Map({
  container: 'mappa',
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

function filtroAlloggi() {
  return $('#chk-solo-inutilizzati').checked ? ['==', ['get', 'inutilizzato'], true] : null;
}

// Lo stile (livelli, colori, sorgente vettoriale) arriva dal server in /style.json; qui si
// aggiungono solo ciò che dipende dalla pagina: il retino dei vincoli, le classi dei comuni
// calcolate sui dati e il filtro degli alloggi.
function aggiungiLivelli() {
  map.addImage('retino-vincoli', retinoVincoli(), { pixelRatio: 1 });
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
    const conteggi = {};
    for (const f of stato.alloggi.features) conteggi[f.properties.stato] = (conteggi[f.properties.stato] || 0) + 1;
    const vociA = STATI.filter((s) => !(solo && s.id === 'occupato'))
      .map((s) => voceLegenda(cerchio(s.colore), esc(s.label), `(${numero(conteggi[s.id] || 0)})`));
    const senzaPosizione = stato.alloggi.features.filter((f) => !f.geometry).length;
    if (senzaPosizione > 0) {
      vociA.push(`<li class="piccolo">${numero(senzaPosizione)} ${senzaPosizione === 1 ? 'alloggio' : 'alloggi'} senza posizione: contati nei totali, non disegnati.</li>`);
    }
    parti.push(`<h3>Alloggi pubblici, per stato${solo ? ' (solo inutilizzati)' : ''}</h3>
      <p class="piccolo">Un punto per alloggio; più alloggi nello stesso edificio si sovrappongono (clicca per l'elenco).</p>
      <ul class="voci">${vociA.join('')}</ul>`);
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

function selezionaComune(istat) {
  if (stato.comuneSelezionato !== null) {
    map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id: stato.comuneSelezionato }, { selezionato: false });
  }
  stato.comuneSelezionato = istat;
  if (istat !== null) map.setFeatureState({ source: SORGENTE, sourceLayer: 'comuni', id: istat }, { selezionato: true });
  const sel = $('#sel-comune');
  if (sel.value !== (istat ?? '')) sel.value = istat ?? '';
}

function mostraComune(feature, lngLat) {
  const p = feature.properties;
  apriPopup(lngLat, popupComune(p), 'popup-comune');
  selezionaComune(p.istat);
}

// Margini per non nascondere l'Ambito sotto la legenda.
function paddingMappa() {
  const leg = document.querySelector('.legenda-mappa');
  const w = map.getContainer().clientWidth;
  const sinistra = leg && leg.open && w > 700 ? leg.offsetWidth + 24 : 24;
  return { top: 24, bottom: 24, left: sinistra, right: 56 };
}

function centroApprossimato(feature) {
  // Punto interno approssimato: centro del riquadro dell'anello più esterno più lungo.
  const g = feature.geometry;
  const poligoni = g.type === 'Polygon' ? [g.coordinates] : g.coordinates;
  let anello = poligoni[0][0];
  for (const p of poligoni) if (p[0].length > anello.length) anello = p[0];
  let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
  for (const [x, y] of anello) {
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return { bounds: [[x0, y0], [x1, y1]], centro: [(x0 + x1) / 2, (y0 + y1) / 2] };
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
  if ($('#chk-pgt').checked) altri.push(...map.queryRenderedFeatures(e.point, { layers: ['pgt-fill'] }).map((f) => ['pgt', f]));
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

function collegaComandi() {
  $('#sel-colore').addEventListener('change', (e) => {
    stato.metrica = e.target.value;
    aggiornaColoreComuni();
  });
  $('#chk-alloggi').addEventListener('change', (e) => {
    visibilita(['alloggi'], e.target.checked);
    $('#chk-solo-inutilizzati').disabled = !e.target.checked;
    aggiornaLegenda();
  });
  $('#chk-solo-inutilizzati').addEventListener('change', () => {
    map.setFilter('alloggi', filtroAlloggi());
    aggiornaLegenda();
  });
  $('#chk-pgt').addEventListener('change', (e) => {
    visibilita(['pgt-fill', 'pgt-line'], e.target.checked);
    if (e.target.checked) aggiornaPgt();
    aggiornaLegenda();
  });
  $('#chk-privato').addEventListener('change', (e) => {
    visibilita(['privato-fill', 'privato-line'], e.target.checked);
    aggiornaPrivato();
    aggiornaLegenda();
  });
  $('#chk-vincoli').addEventListener('change', (e) => {
    visibilita(['vincoli-fill', 'vincoli-line'], e.target.checked);
    aggiornaLegenda();
  });
  $('#chk-catasto').addEventListener('change', (e) => {
    visibilita(['fogli-line', 'particelle-line'], e.target.checked);
    aggiornaLegenda();
  });
  $('#sel-comune').addEventListener('change', (e) => {
    const istat = e.target.value;
    if (!istat) return;
    const f = stato.comuni.features.find((x) => x.properties.istat === istat);
    if (!f) return;
    const { bounds, centro } = centroApprossimato(f);
    map.fitBounds(bounds, { padding: paddingMappa(), maxZoom: 13, duration: 600 });
    map.once('moveend', () => mostraComune(f, centro));
  });

  map.on('click', gestisciClick);
  map.on('moveend', () => {
    aggiornaPgt();
    aggiornaPrivato();
    if ($('#chk-catasto').checked) aggiornaLegenda();
  });
  for (const l of ['alloggi', 'comuni-fill', 'privato-fill']) {
    map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') chiudiPopup();
  });
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

function riempiSceltaComuni() {
  const sel = $('#sel-comune');
  const ord = [...stato.comuni.features].sort((a, b) => a.properties.nome.localeCompare(b.properties.nome, 'it'));
  for (const f of ord) {
    const o = document.createElement('option');
    o.value = f.properties.istat;
    const n = f.properties.inutilizzati ?? 0;
    o.textContent = `${f.properties.nome} (${n} ${n === 1 ? 'inutilizzato' : 'inutilizzati'})`;
    sel.append(o);
  }
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
// Avvio

async function avvia() {
  const t0 = performance.now();
  avviso('Caricamento dei dati…');
  let ambito;
  let comuni;
  let alloggi;
  let stile;
  try {
    // Comuni e alloggi anche in GeoJSON (pochi elementi): classi della legenda, elenco dei
    // comuni, alloggi nello stesso edificio. La mappa li disegna dalle tile.
    [ambito, comuni, alloggi, stile] = await Promise.all([
      getJson('api/ambito'),
      getJson('api/layers/comuni'),
      getJson('api/layers/alloggi_pubblici'),
      caricaStile(),
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
  mostraAmbito(ambito);
  indicizzaAlloggi();
  riempiSceltaComuni();

  await new Promise((res) => {
    map.once('style.load', res);
    map.setStyle(stile, { diff: false });
  });
  const m = METRICHE[stato.metrica];
  stato.classi = calcolaClassi(valoriMetrica(stato.metrica), m.tipo, YLORRD.length);
  aggiungiLivelli();
  collegaComandi();
  aggiornaLegenda();
  if (Array.isArray(ambito.bbox) && ambito.bbox.length === 4) {
    const [x0, y0, x1, y1] = ambito.bbox;
    map.fitBounds([[x0, y0], [x1, y1]], { padding: paddingMappa(), duration: 0 });
  }
  avviso(null);
  map.once('idle', () => {
    document.body.dataset.ready = '1';
    document.body.dataset.readyMs = String(Math.round(performance.now() - t0));
  });
  map.triggerRepaint();
}

avvia();
