// State in the URL (#...): view, colour, layers, filters, panel. A shared link reopens the same
// map; the print view (?stampa=A4) reads the same fragment.
import { METRICHE } from './choropleth.js';
import { LIVELLI } from './layers.js';
import { map } from './map.js';
import { STATI, STATO_PER_ID } from './palette.js';
import { stato } from './state.js';
import { $ } from './util.js';

export function statoUrl() {
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

export let timerUrl = null;
export function scriviUrl() {
  if (!stato.pronto) return;
  clearTimeout(timerUrl);
  timerUrl = setTimeout(() => {
    const q = statoUrl().toString();
    history.replaceState(null, '', `${window.location.pathname}${window.location.search}#${q}`);
    const formato = stato.stampa || 'A4';
    $('#link-stampa').href = `?stampa=${formato}#${q}`;
  }, 60);
}

export function leggiUrl() {
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
