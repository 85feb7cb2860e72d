// Map popups: units of one building, comune, estimate areas, candidate and excluded areas,
// offered private units; a click on the map picks which one to open.
import * as maplibregl from '../vendor/maplibre-gl.mjs';
import {
  NOTA_PROTETTI, conteggio, dataIt, esc, fmtDecimale, fmtIntero, fmtPercento, metricaProtetta, mesi, num, numero, protetto,
} from './format.js';
import { LOCALE, t } from './i18n.js';
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
  SAP: t('Alloggio SAP – servizio abitativo pubblico (canone sociale)'),
  SAS: t('Alloggio SAS – servizio abitativo sociale (canone moderato)'),
  SAT: t('Alloggio SAT – servizio abitativo transitorio'),
  altro: t('Alloggio per altro uso residenziale'),
};
// A term and its value in the page's language (dt/dd of the popups).
const voce = ([k, v]) => `<dt>${esc(t(k))}</dt><dd>${esc(v)}</dd>`;

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
    // The outline stays on the comune the panel shows.
    selezionaComune(stato.schedaIstat || null);
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
  const etichettaStato = s ? s.label : (p.stato_label || p.stato);
  const righe = [];
  righe.push(`<div class="alloggio-stato"><span class="punto" style="background:${colore}" aria-hidden="true"></span><strong>${esc(etichettaStato)}</strong></div>`);
  if (p.inutilizzato) {
    const dal = dataIt(p.sfitto_dal);
    const m = mesi(p.mesi_sfitto);
    if (dal && m) righe.push(`<div>${esc(t('Vuoto dal {dal} (da {m})', { dal, m }))}</div>`);
    else if (dal) righe.push(`<div>${esc(t('Vuoto dal {dal}', { dal }))}</div>`);
    else if (m) righe.push(`<div>${esc(t('Vuoto da {m}', { m }))}</div>`);
    else righe.push(`<div>${esc(t('Data di inizio dello sfitto non indicata'))}</div>`);
  }
  const dati = [];
  dati.push(['Tipo', SERVIZI[p.servizio] || p.servizio_label || (p.servizio ? `${t('Servizio')} ${p.servizio}` : t('Non indicato'))]);
  dati.push(['Proprietario', p.ente_proprietario || t('Non indicato')]);
  if (p.indirizzo) dati.push(['Indirizzo', p.comune ? `${p.indirizzo}, ${p.comune}` : p.indirizzo]);
  dati.push(['Catasto', p.riferimento_catastale || t('Riferimento non indicato')]);
  if (p.categoria_catastale) dati.push(['Categoria', p.categoria_catastale]);
  if (p.superficie_mq !== null && p.superficie_mq !== undefined) dati.push(['Superficie', `${fmtIntero.format(p.superficie_mq)} m²`]);
  if (p.codice_unita) dati.push(['Codice', p.codice_unita]);
  if (p.localizzazione === 'particella') dati.push(['Posizione', t('al centro della particella catastale')]);
  else if (p.localizzazione === 'coordinate') dati.push(['Posizione', t('dalle coordinate dell\'inventario')]);
  righe.push(`<dl class="scheda">${dati.map(voce).join('')}</dl>`);
  const piano = FLAG_PIANO.filter(([k]) => p[k] === true).map(([, testo]) => t(testo));
  if (piano.length) righe.push(`<ul class="flag-piano" aria-label="${esc(t('Nel Piano annuale'))}">${piano.map((x) => `<li>${esc(x)}</li>`).join('')}</ul>`);
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
  const titolo = n === 1 ? t('1 alloggio pubblico in questo punto') : t('{n} alloggi pubblici in questo edificio', { n });
  const sintesi = n > 1 ? `<p class="piccolo">${esc(inut === 0 ? t('Tutti occupati.') : t(inut === 1 ? '{n} inutilizzato su {tot}.' : '{n} inutilizzati su {tot}.', { n: inut, tot: n }))}</p>` : '';
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
  const corpo = `<dl class="scheda">${righe.map(voce).join('')}</dl>`;
  let inut = '';
  if (typeof tot === 'string' || tot > 0) {
    const tasso = typeof p.tasso_inutilizzo === 'number' ? ` ${t('({q} del totale)', { q: fmtPercento.format(p.tasso_inutilizzo) })}` : '';
    inut = `<p class="evidenza"><strong>${esc(numero(inutilizzati))}</strong> ${esc(inutilizzati === 1 ? t('alloggio inutilizzato') : t('alloggi inutilizzati'))}${esc(tasso)}</p>
      <ul class="motivi">
        <li>${simboloStato('libero')}${esc(t('liberi'))}: ${esc(numero(c('liberi')))}</li>
        <li>${simboloStato('sfitto_carenze_manutentive')}${esc(t('sfitti per carenze manutentive'))}: ${esc(numero(c('sfitto_carenze_manutentive')))}</li>
        <li>${simboloStato('sfitto_ristrutturazione')}${esc(t('sfitti per ristrutturazione'))}: ${esc(numero(c('sfitto_ristrutturazione')))}</li>
      </ul>`;
    const extra = [];
    const oltre24 = c('sfitti_oltre_24_mesi');
    if (typeof oltre24 === 'string' || oltre24) extra.push(`<li>${esc(t('vuoti da più di 2 anni'))}: <strong>${esc(numero(oltre24))}</strong></li>`);
    if (typeof p.mesi_sfitto_medi === 'number') extra.push(`<li>${esc(t('in media vuoti da {m}', { m: mesi(Math.round(p.mesi_sfitto_medi)) }))}</li>`);
    if (typeof p.quota_inutilizzati_ambito === 'number' && num(p.inutilizzati) > 0) {
      extra.push(`<li>${esc(t('{q} degli alloggi inutilizzati dell\'Ambito', { q: fmtPercento.format(p.quota_inutilizzati_ambito) }))}</li>`);
    }
    if (extra.length) inut += `<ul class="motivi">${extra.join('')}</ul>`;
  } else {
    inut = `<p>${esc(t('Nessun alloggio pubblico registrato in questo comune.'))}</p>`;
  }
  const per1000 = `<dl class="scheda">
      <dt>${esc(t('Alloggi ogni 1.000 ab.'))}</dt><dd>${esc(metricaProtetta(p, 'alloggi_per_1000_ab', 'decimale'))}</dd>
      <dt>${esc(t('Inutilizzati ogni 1.000 ab.'))}</dt><dd>${esc(metricaProtetta(p, 'inutilizzati_per_1000_ab', 'decimale'))}</dd>
    </dl>`;
  let priv = '';
  const offerti = c('privati_offerti') ?? 0;
  if (num(p.abitazioni_stimate) > 0 || typeof offerti === 'string' || offerti > 0) {
    const r = [];
    if (num(p.abitazioni_stimate) > 0) {
      const q = typeof p.quota_non_occupate === 'number' ? ` (${fmtPercento.format(p.quota_non_occupate)})` : '';
      r.push(['Abitazioni non occupate (stima)', `${t('{n} su {tot}', { n: numero(c('abitazioni_non_occupate_stimate')), tot: numero(p.abitazioni_stimate) })}${q}`]);
    }
    r.push(['Offerte allo sportello', numero(offerti)]);
    r.push(['locate a canone concordato', numero(c('privati_locati_concordato') ?? 0)]);
    r.push(['ritirate', numero(c('privati_ritirati') ?? 0)]);
    priv = `<h4>${esc(t('Patrimonio privato'))}</h4><dl class="scheda">${r.map(voce).join('')}</dl>`;
  }
  const nota = p.valori_protetti
    ? `<p class="piccolo nota-protetti">${NOTA_PROTETTI}</p>`
    : '';
  const sub = p.sub_ambito ? `<p class="piccolo">${esc(t('Sub-ambito'))} ${esc(p.sub_ambito)} · ISTAT ${esc(p.istat)}</p>` : `<p class="piccolo">ISTAT ${esc(p.istat)}</p>`;
  return `<h3>${esc(p.nome)}</h3>${sub}${corpo}${inut}${per1000}${priv}${nota}`;
}

export function popupPrivato(p) {
  const q = protetto(p, 'quota_non_occupate') ? t('non pubblicato')
    : (typeof p.quota_non_occupate === 'number' ? fmtPercento.format(p.quota_non_occupate) : '–');
  return `<h3>${esc(t('Abitazioni private non occupate (stima)'))}</h3>
    <p class="luogo">${esc(p.comune || t('Comune non attribuito'))}${p.codice ? ` · ${esc(t('area'))} ${esc(p.codice)}` : ''}</p>
    <dl class="scheda">
      ${voce(['Abitazioni', numero(conteggio(p, 'abitazioni_totali'))])}
      ${voce(['Non occupate', numero(conteggio(p, 'abitazioni_non_occupate'))])}
      ${voce(['Quota non occupate', q])}
    </dl>
    <p class="piccolo">${esc(t('Stima per area: nessun dato su singoli alloggi o proprietari.'))}</p>`;
}

export function popupCandidata(p) {
  const motivi = String(p.motivi || '').split('; ').filter(Boolean);
  const punti = String(p.punteggio_dettaglio || '').split('; ').filter(Boolean);
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  const dati = [
    ['Comune', p.comune || t('non attribuito')],
    ['Fonte', FONTI[p.fonte] || p.fonte_label || p.fonte || ''],
    ['Superficie utile', p.area_ha !== undefined && p.area_ha !== null ? `${fmtDecimale.format(p.area_ha)} ha` : '–'],
    ['Alloggi stimati', numero(p.alloggi_stimati)],
    ['Punteggio', p.punteggio !== undefined && p.punteggio !== null ? t('{n} su 100', { n: fmtDecimale.format(p.punteggio) }) : '–'],
  ];
  return `<h3>${esc(t('Area candidata per l\'edilizia sociale'))}</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">${dati.map(voce).join('')}</dl>
    ${punti.length ? `<h4>${esc(t('Perché ha questo punteggio'))}</h4><ul class="elenco-punti">${punti.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${motivi.length ? `<h4>${esc(t('Motivi'))}</h4><ul class="elenco-punti">${motivi.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}
    ${escl.length ? `<h4>${esc(t('Parti escluse'))}</h4><ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : `<p class="piccolo">${esc(t('Nessuna parte esclusa.'))}</p>`}`;
}

export function popupEsclusa(p) {
  const escl = String(p.esclusioni || '').split('; ').filter(Boolean);
  return `<h3>${esc(t('Area esclusa'))}</h3>
    ${p.denominazione ? `<p class="luogo">${esc(p.denominazione)}</p>` : ''}
    <dl class="scheda">
      ${voce(['Comune', p.comune || t('non attribuito')])}
      ${voce(['Fonte', FONTI[p.fonte] || p.fonte_label || p.fonte || ''])}
      ${voce(['Superficie', p.area_ha !== undefined && p.area_ha !== null ? `${fmtDecimale.format(p.area_ha)} ha` : '–'])}
    </dl>
    <h4>${esc(t('Perché è esclusa'))}</h4><p>${esc(p.motivo || t('motivo non indicato'))}</p>
    ${escl.length ? `<ul class="elenco-punti">${escl.map((m) => `<li>${esc(m)}</li>`).join('')}</ul>` : ''}`;
}

export function popupOfferti(p) {
  return `<h3>${esc(t('Alloggi privati offerti'))} – ${esc(p.nome)}</h3>
    <dl class="scheda">
      ${voce(['Offerti allo sportello', numero(p.privati_offerti)])}
      ${voce(['locati a canone concordato', numero(p.privati_locati_concordato)])}
      ${voce(['ancora in offerta', numero(p.privati_in_offerta)])}
    </dl>
    <p class="piccolo">${esc(t('Numeri aggregati per comune: nessun dato dei proprietari.'))}</p>`;
}

// One private unit offered at the desk (only the office sees them): from the tile's properties.
export function popupAlloggioPrivato(p) {
  const s = STATI_PRIVATI.find((x) => x.id === p.stato);
  const colore = s ? s.colore : COLORE_PRIVATI_IGNOTO;
  const etichetta = (s ? s.label : p.stato_label || p.stato) || t('Stato non indicato');
  const canone = typeof p.canone_mensile === 'number'
    ? t('{euro} al mese', { euro: new Intl.NumberFormat(LOCALE, { style: 'currency', currency: 'EUR', maximumFractionDigits: 0 }).format(p.canone_mensile) })
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
  return `<h3>${esc(t('Alloggio privato offerto allo sportello'))}</h3>
    <div class="alloggio-stato"><span class="punto" style="background:${colore}" aria-hidden="true"></span><strong>${esc(etichetta)}</strong></div>
    <dl class="scheda">${dati.map(voce).join('')}</dl>
    <p class="piccolo">${esc(t('Dato riservato all\'ufficio dell\'Ambito: nessun nome di proprietario è conservato.'))}</p>`;
}

export function mostraComune(feature, lngLat) {
  const p = feature.properties;
  apriPopup(lngLat, popupComune(p), 'popup-comune');
  selezionaComune(p.istat);
  mostraScheda(p.istat);
}

// The panel follows the last click: the comune of what was clicked (outlined on the map),
// the Ambito when it lies in no comune of the Ambito.
function segui(istat) {
  const noto = istat && stato.comuni.features.some((f) => f.properties.istat === istat);
  selezionaComune(noto ? istat : null);
  mostraScheda(noto ? istat : null);
}

// A feature's comune: its comune_istat, or the comune of the Ambito under the point.
function comuneDi(props, punto) {
  if (props && props.comune_istat) return props.comune_istat;
  if (props && props.istat) return props.istat;
  const c = map.queryRenderedFeatures(punto, { layers: ['comuni-fill'] });
  return c.length ? c[0].properties.istat : null;
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
    apriPopup(coord, popupAlloggi(coord), 'popup-alloggi');
    segui(comuneDi(migliore.properties, e.point));
    return;
  }
  if (map.getLayer('alloggi-privati') && map.getLayoutProperty('alloggi-privati', 'visibility') !== 'none') {
    const ap = map.queryRenderedFeatures(area, { layers: ['alloggi-privati'] });
    if (ap.length) {
      apriPopup(ap[0].geometry.coordinates, popupAlloggioPrivato(ap[0].properties), 'popup-alloggio-privato');
      segui(comuneDi(ap[0].properties, e.point));
      return;
    }
  }
  if ($('#chk-offerti').checked) {
    const o = map.queryRenderedFeatures(area, { layers: ['offerti'] });
    if (o.length) {
      apriPopup(o[0].geometry.coordinates, popupOfferti(o[0].properties), 'popup-offerti');
      segui(o[0].properties.istat);
      return;
    }
  }
  if ($('#chk-candidate').checked && map.getLayer('aree-candidate-fill')) {
    const c = map.queryRenderedFeatures(area, { layers: ['aree-candidate-punti'].filter((l) => map.getLayer(l)) })
      .concat(map.queryRenderedFeatures(e.point, { layers: ['aree-candidate-fill'] }));
    if (c.length) {
      apriPopup(e.lngLat, popupCandidata(c[0].properties), 'popup-candidata');
      segui(comuneDi(c[0].properties, e.point));
      return;
    }
  }
  if (stato.esclusePresenti && $('#chk-escluse').checked && map.getLayer('aree-escluse-fill')) {
    const x = map.queryRenderedFeatures(e.point, { layers: ['aree-escluse-fill'] });
    if (x.length) {
      apriPopup(e.lngLat, popupEsclusa(x[0].properties), 'popup-esclusa');
      segui(comuneDi(x[0].properties, e.point));
      return;
    }
  }
  if ($('#chk-privato').checked) {
    const aree = map.queryRenderedFeatures(e.point, { layers: ['privato-fill'] });
    if (aree.length) {
      apriPopup(e.lngLat, popupPrivato(aree[0].properties), 'popup-privato');
      segui(comuneDi(aree[0].properties, e.point));
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
      if (tipo === 'vincolo') return `<li><strong>${esc(t('Vincolo'))}:</strong> ${esc(p.nome || p.codice || t('senza nome'))}</li>`;
      if (tipo === 'particella') return `<li><strong>${esc(t('Particella'))}:</strong> ${esc(p.riferimento || t('Foglio {f}, particella {p}', { f: p.foglio, p: p.particella }))}</li>`;
      return `<li><strong>PGT:</strong> ${esc((PGT_CLASSI[p.classe] || {}).label || p.classe_label || p.classe || '')}${p.legenda ? ` – ${esc(p.legenda)}` : ''}</li>`;
    });
    apriPopup(e.lngLat, `${popupComune(comuni[0].properties)}<h4>${esc(t('In questo punto'))}</h4><ul class="motivi">${righe.join('')}</ul>`, 'popup-comune');
    segui(comuni[0].properties.istat);
    return;
  }
  if (comuni.length) {
    mostraComune(comuni[0], e.lngLat);
    return;
  }
  // Outside the Ambito's comuni (a neighbour, the empty map): back to the Ambito.
  chiudiPopup();
  const vicino = map.getLayer('confinanti-fill') ? map.queryRenderedFeatures(e.point, { layers: ['confinanti-fill'] }) : [];
  if (vicino.length) {
    const n = vicino[0].properties.name;
    apriPopup(e.lngLat, `<h3>${esc(n)}</h3><p class="piccolo">${esc(t('Comune confinante, fuori dall\'Ambito.'))}</p>`, 'popup-confinante');
  }
  segui(null);
}
