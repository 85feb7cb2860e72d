// Search: comuni, sub-ambiti, addresses, cadastral references and codes of the public units.
// Accents and case are ignored; a word of 4 letters or more may carry one typo (two from 7
// letters: a letter wrong, missing, added or two swapped), so "Castion dela Presolana" and
// "Clusnoe" still find their comune. Exact matches come first.
import { esc } from './format.js';
import { t } from './i18n.js';
import { centroApprossimato, map, paddingMappa, selezionaComune } from './map.js';
import { mostraScheda } from './panel.js';
import { apriPopup, chiudiPopup, mostraComune, popupAlloggi } from './popup.js';
import { stato } from './state.js';
import { $ } from './util.js';

export function normalizza(testo) {
  return String(testo || '').normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
}

// Optimal string alignment distance (Damerau–Levenshtein without repeated edits), stopping
// early above `max`.
function distanza(a, b, max) {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prima = null;
  let riga = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const nuova = [i];
    let minimo = i;
    for (let j = 1; j <= b.length; j++) {
      const costo = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(riga[j] + 1, nuova[j - 1] + 1, riga[j - 1] + costo);
      if (prima && i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, prima[j - 2] + 1);
      nuova.push(d);
      minimo = Math.min(minimo, d);
    }
    if (minimo > max) return max + 1;
    prima = riga;
    riga = nuova;
  }
  return riga[b.length];
}

// How a query word matches a key's words: 0 exact (contained), 1 with typos, null not at all.
function corrispondenza(parola, parole, chiave) {
  if (chiave.includes(parola)) return 0;
  if (parola.length < 4) return null;
  const max = parola.length >= 7 ? 2 : 1;
  for (const p of parole) {
    // The whole word, or its beginning (a name typed in part).
    if (distanza(parola, p, max) <= max) return 1;
    if (p.length > parola.length && distanza(parola, p.slice(0, parola.length), max) <= max) return 1;
  }
  return null;
}

function voce(v) {
  return { ...v, parole: v.chiave.split(' ') };
}

export function costruisciIndiceCerca() {
  const voci = [];
  const perSub = new Map();
  for (const f of stato.comuni.features) {
    const p = f.properties;
    voci.push(voce({ tipo: 'comune', testo: p.nome, dettaglio: p.sub_ambito ? `${t('Comune')} · ${t('sub-ambito')} ${p.sub_ambito}` : t('Comune'), chiave: normalizza(`${p.nome} ${p.istat}`), feature: f }));
    if (p.sub_ambito) {
      if (!perSub.has(p.sub_ambito)) perSub.set(p.sub_ambito, []);
      perSub.get(p.sub_ambito).push(f);
    }
  }
  for (const [nome, comuni] of perSub) {
    const nomi = comuni.map((f) => f.properties.nome).sort((a, b) => a.localeCompare(b, 'it'));
    voci.push(voce({
      tipo: 'subambito',
      testo: `${t('Sub-ambito')} ${nome}`,
      dettaglio: `${t(comuni.length === 1 ? '{n} comune' : '{n} comuni', { n: comuni.length })}: ${nomi.join(', ')}`,
      chiave: normalizza(`sub ambito subambito ${nome}`),
      comuni,
    }));
  }
  const visti = new Set();
  for (const f of stato.alloggi.features) {
    if (!f.geometry) continue;
    const p = f.properties;
    const luogo = [p.indirizzo, p.comune].filter(Boolean).join(', ');
    const k = `${luogo}|${p.riferimento_catastale}`;
    if (visti.has(k)) continue;
    visti.add(k);
    voci.push(voce({
      tipo: 'alloggio',
      testo: luogo || p.riferimento_catastale || p.codice_unita,
      dettaglio: [p.riferimento_catastale, p.ente_proprietario].filter(Boolean).join(' · '),
      chiave: normalizza(`${luogo} ${p.riferimento_catastale || ''} ${p.codice_unita || ''}`),
      coord: f.geometry.coordinates,
    }));
  }
  stato.indiceCerca = voci;
}

const ORDINE_TIPI = { comune: 0, subambito: 1, alloggio: 2 };

export function cerca(testo) {
  const parole = normalizza(testo).split(' ').filter(Boolean);
  if (!parole.length) return [];
  const trovati = [];
  for (const v of stato.indiceCerca) {
    let costo = 0;
    for (const w of parole) {
      const c = corrispondenza(w, v.parole, v.chiave);
      if (c === null) { costo = null; break; }
      costo += c;
    }
    if (costo !== null) trovati.push({ v, costo });
  }
  trovati.sort((a, b) => a.costo - b.costo || ORDINE_TIPI[a.v.tipo] - ORDINE_TIPI[b.v.tipo]);
  return trovati.slice(0, 8).map((x) => x.v);
}

export function mostraRisultati(risultati, testo) {
  const ul = $('#cerca-risultati');
  ul.innerHTML = risultati.map((r, i) => `<li><button type="button" class="risultato" data-i="${i}">
    <strong>${esc(r.testo)}</strong><span class="piccolo">${esc(r.dettaglio)}</span></button></li>`).join('');
  const aiuto = $('#cerca-aiuto');
  aiuto.hidden = !(testo && !risultati.length);
  aiuto.textContent = testo && !risultati.length ? t('Nessun risultato per «{q}».', { q: testo }) : '';
  for (const b of ul.querySelectorAll('button')) b.addEventListener('click', () => vaiA(risultati[Number(b.dataset.i)]));
}

export function vaiA(r) {
  if (!r) return;
  $('#cerca-risultati').innerHTML = '';
  if (r.tipo === 'comune') {
    const { bounds, centro } = centroApprossimato(r.feature);
    map.fitBounds(bounds, { padding: paddingMappa(), maxZoom: 13, duration: 500 });
    map.once('moveend', () => mostraComune(r.feature, centro));
  } else if (r.tipo === 'subambito') {
    // The sub-ambito's comuni, outlined; the panel shows the Ambito.
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const f of r.comuni) {
      const [[a, b], [c, d]] = centroApprossimato(f).bounds;
      x0 = Math.min(x0, a); y0 = Math.min(y0, b); x1 = Math.max(x1, c); y1 = Math.max(y1, d);
    }
    chiudiPopup();
    map.fitBounds([[x0, y0], [x1, y1]], { padding: paddingMappa(), maxZoom: 13, duration: 500 });
    map.once('moveend', () => {
      selezionaComune(r.comuni.map((f) => f.properties.istat));
      mostraScheda(null);
    });
  } else {
    map.flyTo({ center: r.coord, zoom: Math.max(map.getZoom(), 16), duration: 600 });
    map.once('moveend', () => apriPopup(r.coord, popupAlloggi(r.coord), 'popup-alloggi'));
  }
}
