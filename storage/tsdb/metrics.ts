// The rollup passes' figures for the node's /metrics, read on each scrape (collect).
import { Gauge, type Registry } from 'prom-client';
import type { TsdbStore } from './store.ts';

export function registerRollupMetrics(registry: Registry, store: Pick<TsdbStore, 'rolledUp' | 'rollupFailing' | 'now'>): void {
  new Gauge({
    name: 'vigil_rollup_behind_seconds',
    help: 'How far the 1-minute rollup is behind the clock (embedded engine; reads aggregate the rest from raw samples). 0 on a server, whose views roll every insert',
    registers: [registry],
    collect() {
      const mark = store.rolledUp.minute;
      this.set(Number.isFinite(mark) ? Math.max(0, (store.now() - mark) / 1000) : 0);
    },
  });
  new Gauge({
    name: 'vigil_rollup_pass_failing',
    help: '1 when the last rollup pass failed (the next write tries again)',
    registers: [registry],
    collect() {
      this.set(store.rollupFailing ? 1 : 0);
    },
  });
}
