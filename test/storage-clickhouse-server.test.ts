// Smoke test against a real ClickHouse server over HTTP: Debian's clickhouse-server 18.16,
// started here on spare ports with its own config in a temp folder, reached through the same
// engine face the store uses. That server predates most of the store's SQL (TTL, Map,
// LowCardinality, query parameters): the test uses what it supports and records what it
// refuses (storage/tsdb/README.md lists these).
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openEngine, schemaStatements, type Engine } from '../storage/tsdb/index.ts';
import { skipWithout } from './support/peer.ts';
import { freePort } from './support/local-servers.ts';

const BINARIES = ['/usr/bin/clickhouse-server', '/usr/sbin/clickhouse-server', '/usr/bin/clickhouse'];
const binary = BINARIES.find((b) => existsSync(b));

function config(dir: string, httpPort: number, tcpPort: number): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>${dir}/server.log</log><errorlog>${dir}/error.log</errorlog><console>0</console></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <format_schema_path>${dir}/schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
</yandex>
`;
}

const USERS = `<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks><profile>default</profile><quota>default</quota></default></users>
  <quotas><default></default></quotas>
</yandex>
`;

describe('storage/tsdb against a ClickHouse server over HTTP (Debian 18.16 smoke test)', function () {
  this.timeout(60_000);
  let dir: string;
  let server: ChildProcess | undefined;
  let engine: Engine | undefined;

  before(async function () {
    if (!binary) {
      skipWithout(this, `no clickhouse-server binary (looked for ${BINARIES.join(', ')}); apt install clickhouse-server`);
    }
    dir = mkdtempSync(join(tmpdir(), 'vigil-clickhouse-'));
    const [httpPort, tcpPort] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'config.xml'), config(dir, httpPort, tcpPort));
    writeFileSync(join(dir, 'users.xml'), USERS);
    server = spawn(binary!, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
    engine = openEngine({ url: `http://127.0.0.1:${httpPort}`, requestTimeoutMs: 5_000 });
    // Up when it answers a ping (it takes a second or two to start).
    for (let i = 0; ; i++) {
      const ping = await engine.client.ping();
      if (ping.success) break;
      if (i > 100 || server.exitCode !== null) throw new Error(`clickhouse-server did not start (exit ${server.exitCode})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  after(async () => {
    await engine?.close();
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server!.once('exit', r));
      server.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('creates a MergeTree table, inserts rows and reads them back through the client', async () => {
    const { client } = engine!;
    const version = await (await client.query({ query: 'SELECT version() AS v', format: 'JSONEachRow' })).json<{ v: string }>();
    assert.match(version[0]!.v, /^\d+\.\d+/);
    await client.command({ query: 'CREATE DATABASE IF NOT EXISTS vigil_smoke' });
    await client.command({
      query: 'CREATE TABLE vigil_smoke.samples (tenant String, service String, ts Int64, value Float64) ENGINE = MergeTree ORDER BY (tenant, service, ts)',
    });
    await client.insert({
      table: 'vigil_smoke.samples', format: 'JSONEachRow',
      values: [
        { tenant: 'a', service: 'db', ts: 1_000, value: 1.5 },
        { tenant: 'a', service: 'db', ts: 2_000, value: 2.5 },
        { tenant: 'b', service: 'db', ts: 1_000, value: 9 },
      ],
    });
    const rows = await (await client.query({
      query: "SELECT ts, value FROM vigil_smoke.samples WHERE tenant = 'a' ORDER BY ts",
      format: 'JSONEachRow', clickhouse_settings: { output_format_json_quote_64bit_integers: 0 },
    })).json<{ ts: number; value: number }>();
    assert.deepEqual(rows, [{ ts: 1_000, value: 1.5 }, { ts: 2_000, value: 2.5 }]);
    const sum = await (await client.query({ query: 'SELECT tenant, sum(value) AS s FROM vigil_smoke.samples GROUP BY tenant ORDER BY tenant', format: 'JSONEachRow' })).json();
    assert.deepEqual(sum, [{ tenant: 'a', s: 4 }, { tenant: 'b', s: 9 }]);
  });

  it('refuses the store\'s modern schema (as the README says), so the store needs a modern server', async () => {
    const refused: string[] = [];
    for (const stmt of schemaStatements('vigil_modern')) {
      try {
        await engine!.client.command({ query: stmt });
      } catch {
        refused.push(stmt.split('(')[0]!.replace(/\s+/g, ' ').trim());
      }
    }
    console.log(`    18.16 refused ${refused.length} of ${schemaStatements('vigil_modern').length} schema statements:\n      ${refused.join('\n      ')}`);
    assert.ok(refused.some((s) => s.includes('vigil_modern.samples')), 'raw samples need TTL and LowCardinality');
    assert.ok(refused.some((s) => s.includes('vigil_modern.anomalies')), 'events need the Map type');
  });
});
