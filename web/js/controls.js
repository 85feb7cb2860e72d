// Controls: layer checkboxes, filters, search, panel, print, clicks and keys on the map.
import { aggiornaColoreComuni } from './choropleth.js';
import { aggiornaFiltroCandidate, applicaFiltri, filtriIniziali, sincronizzaComandi } from './filters.js';
import { aggiornaPgt, aggiornaPrivato, applicaLivello, LIVELLI } from './layers.js';
import { aggiornaLegenda } from './legend.js';
import { map } from './map.js';
import { mostraScheda } from './panel.js';
import { chiudiPopup, gestisciClick } from './popup.js';
import { adattaPagina, impostaFormato } from './print.js';
import { cerca, mostraRisultati, vaiA } from './search.js';
import { stato } from './state.js';
import { scriviUrl } from './url.js';
import { $ } from './util.js';

// The left panel's tabs (Livelli, Filtri, Totali): one panel shown at a time, so the filters
// are one click away and never below the layers; arrows move between tabs (WAI-ARIA tabs).
const SCHEDE = ['livelli', 'filtri', 'totali'];

export function mostraSchedaPannello(nome) {
  for (const s of SCHEDE) {
    const tab = $(`#tab-${s}`);
    const on = s === nome;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(`#riquadro-${s}`).hidden = !on;
  }
}

export function collegaSchede() {
  const visibili = () => SCHEDE.filter((s) => !$(`#tab-${s}`).hidden);
  for (const s of SCHEDE) {
    const tab = $(`#tab-${s}`);
    tab.addEventListener('click', () => mostraSchedaPannello(s));
    tab.addEventListener('keydown', (e) => {
      const v = visibili();
      const i = v.indexOf(s);
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % v.length;
      else if (e.key === 'ArrowLeft') j = (i - 1 + v.length) % v.length;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = v.length - 1;
      if (j === null) return;
      e.preventDefault();
      mostraSchedaPannello(v[j]);
      $(`#tab-${v[j]}`).focus();
    });
  }
}

export function collegaComandi() {
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
    stato.filtri = filtriIniziali();
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
    const q = e.target.value;
    mostraRisultati(q.trim().length >= 2 ? cerca(q) : [], '');
  });
  $('#form-cerca').addEventListener('submit', (e) => {
    e.preventDefault();
    const q = $('#cerca').value;
    const r = cerca(q);
    if (r.length) vaiA(r[0]);
    else mostraRisultati([], q);
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
  for (const l of ['alloggi', 'alloggi-privati', 'comuni-fill', 'confinanti-fill', 'privato-fill', 'offerti', 'aree-candidate-fill', 'aree-candidate-punti', 'aree-escluse-fill']) {
    if (!map.getLayer(l)) continue;
    map.on('mouseenter', l, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', l, () => { map.getCanvas().style.cursor = ''; });
  }
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') chiudiPopup();
  });
  $('#sel-formato').addEventListener('change', (e) => impostaFormato(e.target.value, map));
  $('#btn-stampa').addEventListener('click', () => window.print());
  window.addEventListener('beforeprint', adattaPagina);
}
