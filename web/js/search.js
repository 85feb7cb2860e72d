// Search: comuni, addresses, cadastral references and codes of the public units.
import { esc } from './format.js';
import { centroApprossimato, map, paddingMappa } from './map.js';
import { apriPopup, mostraComune, popupAlloggi } from './popup.js';
import { stato } from './state.js';
import { $ } from './util.js';

export function normalizza(t) {
  return String(t || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

export function costruisciIndiceCerca() {
  const voci = [];
  for (const f of stato.comuni.features) {
    voci.push({ tipo: 'comune', testo: f.properties.nome, dettaglio: 'Comune', chiave: normalizza(`${f.properties.nome} ${f.properties.istat}`), feature: f });
  }
  const visti = new Set();
  for (const f of stato.alloggi.features) {
    if (!f.geometry) continue;
    const p = f.properties;
    const luogo = [p.indirizzo, p.comune].filter(Boolean).join(', ');
    const k = `${luogo}|${p.riferimento_catastale}`;
    if (visti.has(k)) continue;
    visti.add(k);
    voci.push({
      tipo: 'alloggio',
      testo: luogo || p.riferimento_catastale || p.codice_unita,
      dettaglio: [p.riferimento_catastale, p.ente_proprietario].filter(Boolean).join(' · '),
      chiave: normalizza(`${luogo} ${p.riferimento_catastale || ''} ${p.codice_unita || ''}`),
      coord: f.geometry.coordinates,
    });
  }
  stato.indiceCerca = voci;
}

export function cerca(testo) {
  const parole = normalizza(testo).split(' ').filter(Boolean);
  if (!parole.length) return [];
  return stato.indiceCerca.filter((v) => parole.every((w) => v.chiave.includes(w))).slice(0, 8);
}

export function mostraRisultati(risultati, testo) {
  const ul = $('#cerca-risultati');
  ul.innerHTML = risultati.map((r, i) => `<li><button type="button" class="risultato" data-i="${i}">
    <strong>${esc(r.testo)}</strong><span class="piccolo">${esc(r.dettaglio)}</span></button></li>`).join('');
  const aiuto = $('#cerca-aiuto');
  aiuto.hidden = !(testo && !risultati.length);
  aiuto.textContent = testo && !risultati.length ? `Nessun risultato per «${testo}».` : '';
  for (const b of ul.querySelectorAll('button')) b.addEventListener('click', () => vaiA(risultati[Number(b.dataset.i)]));
}

export function vaiA(r) {
  if (!r) return;
  $('#cerca-risultati').innerHTML = '';
  if (r.tipo === 'comune') {
    const { bounds, centro } = centroApprossimato(r.feature);
    map.fitBounds(bounds, { padding: paddingMappa(), maxZoom: 13, duration: 500 });
    map.once('moveend', () => mostraComune(r.feature, centro));
  } else {
    map.flyTo({ center: r.coord, zoom: Math.max(map.getZoom(), 16), duration: 600 });
    map.once('moveend', () => apriPopup(r.coord, popupAlloggi(r.coord), 'popup-alloggi'));
  }
}
