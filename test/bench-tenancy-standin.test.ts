// bench:tenancy --control's stand-in (bench/tenancy-standin.ts): a process of its own that reads
// every body and answers 429 with Retry-After, so A's flood can go to it instead of the node.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { listeningChild } from '../bench/listening-child.ts';

describe('bench:tenancy control stand-in', () => {
  let child: ChildProcess;
  let base: string;

  before(async () => {
    ({ child, url: base } = await listeningChild(new URL('../bench/tenancy-standin.ts', import.meta.url), [], 'the stand-in'));
    assert.match(base, /:[1-9]\d*$/, 'the stand-in reports the port it listens on');
  });

  after(async () => {
    if (child.exitCode === null) {
      child.send({ exit: true });
      await once(child, 'exit');
    }
  });

  it('reads a whole body and answers 429 with Retry-After, as the node refuses A', async () => {
    const body = new Uint8Array(64 * 1024).fill(7); // larger than one socket read
    for (let i = 0; i < 3; i++) { // keep-alive: the connection serves the next request
      const res = await fetch(`${base}/v1/metrics`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '1');
      assert.equal((await res.json() as { error: { code: string } }).error.code, 'QUOTA_EXCEEDED');
    }
  });

  it('exits when told to', async () => {
    const exited = once(child, 'exit');
    child.send({ exit: true });
    const [code] = await exited as [number];
    assert.equal(code, 0);
  });
});
