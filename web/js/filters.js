// Filters on the public units and the candidate areas, and the controls that set them.
import { conteggio, esc, mesi, numero } from './format.js';
import { aggiornaLegenda } from './legend.js';
import { centroApprossimato, map } from './map.js';
import { t } from './i18n.js';
import { FONTI, STATI } from './palette.js';
import { stato } from './state.js';
import { scriviUrl } from './url.js';
import { $, avviso, getJson } from './util.js';

// Initial filters (and after "Azzera"): every state of the registry, nothing else.
export function filtriIniziali() {
  return { ente: '', comune: '', stati: new Set(STATI.map((s) => s.id)), mesi: 0 };
}

// Filters on the units: the same rule as a MapLibre expression and as a function (legend,
// counts), so what the legend counts is what the map draws.
export function filtriAttivi() {
  const f = stato.filtri;
  const stati = STATI.map((s) => s.id).filter((id) => f.stati.has(id) && !($('#chk-solo-inutilizzati').checked && id === 'occupato'));
  return { ente: f.ente, comune: f.comune, stati, mesi: f.mesi, tutti: stati.length === STATI.length && !f.ente && !f.comune && !f.mesi };
}

export function filtroAlloggi() {
  const f = filtriAttivi();
  if (f.tutti) return null;
  const cond = ['all', ['in', ['get', 'stato'], ['literal', f.stati]]];
  if (f.ente) cond.push(['==', ['get', 'ente_proprietario'], f.ente]);
  if (f.comune) cond.push(['==', ['get', 'comune_istat'], f.comune]);
  if (f.mesi > 0) cond.push(['>=', ['to-number', ['get', 'mesi_sfitto'], -1], f.mesi]);
  return cond;
}

export function passaFiltro(p) {
  const f = filtriAttivi();
  if (!f.stati.includes(p.stato)) return false;
  if (f.ente && p.ente_proprietario !== f.ente) return false;
  if (f.comune && p.comune_istat !== f.comune) return false;
  if (f.mesi > 0 && !(typeof p.mesi_sfitto === 'number' && p.mesi_sfitto >= f.mesi)) return false;
  return true;
}

export function filtroCandidate() {
  const cond = ['all', ['>=', ['to-number', ['get', 'punteggio'], 0], stato.punteggioMin]];
  if (stato.candidate) cond.push(['in', ['get', 'fonte'], ['literal', [...stato.fontiCandidate]]]);
  return cond;
}

export function passaCandidata(p) {
  return (p.punteggio ?? 0) >= stato.punteggioMin && (!stato.candidate || stato.fontiCandidate.has(p.fonte));
}

export function applicaFiltri() {
  if (!map.getLayer('alloggi')) {
    // No units for this caller: nothing to filter, but the legend and the URL still follow.
    aggiornaLegenda();
    scriviUrl();
    return;
  }
  map.setFilter('alloggi', filtroAlloggi());
  if (map.getLayer('alloggi-indirizzi')) map.setFilter('alloggi-indirizzi', filtroAlloggi());
  const n = stato.alloggi.features.filter((f) => f.geometry && passaFiltro(f.properties)).length;
  const tot = stato.alloggi.features.filter((f) => f.geometry).length;
  $('#filtri-esito').textContent = n === tot ? t('Tutti gli alloggi sono mostrati ({n}).', { n: numero(tot) }) : t('Mostrati {n} alloggi su {tot}.', { n: numero(n), tot: numero(tot) });
  aggiornaLegenda();
  scriviUrl();
}

// Puts the controls back to the state's values (after leggiUrl or "Azzera").
export function sincronizzaComandi() {
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

// Candidate areas: the GeoJSON (a few dozen areas) feeds the source filter, the legend's counts
// and the search; the map draws them from the tiles.

let caricamentoCandidate = null;
export function caricaCandidate() {
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
        box.innerHTML = `<span class="campo">${esc(t('Fonti'))}</span>${fonti.map((x) => {
          const n = fc.features.filter((f) => f.properties.fonte === x).length;
          const label = FONTI[x] || (fc.features.find((f) => f.properties.fonte === x) || {}).properties.fonte_label || x;
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
        avviso(t('Impossibile caricare le aree candidate. Riprova più tardi.'), 'errore');
      });
  }
  return caricamentoCandidate;
}

export function aggiornaFiltroCandidate() {
  for (const l of ['aree-candidate-fill', 'aree-candidate-line', 'aree-candidate-punti']) if (map.getLayer(l)) map.setFilter(l, filtroCandidate());
  aggiornaLegenda();
  scriviUrl();
}

// Filter lists: owners and comuni from the data, states with their colour.
export function riempiScelte() {
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
    const n = conteggio(f.properties, 'inutilizzati') ?? 0;
    o.textContent = `${f.properties.nome} (${numero(n)} ${n === 1 ? t('inutilizzato') : t('inutilizzati')})`;
    selC.append(o);
  }
  $('#filtro-stati').insertAdjacentHTML('beforeend', STATI.map((s) => `<label><input type="checkbox" value="${s.id}" checked>
    <span class="simbolo cerchio" style="background:${s.colore}" aria-hidden="true"></span> <span>${esc(s.label)}</span></label>`).join(''));
}

