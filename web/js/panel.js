// Side panel (the Ambito's totals) and the figures panel (key figures of the Ambito or a comune).
import { NOTA_PROTETTI, dataIt, esc, fmtDecimale, fmtPercento, formattaMetrica, mesi, num, numero } from './format.js';
import { t } from './i18n.js';
import { cerchio } from './legend.js';
import { map } from './map.js';
import { FONTI, STATI, STATO_PER_ID } from './palette.js';
import { adattaPagina, riempiPiedeStampa } from './print.js';
import { vaiA } from './search.js';
import { stato } from './state.js';
import { scriviUrl, statoUrl } from './url.js';
import { $, getJson } from './util.js';

export function mostraAmbito(a) {
  const nome = a.numero ? `Ambito ${a.numero} – ${a.nome}` : a.nome;
  $('#ambito-nome').textContent = nome;
  document.title = `${nome} – ${t('alloggi pubblici')}`;
  const dataRif = dataIt(a.data_riferimento);
  $('#ambito-sottotitolo').textContent = `${t('Alloggi pubblici: dove sono, quali sono vuoti e perché')}${a.anno ? ` · ${t('Piano')} ${a.anno}` : ''}`;
  $('#totali-riferimento').textContent = dataRif ? t('Situazione al {data}', { data: dataRif }) : '';
  if (a.dimostrativo) {
    $('#badge-dimostrativi').hidden = false;
    $('#nota-dimostrativi').hidden = false;
    document.body.classList.add('dimostrativo');
  }
  const tot = a.totali || {};
  for (const dd of document.querySelectorAll('#totali dd')) {
    const v = tot[dd.dataset.campo];
    dd.textContent = numero(v);
  }
  if (typeof tot.mesi_sfitto_medi === 'number') {
    $('#riga-mesi-medi').hidden = false;
    document.querySelector('#totali [data-campo="mesi_sfitto_medi"]').textContent = mesi(Math.round(tot.mesi_sfitto_medi));
  }
  const pr = a.privato;
  if (pr && pr.dati_presenti) {
    $('#riquadro-privato').hidden = false;
    for (const dd of document.querySelectorAll('#totali-privato dd')) dd.textContent = numero(pr[dd.dataset.campo]);
    const nonOcc = document.querySelector('#totali-privato [data-campo="abitazioni_non_occupate_stimate"]');
    if (typeof pr.quota_non_occupate === 'number') {
      nonOcc.textContent = `${numero(pr.abitazioni_non_occupate_stimate)} (${fmtPercento.format(pr.quota_non_occupate)})`;
    }
    if (Array.isArray(pr.finestra_rimessi)) {
      $('#dt-rimessi').textContent = `${t('Rimesse in uso')} ${pr.finestra_rimessi[0]}–${pr.finestra_rimessi[1]}`;
    }
  }
  const pct = typeof tot.alloggi === 'number' && tot.alloggi > 0 && typeof tot.inutilizzati === 'number' ? ` (${fmtPercento.format(tot.inutilizzati / tot.alloggi)})` : '';
  const ev = document.querySelector('#totali [data-campo="inutilizzati"]');
  if (ev && tot.inutilizzati !== undefined) ev.textContent = `${numero(tot.inutilizzati)}${pct}`;
}

export function nomeComune(istat) {
  const f = stato.comuni && stato.comuni.features.find((x) => x.properties.istat === istat);
  return f ? f.properties.nome : istat;
}


// Figures panel: key figures of the Ambito or of the chosen comune (from /api/sintesi/...),
// with the chart of states by owner, the share of the Ambito's offer and the links.

const CHIAVI_STATI = [['occupati', 'occupato', t('Occupati'), t('Occ.')], ['liberi', 'libero', t('Liberi'), t('Lib.')],
  ['sfitto_carenze_manutentive', 'sfitto_carenze_manutentive', t('Sfitti per carenze manutentive'), t('Sf. man.')],
  ['sfitto_ristrutturazione', 'sfitto_ristrutturazione', t('Sfitti per ristrutturazione'), t('Sf. ristr.')]];

// States by owner as a table: when the caller has no palette of the states (the public) or
// some counts are withheld ("< 3"), which a bar cannot draw.
function tabellaStatiPerEnte(righe) {
  const testa = CHIAVI_STATI.map(([, , et, breve]) => `<th scope="col"><abbr title="${esc(et)}">${esc(breve)}</abbr></th>`).join('');
  const corpo = righe.map((e) => `<tr><th scope="row">${esc(e.ente.replace(/^Comune di /, ''))}</th><td>${esc(numero(e.alloggi))}</td>${CHIAVI_STATI.map(([campo]) => `<td>${esc(numero(e[campo] ?? 0))}</td>`).join('')}</tr>`).join('');
  return `<div class="tabella-scorrevole"><table class="tabella-enti" id="tabella-enti">
    <thead><tr><th scope="col">${esc(t('Proprietario'))}</th><th scope="col"><abbr title="${esc(t('Alloggi'))}">${esc(t('All.'))}</abbr></th>${testa}</tr></thead><tbody>${corpo}</tbody></table></div>
    ${righe.some((e) => CHIAVI_STATI.some(([campo]) => typeof e[campo] === 'string')) ? `<p class="piccolo">${NOTA_PROTETTI}</p>` : ''}`;
}

export function graficoStatiPerEnte(perEnte) {
  const righe = perEnte.filter((e) => typeof e.alloggi === 'string' || e.alloggi > 0);
  if (!righe.length) return `<p class="piccolo">${esc(t('Nessun alloggio pubblico.'))}</p>`;
  const conColori = CHIAVI_STATI.every(([, id]) => STATO_PER_ID[id]);
  const protetti = righe.some((e) => ['alloggi', ...CHIAVI_STATI.map(([c]) => c)].some((c) => typeof e[c] === 'string'));
  if (!conColori || protetti) return tabellaStatiPerEnte(righe);
  const max = Math.max(...righe.map((e) => num(e.alloggi)));
  const labW = 150;
  const barW = 130;
  const rh = stato.stampa ? 15 : 20;
  const h = rh * righe.length + 4;
  const barre = righe.map((e, i) => {
    const y = i * rh;
    let x = labW;
    const rett = CHIAVI_STATI.map(([campo, id]) => {
      const v = num(e[campo]);
      if (!v) return '';
      const w = (barW * v) / max;
      const r = `<rect x="${x.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${rh - 6}" fill="${STATO_PER_ID[id].colore}"><title>${esc(e.ente)} – ${esc(STATO_PER_ID[id].label)}: ${v}</title></rect>`;
      x += w;
      return r;
    }).join('');
    const breve = e.ente.replace(/^Comune di /, '');
    const nome = breve.length > 24 ? `${breve.slice(0, 23)}…` : breve;
    return `<text x="${labW - 5}" y="${y + 14}" text-anchor="end">${esc(nome)}</text>${rett}<text x="${(x + 4).toFixed(1)}" y="${y + 14}">${e.alloggi}</text>`;
  }).join('');
  const leg = STATI.map((s) => `<li>${cerchio(s.colore)} ${esc(s.label)}</li>`).join('');
  return `<svg class="grafico" id="grafico-enti" role="img" aria-label="${esc(t('Alloggi per proprietario e stato'))}" viewBox="0 0 ${labW + barW + 30} ${h}" width="100%" font-size="11">${barre}</svg>
    <ul class="motivi legenda-grafico">${leg}</ul>`;
}

export function barraQuota(q, etichetta) {
  const pct = q === null || q === undefined ? 0 : Math.max(0, Math.min(1, q));
  return `<div class="barra-quota" role="img" aria-label="${esc(etichetta)}: ${fmtPercento.format(pct)}">
    <span style="width:${(pct * 100).toFixed(1)}%"></span></div>`;
}

export function riga(etichetta, valore, campo, classe = '') {
  return `<div class="${classe}"><dt>${esc(t(etichetta))}</dt><dd data-campo="${campo}">${esc(valore)}</dd></div>`;
}


// The desk's record beside today's offer: offers received over their period, and how many of
// them are no longer on offer (let at agreed rent, withdrawn).
function storicoSportello(o) {
  if (!o || o.privati_offerti === 0 || o.privati_offerti === undefined) return '';
  const periodo = o.offerte_dal && o.offerte_al
    ? (o.offerte_dal === o.offerte_al ? t(' nel {a}', { a: o.offerte_dal }) : t(' dal {da} al {a}', { da: o.offerte_dal, a: o.offerte_al }))
    : '';
  return `<p class="piccolo" data-campo="storico_sportello">${esc(t('Offerte ricevute dallo sportello{periodo}: {n}, di cui {locate} già locate a canone concordato e {ritirate} ritirate (non più in offerta).', {
    periodo, n: numero(o.privati_offerti), locate: numero(o.privati_locati_concordato), ritirate: numero(o.privati_ritirati),
  }))}</p>`;
}

// Where the map (every public unit) and the plan (SAP units only) give different counts, say
// why, so that "178 occupati" on the map and "174" in the plan do not read as an error.
function notaDifferenzaPiano(a, st) {
  if (typeof a.occupati !== 'number' || typeof st.occupato !== 'number') return '';
  const occ = a.occupati - st.occupato;
  const tot = typeof a.alloggi === 'number' && typeof st.di_proprieta === 'number' ? a.alloggi - st.di_proprieta : 0;
  if (occ <= 0 && tot <= 0) return '';
  return `<p class="piccolo" id="nota-differenza-piano">${esc(t('Sulla mappa {alloggi} alloggi pubblici, di cui {occupati} occupati; nel Piano {sap} SAP, di cui {occ_sap} occupati: la differenza ({tot} alloggi, {occ} occupati) sono alloggi di altri servizi (SAS, altro uso residenziale), che il Piano non conta tra i SAP.', {
    alloggi: numero(a.alloggi), occupati: numero(a.occupati), sap: numero(st.di_proprieta), occ_sap: numero(st.occupato), tot: numero(tot), occ: numero(occ),
  }))}</p>`;
}

export function htmlScheda(d) {
  const a = d.alloggi;
  const comune = d.livello === 'comune';
  const parti = [];
  parti.push(`<p class="piccolo">${esc(t('Situazione al {data}', { data: dataIt(d.data_riferimento) || d.data_riferimento_it }))} · ${esc(t('Piano'))} ${esc(d.anno)}${d.dimostrativo ? ` · <strong>${esc(t('dati dimostrativi'))}</strong>` : ''}</p>`);
  const tasso = typeof a.tasso_inutilizzo === 'number' ? ` (${fmtPercento.format(a.tasso_inutilizzo)})` : '';
  parti.push(`<dl class="totali cifre" id="scheda-cifre">
    ${riga('Abitanti', numero(d.popolazione), 'popolazione')}
    ${riga('Alloggi pubblici', numero(a.alloggi), 'alloggi')}
    ${riga('Inutilizzati', `${numero(a.inutilizzati)}${tasso}`, 'inutilizzati', 'evidenza')}
    ${riga('liberi', numero(a.liberi), 'liberi', 'rientro')}
    ${riga('sfitti per carenze manutentive', numero(a.sfitto_carenze_manutentive), 'sfitto_carenze_manutentive', 'rientro')}
    ${riga('sfitti per ristrutturazione', numero(a.sfitto_ristrutturazione), 'sfitto_ristrutturazione', 'rientro')}
    ${a.sfitti_oltre_24_mesi || typeof a.sfitti_oltre_24_mesi === 'string' ? riga('vuoti da più di 2 anni', numero(a.sfitti_oltre_24_mesi), 'sfitti_oltre_24_mesi', 'rientro') : ''}
    ${riga('Quota di alloggi inutilizzati', formattaMetrica('percentuale', a.tasso_inutilizzo), 'tasso_inutilizzo')}
    ${riga('Alloggi ogni 1.000 abitanti', formattaMetrica('decimale', a.alloggi_per_1000_ab), 'alloggi_per_1000_ab')}
    ${riga('Inutilizzati ogni 1.000 abitanti', formattaMetrica('decimale', a.inutilizzati_per_1000_ab), 'inutilizzati_per_1000_ab')}
    ${comune ? riga("Quota degli inutilizzati dell'Ambito", a.quota_inutilizzati_ambito === null || a.quota_inutilizzati_ambito === undefined ? '–' : fmtPercento.format(a.quota_inutilizzati_ambito), 'quota_inutilizzati_ambito') : ''}
  </dl>`);
  parti.push(`<h3>${esc(t('Alloggi per proprietario e stato'))}</h3>${comune ? `<p class="piccolo">${esc(t('Alloggi che si trovano nel comune, di tutti i proprietari.'))}</p>` : ''}${graficoStatiPerEnte(d.per_ente)}`);

  const pa = d.piano_annuale;
  const st = pa.stato || {};
  parti.push(`<h3>${esc(t('Nel Piano annuale {anno}', { anno: pa.anno }))}${comune ? ` – ${esc(pa.ente)}` : ''}</h3>
    <p class="piccolo">${esc(comune ? t('Alloggi SAP di proprietà del comune (ovunque si trovino), come nel Piano.') : t('Alloggi SAP di tutti i proprietari, come nel Piano.'))}</p>
    <dl class="totali" id="scheda-piano">
      ${riga('Alloggi SAP di proprietà', numero(st.di_proprieta ?? 0), 'di_proprieta')}
      ${riga('occupati', numero(st.occupato ?? 0), 'occupato', 'rientro')}
      ${riga('liberi', numero(st.libero ?? 0), 'libero', 'rientro')}
      ${riga('sfitti per carenze manutentive', numero(st.sfitto_carenze_manutentive ?? 0), 'sfitto_carenze_manutentive', 'rientro')}
      ${riga('sfitti per ristrutturazione', numero(st.sfitto_ristrutturazione ?? 0), 'sfitto_ristrutturazione', 'rientro')}
      ${riga("Disponibili nell'anno", numero(st.disponibili_anno ?? 0), 'disponibili_anno', 'evidenza')}
    </dl>${!comune ? notaDifferenzaPiano(a, st) : ''}`);

  const o = d.offerta;
  if (comune) {
    const qd = o.quota_disponibili_anno !== null && o.quota_disponibili_anno !== undefined ? ` (${fmtPercento.format(o.quota_disponibili_anno)})` : '';
    const qp = o.quota_privati_in_offerta !== null && o.quota_privati_in_offerta !== undefined ? ` (${fmtPercento.format(o.quota_privati_in_offerta)})` : '';
    parti.push(`<h3>${esc(t('Contributo all\'offerta dell\'Ambito'))}</h3>
      ${barraQuota(o.quota_ambito, t('Quota dell\'offerta dell\'Ambito'))}
      <p><strong data-campo="quota_offerta">${o.quota_ambito === null || o.quota_ambito === undefined ? '–' : fmtPercento.format(o.quota_ambito)}</strong> ${esc(t('dell\'offerta dell\'Ambito: {sap} alloggi SAP disponibili nel {anno}{qd} e {priv} alloggi privati ancora in offerta allo sportello{qp}.', { sap: numero(o.disponibili_anno), anno: o.anno, qd, priv: numero(o.privati_in_offerta), qp }))}</p>
      ${storicoSportello(o)}`);
  } else {
    const ord = [...(d.comuni || [])].filter((c) => num(c.offerta.totale) > 0).sort((x, y) => num(y.offerta.totale) - num(x.offerta.totale)).slice(0, 8);
    parti.push(`<h3>${esc(t('Offerta dell\'Ambito: {n} alloggi', { n: numero(o.totale) }))}</h3>
      <p class="piccolo">${esc(t('{sap} alloggi SAP disponibili nel {anno} + {priv} alloggi privati ancora in offerta allo sportello.', { sap: numero(o.disponibili_anno), anno: o.anno, priv: numero(o.privati_in_offerta) }))}</p>
      ${storicoSportello(o)}
      <p class="piccolo">${esc(t('Quota di ciascun comune (per una compensazione tra comuni):'))}</p>
      <ul class="quote" id="quote-comuni">${ord.map((c) => `<li><button type="button" class="collegamento" data-istat="${esc(c.istat)}">${esc(c.nome)}</button>
        ${barraQuota(c.offerta.quota_ambito, c.nome)}<span>${fmtPercento.format(c.offerta.quota_ambito || 0)} (${numero(c.offerta.totale)})</span></li>`).join('')}</ul>`);
  }

  const c = d.candidate;
  parti.push(`<h3>${esc(t('Aree candidate per l\'edilizia sociale'))}</h3>
    ${c.aree ? `<dl class="totali" id="scheda-candidate">
      ${riga('Aree', numero(c.aree), 'candidate_aree')}
      ${riga('Superficie', `${fmtDecimale.format(c.ettari)} ha`, 'candidate_ettari')}
      ${riga('Alloggi stimati', numero(c.alloggi_stimati), 'candidate_alloggi')}
      ${c.per_fonte.map((f) => riga(FONTI[f.fonte] || f.fonte_label, `${numero(f.aree)} · ${fmtDecimale.format(f.ettari)} ha · ${numero(f.alloggi_stimati)} ${t('all.')}`, `fonte_${f.fonte}`, 'rientro')).join('')}
    </dl>` : `<p class="piccolo">${esc(t('Nessuna area candidata.'))}</p>`}`);

  const p = d.privato;
  if (p && (num(p.abitazioni_stimate) > 0 || num(p.privati_offerti) > 0 || typeof p.privati_offerti === 'string')) {
    parti.push(`<h3>${esc(t('Patrimonio privato'))}</h3><dl class="totali">
      ${riga('Abitazioni non occupate (stima)', t('{n} su {tot}', { n: numero(p.abitazioni_non_occupate_stimate), tot: numero(p.abitazioni_stimate) }), 'privato_non_occupate')}
      ${riga('Offerte allo sportello', numero(p.privati_offerti), 'privati_offerti')}
      ${riga('locate a canone concordato', numero(p.privati_locati_concordato), 'privati_locati_concordato', 'rientro')}
    </dl>`);
  }
  const l = d.link;
  parti.push(`<h3>${esc(t('Documenti ed esportazioni'))}</h3><ul class="collegamenti">
    <li><a href="${esc(l.piano_annuale_html)}" target="_blank" rel="noopener">${esc(t('Piano annuale (stampabile, con grafici)'))}</a></li>
    <li><a href="${esc(l.aree_candidate_html)}" target="_blank" rel="noopener">${esc(t('Report delle aree candidate'))}</a></li>
    <li><a href="${esc(l.stampa)}" target="_blank" rel="noopener" id="link-stampa-scheda">${esc(t('Stampa questa scheda con la mappa'))}</a></li>
    <li>${esc(t('Dati'))}: <a href="${esc(l.alloggi_csv)}">${esc(t('alloggi (CSV)'))}</a>, <a href="${esc(l.alloggi_xlsx)}">${esc(t('alloggi (Excel)'))}</a>, <a href="${esc(l.comuni_xlsx)}">${esc(t('comuni (Excel)'))}</a>, <a href="${esc(l.tutto_gpkg)}">${esc(t('tutto (GeoPackage)'))}</a></li>
  </ul>`);
  return parti.join('');
}

export let richiestaScheda = 0;
export async function mostraScheda(istat) {
  const n = ++richiestaScheda;
  stato.schedaIstat = istat;
  const corpo = $('#scheda-corpo');
  let d;
  try {
    if (istat) {
      corpo.setAttribute('aria-busy', 'true');
      d = await getJson(`api/sintesi/comuni/${encodeURIComponent(istat)}`);
    } else {
      d = stato.sintesiAmbito || (stato.sintesiAmbito = await getJson('api/sintesi/ambito'));
    }
  } catch (err) {
    console.error(err);
    if (n === richiestaScheda) corpo.innerHTML = `<p>${esc(t('Impossibile caricare i numeri. Riprova.'))}</p>`;
    return;
  } finally {
    corpo.removeAttribute('aria-busy');
  }
  if (n !== richiestaScheda) return;
  stato.sintesiComune = istat ? d : null;
  if (istat && document.body.classList.contains('senza-scheda')) {
    document.body.classList.remove('senza-scheda');
    $('#btn-mostra-scheda').hidden = true;
    map.resize();
  }
  $('#scheda-titolo').textContent = istat ? d.nome : t('Ambito');
  $('#btn-scheda-ambito').hidden = !istat;
  corpo.innerHTML = htmlScheda(d);
  corpo.dataset.istat = istat || '';
  for (const b of corpo.querySelectorAll('#quote-comuni button')) {
    b.addEventListener('click', () => {
      const f = stato.comuni.features.find((x) => x.properties.istat === b.dataset.istat);
      if (f) vaiA({ tipo: 'comune', feature: f });
    });
  }
  const ls = $('#link-stampa-scheda');
  if (ls) ls.href = `?stampa=${stato.stampa || 'A4'}#${statoUrl().toString()}`;
  if (stato.stampa) {
    riempiPiedeStampa(d);
    adattaPagina();
  }
  scriviUrl();
}
