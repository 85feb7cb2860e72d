// Legend (always consistent with what is visible). Colours, thresholds and class labels come
// from /style.json (palette.js); only the texts that explain the map are written here.
import { comuniProtetti, etichettaClasse, METRICHE, valoriMetrica } from './choropleth.js';
import { filtriAttivi, passaCandidata, passaFiltro } from './filters.js';
import { esc, fmtDecimale, fmtPercento, mesi, numero } from './format.js';
import { t } from './i18n.js';
import { map } from './map.js';
import {
  COLORE_ESCLUSE, COLORE_OFFERTI, COLORE_PRIVATI_IGNOTO, COLORE_PROTETTO, COLORE_VINCOLI, GRIGIO_NESSUNO, PGT_ALTRO, PGT_CLASSI, PURPLES,
  rgba, SOGLIE_PRIVATO, SOGLIE_PUNTEGGIO, STATI, STATI_PRIVATI, VIRIDIS, YLORRD, ZOOM_FOGLI, ZOOM_PARTICELLE,
} from './palette.js';
import { nomeComune } from './panel.js';
import { adattaPagina } from './print.js';
import { stato } from './state.js';
import { $ } from './util.js';

function voceLegenda(simbolo, testo, extra = '') {
  return `<li>${simbolo}<span>${testo}${extra ? ` <span class="piccolo">${extra}</span>` : ''}</span></li>`;
}
export const quadrato = (colore, classe = '') => `<span class="simbolo quadrato ${classe}" style="background:${colore}" aria-hidden="true"></span>`;
export const cerchio = (colore) => `<span class="simbolo cerchio" style="background:${colore}" aria-hidden="true"></span>`;

export function aggiornaLegenda() {
  if (!stato.comuni) return;
  const m = METRICHE[stato.metrica];
  const parti = [];

  // Comuni
  const { soglie, max } = stato.classi || {};
  const voci = [];
  if (soglie && soglie.length) {
    const conteggi = new Array(soglie.length).fill(0);
    for (const v of valoriMetrica(stato.metrica)) {
      let i = 0;
      while (i + 1 < soglie.length && v >= soglie[i + 1] - 1e-9) i++;
      conteggi[i]++;
    }
    for (let i = 0; i < soglie.length; i++) {
      const ultima = i === soglie.length - 1;
      const et = etichettaClasse(m.tipo, soglie[i], ultima ? null : soglie[i + 1], ultima, max);
      voci.push(voceLegenda(quadrato(YLORRD[i]), esc(et), `(${conteggi[i]} ${conteggi[i] === 1 ? t('comune') : t('comuni')})`));
    }
  }
  const nProtetti = comuniProtetti(stato.metrica);
  const nNessuno = stato.comuni.features.length - valoriMetrica(stato.metrica).length - nProtetti;
  if (nNessuno > 0) voci.push(voceLegenda(quadrato(GRIGIO_NESSUNO), esc(m.nessuno), `(${nNessuno})`));
  if (nProtetti > 0) {
    voci.push(`<li class="voce-protetta">${quadrato(COLORE_PROTETTO)}<span>${esc(t('meno di 3 (dato non pubblicato)'))} <span class="piccolo">(${nProtetti} ${nProtetti === 1 ? t('comune') : t('comuni')})</span></span></li>`);
  }
  parti.push(`<h3>${esc(t('Comuni'))}: ${esc(m.titolo.toLowerCase())}</h3><p class="piccolo">${esc(m.nota)}</p><ul class="voci">${voci.join('')}</ul>`);
  if (map.getLayer('confinanti-fill')) {
    // The neighbours' grey is the style's (a square of its own class: not a comuni class).
    const grigio = map.getPaintProperty('confinanti-fill', 'fill-color');
    parti.push(`<ul class="voci">${voceLegenda(`<span class="simbolo contesto" style="background:${esc(grigio)}" aria-hidden="true"></span>`, esc(t('Comuni confinanti (fuori dall\'Ambito)')))}</ul>`);
  }

  // Public units
  if (map.getLayer('alloggi') && map.getLayoutProperty('alloggi', 'visibility') !== 'none') {
    const solo = $('#chk-solo-inutilizzati').checked;
    const fa = filtriAttivi();
    const conteggi = {};
    for (const f of stato.alloggi.features) {
      if (passaFiltro(f.properties)) conteggi[f.properties.stato] = (conteggi[f.properties.stato] || 0) + 1;
    }
    const vociA = STATI.filter((s) => fa.stati.includes(s.id))
      .map((s) => voceLegenda(cerchio(s.colore), esc(s.label), `(${numero(conteggi[s.id] || 0)})`));
    const descr = [];
    if (fa.ente) descr.push(`${t('proprietario')}: ${fa.ente}`);
    if (fa.comune) descr.push(`${t('comune')}: ${nomeComune(fa.comune)}`);
    if (fa.mesi) descr.push(t('vuoti da almeno {m}', { m: mesi(fa.mesi) }));
    if (descr.length) vociA.push(`<li class="piccolo filtro-legenda">${esc(t('Filtro'))}: ${esc(descr.join('; '))}</li>`);
    const senzaPosizione = stato.alloggi.features.filter((f) => !f.geometry).length;
    if (senzaPosizione > 0) {
      vociA.push(`<li class="piccolo">${esc(t(senzaPosizione === 1 ? '{n} alloggio senza posizione: contato nei totali, non disegnato.' : '{n} alloggi senza posizione: contati nei totali, non disegnati.', { n: numero(senzaPosizione) }))}</li>`);
    }
    parti.push(`<h3>${esc(t('Alloggi pubblici, per stato'))}${solo ? ` ${esc(t('(solo inutilizzati)'))}` : ''}${fa.tutti ? '' : ` – ${esc(t('filtrati'))}`}</h3>
      <p class="piccolo">${esc(t('Un punto per alloggio; più alloggi nello stesso edificio si sovrappongono (clicca per l\'elenco).'))}</p>
      <ul class="voci">${vociA.join('')}</ul>`);
  }

  // Offered private units (per comune)
  if ($('#chk-offerti').checked) {
    const valori = stato.comuni.features.map((f) => f.properties.privati_offerti).filter((v) => typeof v === 'number' && v > 0);
    const max = valori.length ? Math.max(...valori) : 0;
    const esempi = [...new Set([1, Math.round(max / 2), max].filter((v) => v > 0))];
    const vociO = esempi.map((v) => {
      const d = 2 * 4 * Math.sqrt(v);
      return voceLegenda(`<span class="simbolo cerchio-offerti" style="width:${d}px;height:${d}px;background:${COLORE_OFFERTI}" aria-hidden="true"></span>`, esc(`${numero(v)} ${v === 1 ? t('alloggio offerto') : t('alloggi offerti')}`));
    });
    parti.push(`<h3>${esc(t('Alloggi privati offerti allo sportello'))}</h3>
      <p class="piccolo">${esc(t('Un cerchio per comune, area proporzionale al numero. Solo dati aggregati.'))}</p>
      ${vociO.length ? `<ul class="voci">${vociO.join('')}</ul>` : `<p class="piccolo">${esc(t('Nessun alloggio offerto.'))}</p>`}`);
  }

  // Individual private units offered (only the office's style has them)
  if (map.getLayer('alloggi-privati') && $('#chk-alloggi-privati').checked) {
    const vociP = STATI_PRIVATI.map((s) => voceLegenda(cerchio(s.colore), esc(s.label)));
    if (COLORE_PRIVATI_IGNOTO) vociP.push(voceLegenda(cerchio(COLORE_PRIVATI_IGNOTO), esc(t('Stato non indicato'))));
    parti.push(`<h3>${esc(t('Singoli alloggi privati offerti (riservato all\'ufficio)'))}</h3>
      <p class="piccolo">${esc(t('Un punto per alloggio, per stato dell\'offerta. Clicca per i dati dell\'alloggio.'))}</p>
      <ul class="voci">${vociP.join('')}</ul>`);
  }

  // Candidate areas
  if ($('#chk-candidate').checked) {
    const feats = stato.candidate ? stato.candidate.features.filter((f) => passaCandidata(f.properties)) : [];
    const conteggi = new Array(VIRIDIS.length).fill(0);
    for (const f of feats) {
      let i = 0;
      while (i + 1 < SOGLIE_PUNTEGGIO.length && (f.properties.punteggio ?? 0) >= SOGLIE_PUNTEGGIO[i + 1]) i++;
      conteggi[i]++;
    }
    const vociC = VIRIDIS.map((c, i) => ({ c, i })).filter(({ i }) => i + 1 >= SOGLIE_PUNTEGGIO.length || SOGLIE_PUNTEGGIO[i + 1] > stato.punteggioMin).map(({ c, i }) => {
      const da = Math.max(SOGLIE_PUNTEGGIO[i], stato.punteggioMin);
      const et = i === VIRIDIS.length - 1 ? t('punteggio {da} e oltre', { da }) : t('punteggio da {da} a meno di {a}', { da, a: SOGLIE_PUNTEGGIO[i + 1] });
      return { vuota: stato.candidate && conteggi[i] === 0, html: voceLegenda(quadrato(c), esc(et), stato.candidate ? `(${conteggi[i]} ${conteggi[i] === 1 ? t('area') : t('aree')})` : '') };
    }).filter((v) => !v.vuota).map((v) => v.html);
    const ha = feats.reduce((a, f) => a + (f.properties.area_ha || 0), 0);
    const al = feats.reduce((a, f) => a + (f.properties.alloggi_stimati || 0), 0);
    parti.push(`<h3>${esc(t('Aree candidate per l\'edilizia sociale'))}</h3>
      <p class="piccolo">${esc(t('Colore secondo il punteggio (0–100): più scuro = più adatta; da lontano un quadrato per area.'))} ${stato.candidate ? esc(t('{n} aree, {ha} ha, circa {al} alloggi.', { n: numero(feats.length), ha: fmtDecimale.format(ha), al: numero(al) })) : ''}</p>
      ${vociC.length ? `<ul class="voci">${vociC.join('')}</ul>` : `<p class="piccolo">${esc(t('Nessuna area con questi filtri.'))}</p>`}`);
  }
  if (stato.esclusePresenti && $('#chk-escluse').checked) {
    parti.push(`<h3>${esc(t('Aree escluse'))}</h3><ul class="voci">${voceLegenda(`<span class="simbolo quadrato retino-escluse" style="--velo:${rgba(COLORE_ESCLUSE, 0.25)}" aria-hidden="true"></span>`, esc(t('Area esclusa per intero')), esc(t('(clicca per il motivo)')))}</ul>`);
  }

  // PGT services
  if ($('#chk-servizi').checked) {
    const nota = map.getZoom() < 12 ? `<p class="piccolo">${esc(t('Aree piccole: si vedono avvicinandosi.'))}</p>` : '';
    parti.push(`<h3>${esc(t('Servizi del PGT'))}</h3>${nota}<ul class="voci">${voceLegenda(quadrato(PGT_CLASSI.servizi_esistenti.colore), esc(PGT_CLASSI.servizi_esistenti.label))}${voceLegenda(quadrato(PGT_CLASSI.servizi_previsti.colore), esc(PGT_CLASSI.servizi_previsti.label))}</ul>`);
  }

  // Private stock (estimates per area)
  if ($('#chk-privato').checked) {
    const conteggi = new Array(PURPLES.length).fill(0);
    for (const p of stato.privatoAree) {
      const q = p.quota_non_occupate;
      if (q === null || q === undefined) continue;
      let i = 0;
      while (i + 1 < SOGLIE_PRIVATO.length && q >= SOGLIE_PRIVATO[i + 1]) i++;
      conteggi[i]++;
    }
    const vociV = PURPLES.map((c, i) => {
      const da = fmtPercento.format(SOGLIE_PRIVATO[i]);
      const et = i === PURPLES.length - 1 ? t('{da} e oltre', { da }) : t('da {da} a meno di {a}', { da, a: fmtPercento.format(SOGLIE_PRIVATO[i + 1]) });
      return voceLegenda(quadrato(c), esc(et), `(${conteggi[i]} ${conteggi[i] === 1 ? t('area') : t('aree')})`);
    });
    parti.push(`<h3>${esc(t('Abitazioni private non occupate (stima)'))}</h3>
      <p class="piccolo">${esc(t('Quota di abitazioni non occupate per area (es. sezione di censimento). Dati aggregati.'))}</p>
      <ul class="voci">${vociV.join('')}</ul>`);
  }

  // PGT zones
  if ($('#chk-pgt').checked) {
    const classi = [...stato.pgtClassiViste];
    const vociP = Object.entries(PGT_CLASSI)
      .filter(([k]) => classi.includes(k))
      .map(([, v]) => voceLegenda(quadrato(v.colore, 'trasparente'), esc(v.label)));
    if (classi.some((k) => !PGT_CLASSI[k])) vociP.push(voceLegenda(quadrato(PGT_ALTRO, 'trasparente'), esc(t('Altre zone'))));
    parti.push(`<h3>${esc(t('Zone del PGT'))}</h3>${vociP.length ? `<ul class="voci">${vociP.join('')}</ul>` : `<p class="piccolo">${esc(t('Nessuna zona nell\'area visibile.'))}</p>`}
`);
  }

  // Constraints
  if ($('#chk-vincoli').checked) {
    parti.push(`<h3>${esc(t('Vincoli'))}</h3><ul class="voci">${voceLegenda(`<span class="simbolo quadrato retino" style="--tratto:${rgba(COLORE_VINCOLI, 0.85)};--colore:${COLORE_VINCOLI}" aria-hidden="true"></span>`, esc(t('Area vincolata')), esc(t('(clicca per il nome)')))}</ul>`);
  }

  // Cadastre
  if ($('#chk-catasto').checked) {
    const z = map.getZoom();
    const vociC = [
      voceLegenda('<span class="simbolo linea tratteggiata" aria-hidden="true"></span>', esc(t('Foglio catastale')), z < ZOOM_FOGLI ? esc(t('(visibile avvicinandosi)')) : ''),
      voceLegenda('<span class="simbolo linea" aria-hidden="true"></span>', esc(t('Particella catastale')), z < ZOOM_PARTICELLE ? esc(t('(visibile avvicinandosi di più)')) : ''),
    ];
    parti.push(`<h3>${esc(t('Catasto'))}</h3><ul class="voci">${vociC.join('')}</ul>`);
  }

  $('#legenda').innerHTML = parti.join('');
  adattaPagina();
}
