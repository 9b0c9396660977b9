// startNode's failure path: a taken port rejects with a typed error and leaves nothing
// running (the child process must exit on its own, without process.exit).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import pino from 'pino';
import { startNode } from '../node/index.ts';
import { testConfig } from './support/node-process.ts';

describe('node: start-up failure', function () {
  this.timeout(60_000);

  it('rejects a taken port with UNAVAILABLE and leaves no timer or socket behind', async () => {
    const first = await startNode(testConfig({ acme: 'acme-key-0123456789' }, 'admin-key-0123456789'), { logger: pino({ level: 'silent' }) });
    try {
      await assert.rejects(
        startNode(testConfig({}, 'admin-key-0123456789', (c) => { c.http.port = first.port; }), { logger: pino({ level: 'silent' }) }),
        (e: Error & { code?: string }) => e.code === 'UNAVAILABLE' && /EADDRINUSE/.test(e.message),
      );
      // The same in a process of its own: it must end by itself once the start has failed.
      const script = `import pino from 'pino'; import { startNode } from './node/index.ts'; import { testConfig } from './test/support/node-process.ts';
        startNode(testConfig({}, 'admin-key-0123456789', (c) => { c.http.port = ${first.port}; }), { logger: pino({ level: 'silent' }) })
          .catch((e) => { console.log('failed:', e.code); });`;
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      const code = await new Promise<number | null>((resolve) => {
        const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(null); }, 20_000);
        child.once('exit', (c) => { clearTimeout(timer); resolve(c); });
      });
      assert.match(out, /failed: UNAVAILABLE/);
      assert.equal(code, 0, 'the process exits by itself');
    } finally {
      await first.stop();
    }
  });
});
