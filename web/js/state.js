// Application state, shared by every module, and the index of units by point.

export const stato = {
  privatoAree: [],
  candidate: null, // GeoJSON of the candidate areas (loaded when needed)
  fontiCandidate: new Set(), // sources turned on (empty = all, before loading)
  punteggioMin: 0,
  esclusePresenti: false,
  filtri: null, // filtriIniziali() once the palettes are known (the states come from /style.json)
  sintesiAmbito: null,
  sintesiComune: null,
  schedaIstat: null,
  stampa: null, // 'A4' | 'A3' in the print view
  indiceCerca: [],
  ambito: null,
  comuni: null,
  alloggi: null,
  alloggiPerPunto: new Map(),
  puntoPerAlloggio: new Map(), // unit id → exact coordinates (those of queryRenderedFeatures are rounded to the tile)
  metrica: 'inutilizzati',
  classi: null,
  pgtClassiViste: new Set(),
  richieste: {},
  popup: null,
  comuneSelezionato: null,
  comuniSelezionati: [],
};

export function chiavePunto(coord) {
  return `${coord[0].toFixed(6)},${coord[1].toFixed(6)}`;
}

export function indicizzaAlloggi() {
  stato.alloggiPerPunto.clear();
  stato.puntoPerAlloggio.clear();
  for (const f of stato.alloggi.features) {
    if (!f.geometry || f.geometry.type !== 'Point') continue;
    const k = chiavePunto(f.geometry.coordinates);
    if (!stato.alloggiPerPunto.has(k)) stato.alloggiPerPunto.set(k, []);
    stato.alloggiPerPunto.get(k).push(f.properties);
    if (f.properties.id !== undefined && f.properties.id !== null) stato.puntoPerAlloggio.set(String(f.properties.id), f.geometry.coordinates);
  }
}
