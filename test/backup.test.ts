// `vigil backup create|list|restore` on a data dir filled through the real stores (chdb, the
// embedded graph, the audit log, snapshots, the ingest log, silences, runbooks and runs) and
// the tenants file the configuration names, each step a real child process:
// chdb binds one data folder per process, and the command is the one an operator runs.
import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Manifest } from '../storage/backup/index.ts';
import { runVigil } from './support/cli-process.ts';
import { startNodeProcess, testConfig, type TestNode } from './support/node-process.ts';

const SUPPORT = fileURLToPath(new URL('./support/', import.meta.url));
const SAMPLES_PER_SERIES = 2_000;
const SERIES = 6;

/** Runs a test/support script under tsx and parses its one JSON line. */
function script<T>(name: string, args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', join(SUPPORT, name), ...args], { maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`${name} failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').at(-1)!) as T);
    });
  });
}

interface Digest {
  series: Record<string, { samples: number }>;
  rows: Record<string, number>;
  views: string[];
  audit: { entries: Array<{ seq: number; action: string; target: string }>; verify: { ok: boolean; entries: number } };
  [part: string]: unknown;
}

const sha256 = async (path: string): Promise<string> => createHash('sha256').update(await readFile(path)).digest('hex');
const lines = (s: string): string[] => s.trim().split('\n').filter((l) => l.length > 0);

describe('vigil backup (real stores, real commands)', function () {
  this.timeout(240_000);
  let root: string;
  let dataDir: string;
  let configFile: string;
  let tenantsFile: string;
  let backups: string;
  let backup: string;
  let source: Digest;

  before(async function () {
    root = await mkdtemp(join(tmpdir(), 'vigil-backup-test-'));
    dataDir = join(root, 'data');
    backups = join(root, 'backups');
    backup = join(backups, 'b1');
    configFile = join(root, 'vigil.yaml');
    tenantsFile = join(root, 'tenants.yaml');
    await writeFile(tenantsFile, '# the admin API rewrites this file\ntenants:\n  - id: acme\n    tier: small\n    keys: []\n');
    await writeFile(configFile, `node:\n  id: node-b\nhttp:\n  port: 7411\ntenancy:\n  file: ${tenantsFile}\n# kept byte for byte\n`);
    await script('backup-fill.ts', [dataDir, String(SAMPLES_PER_SERIES), String(SERIES)]);
  });

  after(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('create writes every part with a manifest whose sizes and sha256 match the files', async () => {
    const r = await runVigil(['backup', 'create', '--data', dataDir, '--config', configFile, backup], {}, 120_000);
    assert.equal(r.code, 0, r.stderr);
    // incident_rca (root-cause rankings) is the eighth table: exported like every other
    assert.match(r.stdout, /^backup .*b1: node node-b, \d+ files, .* rows in 9 tables/);
    assert.match(r.stderr, /tsdb table samples: 12,000 rows/);
    const m = JSON.parse(await readFile(join(backup, 'manifest.json'), 'utf8')) as Manifest;
    assert.equal(m.nodeId, 'node-b');
    assert.equal(m.source.tsdb.engine, 'chdb');
    const names = m.parts.filter((p) => p.files.length > 0).map((p) => p.name).sort();
    assert.deepEqual(names, ['audit', 'automation', 'config', 'graph', 'log', 'silences', 'snapshots', 'tenants', 'tsdb']);
    const tables = Object.fromEntries(m.parts.find((p) => p.name === 'tsdb')!.tables!.map((t) => [t.name, t.rows]));
    assert.equal(tables.samples, SAMPLES_PER_SERIES * SERIES);
    assert.equal(tables.incident_events, 3);
    assert.equal(tables.incident_rca, 2);
    const files = (part: string): string[] => m.parts.find((p) => p.name === part)!.files.map((f) => f.path).sort();
    assert.deepEqual(files('silences'), ['silences/acme.json']);
    assert.deepEqual(files('automation'), ['automation/runbooks/acme.json', 'automation/runs.jsonl']);
    assert.deepEqual(files('tenants'), ['tenants/tenants.yaml']);
    assert.equal(m.source.tenants, tenantsFile);
    for (const f of m.parts.flatMap((p) => p.files)) assert.equal(await sha256(join(backup, f.path)), f.sha256, f.path);
    assert.equal(await readFile(join(backup, 'config', 'vigil.yaml'), 'utf8'), await readFile(configFile, 'utf8'));
    assert.equal(await readFile(join(backup, 'tenants', 'tenants.yaml'), 'utf8'), await readFile(tenantsFile, 'utf8'));
    source = await script<Digest>('backup-digest.ts', [dataDir]);
    assert.equal(source.rows.samples, SAMPLES_PER_SERIES * SERIES);
    assert.equal(source.rows.incident_rca, 2);
  });

  it('list shows the backup with its manifest summary', async () => {
    await mkdir(join(backups, 'not-a-backup'));
    const r = await runVigil(['backup', 'list', '--json', backups]);
    assert.equal(r.code, 0, r.stderr);
    const list = JSON.parse(r.stdout) as Array<{ path: string; nodeId?: string; rows?: number; error?: string }>;
    assert.equal(list.length, 2);
    const b1 = list.find((b) => b.path === backup)!;
    assert.equal(b1.nodeId, 'node-b');
    assert.equal(b1.rows, source.rows.samples! + source.rows.scores! + source.rows.samples_1m! + source.rows.samples_1h! + source.rows.rollup_marks!
      + source.rows.anomalies! + source.rows.alerts! + source.rows.incident_events! + source.rows.incident_rca!);
    assert.match(list.find((b) => b.path !== backup)!.error!, /no manifest\.json/);
    const table = await runVigil(['backup', 'list', backups]);
    assert.match(table.stdout, /node-b .* config,tenants,tsdb,graph,audit,snapshots,log,silences,automation /);
  });

  it('restore reproduces series, rollups, events, RCA, topology, snapshots, log, silences, runbooks, runs and config exactly; the audit log gains the restore', async () => {
    const target = join(root, 'restored');
    const configOut = join(root, 'restored.yaml');
    const tenantsOut = join(root, 'restored-tenants.yaml');
    const r = await runVigil(['backup', 'restore', backup, '--data', target, '--config-out', configOut, '--tenants-out', tenantsOut], {}, 120_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /verified \d+ files/);
    assert.match(r.stdout, /tenants file in .*restored-tenants\.yaml/);
    assert.equal(await readFile(configOut, 'utf8'), await readFile(configFile, 'utf8'));
    assert.equal(await readFile(tenantsOut, 'utf8'), await readFile(tenantsFile, 'utf8'));
    const restored = await script<Digest>('backup-digest.ts', [target]);
    for (const part of ['series', 'rows', 'views', 'events', 'topology', 'snapshots', 'log', 'config']) {
      assert.deepEqual(restored[part], source[part], `${part} differs after the restore`);
    }
    const rca = Object.values(source.events as Record<string, { rca: Array<{ incidentId: string; method: string }> }>).flatMap((e) => e.rca);
    assert.deepEqual(rca.map((x) => [x.incidentId, x.method]), [['inc_1', 'causal'], ['inc_2', 'correlation']]);
    const config = source.config as { acme: { silences: Array<{ comment: string }>; runbooks: Array<{ id: string }> }; runs: Array<{ id: string }> };
    assert.deepEqual([config.acme.silences.map((x) => x.comment), config.acme.runbooks.map((x) => x.id), config.runs.map((x) => x.id)],
      [['db maintenance'], ['wait-a-bit'], ['run_1']]);
    assert.equal(Object.keys(restored.series).length, SERIES);
    assert.ok(Object.values(restored.series).every((s) => s.samples === SAMPLES_PER_SERIES));
    assert.deepEqual(restored.views, ['late_1h_mv', 'late_1m_mv']);
    const before = source.audit.entries.length;
    assert.equal(before, 3);
    assert.deepEqual(restored.audit.entries.slice(0, before), source.audit.entries);
    assert.equal(restored.audit.entries[before]!.action, 'admin.backup_restore');
    assert.equal(restored.audit.entries[before]!.target, backup);
    assert.deepEqual(restored.audit.verify, { ...restored.audit.verify, ok: true, entries: before + 1 });
  });

  it('a damaged file or manifest is refused with the file named, before the target is touched', async () => {
    const damaged = join(root, 'damaged');
    await cp(backup, damaged, { recursive: true });
    const file = join(damaged, 'tsdb', 'samples.native.gz');
    const bytes = await readFile(file);
    bytes[bytes.length >> 1] ^= 0xff;
    await writeFile(file, bytes);
    const target = join(root, 'never');
    const r = await runVigil(['backup', 'restore', damaged, '--data', target]);
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /damaged: tsdb\/samples\.native\.gz \(its sha256 differs/);
    await assert.rejects(readdir(target), { code: 'ENOENT' });

    await cp(join(backup, 'tsdb', 'samples.native.gz'), file);
    const graphFile = join(damaged, 'graph', 'acme.topology.json');
    await writeFile(graphFile, (await readFile(graphFile, 'utf8')).replace('checkout', 'checkouT'));
    const g = await runVigil(['backup', 'restore', damaged, '--data', target]);
    assert.equal(g.code, 2);
    assert.match(g.stderr, /damaged: graph\/acme\.topology\.json/);

    const manifest = join(damaged, 'manifest.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')).replace('"node-b"', '"node-x"'));
    const m = await runVigil(['backup', 'restore', damaged, '--data', target]);
    assert.equal(m.code, 2);
    assert.match(m.stderr, /manifest\.json does not match its digest/);
  });

  it('a non-empty target is refused in one line unless --force', async () => {
    const target = join(root, 'occupied');
    await mkdir(target);
    await writeFile(join(target, 'keep.txt'), 'not Vigil');
    await mkdir(join(target, 'graph'));
    await writeFile(join(target, 'graph', 'stale.topology.json'), '{}');
    const r = await runVigil(['backup', 'restore', backup, '--data', target]);
    assert.equal(r.code, 2);
    assert.equal(lines(r.stderr).length, 1, r.stderr);
    assert.match(r.stderr, /data dir .*occupied is not empty \(2 entries\).*--force/);
    const f = await runVigil(['backup', 'restore', backup, '--data', target, '--force'], {}, 120_000);
    assert.equal(f.code, 0, f.stderr);
    assert.deepEqual((await readdir(join(target, 'graph'))).sort(), ['acme.topology.json', 'globex.topology.json']);
    assert.equal(await readFile(join(target, 'keep.txt'), 'utf8'), 'not Vigil');
  });

  it('a data dir held by a running process is refused, by pid', async () => {
    const holder = spawn(process.execPath, ['--import', 'tsx', join(SUPPORT, 'backup-hold.ts'), dataDir], { stdio: ['pipe', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        createInterface({ input: holder.stdout! }).on('line', (l) => { if (l === 'holding') resolve(); });
        holder.once('exit', (code) => reject(new Error(`holder exited ${code}`)));
      });
      const r = await runVigil(['backup', 'create', '--data', dataDir, join(backups, 'b2')]);
      assert.equal(r.code, 2);
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`in use by a running process \\(pid ${holder.pid}\\)`));
      await assert.rejects(readdir(join(backups, 'b2')), { code: 'ENOENT' });
      const f = await runVigil(['backup', 'restore', backup, '--data', dataDir, '--force']);
      assert.equal(f.code, 2);
      assert.match(f.stderr, new RegExp(`in use by a running process \\(pid ${holder.pid}\\)`));
    } finally {
      holder.stdin!.end();
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  });

  it('usage mistakes and missing folders are one line with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['backup'], /missing command: create, list or restore/],
      [['backup', 'create', '--data', dataDir], /missing OUT/],
      [['backup', 'create', '--data', join(root, 'absent'), join(root, 'x')], /data dir .*absent does not exist/],
      [['backup', 'create', '--data', dataDir, backup], /b1 already exists and is not empty/],
      [['backup', 'restore', backup], /missing --data DIR/],
      [['backup', 'restore', join(root, 'absent'), '--data', join(root, 'y')], /backup .*absent does not exist/],
      [['backup', 'list', join(root, 'absent')], /folder .*absent does not exist/],
    ];
    for (const [args, message] of cases) {
      const r = await runVigil(args);
      assert.equal(r.code, 2, args.join(' '));
      assert.equal(lines(r.stderr).length, 1, r.stderr);
      assert.match(r.stderr, message);
    }
    const help = await runVigil(['backup', 'restore', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--config-out FILE/);
  });

  it('a real node: refused while it runs; after SIGTERM, a node on the restored dir serves the same series, topology, silences, runbooks and audit', async () => {
    const KEY = 'backup-key-1';
    const ADMIN = 'backup-admin-1';
    const first = testConfig({ acme: KEY }, ADMIN);
    const nodeDir = first.node.dataDir;
    let node: TestNode | undefined = await startNodeProcess(first);
    const auth = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const from = Date.now() - 3_600_000;
    const samples = Array.from({ length: 500 }, (_, i): [number, number] => [from + i * 1000, Math.sqrt(i) * 3.7]);
    const restoredDir = join(root, 'live-restored');
    try {
      const posted = await fetch(`${node.url}/v1/metrics`, { method: 'POST', headers: auth, body: JSON.stringify({ series: [{ service: 'db', metric: 'latency_ms', samples }] }) });
      assert.equal(posted.status, 202);
      const topo = { services: [{ name: 'frontend', dependsOn: ['db'] }, { name: 'db', dependsOn: [] }] };
      assert.equal((await fetch(`${node.url}/v1/topology`, { method: 'PUT', headers: auth, body: JSON.stringify(topo) })).status, 200);
      const silence = { matchers: [{ name: 'service', value: 'db' }], endsAt: Date.now() + 86_400_000, comment: 'kept by the backup' };
      assert.equal((await fetch(`${node.url}/v1/silences`, { method: 'POST', headers: auth, body: JSON.stringify(silence) })).status, 201);
      const runbook = { name: 'Wait', trigger: { services: 'db' }, steps: [{ wait: '1s' }] };
      const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
      assert.equal((await fetch(`${node.url}/v1/admin/tenants/acme/runbooks/wait-a-bit`, { method: 'PUT', headers: admin, body: JSON.stringify(runbook) })).status, 201);
      const held = await runVigil(['backup', 'create', '--data', nodeDir, join(root, 'live')]);
      assert.equal(held.code, 2);
      assert.match(held.stderr, new RegExp(`in use by a running process \\(pid ${node.pid}\\)`));
      await node.stop();
      node = undefined;
      const made = await runVigil(['backup', 'create', '--data', nodeDir, join(root, 'live')], {}, 120_000);
      assert.equal(made.code, 0, made.stderr);
      const back = await runVigil(['backup', 'restore', join(root, 'live'), '--data', restoredDir], {}, 120_000);
      assert.equal(back.code, 0, back.stderr);
      const second = testConfig({ acme: KEY }, ADMIN);
      await rm(second.node.dataDir, { recursive: true, force: true });
      second.node.dataDir = restoredDir;
      node = await startNodeProcess(second);
      const q = new URLSearchParams({ service: 'db', metric: 'latency_ms', from: String(from), to: String(from + 600_000) });
      const series = await (await fetch(`${node.url}/v1/series?${q}`, { headers: auth })).json() as { samples: Array<[number, number]> };
      assert.deepEqual(series.samples, samples);
      assert.deepEqual(await (await fetch(`${node.url}/v1/topology`, { headers: auth })).json(), topo);
      const silences = await (await fetch(`${node.url}/v1/silences`, { headers: auth })).json() as { silences: Array<{ comment: string; state: string }> };
      assert.deepEqual(silences.silences.map((x) => [x.comment, x.state]), [['kept by the backup', 'active']]);
      const runbooks = await (await fetch(`${node.url}/v1/admin/tenants/acme/runbooks`, { headers: admin })).json() as { runbooks: Array<{ id: string }> };
      assert.deepEqual(runbooks.runbooks.map((x) => x.id), ['wait-a-bit']);
      const audit = await (await fetch(`${node.url}/v1/audit`, { headers: { authorization: `Bearer ${ADMIN}` } })).json() as { entries: Array<{ action: string }> };
      assert.deepEqual(audit.entries.map((e) => e.action), ['admin.backup_restore', 'runbook.create', 'silence.create', 'topology.replace']);
    } finally {
      await node?.stop();
      await rm(nodeDir, { recursive: true, force: true });
    }
  });
});
