// The ingest log's disk full on a real node process: ingest answers 503 with the reason and
// Retry-After, the node keeps serving, and every sample answered 202 before stays readable.
// Needs root to mount a small tmpfs under the node's log folder; says plainly when it cannot.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SeriesInput } from '../protocols/index.ts';
import { eventually, startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';
import { skipWithout } from './support/peer.ts';

const KEY = 'full-key-1';

describe('the ingest log\'s disk full (real node, tmpfs)', function () {
  this.timeout(180_000);
  const dir = mkdtempSync(join(tmpdir(), 'vigil-full-'));
  const logDir = join(dir, 'log');
  let mounted = false;
  let node: TestNode | undefined;

  before(function () {
    mkdirSync(logDir, { recursive: true });
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', logDir], { stdio: 'pipe' });
      mounted = true;
    } catch (err) {
      skipWithout(this, `cannot mount a tmpfs here (needs root): ${String(err).split('\n')[0]}`);
    }
  });
  after(async () => {
    await node?.stop();
    if (mounted) execFileSync('umount', ['-l', logDir]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 with the reason, and loses nothing it acknowledged', async () => {
    node = await startNodeProcess(testConfig({ acme: KEY }, 'full-admin-1', (c) => { c.node.dataDir = dir; }));
    const start = Date.now() - 86_400_000;
    const accepted = new Map<string, number>();
    let refusal: { status: number; retryAfter: string | null; body: { error: { code: string; message: string } } } | undefined;
    for (let i = 0; i < 400 && !refusal; i++) {
      // 10 series of 100 samples: ~16 KB a batch, so the 1 MB log holds a few thousand samples a series
      const series: SeriesInput[] = Array.from({ length: 10 }, (_, k) => ({
        service: 'db', metric: `m${k}`, samples: Array.from({ length: 100 }, (_, j): [number, number] => [start + (i * 100 + j) * 1000, j % 7]),
      }));
      const res = await fetch(`${node.url}/v1/metrics`, {
        method: 'POST', headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ series }),
      });
      const body = await res.json() as { error: { code: string; message: string } };
      if (res.status === 202) for (const s of series) accepted.set(s.metric, (accepted.get(s.metric) ?? 0) + s.samples.length);
      else refusal = { status: res.status, retryAfter: res.headers.get('retry-after'), body };
    }
    assert.ok(refusal, 'the 1 MB log filled up');
    assert.equal(refusal.status, 503);
    assert.equal(refusal.body.error.code, 'UNAVAILABLE');
    assert.match(refusal.body.error.message, /disk full/);
    assert.equal(refusal.retryAfter, '1');
    assert.ok((accepted.get('m0') ?? 0) > 0, 'some batches were accepted first');
    assert.equal((await fetch(`${node.url}/healthz`)).status, 200, 'the node keeps serving');
    for (const [metric, n] of accepted) {
      await eventually(async () => {
        const res = await fetch(`${node!.url}/v1/series?service=db&metric=${metric}`, { headers: { authorization: `Bearer ${KEY}` } });
        const got = ((await res.json()) as { samples: unknown[] }).samples.length;
        return got === n ? true : undefined;
      }, 60_000, 250).catch(async (err: unknown) => {
        const res = await fetch(`${node!.url}/v1/series?service=db&metric=${metric}`, { headers: { authorization: `Bearer ${KEY}` } });
        throw new Error(`${metric}: ${((await res.json()) as { samples: unknown[] }).samples.length} of ${n} stored; ${node!.stderr().slice(-2000)}`, { cause: err });
      });
    }
  });
});
