// Map popups: units of one building, comune, estimate areas, candidate and excluded areas,
// offered private units; a click on the map picks which one to open.
import * as maplibregl from '../vendor/maplibre-gl.mjs';
import {
  NOTA_PROTETTI, conteggio, dataIt, esc, fmtDecimale, fmtIntero, fmtPercento, metricaProtetta, mesi, num, numero, protetto,
} from './format.js';
import { cerchio } from './legend.js';
import { map, selezionaComune } from './map.js';
import {
  COLORE_PRIVATI_IGNOTO, COLORE_STATO_IGNOTO, FONTI, PGT_CLASSI, STATI, STATI_PRIVATI, STATO_PER_ID, ZOOM_PARTICELLE,
} from './palette.js';
import { mostraScheda } from './panel.js';
import { chiavePunto, stato } from './state.js';
import { $ } from './util.js';

// Service types, as the reader of the popup sees them.
const SERVIZI = {
  SAP: 'Alloggio SAP – servizio abitativo pubblico (canone sociale)',
  SAS: 'Alloggio SAS – servizio abitativo sociale (canone moderato)',
  SAT: 'Alloggio SAT – servizio abitativo transitorio',
  altro: 'Alloggio per altro uso residenziale',
};

export function chiudiPopup() {
  if (stato.popup) stato.popup.remove();
  stato.popup = null;
}

export function apriPopup(lngLat, html, classe) {
  chiudiPopup();
  stato.popup = new maplibregl.Popup({ maxWidth: '360px', className: classe, focusAfterOpen: true })
    .setLngLat(lngLat)
    .setHTML(`<div class="popup-corpo">${html}</div>`)
    .addTo(map);
  // If the popup overflows the map, pan just enough to show it whole.
  const popup = stato.popup;
  requestAnimationFrame(() => {
    if (!popup.isOpen()) return;
    const r = popup.getElement().getBoundingClientRect();
    const c = map.getContainer().getBoundingClientRect();
    const m = 10;
    let dx = 0;
    let dy = 0;
    if (r.bottom > c.bottom - m) dy = r.bottom - (c.bottom - m);
    if (r.top - dy < c.top + m) dy = r.top - (c.top + m);
    if (r.right > c.right - m) dx = r.right - (c.right - m);
    if (r.left - dx < c.left + m) dx = r.left - (c.left + m);
    if (dx || dy) map.panBy([dx, dy], { duration: 300 });
  });
  stato.popup.on('close', () => {
    if (stato.popup && !stato.popup.isOpen()) stato.popup = null;
    selezionaComune(null);
  });
}

// What the Piano annuale says of a unit (sections b–g and k), as the inventory declares it.
const FLAG_PIANO = [
  ['disponibile_anno', "Disponibile nell'anno"],
  ['assegnabile_stato_di_fatto', 'Assegnabile nello stato di fatto'],
  ['in_programma_ristrutturazione', 'In programma di ristrutturazione'],
  ['nuova_edificazione', 'Nuova edificazione'],
  ['turn_over', 'Liberato per turn-over'],
  ['conferita_da_privati', 'Conferito da privati'],
  ['assegnata_anno_precedente', "Assegnato nell'anno precedente"],
];

function descriviAlloggio(p) {
  const s = STATO_PER_ID[p.stato];
  const colore = s ? s.colore : COLORE_STATO_IGNOTO;
  const etichettaStato = p.stato_label || (s ? s.label : p.stato);
  const righe = [];
  righe.push(`<div class="alloggio-stato"><span class="punto" style="background:${colore}" aria-hidden="true"></span><strong>${esc(etichettaStato)}</strong></div>`);
  if (p.inutilizzato) {
    const dal = dataIt(p.sfitto_dal);
    const m = mesi(p.mesi_sfitto);
    if (dal && m) righe.push(`<div>Vuoto dal ${esc(dal)} (da ${esc(m)})</div>`);
    else if (dal) righe.push(`<div>Vuoto dal ${esc(dal)}</div>`);
    else if (m) righe.push(`<div>Vuoto da ${esc(m)}</div>`);
    else righe.push('<div>Data di inizio dello sfitto non indicata</div>');
  }
  const dati = [];
  dati.push(['Tipo', SERVIZI[p.servizio] || p.servizio_label || (p.servizio ? `Servizio ${p.servizio}` : 'Non indicato')]);
  dati.push(['Proprietario', p.ente_proprietario || 'Non indicato']);
  if (p.indirizzo) dati.push(['Indirizzo', p.comune ? `${p.indirizzo}, ${p.comune}` : p.indirizzo]);
  dati.push(['Catasto', p.riferimento_catastale || 'Riferimento non indicato']);
  if (p.categoria_catastale) dati.push(['Categoria', p.categoria_catastale]);
  if (p.superficie_mq !== null && p.superficie_mq !== undefined) dati.push(['Superficie', `${fmtIntero.format(p.superficie_mq)} m²`]);
  if (p.codice_unita) dati.push(['Codice', p.codice_unita]);
  if (p.localizzazione === 'particella') dati.push(['Posizione', 'al centro della particella catastale']);
  else if (p.localizzazione === 'coordinate') dati.push(['Posizione', 'dalle coordinate dell\'inventario']);
  righe.push(`<dl class="scheda">${dati.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`);
  const piano = FLAG_PIANO.filter(([k]) => p[k] === true).map(([, t]) => t);
  if (piano.length) righe.push(`<ul class="flag-piano" aria-label="Nel Piano annuale">${piano.map((t) => `<li>${esc(t)}</li>`).join('')}</ul>`);
  return `<li class="alloggio" style="border-left-color:${colore}">${righe.join('')}</li>`;
}

export function popupAlloggi(coord) {
  let tutti = stato.alloggiPerPunto.get(chiavePunto(coord)) || [];
  if (tutti.length === 0) {
    // Without an id: the units within about 5 m of the clicked point.
    tutti = stato.alloggi.features
      .filter((f) => f.geometry && Math.abs(f.geometry.coordinates[0] - coord[0]) < 6e-5 && Math.abs(f.geometry.coordinates[1] - coord[1]) < 4e-5)
      .map((f) => f.properties);
  }
  const ordine = Object.fromEntries(STATI.map((s, i) => [s.id, i]));
  const elenco = [...tutti].sort((a, b) => (ordine[b.stato] ?? -1) - (ordine[a.stato] ?? -1) || String(a.codice_unita).localeCompare(String(b.codice_unita)));
  const n = elenco.length;
  const inut = elenco.filter((p) => p.inutilizzato).length;
  const primo = elenco[0] || {};
  const luogo = [primo.indirizzo, primo.comune].filter(Boolean).join(', ');
  const titolo = n === 1 ? '1 alloggio pubblico in questo punto' : `${n} alloggi pubblici in questo edificio`;
  const sintesi = n > 1 ? `<p class="piccolo">${inut === 0 ? 'Tutti occupati.' : `${inut} ${inut === 1 ? 'inutilizzato' : 'inutilizzati'} su ${n}.`}</p>` : '';
  return `<h3>${esc(titolo)}</h3>${luogo ? `<p class="luogo">${esc(luogo)}</p>` : ''}${sintesi}
    <ul class="elenco-alloggi">${elenco.map(descriviAlloggio).join('')}</ul>`;
}

// Circle of a state's colour (none when the caller's style has no palette of the units).
function simboloStato(id) {
  const s = STATO_PER_ID[id];
  return s ? `${cerchio(s.colore)} ` : '';
}

export function popupComune(p) {
  const c = (k) => conteggio(p, k);
  const tot = c('alloggi') ?? 0;
  const inutilizzati = c('inutilizzati');
  const righe = [];
  righe.push(['Abitanti', numero(p.popolazione)]);
  righe.push(['Alloggi pubblici', numero(tot)]);
  if (p.alloggi_sap !== undefined || protetto(p, 'alloggi_sap')) righe.push(['di cui SAP', numero(c('alloggi_sap'))]);
  righe.push(['Occupati', numero(c('occupati'))]);
  const corpo = `<dl class="scheda">${righe.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  let inut = '';
  if (typeof tot === 'string' || tot > 0) {
    const tasso = typeof p.tasso_inutilizzo === 'number' ? ` (${fmtPercento.format(p.tasso_inutilizzo)} del totale)` : '';
    inut = `<p class="evidenza"><strong>${esc(numero(inutilizzati))}</strong> ${inutilizzati === 1 ? 'alloggio inutilizzato' : 'alloggi inutilizzati'}${tasso}</p>
      <ul class="motivi">
        <li>${simboloStato('libero')}liberi: ${esc(numero(c('liberi')))}</li>
        <li>${simboloStato('sfitto_carenze_manutentive')}sfitti per carenze manutentive: ${esc(numero(c('sfitto_carenze_manutentive')))}</li>
        <li>${simboloStato('sfitto_ristrutturazione')}sfitti per ristrutturazione: ${esc(numero(c('sfitto_ristrutturazione')))}</li>
      </ul>`;
    const extra = [];
    const oltre24 = c('sfitti_oltre_24_mesi');
    if (typeof oltre24 === 'string' || oltre24) extra.push(`<li>vuoti da più di 2 anni: <strong>${esc(numero(oltre24))}</strong></li>`);
    if (typeof p.mesi_sfitto_medi === 'number') extra.push(`<li>in media vuoti da ${esc(mesi(Math.round(p.mesi_sfitto_medi)))}</li>`);
    if (typeof p.quota_inutilizzati_ambito === 'number' && num(p.inutilizzati) > 0) {
      extra.push(`<li>${fmtPercento.format(p.quota_inutilizzati_ambito)} degli alloggi inutilizzati dell'Ambito</li>`);
    }
    if (extra.length) inut += `<ul class="motivi">${extra.join('')}</ul>`;
  } else {
    inut = '<p>Nessun alloggio pubblico registrato in questo comune.</p>';
  }
  const per1000 = `<dl class="scheda">
      <dt>Alloggi ogni 1.000 ab.</dt><dd>${esc(metricaProtetta(p, 'alloggi_per_1000_ab', 'decimale'))}</dd>
      <dt>Inutilizzati ogni 1.000 ab.</dt><dd>${esc(metricaProtetta(p, 'inutilizzati_per_1000_ab', 'decimale'))}</dd>
    </dl>`;
  let priv = '';
  const offerti = c('privati_offerti') ?? 0;
  if (num(p.abitazioni_stimate) > 0 || typeof offerti === 'string' || offerti > 0) {
    const r = [];
    if (num(p.abitazioni_stimate) > 0) {
      const q = typeof p.quota_non_occupate === 'number' ? ` (${fmtPercento.format(p.quota_non_occupate)})` : '';
      r.push(['Abitazioni non occupate (stima)', `${numero(c('abitazioni_non_occupate_stimate'))} su ${numero(p.abitazioni_stimate)}${q}`]);
    }
    r.push(['Offerte allo sportello', numero(offerti)]);
    r.push(['locate a canone concordato', numero(c('privati_locati_concordato') ?? 0)]);
    r.push(['ritirate', numero(c('privati_ritirati') ?? 0)]);
    priv = `<h4>Patrimonio privato</h4><dl class="scheda">${r.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
  }
  const nota = p.valori_protetti
    ? `<p class="piccolo nota-protetti">${NOTA_PROTETTI}</p>`
    : '';
  const sub = p.sub_ambito ? `<p class="piccolo">Sub-ambito ${esc(p.sub_ambito)} · ISTAT ${esc(p.istat)}</p>` : `<p class="piccolo">ISTAT ${esc(p.istat)}</p>`;
  return `<h3>${esc(p.nome)}</h3>${sub}${corpo}${inut}${per1000}${priv}${nota}`;
}

export function popupPrivato(p) {
  const q = protetto(p, 'quota_non_occupate') ? 'non pubblicato'
    : (typeof p.quota_non_occupate === 'number' ? fmtPercento.format(p.quota_non_occupate) : '–');
  return `<h3>Abitazioni private non occupate (stima)</h3>
    <p class="luogo">${esc(p.comune || 'Comune non attribuito')}${p.codice ? ` · area ${esc(p.codice)}` : ''}</p>
    <dl class="scheda">
      <dt>Abitazioni</dt><dd>${esc(numero(conteggio(p, 'abitazioni_totali')))}</dd>
      <dt>Non occupate</dt><dd>${esc(numero(conteggio(p, 'abitazioni_non_occupate')))}</dd>
      <dt>Quota non occupate</dt><dd>${esc(q)}</dd>
    </dl>
    <p class="piccolo">Stima per area: nessun dato su singoli alloggi o proprietari.</p>`;
}

export function popupCandidata(p) {
  const motivi = String(p.motivi || '').split('; ').filter(Boolean);
  const punti = String(p.punteggio_dettaglio || '').split('; ').filter(Boolean);
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  const dati = [
    ['Comune', p.comune || 'non attribuito'],
    ['Fonte', p.fonte_label || FONTI[p.fonte] || p.fonte || ''],
    ['Superficie utile', p.area_ha !== undefined && p.area_ha !== null ? `${fmtDecimale.format(p.area_ha)} ha` : '–'],
    ['Alloggi stimati', numero(p.alloggi_stimati)],
    ['Punteggio', p.punteggio !== undefined && p.punteggio !== null ? `${fmtDecimale.format(p.punteggio)} su 100` : '–'],
  ];
  return `<h3>Area candidata per l'edilizia sociale</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">${dati.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
    ${punti.length ? `<h4>Perché ha questo punteggio</h4><ul class="elenco-punti">${punti.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${motivi.length ? `<h4>Motivi</h4><ul class="elenco-punti">${motivi.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${escl.length ? `<h4>Parti escluse</h4><ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : '<p class="piccolo">Nessuna parte esclusa.</p>'}`;
}

export function popupEsclusa(p) {
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  return `<h3>Area esclusa</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">
      <dt>Comune</dt><dd>${esc(p.comune || 'non attribuito')}</dd>
      <dt>Fonte</dt><dd>${esc(p.fonte_label || FONTI[p.fonte] || p.fonte || '')}</dd>
      <dt>Superficie</dt><dd>${p.area_ha !== undefined && p.area_ha !== null ? `${esc(fmtDecimale.format(p.area_ha))} ha` : '–'}</dd>
    </dl>
    <h4>Perché è esclusa</h4><p>${esc(p.motivo || 'motivo non indicato')}</p>
    ${escl.length ? `<ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}`;
}

export function popupOfferti(p) {
  return `<h3>Alloggi privati offerti – ${esc(p.nome)}</h3>
    <dl class="scheda">
      <dt>Offerti allo sportello</dt><dd>${esc(numero(p.privati_offerti))}</dd>
      <dt>locati a canone concordato</dt><dd>${esc(numero(p.privati_locati_concordato))}</dd>
      <dt>ancora in offerta</dt><dd>${esc(numero(p.privati_in_offerta))}</dd>
    </dl>
    <p class="piccolo">Numeri aggregati per comune: nessun dato dei proprietari.</p>`;
}

// One private unit offered at the desk (only the office sees them): from the tile's properties.
export function popupAlloggioPrivato(p) {
  const s = STATI_PRIVATI.find((x) => x.id === p.stato);
  const colore = s ? s.colore : COLORE_PRIVATI_IGNOTO;
  const etichetta = p.stato_label || (s ? s.label : p.stato) || 'Stato non indicato';
  const canone = typeof p.canone_mensile === 'number'
    ? `${new Intl.NumberFormat('it-IT', { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }).format(p.canone_mensile)} al mese`
    : null;
  const dati = [
    ['Codice', p.codice],
    ['Indirizzo', p.indirizzo ? (p.comune ? `${p.indirizzo}, ${p.comune}` : p.indirizzo) : null],
    ['Comune', p.indirizzo ? null : p.comune],
    ['Canone', canone],
    ['Superficie', typeof p.superficie_mq === 'number' ? `${fmtIntero.format(p.superficie_mq)} m²` : null],
    ['Offerto dal', dataIt(p.data_offerta)],
    ['Locato dal', dataIt(p.data_locazione)],
    ['Ritirato il', dataIt(p.data_ritiro)],
    ['Catasto', p.riferimento_catastale],
    ['Categoria', p.categoria_catastale],
  ].filter(([, v]) => v !== null && v !== undefined && v !== '');
  return `<h3>Alloggio privato offerto allo sportello</h3>
    <div class="alloggio-stato"><span class="punto" style="background:${colore}" aria-hidden="true"></span><strong>${esc(etichetta)}</strong></div>
    <dl class="scheda">${dati.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
    <p class="piccolo">Dato riservato all'ufficio dell'Ambito: nessun nome di proprietario è conservato.</p>`;
}

export function mostraComune(feature, lngLat) {
  const p = feature.properties;
  apriPopup(lngLat, popupComune(p), 'popup-comune');
  selezionaComune(p.istat);
  mostraScheda(p.istat);
}


export function gestisciClick(e) {
  const r = 6;
  const area = [[e.point.x - r, e.point.y - r], [e.point.x + r, e.point.y + r]];
  const livelliPunti = ['alloggi'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
  const alloggi = livelliPunti.length ? map.queryRenderedFeatures(area, { layers: livelliPunti }) : [];
  if (alloggi.length) {
    // The point nearest to the click.
    let migliore = alloggi[0];
    let dmin = Infinity;
    for (const f of alloggi) {
      const p = map.project(f.geometry.coordinates);
      const d = (p.x - e.point.x) ** 2 + (p.y - e.point.y) ** 2;
      if (d < dmin) { dmin = d; migliore = f; }
    }
    const coord = stato.puntoPerAlloggio.get(String(migliore.properties.id)) || migliore.geometry.coordinates;
    selezionaComune(null);
    apriPopup(coord, popupAlloggi(coord), 'popup-alloggi');
    return;
  }
  if (map.getLayer('alloggi-privati') && map.getLayoutProperty('alloggi-privati', 'visibility') !== 'none') {
    const ap = map.queryRenderedFeatures(area, { layers: ['alloggi-privati'] });
    if (ap.length) {
      selezionaComune(null);
      apriPopup(ap[0].geometry.coordinates, popupAlloggioPrivato(ap[0].properties), 'popup-alloggio-privato');
      return;
    }
  }
  if ($('#chk-offerti').checked) {
    const o = map.queryRenderedFeatures(area, { layers: ['offerti'] });
    if (o.length) {
      selezionaComune(null);
      apriPopup(o[0].geometry.coordinates, popupOfferti(o[0].properties), 'popup-offerti');
      return;
    }
  }
  if ($('#chk-candidate').checked && map.getLayer('aree-candidate-fill')) {
    const c = map.queryRenderedFeatures(area, { layers: ['aree-candidate-punti'].filter((l) => map.getLayer(l)) })
      .concat(map.queryRenderedFeatures(e.point, { layers: ['aree-candidate-fill'] }));
    if (c.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupCandidata(c[0].properties), 'popup-candidata');
      return;
    }
  }
  if (stato.esclusePresenti && $('#chk-escluse').checked && map.getLayer('aree-escluse-fill')) {
    const x = map.queryRenderedFeatures(e.point, { layers: ['aree-escluse-fill'] });
    if (x.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupEsclusa(x[0].properties), 'popup-esclusa');
      return;
    }
  }
  if ($('#chk-privato').checked) {
    const aree = map.queryRenderedFeatures(e.point, { layers: ['privato-fill'] });
    if (aree.length) {
      selezionaComune(null);
      apriPopup(e.lngLat, popupPrivato(aree[0].properties), 'popup-privato');
      return;
    }
  }
  const altri = [];
  if ($('#chk-vincoli').checked) altri.push(...map.queryRenderedFeatures(e.point, { layers: ['vincoli-fill'] }).map((f) => ['vincolo', f]));
  if ($('#chk-catasto').checked && map.getZoom() >= ZOOM_PARTICELLE) altri.push(...map.queryRenderedFeatures(area, { layers: ['particelle-line'] }).map((f) => ['particella', f]));
  const livelliPgt = ['pgt-fill', 'pgt-servizi-fill'].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, 'visibility') !== 'none');
  if (livelliPgt.length) altri.push(...map.queryRenderedFeatures(e.point, { layers: livelliPgt }).map((f) => ['pgt', f]));
  const comuni = map.queryRenderedFeatures(e.point, { layers: ['comuni-fill'] });
  if (altri.length && comuni.length) {
    // Constraints, parcels and PGT zones: a short note, with the comune.
    const righe = altri.slice(0, 6).map(([tipo, f]) => {
      const p = f.properties;
      if (tipo === 'vincolo') return `<li><strong>Vincolo:</strong> ${esc(p.nome || p.codice || 'senza nome')}</li>`;
      if (tipo === 'particella') return `<li><strong>Particella:</strong> ${esc(p.riferimento || `Foglio ${p.foglio}, particella ${p.particella}`)}</li>`;
      return `<li><strong>PGT:</strong> ${esc(p.classe_label || (PGT_CLASSI[p.classe] || {}).label || p.classe || '')}${p.legenda ? ` – ${esc(p.legenda)}` : ''}</li>`;
    });
    apriPopup(e.lngLat, `${popupComune(comuni[0].properties)}<h4>In questo punto</h4><ul class="motivi">${righe.join('')}</ul>`, 'popup-comune');
    selezionaComune(comuni[0].properties.istat);
    mostraScheda(comuni[0].properties.istat);
    return;
  }
  if (comuni.length) {
    mostraComune(comuni[0], e.lngLat);
    return;
  }
  chiudiPopup();
}
