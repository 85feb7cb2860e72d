// Palettes, thresholds, class labels and minimum zooms are not written here: they are read
// from /style.json, where the server puts them from its layer registry (src/output/layers.rs):
//   metadata["abitare:layer"][name]     = { titolo, minzoom, palette }
//   metadata["abitare:palettes"]        = colours that belong to no single layer
//   metadata["abitare:fonti_candidate"] = labels of the candidate areas' sources
// So the map, the legend, the popups, the report and the QGIS styles share one set of colours.
// The values are set by leggiPalette(stile), called at start-up before anything is drawn.
// Labels are shown in the page's language (i18n.js: the English dictionary by layer, column
// and value).
import { registro, t } from './i18n.js';

// States of the public units, from the least to the most urgent: { id, label, colore }.
// Empty for the public, whose style carries no layer of individual units.
export let STATI = [];
export let STATO_PER_ID = {};
export let COLORE_STATO_IGNOTO = null;
// Comuni: sequential scale of the classes, grey of comuni with no value and its text.
export let YLORRD = [];
export let GRIGIO_NESSUNO = null;
export let NESSUN_INUTILIZZATO = null;
// Non-occupied private dwellings: colours and lower bounds of the fixed classes.
export let PURPLES = [];
export let SOGLIE_PRIVATO = [];
// PGT classes: { code: { label, colore } } in registry order, and the other zones.
export let PGT_CLASSI = {};
export let PGT_ALTRO = null;
// Candidate areas: colours and lower bounds of the score classes.
export let VIRIDIS = [];
export let SOGLIE_PUNTEGGIO = [];
// Labels of the candidate areas' sources, by code.
export let FONTI = {};
// Individual private units offered (only for the office): { id, label, colore }, and the
// colour of a state not listed. Empty when the caller may not see them.
export let STATI_PRIVATI = [];
export let COLORE_PRIVATI_IGNOTO = null;
// Comuni whose chosen metric is withheld from the public (a small count): a light grey of
// the page, distinct from the registry's grey of comuni with no value.
export const COLORE_PROTETTO = '#c9c9c9';
// Circles of the offered private units (per comune).
export let COLORE_OFFERTI = null;
// Hatches: constraints and excluded areas (null when the layer is not served).
export let COLORE_VINCOLI = null;
export let COLORE_ESCLUSE = null;
// Zooms from which the tiles hold cadastral sheets and parcels.
export let ZOOM_FOGLI = 0;
export let ZOOM_PARTICELLE = 0;

function errore(testo) {
  return new Error(`style.json: ${testo}`);
}

// Reads the palettes from the style's metadata; missing metadata is an error (the page has no
// colours of its own to fall back on).
export function leggiPalette(stile) {
  const meta = (stile && stile.metadata) || {};
  const livelli = meta['abitare:layer'];
  if (!livelli || typeof livelli !== 'object') throw errore('manca metadata["abitare:layer"]');
  const livello = (nome) => {
    const l = livelli[nome];
    if (!l || !l.palette) throw errore(`manca il layer ${nome}`);
    return l;
  };
  const palette = (nome, tipo) => {
    const p = livello(nome).palette;
    if (p.tipo !== tipo) throw errore(`la palette di ${nome} è ${p.tipo}, non ${tipo}`);
    return p;
  };

  // Layers the caller may not see are not in the metadata (the public: no individual units).
  if (livelli.alloggi_pubblici) {
    const alloggi = palette('alloggi_pubblici', 'categorie');
    STATI = alloggi.classes.map((c) => ({ id: c.value, label: registro('alloggi_pubblici', alloggi.property, c.value, c.label), colore: c.colour }));
    COLORE_STATO_IGNOTO = alloggi.other;
  } else {
    STATI = [];
    COLORE_STATO_IGNOTO = null;
  }
  STATO_PER_ID = Object.fromEntries(STATI.map((s) => [s.id, s]));
  if (livelli.alloggi_privati) {
    const privati = palette('alloggi_privati', 'categorie');
    STATI_PRIVATI = privati.classes.map((c) => ({ id: c.value, label: registro('alloggi_privati', privati.property, c.value, c.label), colore: c.colour }));
    COLORE_PRIVATI_IGNOTO = privati.other;
  } else {
    STATI_PRIVATI = [];
    COLORE_PRIVATI_IGNOTO = null;
  }

  const comuni = palette('comuni', 'quantili');
  YLORRD = comuni.colours;
  GRIGIO_NESSUNO = comuni.none;
  NESSUN_INUTILIZZATO = t(comuni.none_label);

  const privato = palette('stock_privato', 'soglie');
  PURPLES = privato.colours;
  SOGLIE_PRIVATO = privato.thresholds;

  const pgt = palette('pgt_zone', 'categorie');
  PGT_CLASSI = Object.fromEntries(pgt.classes.map((c) => [c.value, { label: registro('pgt_zone', pgt.property, c.value, c.label), colore: c.colour }]));
  PGT_ALTRO = pgt.other;

  const candidate = palette('aree_candidate', 'soglie');
  VIRIDIS = candidate.colours;
  SOGLIE_PUNTEGGIO = candidate.thresholds;

  COLORE_VINCOLI = palette('vincoli', 'unico').outline;
  COLORE_ESCLUSE = livelli.aree_escluse ? palette('aree_escluse', 'unico').fill : null;

  ZOOM_FOGLI = livello('fogli').minzoom;
  ZOOM_PARTICELLE = livello('particelle').minzoom;

  const pagina = meta['abitare:palettes'];
  if (!pagina || !pagina.privati_offerti) throw errore('manca metadata["abitare:palettes"].privati_offerti');
  COLORE_OFFERTI = pagina.privati_offerti;
  FONTI = Object.fromEntries(Object.entries(meta['abitare:fonti_candidate'] || {}).map(([k, v]) => [k, registro('aree_candidate', 'fonte', k, v)]));
}

// "#rrggbb" with an alpha, for the hatches drawn on canvas: rgba(r, g, b, a).
export function rgba(hex, alfa) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  if (!m) throw errore(`colore non valido: ${hex}`);
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16));
  return `rgba(${r}, ${g}, ${b}, ${alfa})`;
}
