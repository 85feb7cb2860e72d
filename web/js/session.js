// Who is looking at the map (/api/sessione): the audience decides what the page asks for
// (the public gets no individual units) and the header shows the login state.
//   pubblico: no login; tavolo: roles tavolo and ente; ufficio: role ufficio.
// Links are relative, like every request of the page; logging out is a plain form (POST
// uscita), as the CSP allows no inline script.
import { esc } from './format.js';
import { t } from './i18n.js';
import { $, getJson } from './util.js';

// The session as the server describes it; without an answer, the public without accounts.
export async function caricaSessione() {
  try {
    return await getJson('api/sessione');
  } catch (err) {
    console.warn('Sessione non disponibile:', err);
    return { account_attivi: false, utente: null, ruolo: null, ruolo_label: null, pubblico: 'pubblico', via: null };
  }
}

// Whether the caller may see the individual public units (the server decides; this only
// avoids asking for what would be refused).
export function vedeAlloggi(s) {
  return !!s && s.pubblico !== 'pubblico';
}

// The header: "Accedi" for the public when the server has accounts; the user, a link to the
// personal tokens and the logout button once signed in.
export function mostraSessione(s) {
  const box = $('#sessione');
  if (!box || !s) return;
  document.body.dataset.pubblico = s.pubblico || 'pubblico';
  if (!s.account_attivi) {
    box.hidden = true;
    box.innerHTML = '';
    return;
  }
  box.hidden = false;
  if (!s.utente) {
    box.innerHTML = `<a id="link-accesso" class="pulsante" href="accesso">${esc(t('Accedi'))}</a>`;
    return;
  }
  const ruolo = s.ruolo_label ? ` (${t(s.ruolo_label)})` : '';
  const ente = s.ente ? `<span class="piccolo"> · ${esc(s.ente)}</span>` : '';
  // With a token (Authorization header) there is no session to close from here.
  const uscita = s.via === 'token' ? '' : `<form method="post" action="uscita" class="form-uscita">
      <button type="submit" id="btn-uscita" class="pulsante secondario">${esc(t('Esci'))}</button></form>`;
  box.innerHTML = `<span id="utente-attivo" class="utente-attivo"><span class="visually-hidden">${esc(t('Accesso come'))} </span><strong>${esc(s.utente)}</strong>${esc(ruolo)}${ente}</span>
    <a id="link-token" class="pulsante secondario" href="account">Token</a>${uscita}`;
}
