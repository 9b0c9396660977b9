// Audit log benchmark: appends one at a time (one fsync each) and 64 in flight (group
// commit), a page of 100 newest entries of a tenant, reopening and verifying the log.
//   npx tsx storage/audit/bench.ts [--json] [--entries 20000]
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { AUDIT_FILE, FileAuditLog } from './file-log.ts';
import type { AuditRecord } from './types.ts';

const argv = process.argv.slice(2);
const JSON_ONLY = argv.includes('--json');
const k = argv.indexOf('--entries');
const ENTRIES = k >= 0 ? Number(argv[k + 1]) : 20_000;
const IN_FLIGHT = 64;
const say = (s: string): void => { if (!JSON_ONLY) console.log(s); };
const record = (i: number): AuditRecord => ({
  tenant: `t${i % 100}`, actor: `key:${(i * 2654435761 >>> 0).toString(16)}`, action: 'incident.ack', target: `inc_${i}`,
  before: { status: 'open' }, after: { status: 'acknowledged' },
});

const dir = await mkdtemp(join(tmpdir(), 'vigil-audit-bench-'));
try {
  const path = join(dir, AUDIT_FILE);
  const log = await FileAuditLog.open({ path });
  const SERIAL = 200;
  let t = performance.now();
  for (let i = 0; i < SERIAL; i++) await log.append(record(i));
  const serialPerS = SERIAL / ((performance.now() - t) / 1000);
  const syncsBefore = log.fsyncs;
  t = performance.now();
  let next = SERIAL;
  const worker = async (): Promise<void> => {
    while (next < ENTRIES) await log.append(record(next++));
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const groupSeconds = (performance.now() - t) / 1000;
  const grouped = ENTRIES - SERIAL;
  const groupPerS = grouped / groupSeconds;
  const perSync = grouped / (log.fsyncs - syncsBefore);
  const pages: number[] = [];
  for (let i = 0; i < 200; i++) {
    const p = performance.now();
    await log.list({ tenant: `t${i % 100}`, limit: 100 });
    pages.push(performance.now() - p);
  }
  pages.sort((a, b) => a - b);
  const allPages: number[] = [];
  for (let i = 0; i < 200; i++) {
    const p = performance.now();
    await log.list({ limit: 100 });
    allPages.push(performance.now() - p);
  }
  allPages.sort((a, b) => a - b);
  await log.close();
  const bytes = (await stat(path)).size;
  t = performance.now();
  const again = await FileAuditLog.open({ path });
  const openMs = performance.now() - t;
  t = performance.now();
  const v = await again.verify();
  const verifyMs = performance.now() - t;
  await again.close();
  say(`append, one at a time: ${serialPerS.toFixed(0)}/s (one fsync each)`);
  say(`append, ${IN_FLIGHT} in flight: ${groupPerS.toFixed(0)}/s, ${perSync.toFixed(1)} entries per fsync`);
  say(`page of 100 newest of one tenant (of ${ENTRIES.toLocaleString()} entries, 100 tenants): p50 ${pages[100]!.toFixed(2)} ms, p99 ${pages[197]!.toFixed(2)} ms`);
  say(`page of 100 newest of all tenants (one read): p50 ${allPages[100]!.toFixed(2)} ms, p99 ${allPages[197]!.toFixed(2)} ms`);
  say(`reopen (${(bytes / 1048576).toFixed(1)} MiB, index rebuilt): ${openMs.toFixed(0)} ms; verify (every hash): ${verifyMs.toFixed(0)} ms, ok=${v.ok}`);
  console.log(JSON.stringify({
    entries: ENTRIES, append_serial_per_s: Math.round(serialPerS), append_grouped_per_s: Math.round(groupPerS),
    entries_per_fsync: Number(perSync.toFixed(1)), page_p50_ms: Number(pages[100]!.toFixed(2)), page_all_p50_ms: Number(allPages[100]!.toFixed(2)),
    reopen_ms: Math.round(openMs), verify_ms: Math.round(verifyMs), file_mib: Number((bytes / 1048576).toFixed(2)),
  }));
} finally {
  await rm(dir, { recursive: true, force: true });
}
