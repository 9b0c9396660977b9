// The rollup passes' figures for the node's /metrics, read on each scrape (collect).
import { Gauge, type Registry } from 'prom-client';
import type { TsdbStore } from './store.ts';

export function registerRollupMetrics(registry: Registry, store: Pick<TsdbStore, 'rollupStatus'>): void {
  new Gauge({
    name: 'vigil_rollup_behind_seconds',
    help: 'How far the 1-minute rollup is behind the clock (embedded engine; reads aggregate the rest from raw samples). 0 on a server, whose views roll every insert',
    registers: [registry],
    collect() {
      this.set(store.rollupStatus().behindMs / 1000);
    },
  });
  new Gauge({
    name: 'vigil_rollup_pass_failing',
    help: '1 when the last rollup pass failed (the next write tries again)',
    registers: [registry],
    collect() {
      this.set(store.rollupStatus().failing ? 1 : 0);
    },
  });
}
