// Cache benchmark: the cost of an L1 hit, an L2 (Redis) hit, a miss that loads from the
// origin, and a read while Redis is unreachable. Needs Redis at REDIS_URL (default local).
//   npx tsx storage/cache/bench.ts [--json] [--reads 20000]
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import pino from 'pino';
import { TwoLevelCache } from './cache.ts';
import { cacheKeys, INCIDENT_CACHE } from './policies.ts';
import type { CacheRef } from './policies.ts';

const argv = process.argv.slice(2);
const JSON_ONLY = argv.includes('--json');
const i = argv.indexOf('--reads');
const READS = i >= 0 ? Number(argv[i + 1]) : 20_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const say = (s: string): void => { if (!JSON_ONLY) console.log(s); };
const log = pino({ level: 'silent' });
const value = { id: 'inc_1', status: 'open', title: 'db: latency_ms anomalous (up)', services: ['db', 'catalog', 'inventory'], peakScore: 0.97 };

async function waitUp(cache: TwoLevelCache): Promise<void> {
  const end = Date.now() + 10_000;
  while (!cache.stats().l2Up) {
    if (Date.now() > end) throw new Error(`Redis at ${REDIS_URL} did not answer`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Mean µs per call of `fn` over `n` sequential calls. */
async function perCall(n: number, fn: (k: number) => Promise<unknown>): Promise<number> {
  const t = performance.now();
  for (let k = 0; k < n; k++) await fn(k);
  return ((performance.now() - t) * 1000) / n;
}

const prefix = `vigil-cache-bench-${randomBytes(4).toString('hex')}:`;
const cache = new TwoLevelCache({ redisUrl: REDIS_URL, prefix, log });
await waitUp(cache);
const origin = async (): Promise<typeof value> => value;
const ref = cacheKeys.incident('bench', 'hot');
await cache.get(ref, origin);
const l1Hit = await perCall(READS, () => cache.get(ref, origin));
// L2 hits: an L2-only policy so every read goes to Redis.
const l2Only = (k: number): CacheRef => ({ policy: { ...INCIDENT_CACHE, l1TtlMs: 0 }, key: `l2only:${k % 100}` });
for (let k = 0; k < 100; k++) await cache.get(l2Only(k), origin);
const l2Hit = await perCall(READS / 4, (k) => cache.get(l2Only(k), origin));
const miss = await perCall(READS / 4, (k) => cache.get(cacheKeys.incident('bench', `cold-${k}`), origin));
await cache.close();
const cleaner = new Redis(REDIS_URL);
for (let cursor = '0'; ;) {
  const [next, keys] = await cleaner.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1_000);
  if (keys.length > 0) await cleaner.unlink(...keys);
  if ((cursor = next) === '0') break;
}
cleaner.disconnect();

// Redis unreachable: a port nothing listens on. Reads must cost about what L1 + origin cost.
const down = new TwoLevelCache({ redisUrl: 'redis://127.0.0.1:1', prefix, log });
const downMiss = await perCall(READS / 4, (k) => down.get(cacheKeys.incident('bench', `cold-${k}`), origin));
const downStats = down.stats();
await down.close();
const l1Only = new TwoLevelCache({ prefix, log });
const noL2Miss = await perCall(READS / 4, (k) => l1Only.get(cacheKeys.incident('bench', `cold-${k}`), origin));
await l1Only.close();

say(`L1 hit: ${l1Hit.toFixed(2)} µs/read (${READS.toLocaleString()} reads)`);
say(`L2 hit (Redis GET + JSON.parse + freeze): ${l2Hit.toFixed(1)} µs/read`);
say(`miss (L1 miss, Redis GET miss, origin, L1 set, Redis SET in the background): ${miss.toFixed(1)} µs/read`);
say(`Redis unreachable, miss: ${downMiss.toFixed(2)} µs/read (skipped ${downStats.l2Skipped}, errors ${downStats.l2Errors}); with no L2 configured: ${noL2Miss.toFixed(2)} µs/read`);
console.log(JSON.stringify({
  l1_hit_us: Number(l1Hit.toFixed(2)), l2_hit_us: Number(l2Hit.toFixed(1)), miss_us: Number(miss.toFixed(1)),
  redis_down_miss_us: Number(downMiss.toFixed(2)), no_l2_miss_us: Number(noL2Miss.toFixed(2)),
}));
