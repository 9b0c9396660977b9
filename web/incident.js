// The incident page: the likely cause (the RCA ranking with its evidence), where it sits
// (the topology around the incident, the suspected root cause marked), how each involved
// series moved (plots), and the alerts in time order; acknowledge, resolve and silence at
// the top. Live events refresh it: status at once, the rest at most every 10 s.
/* global setTimeout, clearTimeout */
import { api, qs } from './api.js';
import { $, clock, esc, failure, num, span, time } from './dom.js';
import { actionsHtml, syncActions, wireActions } from './actions.js';
import { ranked, rcaHtml, rootCause } from './rca.js';
import { graphSvg } from './graph.js';
import { renderPlots } from './plots.js';

const MAX_ALERT_PAGES = 10;
const MAX_PLOTS = 12;
const RELOAD_MS = 10_000;
const RCA_POLL_MS = 5_000;

/** Pages of /v1/alerts with `params`, each alert that `keep` accepts into `found`, until `done`. */
async function collectAlerts(params, keep, found, done) {
  let cursor;
  for (let i = 0; i < MAX_ALERT_PAGES; i++) {
    const page = await api(`/v1/alerts${qs({ ...params, limit: 1000, cursor })}`);
    for (const a of page.alerts) if (keep(a)) found.set(a.id, a);
    cursor = page.next;
    if (!cursor || done()) break;
  }
}

/**
 * The incident's alerts, oldest first: /v1/alerts?incident=<id>; then, if the incident lists
 * alerts stored under another id (or the node has no such filter), its time span, kept by id.
 */
async function incidentAlerts(incident) {
  const want = new Set(incident.alertIds);
  const found = new Map();
  const done = () => [...want].every((id) => found.has(id));
  await collectAlerts({ incident: incident.id }, () => true, found, () => false).catch(() => undefined);
  if (!done()) {
    const to = incident.resolvedAt ? incident.resolvedAt + 60_000 : undefined;
    await collectAlerts({ from: incident.openedAt - 60_000, to }, (a) => a.incidentId === incident.id || want.has(a.id), found, done);
  }
  return [...found.values()].sort((a, b) => a.timestamp - b.timestamp || a.service.localeCompare(b.service));
}

/** Series to plot: the root cause's evidence first, then every alerted series, then the next causes' evidence. */
function involvedSeries(alerts, rca) {
  const out = new Map();
  const add = (service, metric, why) => { if (!out.has(`${service}\n${metric}`)) out.set(`${service}\n${metric}`, { service, metric, why }); };
  const causes = rca?.causes ?? [];
  for (const c of causes.filter((c) => c.rank === 1)) for (const e of c.evidence ?? []) add(c.service, e.metric, 'suspected root cause');
  for (const a of alerts) add(a.service, a.metric, 'alert');
  for (const c of causes.filter((c) => c.rank > 1 && c.rank <= 3)) for (const e of c.evidence ?? []) add(c.service, e.metric, `cause #${c.rank}`);
  return [...out.values()].slice(0, MAX_PLOTS);
}

const labelsText = (labels) => Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).join(' ');

function alertsHtml(alerts) {
  if (alerts.length === 0) return '<li class="na" data-state="empty">No alerts found for this incident.</li>';
  return alerts.map((a) => `<li data-alert="${esc(a.id)}" data-service="${esc(a.service)}" data-ts="${a.timestamp}">
    <span>${clock(a.timestamp)}</span>
    <span><b>${esc(a.service)}</b> ${esc(a.metric)} <span class="dim">${esc(labelsText(a.labels))}</span></span>
    <span class="${esc(a.severity)}">${esc(a.severity)} ${num(a.score, 3)}</span></li>`).join('');
}

/** The action buttons' HTML each #actions element shows. */
const drawn = new WeakMap();

export function incidentView(root, id) {
  let incident;
  let alerts = [];
  let rca;
  let rcaError;
  let topology;
  let topologyError;
  let plots;
  let timer;
  let rcaTimer;
  let lastDeep = 0;
  let disposed = false;

  root.innerHTML = `
    <section class="panel wide summary" id="summary"><p class="dim">loading incident ${esc(id)}…</p></section>
    <section class="panel" id="rca-panel"><h2>Likely root cause</h2><div id="rca" class="dim">loading…</div></section>
    <section class="panel graph" id="graph-panel"><h2>Topology</h2><div id="graph" class="dim">loading…</div>
      <div class="legend"><span><i style="background:#4a1f1f;border-color:#e5534b"></i>suspected root cause</span>
      <span><i style="background:#4a3a1a;border-color:#d29922"></i>alerting</span><span><i style="background:#2d3640;border-color:#45505c"></i>other</span>
      <span>arrows: caller → dependency</span></div></section>
    <section class="panel wide" id="plots-panel"><h2>Series</h2><div class="plots" id="plots"></div></section>
    <section class="panel wide" id="alerts-panel"><h2>Alerts <small id="alert-count" class="dim"></small></h2><ol class="alerts" id="alerts"></ol></section>`;

  function renderSummary() {
    const el = $('#summary', root);
    const i = incident;
    const end = i.resolvedAt ?? Date.now();
    el.dataset.status = i.status;
    if (!$('#facts', el)) el.innerHTML = '<p class="dim"><a href="#/">‹ incidents</a></p><div id="facts"></div><div id="actions"></div>';
    $('#facts', el).innerHTML = `<h2>${esc(i.title)}</h2>
      <div class="facts"><span class="status ${esc(i.status)}" id="status">${esc(i.status)}</span>
        <span>opened <b>${time(i.openedAt)}</b></span><span>for <b>${span(end - i.openedAt)}</b></span>
        ${i.acknowledgedAt ? `<span>acknowledged <b>${time(i.acknowledgedAt)}</b></span>` : ''}
        ${i.resolvedAt ? `<span>resolved <b>${time(i.resolvedAt)}</b></span>` : ''}
        <span>services <b>${i.services.map(esc).join(', ')}</b></span>
        <span><b>${i.alertIds.length}</b> alerts</span><span>peak score <b>${num(i.peakScore, 3)}</b></span>
        <span class="dim">${esc(i.id)}</span></div>`;
    const actions = $('#actions', el);
    // an open silence form keeps what the user typed: only the buttons follow the status then
    if (syncActions(actions, i)) return;
    // what the last action said stays: a live update right after a silence must not wipe its answer
    const said = $('#action-msg', actions)?.innerHTML ?? '';
    const html = actionsHtml(i, { suggested: rootCause(rca), metrics: alerts.map((a) => a.metric), said });
    // the same buttons stay the same nodes: a click whose press and release straddle a
    // replacement is lost (a CI run's click on 'Silence…' was, under a stream of updates)
    // (kept per element: a rebuilt panel's new, empty #actions has drawn nothing yet)
    if (drawn.get(actions) === html) return;
    drawn.set(actions, html);
    actions.innerHTML = html;
    wireActions(actions, i, (changed) => { incident = changed; renderSummary(); });
  }

  function renderRca() {
    $('#rca', root).innerHTML = rca ? rcaHtml(rca) : failure('Root-cause ranking', rcaError);
  }

  function renderGraph() {
    const el = $('#graph', root);
    if (!topology) { el.innerHTML = failure('Topology', topologyError); return; }
    const root1 = rootCause(rca);
    const ranks = new Map((rca?.causes ?? []).map((c) => [c.service, c.rank]));
    const alerting = new Set(incident.services);
    const focus = [...new Set([...incident.services, ...ranks.keys()])];
    const svg = graphSvg(topology, {
      focus, esc,
      role: (n) => (n === root1 ? 'root' : alerting.has(n) ? 'alerting' : ''),
      tag: (n) => (n === root1 ? 'root cause #1' : ranks.has(n) ? `#${ranks.get(n)}${alerting.has(n) ? ' · alerting' : ''}` : alerting.has(n) ? 'alerting' : ''),
    });
    el.classList.remove('dim');
    el.innerHTML = (svg || '<p class="na" data-state="empty">None of the incident\'s services is in the topology.</p>')
      + (ranked(rca) ? '' : `<p class="na">No root cause marked: ${rca ? 'not ranked yet' : 'the ranking is not available'}.</p>`);
  }

  async function deep() {
    timer = undefined;
    lastDeep = Date.now();
    const [a, r, t] = await Promise.allSettled([incidentAlerts(incident), api(`/v1/incidents/${encodeURIComponent(id)}/rca`), api('/v1/topology')]);
    if (disposed) return;
    if (a.status === 'fulfilled') alerts = a.value;
    $('#alerts', root).innerHTML = a.status === 'fulfilled' ? alertsHtml(alerts) : `<li>${failure('alerts', a.reason)}</li>`;
    $('#alert-count', root).textContent = `${alerts.length} of ${incident.alertIds.length}, oldest first`;
    [rca, rcaError] = r.status === 'fulfilled' ? [r.value, undefined] : [undefined, r.reason];
    [topology, topologyError] = t.status === 'fulfilled' ? [t.value, undefined] : [undefined, t.reason];
    renderRca();
    renderGraph();
    renderSummary(); // the silence form offers the root cause first
    if (rca && !ranked(rca)) pollRca();
    const next = await renderPlots($('#plots', root), incident, involvedSeries(alerts, rca), Date.now());
    plots?.destroy();
    plots = next;
    if (disposed) plots.destroy();
  }

  // the 'rca' live event brings the ranking; asking again covers one sent before this page listened
  function pollRca() {
    clearTimeout(rcaTimer);
    rcaTimer = setTimeout(async () => {
      if (disposed || ranked(rca)) return;
      try {
        const r = await api(`/v1/incidents/${encodeURIComponent(id)}/rca`);
        if (disposed || ranked(rca)) return;
        rca = r;
      } catch {
        return;
      }
      renderRca();
      renderGraph();
      if (ranked(rca)) schedule(); else pollRca();
    }, RCA_POLL_MS);
  }

  function schedule() {
    if (timer || disposed) return;
    timer = setTimeout(() => deep().catch(() => {}), Math.max(0, lastDeep + RELOAD_MS - Date.now()) + 300);
  }

  api(`/v1/incidents/${encodeURIComponent(id)}`).then((i) => {
    if (disposed) return;
    incident = i;
    renderSummary();
    return deep();
  }).catch((e) => { $('#summary', root).innerHTML = `<p><a href="#/">‹ incidents</a></p>${failure(`Incident ${id}`, e)}`; });

  return {
    onEvent(ev) {
      if (!incident) return;
      if (ev.type === 'incident' && ev.data.id === id) {
        const grew = ev.data.alertIds.length !== incident.alertIds.length;
        incident = ev.data;
        renderSummary();
        if (grew) schedule();
      } else if (ev.type === 'alert' && ev.data.incidentId === id) {
        schedule();
      } else if (ev.type === 'rca' && ev.data.incidentId === id) {
        const first = !ranked(rca);
        rca = ev.data;
        renderRca();
        renderGraph();
        if (first) schedule(); // the root cause's series join the plots
      }
    },
    dispose() { disposed = true; clearTimeout(timer); clearTimeout(rcaTimer); plots?.destroy(); },
  };
}
