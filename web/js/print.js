// Print view (?stampa=A4|A3): the same map, layers and filters (from the URL), laid out on one
// landscape page with title, Ambito, date, legend, scale, key figures and source.
import { dataIt, esc, fmtData } from './format.js';
import { t } from './i18n.js';
import { stato } from './state.js';
import { $ } from './util.js';

// Print view: ?stampa=A4 or ?stampa=A3.
export const MODO_STAMPA = (() => {
  const v = new URLSearchParams(window.location.search).get('stampa');
  return v === null ? null : (v.toUpperCase() === 'A3' ? 'A3' : 'A4');
})();

// The map is an argument: this module does not import the map, which reads MODO_STAMPA when
// it is created.
export function impostaFormato(f, map) {
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

// One page only: when the legend and the panel do not fit, printing shrinks everything just
// enough (in print only: on screen the page stays interactive).
export function adattaPagina() {
  if (!stato.stampa) return;
  const mm = stato.stampa === 'A3' ? 281 : 194;
  const disponibile = (mm * 96) / 25.4;
  const fine = $('#piede-stampa').getBoundingClientRect().bottom + window.scrollY;
  const h = fine - $('#barra-stampa').offsetHeight;
  document.body.style.setProperty('--adatta', Math.min(1, (0.97 * disponibile) / h).toFixed(3));
}

export function riempiPiedeStampa(d) {
  const oggi = fmtData.format(new Date());
  const dati = dataIt(d.data_riferimento) || d.data_riferimento_it;
  $('#piede-stampa').innerHTML = `${esc(t('Fonte: inventario degli alloggi pubblici dell\'Ambito, catasto (Agenzia delle Entrate), PGT dei comuni; confini comunali ISTAT / openpolis (CC-BY 4.0); elaborazione abitare.'))}
    ${esc(t('Dati al {data}. Stampato il {oggi}.', { data: dati, oggi }))}${d.dimostrativo ? ` <strong>${esc(t('Dati dimostrativi, non reali.'))}</strong>` : ''}`;
}
