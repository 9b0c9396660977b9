// What `vigil demo` reports as it happens: it polls the API the way a user would (the
// tenant's key, GET /v1/anomalies, /v1/incidents and /v1/incidents/:id/rca) and prints the
// first anomaly, each incident that opens, the services it grows to span, and its ranked
// root causes each time the ranking changes.
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import type { AnomalyEvent, Incident, IncidentRca } from '../protocols/index.ts';

/** How long an incident seen before any anomaly waits for the first anomaly to be told first. */
export const FIRST_ANOMALY_WAIT_MS = 5_000;

export interface WatchOptions {
  url: string;
  apiKey: string;
  /** only events at or after this time (Unix ms) count: the warm-up history is not news */
  since: number;
  clock: Clock;
  say: (line: string) => void;
  everyMs?: number;
}

export interface Watch {
  /** resolves with the first incident seen */
  firstIncident: Promise<Incident>;
  /** resolves with the first root-cause ranking printed */
  firstRanking: Promise<IncidentRca>;
  stop(): void;
}

export function watchEvents(o: WatchOptions): Watch {
  let timer: TimerHandle | undefined;
  let stopped = false;
  let sawAnomaly = false;
  /** when an open incident was first seen before any anomaly */
  let anomalyWaitFrom: number | undefined;
  const spans = new Map<string, number>();
  /** per incident, what its last printed ranking said (so a ranking is printed when it changes) */
  const printed = new Map<string, string>();
  let found: (inc: Incident) => void = () => {};
  const firstIncident = new Promise<Incident>((resolve) => { found = resolve; });
  let ranked: (r: IncidentRca) => void = () => {};
  const firstRanking = new Promise<IncidentRca>((resolve) => { ranked = resolve; });

  const get = async <T>(path: string): Promise<T | undefined> => {
    try {
      const res = await fetch(`${o.url}${path}`, { headers: { authorization: `Bearer ${o.apiKey}` } });
      return res.ok ? ((await res.json()) as T) : undefined;
    } catch {
      return undefined; // the node is stopping; the next poll (if any) tries again
    }
  };

  const poll = async (): Promise<void> => {
    if (!sawAnomaly) {
      const body = await get<{ anomalies: AnomalyEvent[] }>(`/v1/anomalies?from=${o.since}&limit=1000`);
      const first = body?.anomalies.slice().sort((a, b) => a.timestamp - b.timestamp)[0];
      if (first) {
        sawAnomaly = true;
        o.say(`first anomaly: ${first.service} ${first.metric} = ${round(first.value)} (expected ${round(first.expected)}, score ${first.score.toFixed(3)}, ${first.direction})`);
      }
    }
    const incs = await get<{ incidents: Incident[] }>(`/v1/incidents?status=open&limit=100`);
    const open = (incs?.incidents ?? []).filter((inc) => inc.updatedAt >= o.since);
    if (!sawAnomaly && open.length > 0) {
      // An incident's anomalies reach the store through the writers (a flush, then a check of
      // what is stored) and can trail the incident here: the first anomaly is told first, and
      // waited for a few polls at most (a store that lags longer does not hide the incident).
      anomalyWaitFrom ??= o.clock.now();
      if (o.clock.now() - anomalyWaitFrom < FIRST_ANOMALY_WAIT_MS) return again();
    }
    for (const inc of open) {
      const known = spans.get(inc.id);
      if (known === undefined) {
        o.say(`incident opened: "${inc.title}" (id ${inc.id}; services: ${inc.services.join(', ')}; peak score ${inc.peakScore.toFixed(3)})`);
        o.say(`  see it: curl -s -H 'Authorization: Bearer ${o.apiKey}' ${o.url}/v1/incidents/${inc.id}`);
        found(inc);
      } else if (inc.services.length > known) {
        o.say(`incident ${inc.id} now spans: ${inc.services.join(', ')}`);
      }
      spans.set(inc.id, inc.services.length);
      const rca = await get<{ status: string } & IncidentRca>(`/v1/incidents/${encodeURIComponent(inc.id)}/rca`);
      if (rca?.status !== 'ready') continue;
      const said = `${rca.level} ${rca.alerts.join(',')} ${rca.causes.slice(0, 3).map((c) => c.service).join(',')}`;
      if (printed.get(inc.id) === said) continue;
      printed.set(inc.id, said);
      for (const line of rankingLines(rca)) o.say(line);
      ranked(rca);
    }
    again();
  };
  const again = (): void => {
    if (!stopped) timer = o.clock.setTimeout(() => void poll(), o.everyMs ?? 1000);
  };
  void poll();

  return {
    firstIncident,
    firstRanking,
    stop() {
      stopped = true;
      if (timer !== undefined) o.clock.clearTimeout(timer);
    },
  };
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}

const METHODS: Record<string, string> = { causal: 'causal', correlation: 'correlation-based', rule: 'rule-based' };

/** An incident's ranked root causes: a head line, then the top three with their first evidence. */
export function rankingLines(r: IncidentRca, top = 3): string[] {
  const head = `root causes of ${r.incidentId} (${r.level} ${METHODS[r.method] ?? r.method}; alerts on ${r.alerts.join(', ')}; ${r.candidates} ${r.candidates === 1 ? 'candidate' : 'candidates'}):`;
  const width = Math.max(...r.causes.slice(0, top).map((c) => c.service.length), 1);
  return [head, ...r.causes.slice(0, top).map((c) => {
    const e = c.evidence[0];
    const why = e
      ? `${e.metric} ${e.direction}${e.onset !== undefined ? ` from ${new Date(e.onset).toISOString().slice(11, 19)} UTC` : ''}, deviation ${e.deviation.toFixed(1)}`
      : 'no anomalous series';
    return `  ${c.rank}. ${c.service.padEnd(width)}  ${c.score.toFixed(3)}  ${why}`;
  })];
}
