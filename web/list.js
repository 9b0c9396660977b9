// The incident list: filters by status and opening time (kept in the URL, so a filtered
// list can be bookmarked), pages with the API's cursors, and acknowledges or resolves
// in place. Beside it, the tenant's newest anomalies.
/* global location, setTimeout, clearTimeout, FormData */
import { api, post, qs } from './api.js';
import { $, esc, failure, num, time, when } from './dom.js';

const STATUSES = ['open', 'acknowledged', 'resolved'];
const PAGE_SIZES = [10, 20, 50];

/** 10, 20 or 50 from the form; any 1..100 from a hand-written URL (`#/?limit=5`). */
function pageSize(raw) {
  const n = Number(raw);
  return Number.isInteger(n) && n >= 1 && n <= 100 ? n : 20;
}

/** datetime-local text (the browser's local time) <-> Unix ms */
const toMs = (local) => (local ? new Date(local).getTime() : undefined);

export function listView(root, params) {
  const filter = {
    status: STATUSES.includes(params.get('status')) ? params.get('status') : '',
    from: params.get('from') ?? '',
    to: params.get('to') ?? '',
    limit: pageSize(params.get('limit')),
  };
  const cursors = [undefined]; // cursors[i] opens page i
  let page = 0;
  let next;
  let pending;
  let disposed = false;

  const options = (values, current, label = (v) => v) => values.map((v) => `<option value="${esc(v)}"${String(v) === String(current) ? ' selected' : ''}>${esc(label(v))}</option>`).join('');
  root.innerHTML = `
    <section class="panel" id="incidents-panel">
      <h2>Incidents</h2>
      <form class="filters" id="filters">
        <label>status <select name="status">${options(['', ...STATUSES], filter.status, (v) => v || 'any')}</select></label>
        <label>opened from <input type="datetime-local" name="from" value="${esc(filter.from)}"></label>
        <label>opened until <input type="datetime-local" name="to" value="${esc(filter.to)}"></label>
        <label>per page <select name="limit">${options([...new Set([...PAGE_SIZES, filter.limit])].sort((a, b) => a - b), filter.limit)}</select></label>
        <button type="button" id="clear">clear</button>
      </form>
      <ul class="incidents" id="incidents"><li class="dim" data-state="loading">loading…</li></ul>
      <div class="pager"><button type="button" id="prev">‹ newer</button><span id="page" class="dim"></span><button type="button" id="next">older ›</button></div>
    </section>
    <section class="panel" id="anomalies-panel">
      <h2>Recent anomalies</h2>
      <table><thead><tr><th>time</th><th>series</th><th>value / expected</th><th>score</th></tr></thead><tbody id="anomalies"></tbody></table>
    </section>`;

  const form = $('#filters', root);
  form.addEventListener('change', () => {
    const f = new FormData(form);
    location.hash = `#/${qs({ status: f.get('status'), from: f.get('from'), to: f.get('to'), limit: f.get('limit') === '20' ? '' : f.get('limit') })}`;
  });
  $('#clear', root).onclick = () => { location.hash = '#/'; };
  $('#prev', root).onclick = () => { if (page > 0) { page -= 1; load(); } };
  $('#next', root).onclick = () => { if (next) { cursors[page + 1] = next; page += 1; load(); } };
  $('#incidents', root).addEventListener('click', async (ev) => {
    const b = ev.target.closest('button[data-act]');
    if (!b) return;
    b.disabled = true;
    try {
      await post(`/v1/incidents/${encodeURIComponent(b.dataset.id)}/${b.dataset.act}`);
    } catch (e) {
      b.insertAdjacentHTML('afterend', `<span class="err">${esc(e.message)}</span>`);
    }
    load();
  });

  async function load() {
    const list = $('#incidents', root);
    let body;
    try {
      if (filter.from && filter.to && toMs(filter.from) > toMs(filter.to)) throw new Error('"opened from" is after "opened until"');
      body = await api(`/v1/incidents${qs({ status: filter.status, from: toMs(filter.from), to: toMs(filter.to), limit: filter.limit, cursor: cursors[page] })}`);
    } catch (e) {
      if (!disposed) list.innerHTML = `<li>${failure('incidents', e)}</li>`;
      return;
    }
    if (disposed) return;
    next = body.next;
    list.innerHTML = body.incidents.length === 0
      ? '<li class="dim" data-state="empty">No incidents match.</li>'
      : body.incidents.map(row).join('');
    $('#prev', root).disabled = page === 0;
    $('#next', root).disabled = !next;
    $('#page', root).textContent = `page ${page + 1}`;
  }

  async function loadAnomalies() {
    const tbody = $('#anomalies', root);
    try {
      const { anomalies } = await api('/v1/anomalies?limit=20');
      if (disposed) return;
      tbody.innerHTML = anomalies.map((a) => `<tr><td>${when(a.timestamp)}</td><td>${esc(a.service)} ${esc(a.metric)}</td>
        <td>${num(a.value)} / ${num(a.expected)}</td><td>${num(a.score, 3)}</td></tr>`).join('')
        || '<tr><td colspan="4" class="dim">none yet</td></tr>';
    } catch (e) {
      if (!disposed) tbody.innerHTML = `<tr><td colspan="4">${failure('anomalies', e)}</td></tr>`;
    }
  }

  load();
  loadAnomalies();
  return {
    // events come in bursts: one reload per burst
    onEvent(ev) {
      if (ev.type !== 'incident' && ev.type !== 'anomaly') return;
      clearTimeout(pending);
      pending = setTimeout(() => { load(); loadAnomalies(); }, 500);
    },
    dispose() { disposed = true; clearTimeout(pending); },
  };
}

function row(i) {
  const id = esc(i.id);
  return `<li data-id="${id}" data-status="${esc(i.status)}">
    <span class="status ${esc(i.status)}">${esc(i.status)}</span>
    <a class="title" href="#/incident/${encodeURIComponent(i.id)}">${esc(i.title)}</a>
    <span class="acts">
      ${i.status === 'open' ? `<button type="button" data-act="ack" data-id="${id}">ack</button>` : ''}
      ${i.status !== 'resolved' ? `<button type="button" data-act="resolve" data-id="${id}">resolve</button>` : ''}
    </span>
    <span class="meta">${i.services.map(esc).join(', ')} · opened ${time(i.openedAt)} · ${i.alertIds.length} alert${i.alertIds.length === 1 ? '' : 's'} · peak ${num(i.peakScore, 3)}</span>
  </li>`;
}
