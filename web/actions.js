// What an SRE does from the incident page: acknowledge, resolve, and silence alerts on one
// of its services for a while (POST /v1/silences; "not available" while the node lacks it).
/* global FormData */
import { post } from './api.js';
import { $, esc, failure, time } from './dom.js';

const DURATIONS = [['1h', 3600_000], ['4h', 4 * 3600_000], ['24h', 24 * 3600_000], ['30m', 30 * 60_000]];

/** `suggested`: the service offered first (the suspected root cause); `metrics`: those its alerts are on;
 * `said`: the last action's message, kept when the incident re-renders (a live update came in). */
export function actionsHtml(incident, { suggested, metrics = [], said = '' } = {}) {
  const services = [...new Set([suggested, ...incident.services].filter(Boolean))];
  return `<div class="actions">
      <button type="button" id="ack" ${incident.status === 'open' ? '' : 'disabled'}>Acknowledge</button>
      <button type="button" id="resolve" ${incident.status === 'resolved' ? 'disabled' : ''}>Resolve</button>
      <button type="button" id="silence-toggle">Silence…</button>
      <span id="action-msg" role="status">${said}</span>
    </div>
    <form class="silence hidden" id="silence">
      <label>service <select name="service">${services.map((s) => `<option>${esc(s)}</option>`).join('')}</select></label>
      <label>metric <select name="metric"><option value="">any</option>${[...new Set(metrics)].map((m) => `<option>${esc(m)}</option>`).join('')}</select></label>
      <label>for <select name="for">${DURATIONS.map(([label]) => `<option>${label}</option>`).join('')}</select></label>
      <label>comment <input name="comment" maxlength="200" placeholder="why"></label>
      <button type="submit">Create silence</button>
    </form>`;
}

/** While the silence form is open, only sets the buttons for `incident`'s status (true); else false (re-render). */
export function syncActions(root, incident) {
  const form = $('#silence', root);
  if (!form || form.classList.contains('hidden')) return false;
  $('#ack', root).disabled = incident.status !== 'open';
  $('#resolve', root).disabled = incident.status === 'resolved';
  return true;
}

/** Wires the buttons; `changed(incident)` gets the incident as the API returns it after a change. */
export function wireActions(root, incident, changed) {
  const msg = $('#action-msg', root);
  const act = async (verb) => {
    msg.innerHTML = '';
    try {
      changed(await post(`/v1/incidents/${encodeURIComponent(incident.id)}/${verb}`));
    } catch (e) {
      msg.innerHTML = failure(verb, e);
    }
  };
  $('#ack', root).onclick = () => act('ack');
  $('#resolve', root).onclick = () => act('resolve');
  const form = $('#silence', root);
  $('#silence-toggle', root).onclick = () => form.classList.toggle('hidden');
  form.onsubmit = async (ev) => {
    ev.preventDefault();
    const f = new FormData(form);
    const forMs = DURATIONS.find(([label]) => label === f.get('for'))[1];
    // an alert's labels: its series' labels plus service, alertname (the metric) and severity
    const matchers = [{ name: 'service', value: f.get('service'), isRegex: false, isEqual: true }];
    if (f.get('metric')) matchers.push({ name: 'alertname', value: f.get('metric'), isRegex: false, isEqual: true });
    // starts now on the node's clock; createdBy left to the node (the caller's key, as in the audit log)
    const endsAt = Date.now() + forMs;
    try {
      const s = await post('/v1/silences', { matchers, endsAt, comment: f.get('comment') || `from incident ${incident.id}` });
      msg.innerHTML = `<span data-state="silenced">silenced ${esc(f.get('service'))}${f.get('metric') ? ` ${esc(f.get('metric'))}` : ''} until ${time(s.endsAt ?? endsAt)}${s.id ? ` (${esc(s.id)})` : ''}</span>`;
      form.classList.add('hidden');
    } catch (e) {
      msg.innerHTML = failure('silence', e);
    }
  };
}
