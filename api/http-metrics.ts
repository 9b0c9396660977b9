// The gateway's own Prometheus metrics, in the engine's registry (one /metrics): requests
// by route and status, their duration, open streams. Labels are route patterns, never raw
// URLs, so a client cannot blow up the series count. Two gateways over one engine (tests)
// share the metrics rather than registering them twice.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface HttpMetrics {
  observe(route: string, method: string, status: number, seconds: number): void;
  /** Stops counting this gateway's streams (on close). */
  release(): void;
}

/** Open-stream counters of every gateway on a registry, summed on scrape. */
const streamSources = new WeakMap<Registry, Set<() => number>>();

function reuse<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function createHttpMetrics(registry: Registry, openStreams: () => number): HttpMetrics {
  const requests = reuse(registry, 'vigil_http_requests_total', () => new Counter({
    name: 'vigil_http_requests_total', help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'], registers: [registry],
  }));
  const duration = reuse(registry, 'vigil_http_request_duration_seconds', () => new Histogram({
    name: 'vigil_http_request_duration_seconds', help: 'HTTP request duration by route (read, parse, validate, handle)',
    labelNames: ['route'], buckets: [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5], registers: [registry],
  }));
  let sources = streamSources.get(registry);
  if (!sources) {
    const all = (sources = new Set());
    streamSources.set(registry, all);
    reuse(registry, 'vigil_stream_connections', () => new Gauge({
      name: 'vigil_stream_connections', help: 'Open WebSocket /v1/stream connections', registers: [registry],
      collect() {
        let n = 0;
        for (const f of all) n += f();
        this.set(n);
      },
    }));
  }
  const mine = sources;
  mine.add(openStreams);
  return {
    observe(route, method, status, seconds) {
      requests.inc({ route, method, status });
      duration.observe({ route }, seconds);
    },
    release: () => void mine.delete(openStreams),
  };
}
