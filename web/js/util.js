// Small DOM and network helpers.

export const $ = (sel) => document.querySelector(sel);

export async function getJson(url, signal) {
  const r = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

export function avviso(testo, tipo = 'info') {
  const el = $('#avviso');
  if (!testo) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.hidden = false;
  el.dataset.tipo = tipo;
  el.textContent = testo;
}
