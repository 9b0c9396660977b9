// The root-cause ranking of an incident (GET /v1/incidents/:id/rca): each candidate with its
// score and its evidence (which metric, which way, when it went wrong, how far).
import { clock, esc, num, time } from './dom.js';

const METHOD = { causal: 'causal: anomaly-weighted random walk on the call graph', correlation: 'correlation-based', rule: 'rule-based: earliest anomalous upstream service' };

function evidenceLine(e) {
  const when = e.onset !== undefined && e.onset !== null ? `from ${clock(e.onset)}, ` : '';
  return `<li data-metric="${esc(e.metric)}">${esc(e.metric)} ${e.direction === 'down' ? '↓' : '↑'} ${when}peak ${clock(e.peakAt)} · deviation ${num(e.deviation, 1)} · score ${num(e.score, 2)}</li>`;
}

/** Ranked (status "ready") rather than "pending". */
export const ranked = (rca) => rca !== undefined && rca.status !== 'pending';

export function rcaHtml(rca) {
  if (!ranked(rca)) return `<p class="na" data-state="pending">Not ranked yet: ${esc(rca.reason ?? 'no ranking computed')}</p>`;
  const causes = rca.causes ?? [];
  const head = `<p class="dim">level ${esc(rca.level)}${rca.method ? ` (${esc(METHOD[rca.method] ?? rca.method)})` : ''}
    ${rca.computedAt ? ` · computed ${time(rca.computedAt)}` : ''}${rca.candidates !== undefined ? ` · ${esc(rca.candidates)} candidates` : ''}
    ${rca.evidence ? ` · evidence from ${esc(rca.evidence.rawSeries)} raw series, ${esc(rca.evidence.eventSeries)} from detector events` : ''}</p>`;
  if (causes.length === 0) return `${head}<p class="na" data-state="empty">No candidate root cause yet.</p>`;
  const top = Math.max(...causes.map((c) => c.score), 1e-9);
  return `${head}<ol class="causes">${causes.map((c) => `
    <li class="${c.rank === 1 ? 'top' : ''}" data-service="${esc(c.service)}" data-rank="${esc(c.rank)}">
      <div class="head"><span class="rank">#${esc(c.rank)}</span><b>${esc(c.service)}</b>
        <span class="bar" title="score ${num(c.score, 3)}"><i style="width:${Math.round((100 * c.score) / top)}%"></i></span>
        <span>${num(c.score, 3)}</span></div>
      <ul class="evidence">${(c.evidence ?? []).map(evidenceLine).join('') || `<li>${c.onAnomalousPath ? '' : 'not on the anomalous path; '}no anomalous series</li>`}</ul>
    </li>`).join('')}</ol>`;
}

/** The rank-1 service, if any. */
export const rootCause = (rca) => (ranked(rca) ? rca.causes : [])?.find((c) => c.rank === 1)?.service;
