// What `vigil demo` reports as it happens: it polls the API the way a user would (the
// tenant's key, GET /v1/anomalies and /v1/incidents) and prints the first anomaly, each
// incident that opens, and the services it grows to span.
import type { Clock, TimerHandle } from '../actors/runtime/index.ts';
import type { AnomalyEvent, Incident } from '../protocols/index.ts';

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
  stop(): void;
}

export function watchEvents(o: WatchOptions): Watch {
  let timer: TimerHandle | undefined;
  let stopped = false;
  let sawAnomaly = false;
  const spans = new Map<string, number>();
  let found: (inc: Incident) => void = () => {};
  const firstIncident = new Promise<Incident>((resolve) => { found = resolve; });

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
    for (const inc of incs?.incidents ?? []) {
      if (inc.updatedAt < o.since) continue;
      const known = spans.get(inc.id);
      if (known === undefined) {
        o.say(`incident opened: "${inc.title}" (id ${inc.id}; services: ${inc.services.join(', ')}; peak score ${inc.peakScore.toFixed(3)})`);
        o.say(`  see it: curl -s -H 'Authorization: Bearer ${o.apiKey}' ${o.url}/v1/incidents/${inc.id}`);
        found(inc);
      } else if (inc.services.length > known) {
        o.say(`incident ${inc.id} now spans: ${inc.services.join(', ')}`);
      }
      spans.set(inc.id, inc.services.length);
    }
    if (!stopped) timer = o.clock.setTimeout(() => void poll(), o.everyMs ?? 1000);
  };
  void poll();

  return {
    firstIncident,
    stop() {
      stopped = true;
      if (timer !== undefined) o.clock.clearTimeout(timer);
    },
  };
}

function round(v: number): string {
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
}
