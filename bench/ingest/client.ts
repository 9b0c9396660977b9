// The load generator's HTTP side: one POST, latency percentiles, the node's own count of
// samples taken in (from /metrics).
import http from 'node:http';

export interface Outcome {
  status: number;
  ms: number;
  accepted: number;
  /** on a 429: whether it said when to come back (a Retry-After of at least 1 s) */
  retryAfter?: boolean;
}

/** Remote write answers 204 with the count in this header (remote-write 2.0's name). */
export const SAMPLES_WRITTEN_HEADER = 'x-prometheus-remote-write-samples-written';

/**
 * `since`: the performance.now() the latency counts from (the scheduled send time).
 * Accepted samples come from a 202's JSON body (POST /v1/metrics) or a 204's header (remote write).
 * A 429 notes whether it said when to come back.
 */
export function post(agent: http.Agent, url: URL, key: string, body: Uint8Array, headers: Record<string, string>, since: number): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method: 'POST', agent,
      headers: { ...headers, 'content-length': body.byteLength, authorization: `Bearer ${key}` },
    }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = performance.now() - since;
        let accepted = 0;
        if (res.statusCode === 202) accepted = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { accepted: number }).accepted;
        else if (res.statusCode === 204) accepted = Number(res.headers[SAMPLES_WRITTEN_HEADER] ?? 0);
        const status = res.statusCode ?? 0;
        resolve({ status, ms, accepted, ...(status === 429 ? { retryAfter: Number(res.headers['retry-after']) >= 1 } : {}) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/**
 * The node's count of samples its ServiceActors took in: `vigil_samples_ingested_total N` on
 * the public /metrics (unlabelled; older nodes labelled it, so labelled lines are summed).
 * Undefined when the node cannot be reached or shows no such line.
 */
export async function scrapeIngested(base: string): Promise<number | undefined> {
  try {
    return ingestedOf(await (await fetch(new URL('/metrics', base))).text());
  } catch {
    return undefined;
  }
}

export function ingestedOf(exposition: string): number | undefined {
  let sum: number | undefined;
  for (const line of exposition.split('\n')) {
    if (!/^vigil_samples_ingested_total[ {]/.test(line)) continue;
    const n = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(n)) sum = (sum ?? 0) + n;
  }
  return sum;
}

