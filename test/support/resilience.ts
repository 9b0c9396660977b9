// What the real-fault tests (test/resilience-level-*.test.ts) share: a node process driven over
// HTTP (status, levels, samples counted as acknowledged), a small tmpfs under one of the node's
// folders that the test fills to make that store fail for real (and empties to end the fault),
// a local HTTP server standing in for the on-call and SRE webhooks, and the set-up of all three
// around one node (NodeUnderFault).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Context } from 'mocha';
import type { VigilConfig } from '../../cluster/index.ts';
import type { SeriesInput } from '../../protocols/index.ts';
import { ApiClient, type Reply } from './api-client.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './node-process.ts';
import { skipWithout } from './peer.ts';

export interface Status {
  level: number;
  levelName: string;
  since: number;
  breakers: Record<string, string>;
  dependencies?: Record<string, string>;
  /** injected faults (admin view) */
  faults?: unknown[];
}

export const MIN = 60_000;

/** The node's HTTP face with a tenant key and the admin key; samples it answered 202 are counted. */
export class NodeClient {
  /** samples answered 202, by service/metric */
  readonly acked = new Map<string, number>();
  private next = new Map<string, number>();
  readonly start = Date.now() - 3 * 86_400_000;

  constructor(private readonly node: () => TestNode, readonly key: string, readonly admin: string) {}

  /** One request with `key` (the admin key by default; null: none); a JSON answer parsed, else its text. */
  call<T>(method: string, path: string, body?: unknown, key: string | null = this.admin): Promise<Reply<T>> {
    return new ApiClient(this.node().url, key ?? undefined).request<T>(method, path, body);
  }

  async status(): Promise<Status> {
    return (await this.call<Status>('GET', '/v1/status')).body;
  }

  /** Waits until the node reports `want` (polling /v1/status). */
  level(want: number, timeoutMs = 30_000): Promise<Status> {
    return eventually(async () => {
      const s = await this.status();
      return s.level === want ? s : undefined;
    }, timeoutMs, 200);
  }

  /**
   * One batch of `n` one-minute samples per metric of `service`, the next ones of each series;
   * `value(i)` gives the i-th sample of a series. Returns the HTTP status; 202 counts them acked.
   */
  async post(service: string, metrics: string[], n: number, value: (i: number, metric: string) => number = (i) => 40 + (i % 7)): Promise<number> {
    const series: SeriesInput[] = metrics.map((metric) => {
      const from = this.next.get(`${service}/${metric}`) ?? 0;
      return { service, metric, samples: Array.from({ length: n }, (_, k): [number, number] => [this.start + (from + k) * MIN, value(from + k, metric)]) };
    });
    const r = await this.call('POST', '/v1/metrics', { series }, this.key);
    if (r.status === 202) {
      for (const m of metrics) {
        const id = `${service}/${m}`;
        this.next.set(id, (this.next.get(id) ?? 0) + n);
        this.acked.set(id, (this.acked.get(id) ?? 0) + n);
      }
    }
    return r.status;
  }

  /** The timestamp of a series' i-th sample. */
  at(i: number): number {
    return this.start + i * MIN;
  }

  /** The index the next sample of a series will have. */
  position(service: string, metric: string): number {
    return this.next.get(`${service}/${metric}`) ?? 0;
  }

  /** Waits until every acknowledged sample is stored (reads each series back), then checks the counts match. */
  async allAckedStored(timeoutMs = 60_000): Promise<void> {
    for (const [id, n] of this.acked) {
      const [service, metric] = id.split('/') as [string, string];
      const got = await eventually(async () => {
        const r = await this.call<{ samples: unknown[] }>('GET', `/v1/series?service=${service}&metric=${metric}`, undefined, this.key);
        return r.status === 200 && r.body.samples.length >= n ? r.body.samples.length : undefined;
      }, timeoutMs, 250).catch(async () => {
        const r = await this.call<{ samples: unknown[] }>('GET', `/v1/series?service=${service}&metric=${metric}`, undefined, this.key);
        return r.status === 200 ? r.body.samples.length : -1;
      });
      assert.equal(got, n, `${id}: ${n} samples acknowledged, ${got} stored`);
    }
  }
}

/**
 * A tmpfs mounted over one of the node's folders (before it starts), so the test can fill it
 * (the store behind it fails with ENOSPC, as on a full disk) and empty it (the fault ends).
 * Needs root (mount); `mounted` says whether it could.
 */
/** Mounts each disk, or skips the test saying why (mounting a tmpfs needs root; a failure under .ci/run). */
export function mountOrSkip(ctx: Context, ...disks: FullDisk[]): void {
  try {
    for (const d of disks) d.mount();
  } catch (err) {
    skipWithout(ctx, `cannot mount a tmpfs here (needs root): ${String(err).split('\n')[0]}`);
  }
}

export class FullDisk {
  mounted = false;
  private readonly filler: string;

  constructor(readonly dir: string, private readonly sizeMb: number) {
    this.filler = join(dir, '.filler');
  }

  mount(): void {
    mkdirSync(this.dir, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${this.sizeMb}m`, 'tmpfs', this.dir], { stdio: 'pipe' });
    this.mounted = true;
  }

  /** Takes every free byte: what is written next fails with ENOSPC. */
  fill(): void {
    const s = statfsSync(this.dir);
    const fd = openSync(this.filler, 'a');
    try {
      const chunk = Buffer.alloc(1 << 20);
      let free = s.bavail * s.bsize;
      for (;;) {
        try {
          writeSync(fd, chunk, 0, Math.max(1, Math.min(chunk.length, free)));
          free = Math.max(0, free - chunk.length);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Frees the space again. */
  free(): void {
    rmSync(this.filler, { force: true });
  }

  unmount(): void {
    if (!this.mounted) return;
    execFileSync('umount', ['-l', this.dir], { stdio: 'pipe' });
    this.mounted = false;
  }
}

export interface Received {
  path: string;
  body: { type: string; level: number; levelName: string; detection?: string; alerts?: Array<{ metric: string; timestamp: number; value: number; severity: string }> };
}

/** A local HTTP server that takes webhook POSTs (the on-call's at /on-call, the SRE team's at /sre). */
export class WebhookReceiver {
  readonly received: Received[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => { body += d.toString(); });
      req.on('end', () => {
        try {
          this.received.push({ path: req.url ?? '', body: JSON.parse(body) as Received['body'] });
        } catch {
          // not JSON: not ours
        }
        res.writeHead(204).end();
      });
    });
    this.server.listen(0, '127.0.0.1');
    await once(this.server, 'listening');
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  on(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    if (!this.server) return;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server!.close(() => r()));
  }
}

export interface FaultSetup {
  key: string;
  admin: string;
  /** the webhooks the node is given (default: the on-call's and the SRE team's) */
  webhooks?: ReadonlyArray<'onCall' | 'sre'>;
  /** folders of the node's data dir (tsdb, log, graph) to cover with a tmpfs of this many MiB each */
  disks?: Readonly<Record<string, number>>;
  /** config beyond what every such test sets (a 1 s dwell, the webhooks) */
  config?: (c: VigilConfig) => void;
}

/**
 * One node under a real fault, as every resilience-level test sets it up: the webhook
 * receiver, the node's config (a 1 s dwell so levels settle fast, the webhooks), the tmpfs
 * disks mounted before the node starts (or the test skipped), and the node process.
 */
export class NodeUnderFault {
  readonly hooks = new WebhookReceiver();
  readonly client: NodeClient;
  node: TestNode | undefined;
  private readonly disks = new Map<string, FullDisk>();

  constructor(private readonly setup: FaultSetup) {
    this.client = new NodeClient(() => this.node!, setup.key, setup.admin);
  }

  /** Starts it all (call from `before`, with mocha's context: a test without root is skipped). */
  async start(ctx: Context, env: Record<string, string> = {}): Promise<TestNode> {
    await this.hooks.start();
    const webhooks = this.setup.webhooks ?? ['onCall', 'sre'];
    const config = testConfig({ acme: this.setup.key }, this.setup.admin, (c) => {
      c.degradation.dwellMs = 1000;
      c.notify = {
        ...(webhooks.includes('onCall') ? { onCall: `${this.hooks.url}/on-call` } : {}),
        ...(webhooks.includes('sre') ? { sre: `${this.hooks.url}/sre` } : {}),
      };
      this.setup.config?.(c);
    });
    for (const [folder, sizeMb] of Object.entries(this.setup.disks ?? {})) this.disks.set(folder, new FullDisk(join(config.node.dataDir, folder), sizeMb));
    mountOrSkip(ctx, ...this.disks.values());
    this.node = await startNodeProcess(config, env);
    return this.node;
  }

  /** The tmpfs over the node's `folder` (one named in `disks`). */
  disk(folder: string): FullDisk {
    const d = this.disks.get(folder);
    if (!d) throw new Error(`no tmpfs over ${folder}: name it in the set-up's disks`);
    return d;
  }

  /**
   * Waits until the node's stderr has a line matching `pattern`, and fails with the whole log
   * if none comes. The node's logger writes asynchronously (sonic-boom through the libuv
   * thread pool, busy with the stores' I/O) and the test reads the pipe on its own schedule, so
   * a line logged before a change the test saw over HTTP can still be on its way.
   */
  async logged(pattern: RegExp, timeoutMs = 20_000): Promise<void> {
    const stderr = (): string => this.node?.stderr() ?? '';
    await eventually(async () => (pattern.test(stderr()) ? true : undefined), timeoutMs).catch(() => undefined);
    assert.match(stderr(), pattern, `no line matching ${String(pattern)} in ${timeoutMs} ms; the node's log: ${stderr().slice(-2000) || '(empty)'}`);
  }

  /** Stops the node, unmounts the disks, stops the receiver (call from `after`). */
  async stop(): Promise<void> {
    await this.node?.stop();
    for (const d of this.disks.values()) d.unmount();
    await this.hooks.stop();
  }
}
