// The node's runbook automation (actors/automation): runbooks and runs kept under the data
// folder, the audit log, the live stream, the node's level, and each tenant's allowed webhook
// destinations from the tenant registry (its `webhooks:` URL prefixes).
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { ActorSystem, Clock, Rng } from '../actors/runtime/index.ts';
import { FileRunbooks, RunStore, RunbookAutomation, type RunbookStore } from '../actors/automation/index.ts';
import type { LiveEvent } from '../protocols/index.ts';
import type { AuditLog } from '../storage/audit/index.ts';
import type { LevelSource } from '../supervisors/index.ts';

export interface NodeAutomationDeps {
  dataDir: string;
  system: ActorSystem;
  clock: Clock;
  rng: Rng;
  log: Logger;
  audit: Pick<AuditLog, 'append'>;
  publish: (tenant: string, event: LiveEvent) => void;
  level: LevelSource;
  /** where runbooks are kept (cluster mode: NATS KV); default: files under the data folder */
  runbooks?: RunbookStore;
  /** a tenant's allowed webhook URL prefixes; undefined for a tenant the node does not serve */
  webhooks: (tenant: string) => readonly string[] | undefined;
  /** a tenant's bound on its unfinished runbook runs (tenants file); undefined: the default */
  maxUnfinishedRuns?: (tenant: string) => number | undefined;
}

/** Folder under the data folder: `runbooks/<tenant>.json` and `runs.jsonl`. */
export const AUTOMATION_DIR = 'automation';

export async function startAutomation(d: NodeAutomationDeps): Promise<RunbookAutomation> {
  const dir = join(d.dataDir, AUTOMATION_DIR);
  const log = d.log.child({ actor: '/root/automation' });
  const runbooks = d.runbooks ?? await FileRunbooks.open(join(dir, 'runbooks'), (file, err) => log.error({ err, file }, 'runbooks file cannot be read: its tenant starts without them'));
  const runs = await RunStore.open(dir);
  return new RunbookAutomation({
    system: d.system, clock: d.clock, rng: d.rng.fork('automation'), log, runbooks, runs,
    destinations: { allowed: (tenant) => d.webhooks(tenant) ?? [] },
    knownTenant: (tenant) => d.webhooks(tenant) !== undefined,
    ...(d.maxUnfinishedRuns ? { tenantMaxUnfinishedRuns: d.maxUnfinishedRuns } : {}),
    audit: (note) => d.audit.append(note),
    publish: d.publish,
    level: d.level,
  });
}
