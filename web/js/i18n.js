// The page's language: Italian (the source texts) or English. Chosen with ?lang=en|it (which
// is remembered) or the header's switch, kept in localStorage; the page is reloaded to change
// it, so every module formats in one language from the start.
//   t('Testo italiano') → the English text when the page is in English (else the text itself);
//   t('{n} alloggi', { n: 3 }) fills {name} placeholders after translating.
// Layer titles and class labels come from the registry through /style.json in Italian:
// registro(layer, column, value, italian) looks them up in the English dictionary by layer,
// column and value, so a label added to the registry shows in Italian until translated.
import { EN, EN_REGISTRO } from './i18n-en.js';

const CHIAVE = 'abitare:lingua';

function scelta() {
  let dalUrl = null;
  try {
    dalUrl = new URLSearchParams(window.location.search).get('lang');
  } catch { /* no URL */ }
  try {
    if (dalUrl === 'en' || dalUrl === 'it') {
      window.localStorage.setItem(CHIAVE, dalUrl);
      return dalUrl;
    }
    const salvata = window.localStorage.getItem(CHIAVE);
    if (salvata === 'en' || salvata === 'it') return salvata;
  } catch { /* storage refused: Italian */ }
  return 'it';
}

export const LINGUA = scelta();
export const INGLESE = LINGUA === 'en';
// Locale of numbers and dates.
export const LOCALE = INGLESE ? 'en-GB' : 'it-IT';

const spazi = (s) => s.replace(/\s+/g, ' ').trim();

function riempi(testo, valori) {
  if (!valori) return testo;
  return testo.replace(/\{(\w+)\}/g, (m, k) => (k in valori ? String(valori[k]) : m));
}

export function t(testo, valori) {
  const tradotto = INGLESE ? (EN[testo] ?? EN[spazi(testo)] ?? testo) : testo;
  return riempi(tradotto, valori);
}

// A label of the layer registry (title, class label, source of candidates) in the page's
// language: `colonna` is the property (or 'titolo'), `valore` the class value.
export function registro(layer, colonna, valore, italiano) {
  if (!INGLESE) return italiano;
  const voci = EN_REGISTRO[`${layer}.${colonna}`];
  const v = voci ? voci[valore] : undefined;
  return v ?? EN[italiano] ?? italiano;
}

// Translates the static texts of the page (text nodes and the attributes people read).
export function traduciPagina(radice = document.body) {
  document.documentElement.lang = LINGUA;
  if (!INGLESE) return;
  const walker = document.createTreeWalker(radice, NodeFilter.SHOW_TEXT);
  const nodi = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodi.push(n);
  for (const n of nodi) {
    const testo = spazi(n.nodeValue);
    if (!testo || n.parentElement.closest('script, style')) continue;
    const en = EN[testo];
    if (en === undefined) continue;
    const prima = /^\s/.test(n.nodeValue) ? ' ' : '';
    const dopo = /\s$/.test(n.nodeValue) ? ' ' : '';
    n.nodeValue = `${prima}${en}${dopo}`;
  }
  for (const el of radice.querySelectorAll('[placeholder], [title], [aria-label], [alt]')) {
    for (const a of ['placeholder', 'title', 'aria-label', 'alt']) {
      const v = el.getAttribute(a);
      if (v && EN[spazi(v)] !== undefined) el.setAttribute(a, EN[spazi(v)]);
    }
  }
}

// The header's switch: the other language, remembered, by reloading the page (same view and
// layers: they are in the URL fragment).
export function collegaInterruttore(bottone) {
  if (!bottone) return;
  const altra = INGLESE ? 'it' : 'en';
  bottone.textContent = INGLESE ? 'IT' : 'EN';
  bottone.lang = altra;
  bottone.title = INGLESE ? 'Versione italiana' : 'English version';
  bottone.setAttribute('aria-label', bottone.title);
  bottone.addEventListener('click', () => {
    try {
      window.localStorage.setItem(CHIAVE, altra);
    } catch { /* the URL carries it */ }
    const q = new URLSearchParams(window.location.search);
    q.set('lang', altra);
    window.location.search = q.toString();
  });
}
