// A seeded alert storm for correlation: one fault at a deep service of a layered application
// spreads to its callers hop by hop until it has reached `storm.services` services, each of
// which fires `alertsPerService` distinct alerts (alertnames × instances) with jitter;
// meanwhile small unrelated applications have small faults of their own (the noise a
// correlator must keep apart). Every alert knows the fault it belongs to, so a
// grouping can be scored against the truth. Alerts are Alertmanager-style (labels, startsAt,
// endsAt), as a Prometheus would send them.
import { SeededRng, type Rng } from '../actors/runtime/index.ts';
import type { Labels, Topology } from '../protocols/index.ts';

export interface StormOptions {
  seed?: number;
  /** services the fault reaches (the root included) */
  services?: number;
  alertsPerService?: number;
  /** layers × width of the stormed application */
  layers?: number;
  width?: number;
  /** small faults in applications of their own, during the storm */
  noiseFaults?: number;
  noiseAlertsPerFault?: number;
  /** time the fault takes per hop, and the spread of alert starts within a service */
  hopMs?: number;
  spreadMs?: number;
  /** when the storm starts (ms) */
  start?: number;
}

export interface StormAlert {
  /** the fault it belongs to ('storm' or 'noise-N'): the truth a grouping is scored against */
  fault: string;
  labels: Labels;
  startsAt: number;
  endsAt: number;
}

export interface Storm {
  topology: Topology;
  root: string;
  /** services the fault reached, in the order it reached them */
  reached: string[];
  /** every distinct alert, by start time */
  alerts: StormAlert[];
}

const NAMES = ['HighLatency', 'ErrorRate', 'Saturation', 'PodRestarts'];

export function alertStorm(o: StormOptions = {}): Storm {
  const rng = new SeededRng(o.seed ?? 1);
  const layers = o.layers ?? 8;
  const width = o.width ?? 60;
  const services = o.services ?? 100;
  const perService = o.alertsPerService ?? 100;
  const hopMs = o.hopMs ?? 30_000;
  const spreadMs = o.spreadMs ?? 60_000;
  const start = o.start ?? 1_700_000_000_000;

  const app = layered('app', layers, width, rng.fork('app'));
  const topology: Topology = { services: [...app.services] };

  // The fault starts at a service of the last layer and travels to callers, breadth first.
  const callers = callersOf(app);
  const root = `app-${layers - 1}-${rng.int(width)}`;
  const reachedAt = new Map<string, number>([[root, start]]);
  const reached = [root];
  for (let i = 0; i < reached.length && reached.length < services; i++) {
    const s = reached[i]!;
    for (const c of callers.get(s) ?? []) {
      if (reachedAt.has(c) || reached.length >= services) continue;
      reachedAt.set(c, reachedAt.get(s)! + hopMs + Math.round((rng.next() - 0.5) * hopMs * 0.5));
      reached.push(c);
    }
  }
  const alerts: StormAlert[] = [];
  const fire = (fault: string, service: string, at: number, n: number, r: Rng): void => {
    for (let k = 0; k < n; k++) {
      const startsAt = at + Math.round(r.next() * spreadMs);
      alerts.push({
        fault,
        labels: { alertname: NAMES[k % NAMES.length]!, service, instance: `${service}-${Math.floor(k / NAMES.length)}`, severity: k % 7 === 0 ? 'critical' : 'warning' },
        startsAt,
        endsAt: startsAt + 30 * 60_000,
      });
    }
  };
  const stormRng = rng.fork('storm');
  for (const s of reached) fire('storm', s, reachedAt.get(s)!, perService, stormRng);

  // Noise: small faults in applications of their own (a service and its direct callers),
  // during the storm: unrelated by topology, close in time.
  const noiseRng = rng.fork('noise');
  const faults = o.noiseFaults ?? 5;
  const perFault = o.noiseAlertsPerFault ?? 40;
  for (let f = 0; f < faults; f++) {
    const aux = layered(`aux${f}`, 3, 8, noiseRng.fork(`app-${f}`));
    topology.services.push(...aux.services);
    const hit = `aux${f}-2-${noiseRng.int(8)}`;
    const group = [hit, ...(callersOf(aux).get(hit) ?? [])].slice(0, 3);
    const at = start + f * 45_000;
    for (const s of group) fire(`noise-${f}`, s, at, Math.ceil(perFault / group.length), noiseRng);
  }
  alerts.sort((a, b) => a.startsAt - b.startsAt);
  return { topology, root, reached, alerts };
}

/** `layers` layers of `width` services; each calls 2 or 3 services of the next layer. */
function layered(prefix: string, layers: number, width: number, rng: Rng): Topology {
  const services: Topology['services'] = [];
  for (let l = 0; l < layers; l++) {
    for (let i = 0; i < width; i++) {
      const dependsOn = new Set<string>();
      if (l < layers - 1) {
        const n = 2 + rng.int(2);
        while (dependsOn.size < n) dependsOn.add(`${prefix}-${l + 1}-${rng.int(width)}`);
      }
      services.push({ name: `${prefix}-${l}-${i}`, dependsOn: [...dependsOn] });
    }
  }
  return { services };
}

function callersOf(t: Topology): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const s of t.services) {
    for (const d of s.dependsOn) {
      const list = out.get(d) ?? [];
      list.push(s.name);
      out.set(d, list);
    }
  }
  return out;
}

/** BCubed precision and recall of a grouping (alert → incident) against the faults (alert → fault). */
export function groupingScore(truth: readonly string[], found: readonly (string | undefined)[]): { precision: number; recall: number } {
  const byIncident = new Map<string, number[]>();
  const byFault = new Map<string, number[]>();
  truth.forEach((fault, i) => {
    const inc = found[i] ?? `none-${i}`; // an alert in no incident is alone
    (byIncident.get(inc) ?? byIncident.set(inc, []).get(inc)!).push(i);
    (byFault.get(fault) ?? byFault.set(fault, []).get(fault)!).push(i);
  });
  let precision = 0;
  let recall = 0;
  for (let i = 0; i < truth.length; i++) {
    const inc = found[i] ?? `none-${i}`;
    const mates = byIncident.get(inc)!;
    const kin = byFault.get(truth[i]!)!;
    let both = 0;
    for (const j of mates) if (truth[j] === truth[i]) both++;
    precision += both / mates.length;
    recall += both / kin.length;
  }
  return { precision: precision / truth.length, recall: recall / truth.length };
}
