// bench:tenancy --control's stand-in (bench/tenancy-standin.ts): a process of its own that reads
// every body and answers 429 with Retry-After, so A's flood can go to it instead of the node.
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

describe('bench:tenancy control stand-in', () => {
  let child: ChildProcess;
  let base: string;

  before(async () => {
    child = fork(fileURLToPath(new URL('../bench/tenancy-standin.ts', import.meta.url)), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const [message] = await once(child, 'message') as [{ port: number }];
    assert.ok(message.port > 0, 'the stand-in reports the port it listens on');
    base = `http://127.0.0.1:${message.port}`;
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
