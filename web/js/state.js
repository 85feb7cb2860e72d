// Stato dell'applicazione, condiviso da tutti i moduli, e l'indice degli alloggi per punto.

export const stato = {
  privatoAree: [],
  candidate: null, // GeoJSON delle aree candidate (caricato quando serve)
  fontiCandidate: new Set(), // fonti accese (vuoto = tutte, prima del caricamento)
  punteggioMin: 0,
  esclusePresenti: false,
  filtri: null, // filtriIniziali() appena note le palette (gli stati vengono da /style.json)
  sintesiAmbito: null,
  sintesiComune: null,
  schedaIstat: null,
  stampa: null, // 'A4' | 'A3' nella vista di stampa
  indiceCerca: [],
  ambito: null,
  comuni: null,
  alloggi: null,
  alloggiPerPunto: new Map(),
  puntoPerAlloggio: new Map(), // id dell'alloggio → coordinate esatte (quelle di queryRenderedFeatures sono arrotondate alla tile)
  metrica: 'inutilizzati',
  classi: null,
  pgtClassiViste: new Set(),
  richieste: {},
  popup: null,
  comuneSelezionato: null,
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
