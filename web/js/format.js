// Numbers, dates and texts in the page's language (Italian unless English was chosen, i18n.js);
// esc() for every text that goes into HTML.
import { LOCALE, t } from './i18n.js';

// `useGrouping: 'always'`: Italian CLDR data leaves four-digit numbers ungrouped ("1143"); the
// plan and the reports write "1.143", and so does the page.
export const fmtIntero = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0, useGrouping: 'always' });
export const fmtDecimale = new Intl.NumberFormat(LOCALE, { minimumFractionDigits: 1, maximumFractionDigits: 1, useGrouping: 'always' });
export const fmtPercento = new Intl.NumberFormat(LOCALE, { style: 'percent', maximumFractionDigits: 0 });
export const fmtData = new Intl.DateTimeFormat(LOCALE, { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

// Numbers in Italian; a string (e.g. "< 3", a count withheld from the public) passes as it is.
export function numero(v) {
  if (typeof v === 'string') return v;
  return v === null || v === undefined || Number.isNaN(v) ? '–' : fmtIntero.format(v);
}

// What the public reads in place of a small count (the server's mark, src/output/protect.rs).
export const SEGNO_PROTETTO = '< 3';

// Whether the cell `key` of the properties `p` is withheld from the caller: listed in
// p.valori_protetti (comma separated) and without a value (null in GeoJSON, absent in tiles).
export function protetto(p, key) {
  if (!p || (p[key] !== null && p[key] !== undefined)) return false;
  const elenco = p.valori_protetti;
  return typeof elenco === 'string' && elenco.split(',').map((x) => x.trim()).includes(key);
}

// What the public reads in place of a count withheld only so that a small one cannot be
// recovered by subtraction (it is not small).
export const SEGNO_NON_PUBBLICATO = 'n.p.';

// Whether `key` is listed in the comma list `elenco`.
function elencato(elenco, key) {
  return typeof elenco === 'string' && elenco.split(',').map((x) => x.trim()).includes(key);
}

// A count of `p`: the value; "< 3" when it is withheld because small (listed in
// p.valori_inferiori_a_3), "n.p." when withheld to protect another (null/undefined otherwise).
export function conteggio(p, key) {
  if (!protetto(p, key)) return p ? p[key] : undefined;
  return elencato(p.valori_inferiori_a_3, key) ? SEGNO_PROTETTO : SEGNO_NON_PUBBLICATO;
}

// The note under a table or popup with withheld counts.
export const NOTA_PROTETTI = t('«&lt; 3»: meno di 3, dato non pubblicato; «n.p.»: non pubblicato, perché permetterebbe di ricavare un conteggio inferiore a 3.');

// A value as a number for arithmetic: withheld marks and missing values count as 0.
export function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

export function dataIt(iso) {
  if (!iso) return null;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : fmtData.format(d);
}

export function mesi(n) {
  if (n === null || n === undefined) return null;
  if (n === 0) return t('meno di un mese');
  return n === 1 ? t('1 mese') : t('{n} mesi', { n: fmtIntero.format(n) });
}

export function formattaMetrica(tipo, v) {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '–';
  if (tipo === 'percentuale') return fmtPercento.format(v);
  if (tipo === 'decimale') return fmtDecimale.format(v);
  return fmtIntero.format(v);
}

// A value derived from counts (a rate, a mean): "non pubblicato" when withheld from the caller.
export function metricaProtetta(p, key, tipo) {
  return protetto(p, key) ? t('non pubblicato') : formattaMetrica(tipo, p ? p[key] : null);
}
