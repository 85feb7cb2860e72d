// Palette, soglie, etichette delle classi e zoom minimi: non sono scritti qui ma letti da
// /style.json, dove il server li mette dal suo registro dei layer (src/output/layers.rs):
//   metadata["abitare:layer"][nome] = { titolo, minzoom, palette }
//   metadata["abitare:palettes"]    = colori che non appartengono a un solo layer
//   metadata["abitare:fonti_candidate"] = etichette delle fonti delle aree candidate
// Così mappa, legenda, popup, report e stili QGIS usano gli stessi colori. I valori sono
// disponibili dopo leggiPalette(stile), chiamata all'avvio prima di disegnare qualsiasi cosa.

// Stati degli alloggi pubblici, dal meno al più urgente: { id, label, colore }.
export let STATI = [];
export let STATO_PER_ID = {};
export let COLORE_STATO_IGNOTO = null;
// Comuni: scala sequenziale delle classi, grigio dei comuni senza valore e il suo testo.
export let YLORRD = [];
export let GRIGIO_NESSUNO = null;
export let NESSUN_INUTILIZZATO = null;
// Abitazioni private non occupate: colori e soglie inferiori delle classi fisse.
export let PURPLES = [];
export let SOGLIE_PRIVATO = [];
// Classi del PGT: { codice: { label, colore } } nell'ordine del registro, e le altre zone.
export let PGT_CLASSI = {};
export let PGT_ALTRO = null;
// Aree candidate: colori e soglie inferiori delle classi di punteggio.
export let VIRIDIS = [];
export let SOGLIE_PUNTEGGIO = [];
// Etichette delle fonti delle aree candidate, per codice.
export let FONTI = {};
// Cerchi degli alloggi privati offerti (per comune).
export let COLORE_OFFERTI = null;
// Retini: vincoli e aree escluse (null se il layer non è servito).
export let COLORE_VINCOLI = null;
export let COLORE_ESCLUSE = null;
// Zoom da cui le tile contengono fogli e particelle.
export let ZOOM_FOGLI = 0;
export let ZOOM_PARTICELLE = 0;

function errore(testo) {
  return new Error(`style.json: ${testo}`);
}

// Legge le palette dai metadati dello stile; un metadato mancante è un errore (la pagina non
// ha colori propri da usare al loro posto).
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

  const alloggi = palette('alloggi_pubblici', 'categorie');
  STATI = alloggi.classes.map((c) => ({ id: c.value, label: c.label, colore: c.colour }));
  STATO_PER_ID = Object.fromEntries(STATI.map((s) => [s.id, s]));
  COLORE_STATO_IGNOTO = alloggi.other;

  const comuni = palette('comuni', 'quantili');
  YLORRD = comuni.colours;
  GRIGIO_NESSUNO = comuni.none;
  NESSUN_INUTILIZZATO = comuni.none_label;

  const privato = palette('stock_privato', 'soglie');
  PURPLES = privato.colours;
  SOGLIE_PRIVATO = privato.thresholds;

  const pgt = palette('pgt_zone', 'categorie');
  PGT_CLASSI = Object.fromEntries(pgt.classes.map((c) => [c.value, { label: c.label, colore: c.colour }]));
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
  FONTI = meta['abitare:fonti_candidate'] || {};
}

// "#rrggbb" con trasparenza, per i retini disegnati su canvas: rgba(r, g, b, a).
export function rgba(hex, alfa) {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex || '');
  if (!m) throw errore(`colore non valido: ${hex}`);
  const [r, g, b] = m.slice(1).map((x) => parseInt(x, 16));
  return `rgba(${r}, ${g}, ${b}, ${alfa})`;
}
