// bench:tenancy's load: requests on a fixed schedule, latency counted from the scheduled time
// (no coordinated omission). Run as a script it is tenant A's client in a process of its own,
// driven over IPC by bench/tenancy.ts: A and B are different clients, so the work of building
// and answering A's flood (ten times the requests of A at its quota) must not sit in the
// event loop that times B's requests, or B's latency would carry the load generator's cost.
import http from 'node:http';
import { BatchMaker } from './ingest/batches.ts';
import { post, type Outcome } from './ingest/client.ts';

export type Timed = Outcome & { /** scheduled send, s after the phase began */ t: number };

export interface Stream {
  sent: number;
  samplesSent: number;
  outcomes: Timed[];
  skipped: number;
  retryAfter: number;
  /** CPU seconds this client's process spent during the phase (user + system) */
  clientCpu: number;
  /** the phase's start, Unix ms (an outcome's send is startedAt + t·1000) */
  startedAt: number;
}

export interface ScheduleSpec {
  base: string;
  key: string;
  /** series x samples per series in each body */
  series: number;
  samples: number;
  /** the first timestamp of the series (ms) */
  start: number;
  perSecond: number;
  seconds: number;
  maxInFlight: number;
}

const PROTOBUF = { 'content-type': 'application/x-protobuf' };

/** The bodies one phase sends, built before it starts: a client's own work is not what is timed. */
export function bodiesFor(spec: ScheduleSpec, maker: BatchMaker): Uint8Array[] {
  return Array.from({ length: Math.floor(spec.perSecond * spec.seconds) }, () => maker.body());
}

/** Sends `perSecond` requests on a fixed schedule for `seconds`; latency from the scheduled time. */
export async function schedule(spec: ScheduleSpec, bodies: readonly Uint8Array[]): Promise<Stream> {
  const cpu0 = process.cpuUsage();
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.maxInFlight });
  const url = new URL('/v1/metrics', spec.base);
  const batch = spec.series * spec.samples;
  const interval = 1000 / spec.perSecond;
  const start = performance.now();
  const s: Stream = { sent: 0, samplesSent: 0, outcomes: [], skipped: 0, retryAfter: 0, clientCpu: 0, startedAt: performance.timeOrigin + start };
  const total = Math.floor(spec.perSecond * spec.seconds);
  const pending = new Set<Promise<void>>();
  for (let i = 0; i < total; i++) {
    const at = start + i * interval;
    const wait = at - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (pending.size >= spec.maxInFlight) {
      s.skipped++;
      continue;
    }
    const body = bodies[i]!;
    s.sent++;
    s.samplesSent += batch;
    const t = (at - start) / 1000;
    const p = post(agent, url, spec.key, body, PROTOBUF, at).then((o) => {
      s.outcomes.push({ ...o, t });
      if (o.retryAfter) s.retryAfter++;
    }, () => { s.outcomes.push({ status: 0, ms: performance.now() - at, accepted: 0, t }); });
    const tracked = p.finally(() => pending.delete(tracked));
    pending.add(tracked);
  }
  await Promise.all(pending);
  agent.destroy();
  const cpu = process.cpuUsage(cpu0);
  s.clientCpu = (cpu.user + cpu.system) / 1e6;
  return s;
}

/** Messages from bench/tenancy.ts to the client process: build a phase's bodies, send them, or leave. */
export type LoadCommand = { prepare: ScheduleSpec } | { go: true } | { exit: true };
/** Answers: 'ready' (started), 'prepared' (bodies built), then the phase's Stream. */
export type LoadReply = 'ready' | 'prepared' | Stream;

// As a child process: one BatchMaker for the whole run (series timestamps keep moving forward);
// a phase's bodies are built on `prepare`, sent on `go`, and its Stream goes back.
if (process.send && process.argv[1]?.endsWith('tenancy-load.ts')) {
  let maker: BatchMaker | undefined;
  let phase: { spec: ScheduleSpec; bodies: Uint8Array[] } | undefined;
  const reply = (r: LoadReply): void => void process.send!(r);
  process.on('message', (cmd: LoadCommand) => {
    if ('exit' in cmd) {
      process.disconnect();
    } else if ('prepare' in cmd) {
      maker ??= new BatchMaker(cmd.prepare.series, cmd.prepare.samples, cmd.prepare.start, false);
      phase = { spec: cmd.prepare, bodies: bodiesFor(cmd.prepare, maker) };
      reply('prepared');
    } else if (phase) {
      const { spec, bodies } = phase;
      phase = undefined;
      void schedule(spec, bodies).then(reply);
    }
  });
  reply('ready');
}
