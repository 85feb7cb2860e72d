// Italian numbers, dates and texts; esc() for every text that goes into HTML.

export const fmtIntero = new Intl.NumberFormat('it-IT', { maximumFractionDigits: 0 });
export const fmtDecimale = new Intl.NumberFormat('it-IT', { minimumFractionDigits: 1, maximumFractionDigits: 1 });
export const fmtPercento = new Intl.NumberFormat('it-IT', { style: 'percent', maximumFractionDigits: 0 });
export const fmtData = new Intl.DateTimeFormat('it-IT', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });

export function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

export function numero(v) {
  return v === null || v === undefined || Number.isNaN(v) ? '–' : fmtIntero.format(v);
}

export function dataIt(iso) {
  if (!iso) return null;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) ? iso : fmtData.format(d);
}

export function mesi(n) {
  if (n === null || n === undefined) return null;
  if (n === 0) return 'meno di un mese';
  return n === 1 ? '1 mese' : `${fmtIntero.format(n)} mesi`;
}

export function formattaMetrica(tipo, v) {
  if (v === null || v === undefined) return '–';
  if (tipo === 'percentuale') return fmtPercento.format(v);
  if (tipo === 'decimale') return fmtDecimale.format(v);
  return fmtIntero.format(v);
}
