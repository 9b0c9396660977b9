// One uPlot chart per involved series: its values around the incident, the normal band,
// the anomalies the detectors reported (with the value they expected there), and a line
// at the incident's opening. uPlot comes from this node (/vendor/uplot/), never a CDN.
//
// The band is the detector's (GET /v1/series/band: its expected value per sample ± 3 robust
// sigma of its residuals) when that route answers for the window; otherwise the series' own
// normal range in the 45 minutes before the incident: median ± 3 robust sigma (1.4826 x MAD,
// at least 1% of the level). The note under each chart says which band it draws.
/* global ResizeObserver */
import { api, qs } from './api.js';
import { esc, failure } from './dom.js';

const BEFORE_MS = 45 * 60_000;
const AFTER_MS = 10 * 60_000;
const SHOW_BEFORE_MS = 5 * 60_000;
const LEAD_MS = 60_000; // the minute before opening may already be off: not part of "normal"
const HEIGHT = 190;
const AXIS = { stroke: '#8a96a3', grid: { stroke: '#2d3640', width: 1 }, ticks: { stroke: '#2d3640', width: 1 } };

let uPlotModule;
const loadUPlot = () => (uPlotModule ??= import('/vendor/uplot/uPlot.esm.js').then((m) => m.default));

/**
 * What to read (from 45 min before: the band's baseline) and what to show first: the
 * incident with as much time before it as it lasted (at least 5 min), so a young incident
 * is not a sliver at the right edge. Double-click a plot for the whole window.
 */
export function plotWindow(incident, now) {
  const from = incident.openedAt - BEFORE_MS;
  const to = Math.min(now, (incident.resolvedAt ?? now) + AFTER_MS);
  const span = Math.max(to - from, 1);
  // a long window reads from the rollups: about 720 points whatever its length
  const step = span > 3 * 3600_000 ? Math.ceil(span / 720 / 60_000) * 60_000 : undefined;
  const lead = Math.min(BEFORE_MS, Math.max(SHOW_BEFORE_MS, to - incident.openedAt));
  return { from, to, step, showFrom: incident.openedAt - lead };
}

const fmt = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3));
const median = (sorted) => (sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2);

/** The normal band from the samples before `until`; undefined with fewer than 12. */
export function normalBand(samples, until) {
  const v = samples.filter(([t]) => t < until).map(([, x]) => x).sort((a, b) => a - b);
  if (v.length < 12) return undefined;
  const mid = median(v);
  const mad = median(v.map((x) => Math.abs(x - mid)).sort((a, b) => a - b));
  const sigma = Math.max(1.4826 * mad, 0.01 * Math.abs(mid), 1e-9);
  return { lo: mid - 3 * sigma, hi: mid + 3 * sigma };
}

/** Fewer detector points than this in the window: the page draws its own band instead. */
const MIN_BAND_POINTS = 12;

/**
 * The detector's band keyed by the chart's x: each sample's time, or with a step the bucket
 * it falls in (the bounds averaged over the bucket, as the values are).
 */
export function detectorBandAt(points, step) {
  const acc = new Map();
  for (const p of points) {
    const t = step ? Math.floor(p.t / step) * step : p.t;
    const a = acc.get(t) ?? { n: 0, lo: 0, hi: 0 };
    a.n++;
    a.lo += p.lower;
    a.hi += p.upper;
    acc.set(t, a);
  }
  return new Map([...acc].map(([t, a]) => [t, { lo: a.lo / a.n, hi: a.hi / a.n }]));
}

function options(metric, width, band, openedAt, win) {
  const series = [{}, { label: metric, stroke: '#539bf5', width: 1.5, spanGaps: true, points: { show: false } }];
  if (band) {
    const name = band.detector ? 'band' : 'normal';
    series.push({ label: `${name} high`, stroke: 'rgba(87,171,90,.7)', dash: [4, 4], width: 1, spanGaps: true, points: { show: false } });
    series.push({ label: `${name} low`, stroke: 'rgba(87,171,90,.7)', dash: [4, 4], width: 1, spanGaps: true, points: { show: false } });
  }
  series.push({ label: 'anomaly', stroke: '#e5534b', paths: () => null, points: { show: true, size: 9, fill: '#e5534b', stroke: '#e5534b' } });
  series.push({ label: 'expected', stroke: '#d29922', paths: () => null, points: { show: true, size: 7, fill: '#0f1419', stroke: '#d29922' } });
  const markOpening = (u) => {
    const x = u.valToPos(openedAt / 1000, 'x', true);
    if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) return;
    const c = u.ctx;
    c.save();
    c.strokeStyle = '#e5534b';
    c.setLineDash([3, 3]);
    c.beginPath();
    c.moveTo(x, u.bbox.top);
    c.lineTo(x, u.bbox.top + u.bbox.height);
    c.stroke();
    c.restore();
  };
  return {
    // the span shown first; a double-click re-ranges to all the data
    width, height: HEIGHT, series, scales: { x: { time: true, min: win.showFrom / 1000, max: win.to / 1000 } },
    bands: band ? [{ series: [2, 3], fill: 'rgba(87,171,90,.14)' }] : [],
    axes: [AXIS, { ...AXIS, size: 52 }],
    // narrow: labels only (values need a hover anyway); wide: values under the cursor
    legend: { live: width >= 600 },
    hooks: { draw: [markOpening] },
  };
}

function columns(samples, anomalies, band) {
  const byTime = new Map(samples);
  const anomalyAt = new Map(anomalies.map((a) => [a.timestamp, a]));
  const xs = [...new Set([...byTime.keys(), ...anomalyAt.keys()])].sort((a, b) => a - b);
  const cols = [xs.map((t) => t / 1000), xs.map((t) => byTime.get(t) ?? anomalyAt.get(t)?.value ?? null)];
  if (band?.detector) cols.push(xs.map((t) => band.at.get(t)?.hi ?? null), xs.map((t) => band.at.get(t)?.lo ?? null));
  else if (band) cols.push(xs.map(() => band.hi), xs.map(() => band.lo));
  cols.push(xs.map((t) => anomalyAt.get(t)?.value ?? null), xs.map((t) => anomalyAt.get(t)?.expected ?? null));
  return cols;
}

async function one(uPlot, box, s, incident, win) {
  const chart = box.querySelector('.chart');
  const range = { service: s.service, metric: s.metric, from: win.from, to: win.to };
  const [series, events, detector] = await Promise.all([
    api(`/v1/series${qs({ ...range, limit: 10000, step: win.step })}`),
    api(`/v1/anomalies${qs({ ...range, limit: 1000 })}`),
    // the detector's band; a node without the route (or an error) leaves the page its own
    api(`/v1/series/band${qs({ ...range, limit: 10000 })}`).catch((e) => ({ error: e })),
  ]);
  const samples = series.samples;
  if (samples.length === 0) {
    box.dataset.state = 'empty';
    chart.innerHTML = '<p class="na">No samples in this window.</p>';
    return undefined;
  }
  const usable = Array.isArray(detector.points) && detector.points.length >= MIN_BAND_POINTS;
  const own = usable ? undefined : normalBand(samples, incident.openedAt - LEAD_MS);
  const band = usable ? { detector: true, at: detectorBandAt(detector.points, win.step) } : own;
  chart.innerHTML = '';
  const u = new uPlot(options(s.metric, chart.clientWidth || 300, band, incident.openedAt, win), columns(samples, events.anomalies, band), chart);
  box.dataset.state = 'ready';
  box.dataset.band = usable ? 'detector' : own ? 'own' : 'no';
  box.dataset.anomalies = String(events.anomalies.length);
  const why = detector.error
    ? `the detector's band is not available (${detector.error.message})`
    : `the detector scored ${detector.points?.length ?? 0} samples here`;
  box.querySelector('.note').textContent = usable
    ? `band: the detector's expected value ± ${detector.deviations}σ of its errors (σ ${fmt(detector.sigma)}) · ${events.anomalies.length} anomalies`
    : own
      ? `band: the series' own normal range of the 45 min before (median ± 3σ); ${why} · ${events.anomalies.length} anomalies`
      : `no band: fewer than 12 samples before the incident; ${why} · ${events.anomalies.length} anomalies`;
  return u;
}

/** Draws the plots into `el`; resolves with a handle whose destroy() releases them. */
export async function renderPlots(el, incident, involved, now) {
  const win = plotWindow(incident, now);
  el.innerHTML = involved.map((s) => `<div class="plot" data-service="${esc(s.service)}" data-metric="${esc(s.metric)}" data-state="loading">
      <h3>${esc(s.service)} · ${esc(s.metric)}${s.why ? ` <span class="dim">(${esc(s.why)})</span>` : ''}</h3>
      <div class="chart dim">loading…</div><div class="legend note"></div></div>`).join('')
    || '<p class="na" data-state="empty">No series involved yet.</p>';
  let uPlot;
  try {
    uPlot = await loadUPlot();
  } catch (e) {
    el.innerHTML = `<p class="na" data-state="not-available">Plots: not available (the charting library did not load: ${esc(e.message)}).</p>`;
    return { destroy() {} };
  }
  const boxes = [...el.querySelectorAll('.plot')];
  const charts = await Promise.all(boxes.map((box, i) => one(uPlot, box, involved[i], incident, win).catch((e) => {
    box.dataset.state = 'error';
    box.querySelector('.chart').innerHTML = failure('series', e);
    return undefined;
  })));
  const live = charts.filter(Boolean);
  // a new size re-ranges x to all the data: keep the span the user was looking at
  const resize = new ResizeObserver(() => {
    for (const u of live) {
      const width = u.root.parentElement.clientWidth;
      if (width === u.width) continue;
      const { min, max } = u.scales.x;
      u.setSize({ width, height: HEIGHT });
      u.setScale('x', { min, max });
    }
  });
  for (const u of live) resize.observe(u.root.parentElement);
  return { destroy() { resize.disconnect(); for (const u of live) u.destroy(); } };
}
