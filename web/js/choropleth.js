// Colour of the comuni (choropleth): the metrics to choose from, the classes computed on the
// data and the MapLibre expression. The colours (YlOrRd, grey of comuni with no value) and the
// text of comuni with no unused units come from /style.json (palette.js).
import { formattaMetrica, protetto } from './format.js';
import { t } from './i18n.js';
import { aggiornaLegenda } from './legend.js';
import { map } from './map.js';
import { COLORE_PROTETTO, GRIGIO_NESSUNO, NESSUN_INUTILIZZATO, YLORRD } from './palette.js';
import { stato } from './state.js';

export const METRICHE = {
  inutilizzati: {
    titolo: t('Alloggi pubblici inutilizzati'),
    nota: t('liberi + sfitti, per comune'),
    tipo: 'intero',
    get nessuno() { return NESSUN_INUTILIZZATO; }, // from the layer registry (comuni)
    zeroENessuno: true, // 0 unused → grey
  },
  tasso_inutilizzo: {
    titolo: t('Quota di alloggi pubblici inutilizzati'),
    nota: t('inutilizzati sul totale degli alloggi pubblici del comune'),
    tipo: 'percentuale',
    nessuno: t('Nessun alloggio pubblico nel comune'),
    zeroENessuno: false, // 0% is a real value (all occupied)
  },
  alloggi_per_1000_ab: {
    titolo: t('Alloggi pubblici ogni 1.000 abitanti'),
    nota: t('tutti gli alloggi pubblici, su popolazione residente'),
    tipo: 'decimale',
    nessuno: t('Nessun alloggio pubblico nel comune'),
    zeroENessuno: true,
  },
};

// Choropleth classes: quantiles rounded to readable values.

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

// Returns the lower bounds of the classes (the first is the minimum).
export function calcolaClassi(valori, tipo, k = 5) {
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

export function etichettaClasse(tipo, da, a, ultima, max) {
  const f = (x) => formattaMetrica(tipo, x);
  if (ultima) return da >= max - 1e-9 ? f(da) : t('{da} e oltre (fino a {max})', { da: f(da), max: f(max) });
  const fino = tipo === 'intero' ? a - 1 : a - passo(tipo);
  if (fino <= da + 1e-9) return f(da);
  return tipo === 'intero' ? t('da {da} a {a}', { da: f(da), a: f(fino) }) : t('da {da} a meno di {a}', { da: f(da), a: f(a) });
}

// A comune whose metric is withheld from the public: no value, and the metric named in its
// valori_protetti (comma list; matched whole, so "inutilizzati" is not "inutilizzati_con_data").
export function espressioneProtetto(metrica) {
  return ['all',
    ['==', ['get', metrica], null],
    ['in', `,${metrica},`, ['concat', ',', ['coalesce', ['get', 'valori_protetti'], ''], ',']]];
}

export function espressioneColoreComuni() {
  const m = METRICHE[stato.metrica];
  const { soglie } = stato.classi;
  const valore = ['get', stato.metrica];
  const protetto = espressioneProtetto(stato.metrica);
  if (!soglie || soglie.length === 0) return ['case', protetto, COLORE_PROTETTO, GRIGIO_NESSUNO];
  const step = ['step', ['to-number', valore], YLORRD[0]];
  for (let i = 1; i < soglie.length; i++) step.push(soglie[i], YLORRD[i]);
  const nessuno = m.zeroENessuno
    ? ['any', ['==', valore, null], ['<=', ['to-number', valore, 0], 0]]
    : ['==', valore, null];
  return ['case', protetto, COLORE_PROTETTO, nessuno, GRIGIO_NESSUNO, step];
}

// Values of the metric that have a class (withheld ones and "none" excluded).
export function valoriMetrica(metrica) {
  const m = METRICHE[metrica];
  return stato.comuni.features
    .map((f) => f.properties[metrica])
    .filter((v) => typeof v === 'number' && !(m.zeroENessuno && v <= 0));
}

// How many comuni have the metric withheld from the caller.
export function comuniProtetti(metrica) {
  return stato.comuni.features.filter((f) => protetto(f.properties, metrica)).length;
}

export function aggiornaColoreComuni() {
  const m = METRICHE[stato.metrica];
  stato.classi = calcolaClassi(valoriMetrica(stato.metrica), m.tipo, YLORRD.length);
  if (map.getLayer('comuni-fill')) map.setPaintProperty('comuni-fill', 'fill-color', espressioneColoreComuni());
  aggiornaLegenda();
}
