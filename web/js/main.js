// abitare's web map: the Ambito's public units, comuni, PGT, constraints, cadastre, aggregate
// estimates of the private stock; individual private units only for the office.
// What the caller sees depends on the audience (/api/sessione, session.js): the public gets
// counts per comune (small ones withheld, "< 3") and no individual units.
// No external request unless the project names a raster background: the label glyphs come
// from the server (/fonts/...), no sprites. Texts are HTML, in Italian or English (i18n.js).
//
// Start-up: loads the data and the style (/style.json, which also carries the layer registry's
// palettes, thresholds, labels and minimum zooms), then wires the modules.
import { calcolaClassi, METRICHE, valoriMetrica } from './choropleth.js';
import { collegaComandi, collegaSchede, mostraSchedaPannello } from './controls.js';
import { applicaFiltri, filtriIniziali, filtroAlloggi, riempiScelte, sincronizzaComandi } from './filters.js';
import { aggiungiLivelli, applicaLivello, LIVELLI } from './layers.js';
import { caricaStile, map, paddingMappa, selezionaComune } from './map.js';
import { collegaInterruttore, t, traduciPagina } from './i18n.js';
import { leggiPalette, YLORRD } from './palette.js';
import { mostraAmbito, mostraScheda } from './panel.js';
import { impostaFormato, MODO_STAMPA } from './print.js';
import { costruisciIndiceCerca } from './search.js';
import { caricaSessione, mostraSessione, vedeAlloggi } from './session.js';
import { indicizzaAlloggi, stato } from './state.js';
import { leggiUrl } from './url.js';
import { $, avviso, getJson } from './util.js';

const VUOTA = { type: 'FeatureCollection', features: [] };

// Controls that make sense only with the individual units (or the private ones) are hidden
// when the caller's style has no such layer.
function mostraAudience() {
  const conAlloggi = stato.conAlloggi;
  $('#riga-alloggi').hidden = !conAlloggi;
  $('#riga-solo-inutilizzati').hidden = !conAlloggi;
  $('#nota-pubblico').hidden = conAlloggi;
  // The filters are of the individual units: no tab for the public.
  $('#tab-filtri').hidden = !conAlloggi;
  if (!conAlloggi && $('#tab-filtri').getAttribute('aria-selected') === 'true') mostraSchedaPannello('livelli');
  $('#aiuto-alloggi').hidden = !conAlloggi;
  $('#aiuto-comuni').hidden = conAlloggi;
  if (!conAlloggi) {
    $('#etichetta-cerca').textContent = t('Comune o sub-ambito');
    $('#cerca').placeholder = t('es. Clusone, Alto Serio');
  }
  $('#riga-alloggi-privati').hidden = !stato.conAlloggiPrivati;
}

// The legend starts closed where it would cover much of the map (a 1366×768 projector).
function legendaIniziale() {
  const leg = $('#legenda-mappa');
  leg.open = window.innerWidth >= 1500 && window.innerHeight >= 860;
}

async function avvia() {
  const t0 = performance.now();
  traduciPagina();
  collegaInterruttore($('#btn-lingua'));
  collegaSchede();
  legendaIniziale();
  avviso(t('Caricamento dei dati…'));
  if (MODO_STAMPA) {
    document.body.classList.add('modo-stampa');
    // Legend beside the map, not over it: on the printed page it must be read in full.
    const leg = document.querySelector('.legenda-mappa');
    leg.open = true;
    document.querySelector('.contenuto').insertBefore(leg, $('#scheda'));
    $('#barra-stampa').hidden = false;
    $('#piede-stampa').hidden = false;
    impostaFormato(MODO_STAMPA, map);
  }
  let ambito;
  let comuni;
  let alloggi;
  let stile;
  let tilejson;
  const sessione = caricaSessione();
  sessione.then(mostraSessione);
  try {
    // Comuni and units in GeoJSON too (few features): legend classes, list of comuni, units in
    // the same building, search. The map draws them from the tiles. The public may not see
    // the units: for it they are an empty collection (not asked for).
    [ambito, comuni, alloggi, stile, tilejson] = await Promise.all([
      getJson('api/ambito'),
      getJson('api/layers/comuni'),
      sessione.then((s) => (vedeAlloggi(s) ? getJson('api/layers/alloggi_pubblici') : VUOTA)),
      caricaStile(),
      getJson('tiles.json').catch(() => null),
    ]);
    leggiPalette(stile);
  } catch (err) {
    console.error(err);
    avviso(t('Impossibile caricare i dati dell\'Ambito dal server. Ricarica la pagina; se il problema resta, segnalalo.'), 'errore');
    document.body.dataset.loadError = String(err.message || err);
    return;
  }
  // The style decides which layers exist: without the units' layer, no units at all.
  const haLivello = (id) => (stile.layers || []).some((l) => l.id === id);
  stato.conAlloggi = haLivello('alloggi');
  stato.conAlloggiPrivati = haLivello('alloggi-privati');
  $('#riga-sfondo').hidden = !haLivello('sfondo-raster');
  if (!stato.conAlloggi) alloggi = VUOTA;
  mostraAudience();
  stato.filtri = filtriIniziali();
  stato.ambito = ambito;
  stato.comuni = comuni;
  stato.alloggi = alloggi;
  // The excluded areas appear only when the server serves them (TileJSON).
  const strati = tilejson && Array.isArray(tilejson.vector_layers) ? tilejson.vector_layers.map((l) => l.id) : [];
  stato.esclusePresenti = strati.includes('aree_escluse') && !!(stile.layers || []).find((l) => l.id === 'aree-escluse-fill');
  $('#riga-escluse').hidden = !stato.esclusePresenti;
  mostraAmbito(ambito);
  indicizzaAlloggi();
  riempiScelte();
  costruisciIndiceCerca();
  const u = leggiUrl();
  sincronizzaComandi();

  await new Promise((res) => {
    map.once('style.load', res);
    map.setStyle(stile, { diff: false });
  });
  const m = METRICHE[stato.metrica];
  stato.classi = calcolaClassi(valoriMetrica(stato.metrica), m.tipo, YLORRD.length);
  aggiungiLivelli();
  collegaComandi();
  for (const nome of Object.keys(LIVELLI)) applicaLivello(nome);
  applicaFiltri();
  if (u.vista) {
    map.jumpTo(u.vista);
  } else if (Array.isArray(ambito.bbox) && ambito.bbox.length === 4) {
    const [x0, y0, x1, y1] = ambito.bbox;
    map.fitBounds([[x0, y0], [x1, y1]], { padding: paddingMappa(), duration: 0 });
  }
  avviso(null);
  stato.pronto = true;
  const scheda = mostraScheda(stato.schedaIstat);
  if (stato.schedaIstat) selezionaComune(stato.schedaIstat);
  map.once('idle', async () => {
    await scheda;
    document.body.dataset.ready = '1';
    document.body.dataset.readyMs = String(Math.round(performance.now() - t0));
  });
  map.triggerRepaint();
}

avvia();
