import { strict as assert } from 'node:assert';
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { VirtualClock } from '../actors/runtime/index.ts';
import { AUDIT_ACTIONS, AUDIT_FILE, FileAuditLog, GENESIS_HASH, MAX_AUDIT_VALUE_BYTES } from '../storage/audit/index.ts';
import type { AuditRecord } from '../storage/audit/index.ts';

const isCode = (code: string) => (e: Error & { code?: string }): boolean => e.code === code;

function ack(tenant: string | null, i: number): AuditRecord {
  return {
    tenant, actor: tenant ? `key:ab12cd${i % 3}` : 'admin', action: AUDIT_ACTIONS.incidentAck, target: `inc_${i}`,
    before: { status: 'open' }, after: { status: 'acknowledged' },
  };
}

describe('storage/audit: append-only file log', () => {
  let dir: string;
  let path: string;
  let clock: VirtualClock;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-audit-'));
    path = join(dir, AUDIT_FILE);
    clock = new VirtualClock(1_700_000_000_000);
  });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('numbers, times and chains entries; what append returns is what list reads', async () => {
    const log = await FileAuditLog.open({ path, clock });
    const e1 = await log.append({ tenant: 'acme', actor: 'key:ab12cd', action: 'incident.resolve', target: 'inc_1', before: { status: 'open' }, after: { status: 'resolved' } });
    clock.advance(1000);
    const e2 = await log.append({ tenant: null, actor: 'admin', action: AUDIT_ACTIONS.actorRestart, target: '/root/tenants/acme' });
    assert.equal(e1.seq, 1);
    assert.equal(e1.at, 1_700_000_000_000);
    assert.equal(e1.prev, GENESIS_HASH);
    assert.equal(e2.seq, 2);
    assert.equal(e2.at, 1_700_000_001_000);
    assert.equal(e2.prev, e1.hash);
    assert.equal(e2.before, null);
    assert.deepEqual((await log.list({})).items, [e2, e1]);
    assert.deepEqual(log.head(), { seq: 2, hash: e2.hash });
    await log.close();
  });

  it('group-commits concurrent appends: every one durable, in call order, with fewer fsyncs', async () => {
    const log = await FileAuditLog.open({ path, clock });
    const n = 300;
    const entries = await Promise.all(Array.from({ length: n }, (_, i) => log.append(ack('acme', i))));
    assert.deepEqual(entries.map((e) => e.seq), Array.from({ length: n }, (_, i) => i + 1));
    assert.deepEqual(entries.map((e) => e.target), Array.from({ length: n }, (_, i) => `inc_${i}`));
    assert.ok(log.fsyncs < n, `fsyncs ${log.fsyncs} for ${n} appends`);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    assert.equal(lines.length, n, 'on disk when the promises resolved');
    await log.close();
  });

  it('reads by tenant (null: node-level), by time range, newest first, paged by a stable cursor', async () => {
    const log = await FileAuditLog.open({ path, clock });
    for (let i = 0; i < 30; i++) {
      await log.append(ack(i % 3 === 0 ? null : i % 3 === 1 ? 'acme' : 'other', i));
      clock.advance(10);
    }
    const acme = await log.list({ tenant: 'acme', limit: 1000 });
    assert.equal(acme.items.length, 10);
    assert.ok(acme.items.every((e) => e.tenant === 'acme'));
    assert.deepEqual(acme.items.map((e) => e.seq), [29, 26, 23, 20, 17, 14, 11, 8, 5, 2]);
    assert.equal(acme.next, undefined);
    const node = await log.list({ tenant: null });
    assert.ok(node.items.length === 10 && node.items.every((e) => e.tenant === null && e.actor === 'admin'));
    assert.deepEqual((await log.list({ tenant: 'nobody' })).items, []);

    const t0 = 1_700_000_000_000;
    const range = await log.list({ from: t0 + 50, to: t0 + 100 }); // seq 6..11, bounds inclusive
    assert.deepEqual(range.items.map((e) => e.seq), [11, 10, 9, 8, 7, 6]);
    const acmeRange = await log.list({ tenant: 'acme', from: t0 + 50, to: t0 + 100 });
    assert.deepEqual(acmeRange.items.map((e) => e.seq), [11, 8]);

    const p1 = await log.list({ tenant: 'acme', limit: 4 });
    assert.deepEqual(p1.items.map((e) => e.seq), [29, 26, 23, 20]);
    assert.ok(p1.next);
    await log.append(ack('acme', 99)); // arrives between pages: must not shift page 2
    const p2 = await log.list({ tenant: 'acme', limit: 4, cursor: p1.next });
    assert.deepEqual(p2.items.map((e) => e.seq), [17, 14, 11, 8]);
    const p3 = await log.list({ tenant: 'acme', limit: 4, cursor: p2.next });
    assert.deepEqual(p3.items.map((e) => e.seq), [5, 2]);
    assert.equal(p3.next, undefined);
    const all = await log.list({ limit: 25 });
    assert.deepEqual(all.items.map((e) => e.seq), Array.from({ length: 25 }, (_, i) => 31 - i));
    assert.deepEqual((await log.list({ limit: 25, cursor: all.next })).items.map((e) => e.seq), [6, 5, 4, 3, 2, 1]);
    await assert.rejects(log.list({ cursor: 'not-a-cursor' }), isCode('BAD_REQUEST'));
    await log.close();
  });

  it('keeps everything across a restart and continues the numbering and the chain', async () => {
    const first = await FileAuditLog.open({ path, clock });
    // values over 1 MiB in all, so reading back crosses the reader's chunk boundaries
    const big = 'x'.repeat(400);
    for (let b = 0; b < 30; b++) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => b * 100 + j).map((i) => first.append({ ...ack(i % 2 ? 'acme' : null, i), before: { note: big, i } })));
    }
    const before = await first.list({ limit: 1000 });
    const head = first.head();
    await first.close();
    const second = await FileAuditLog.open({ path, clock });
    assert.deepEqual(second.head(), head);
    assert.deepEqual(await second.list({ limit: 1000 }), before);
    assert.equal((await second.list({ tenant: 'acme', limit: 1000 })).items.length, 1000);
    const next = await second.append(ack('acme', 1));
    assert.equal(next.seq, 3001);
    assert.equal(next.prev, head.hash);
    assert.deepEqual(await second.verify(), { ok: true, entries: 3001, head: next.hash });
    await second.close();
  });

  it('verify finds an entry altered on disk, and the entry it was', async () => {
    const log = await FileAuditLog.open({ path, clock });
    for (let i = 0; i < 5; i++) await log.append(ack('acme', i));
    assert.equal((await log.verify()).ok, true);
    await log.close();
    const text = await readFile(path, 'utf8');
    const lines = text.split('\n');
    lines[2] = lines[2]!.replace('"acknowledged"', '"resolved"'); // entry 3 rewritten, hash left as it was
    await writeFile(path, lines.join('\n'));
    const reopened = await FileAuditLog.open({ path, clock });
    assert.deepEqual(await reopened.verify(), { ok: false, entries: 2, seq: 3, reason: 'hash does not match the content' });
    await reopened.close();
  });

  it('refuses to open a log with an entry removed from the middle, naming the file and entry', async () => {
    const log = await FileAuditLog.open({ path, clock });
    for (let i = 0; i < 5; i++) await log.append(ack('acme', i));
    await log.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines.splice(1, 1);
    await writeFile(path, lines.join('\n'));
    await assert.rejects(FileAuditLog.open({ path, clock }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'INTERNAL');
      assert.ok(e.message.includes(path));
      assert.match(e.message, /damaged at entry 2 .*numbered 3/);
      return true;
    });
  });

  it('cuts a torn last line (an append that never completed) and carries on', async () => {
    const log = await FileAuditLog.open({ path, clock });
    for (let i = 0; i < 3; i++) await log.append(ack('acme', i));
    await log.close();
    await appendFile(path, '{"seq":4,"at":17000000');
    const lines: Array<{ msg: string }> = [];
    const plog = pino({ level: 'warn' }, { write: (s: string) => { lines.push(JSON.parse(s) as { msg: string }); } });
    const again = await FileAuditLog.open({ path, clock, log: plog });
    assert.ok(lines.some((l) => /torn last line/.test(l.msg)));
    assert.equal(again.head().seq, 3);
    const e4 = await again.append(ack('acme', 4));
    assert.equal(e4.seq, 4);
    assert.deepEqual(await again.verify(), { ok: true, entries: 4, head: e4.hash });
    await again.close();
  });

  it('refuses bad records with BAD_REQUEST, and has no way to change or remove an entry', async () => {
    const log = await FileAuditLog.open({ path, clock });
    await assert.rejects(log.append({ ...ack('acme', 1), action: 'ack' }), isCode('BAD_REQUEST'));
    await assert.rejects(log.append({ ...ack('acme', 1), actor: '' }), isCode('BAD_REQUEST'));
    await assert.rejects(log.append({ ...ack('acme', 1), tenant: '' }), isCode('BAD_REQUEST'));
    await assert.rejects(log.append({ ...ack('acme', 1), before: 'y'.repeat(MAX_AUDIT_VALUE_BYTES) }), isCode('BAD_REQUEST'));
    assert.equal(log.head().seq, 0, 'nothing refused was stored');
    const methods = Object.getOwnPropertyNames(FileAuditLog.prototype);
    assert.deepEqual(methods.filter((m) => /update|delete|remove|edit|put|set|clear|truncate|replace/i.test(m)), []);
    await log.close();
    await assert.rejects(log.append(ack('acme', 1)), isCode('UNAVAILABLE'));
  });
});
