// Small things every view needs: escaping for the HTML the views write as strings,
// and how times and numbers read.
/* global document */

export const $ = (sel, root = document) => root.querySelector(sel);

export const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export const time = (ms) => (ms === undefined || ms === null ? '–' : new Date(ms).toLocaleString());
export const clock = (ms) => new Date(ms).toLocaleTimeString();
/** The time alone when it is today, else date and time: short enough for a table at 420 px. */
export const when = (ms) => (new Date(ms).toDateString() === new Date().toDateString() ? clock(ms) : time(ms));

export function num(v, digits = 2) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(2);
  return v.toFixed(digits);
}

/** "5 min", "2 h": how long, for the page's facts. */
export function span(ms) {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
  return `${(s / 86400).toFixed(1)} d`;
}

/** A failed load, said plainly: "not available" on a 404 (the node lacks the route, or has nothing for this id yet). */
export function failure(what, err) {
  if (err?.status === 404) return `<p class="na" data-state="not-available">${esc(what)}: not available on this node (${esc(err.message)}).</p>`;
  return `<p class="err" data-state="error">${esc(what)}: ${esc(err?.message ?? err)}</p>`;
}
