// `vigil demo` end to end on a real process: a node on embedded defaults, the simulated
// web shop backfilled and streamed, the database fault injected, and the incident it
// causes reported from the API (the demo exits on it with --exit-on-incident) and, live,
// by the `vigil tail` command it prints, run as printed.
import { strict as assert } from 'node:assert';
import { spawnVigil, type Running } from './support/cli-process.ts';
import { eventually } from './support/node-process.ts';

const AFFECTED = new Set(['db', 'inventory', 'catalog', 'checkout', 'frontend']); // db and everything upstream of it

describe('cli: vigil demo', function () {
  this.timeout(120_000);

  it('shows anomalies and an incident from the injected database fault, and says where to look', async () => {
    const demo = spawnVigil(['demo', '--port', '0', '--seed', '3', '--history', '24h', '--step', '2s', '--fault-after', '15s', '--exit-on-incident'], {
      VIGIL_DEMO_API_KEY: 'demo-key-for-the-test', VIGIL_ADMIN_API_KEY: '', VIGIL_CONFIG: '',
    });
    let tail: Running | undefined;
    try {
      const head = await demo.waitFor((l) => l.startsWith('Vigil demo: node at'), 60_000);
      const url = /node at (http:\/\/127\.0\.0\.1:\d+)/.exec(head)![1]!;
      await demo.waitFor((l) => /warm-up: sent [\d,]+ samples \(24 h of history, 6 services × 3 metrics/.test(l));
      assert.ok(demo.lines.some((l) => l.includes('API key (tenant demo): demo-key-for-the-test')));
      assert.ok(demo.lines.some((l) => /admin key: +admin-[0-9a-f]{24}$/.test(l)), 'a generated admin key is printed');
      await demo.waitFor((l) => l.includes(`curl -s -H 'Authorization: Bearer demo-key-for-the-test' '${url}/v1/incidents?status=open'`));
      await demo.waitFor((l) => l.includes(`npx vigil ctl tree --url ${url} --admin-key admin-`));
      // a command anyone can paste to follow the live events (not a description of the WebSocket)
      const tailLine = await demo.waitFor((l) => l.trim() === `live events: npx vigil tail --url ${url} --api-key demo-key-for-the-test`);
      // pasted as printed, it connects with the demo's key
      tail = spawnVigil(tailLine.trim().replace(/^live events: npx vigil /, '').split(' '), { VIGIL_API_KEY: '' });
      const t: Running = tail;
      await eventually(async () => (t.stderr().includes(`connected to ${url.replace(/^http/, 'ws')}/v1/stream`) ? true : undefined), 30_000)
        .catch((err: Error) => { throw new Error(`${err.message}; tail: ${t.stderr()}; demo: ${demo.lines.join('\n')}`); });

      const anomaly = await demo.waitFor((l) => l.includes('first anomaly:'), 90_000);
      assert.match(anomaly, /first anomaly: (\w+) (latency_ms|error_rate|requests_per_s) = /);
      const incident = await demo.waitFor((l) => l.includes('incident opened:'), 90_000);
      // the pasted tail printed the same incident live (the fault starts 15 s after the
      // command is printed: time for the tail to connect first)
      const id = /\(id (inc_[0-9a-f]+);/.exec(incident)![1]!;
      await t.waitFor((l) => l.includes(`incident  opened ${id} `), 10_000);
      const services = /services: ([^;]+);/.exec(incident)![1]!.split(', ');
      assert.ok(services.every((s) => AFFECTED.has(s)), `the incident stays in the fault's blast radius: ${incident}`);
      assert.ok(services.includes('db'), `the faulty service itself is in the incident: ${incident}`);
      const code = await new Promise<number | null>((resolve) => {
        if (demo.child.exitCode !== null) resolve(demo.child.exitCode);
        else demo.child.once('exit', resolve);
      });
      assert.equal(code, 0, demo.stderr());
    } finally {
      await tail?.stop('SIGKILL');
      await demo.stop('SIGKILL');
    }
  });
});
