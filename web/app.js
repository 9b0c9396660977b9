// Entry: the API key (asked once, kept in localStorage; `#key=...` opens it directly), the
// route in the URL's hash (`#/` the incident list, `#/incident/<id>` one incident) and the
// live stream, whose events go to the view on screen.
/* global URLSearchParams, location, history, WebSocket, setTimeout, clearTimeout, window */
import { api, getKey, setKey } from './api.js';
import { $ } from './dom.js';
import { listView } from './list.js';
import { incidentView } from './incident.js';

let view;
let socket;
let reconnect;

function route() {
  view?.dispose();
  const hash = location.hash.slice(1);
  const [path, query = ''] = hash.split('?');
  const m = /^\/incident\/(.+)$/.exec(path);
  view = m ? incidentView($('#view'), decodeURIComponent(m[1])) : listView($('#view'), new URLSearchParams(query));
}

function follow() {
  clearTimeout(reconnect);
  socket?.close();
  const s = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/v1/stream?api_key=${encodeURIComponent(getKey())}`);
  socket = s;
  const live = $('#live');
  s.onopen = () => { live.textContent = 'live'; live.className = 'on'; };
  s.onclose = () => {
    if (socket !== s) return;
    live.textContent = 'offline';
    live.className = '';
    if (getKey()) reconnect = setTimeout(follow, 3000);
  };
  s.onmessage = (msg) => {
    let ev;
    try { ev = JSON.parse(msg.data); } catch { return; }
    if (ev.type === 'status') $('#tenant').textContent = `${ev.data.tenant} · L${ev.data.level}`;
    view?.onEvent(ev);
  };
}

function showLogin(message = '') {
  $('#loginErr').textContent = message;
  $('#login').classList.remove('hidden');
  $('#view').classList.add('hidden');
}

async function open() {
  try {
    await api('/v1/incidents?limit=1'); // checks the key before anything renders
  } catch (e) {
    showLogin(e.message);
    return;
  }
  $('#login').classList.add('hidden');
  $('#view').classList.remove('hidden');
  api('/v1/status').then((s) => { $('#tenant').textContent = `level L${s.level} (${s.levelName})`; }).catch(() => {});
  route();
  follow();
}

$('#save').onclick = () => { setKey($('#key').value.trim()); open(); };
$('#key').onkeydown = (e) => { if (e.key === 'Enter') $('#save').click(); };
$('#logout').onclick = () => {
  setKey('');
  const s = socket;
  socket = undefined;
  s?.close();
  view?.dispose();
  view = undefined;
  showLogin();
};
window.addEventListener('hashchange', () => { if (getKey() && !$('#view').classList.contains('hidden')) route(); });

const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash) {
  setKey(fromHash);
  history.replaceState(null, '', `${location.pathname}#/`); // the key leaves the address bar (and the history)
}
if (getKey()) open(); else showLogin();
