// bench:tenancy --split's gateway: a prototype, not a part of Vigil. It stands where an ingest
// path with a heap and event loop of its own would stand: it takes every request, checks the
// key and a local bucket per tenant, decodes the protobuf batch, appends it to a log with group
// commit (one fdatasync for the requests waiting), answers 202, and only then forwards the body
// to the node, which does all the rest (its own quota, validation, log, detection, storage,
// checkpoints). B's latency is then what it would be if the node's processing could not delay
// an acknowledgement. It skips the node's validation (schema, timestamps, series admission),
// so it does a little less per request than a real gateway would.
//
//   fork('bench/tenancy-gateway.ts', [JSON.stringify(GatewaySpec)]) → { port } on IPC;
//   any IPC message then → { forwardRefused, forwardFailed } and exit.
import { open } from 'node:fs/promises';
import http from 'node:http';
import { wire } from '../protocols/index.ts';

export interface GatewaySpec {
  /** the node's base URL, where accepted bodies go */
  node: string;
  /** the log file the gateway appends accepted bodies to */
  log: string;
  /** API key → samples per second (also the burst) */
  quotas: Record<string, number>;
}

/** Bodies forwarded to the node at once, at most (the node's own backpressure beyond it). */
const FORWARD_SOCKETS = 8;

interface Bucket { rate: number; tokens: number; at: number }

async function main(spec: GatewaySpec): Promise<void> {
  const buckets = new Map<string, Bucket>(Object.entries(spec.quotas).map(([key, rate]) => [key, { rate, tokens: rate, at: performance.now() }]));
  const log = await open(spec.log, 'w');
  const target = new URL('/v1/metrics', spec.node);
  const agent = new http.Agent({ keepAlive: true, maxSockets: FORWARD_SOCKETS });
  const counts = { forwardRefused: 0, forwardFailed: 0 };

  // group commit: the bodies that arrived while the last fdatasync ran share the next one
  let waiting: Array<{ body: Buffer; durable: () => void }> = [];
  let writing = false;
  const commit = async (): Promise<void> => {
    if (writing || waiting.length === 0) return;
    writing = true;
    const group = waiting;
    waiting = [];
    await log.writev(group.map((g) => g.body));
    await log.datasync();
    writing = false;
    for (const g of group) g.durable();
    void commit();
  };

  const forward = (key: string, body: Buffer): void => {
    const req = http.request(target, {
      method: 'POST', agent, headers: { authorization: `Bearer ${key}`, 'content-type': 'application/x-protobuf', 'content-length': body.byteLength },
    }, (res) => {
      res.resume();
      if (res.statusCode !== 202) counts.forwardRefused++;
    });
    req.on('error', () => { counts.forwardFailed++; });
    req.end(body);
  };

  const admit = (bucket: Bucket, samples: number): boolean => {
    const now = performance.now();
    bucket.tokens = Math.min(bucket.rate, bucket.tokens + ((now - bucket.at) / 1000) * bucket.rate);
    bucket.at = now;
    if (bucket.tokens < samples) return false;
    bucket.tokens -= samples;
    return true;
  };

  const answer = (res: http.ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(body);
  };

  const server = http.createServer({ keepAlive: true }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.once('end', () => {
      const key = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      const bucket = buckets.get(key);
      if (!bucket) return answer(res, 401, '{"error":{"code":"UNAUTHENTICATED","message":"unknown key"}}');
      const body = Buffer.concat(chunks);
      let samples = 0;
      try {
        for (const s of wire.MetricBatch.decode(body).series) samples += s.timestamps?.length ?? 0;
      } catch {
        return answer(res, 400, '{"error":{"code":"BAD_REQUEST","message":"not a MetricBatch"}}');
      }
      if (!admit(bucket, samples)) return answer(res, 429, '{"error":{"code":"QUOTA_EXCEEDED","message":"over the rate"}}', { 'retry-after': '1' });
      waiting.push({
        body,
        durable: () => {
          answer(res, 202, `{"accepted":${samples}}`);
          forward(key, body);
        },
      });
      void commit();
    });
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
  });
  process.once('message', () => {
    process.send?.(counts, () => process.exit(0));
  });
  process.on('disconnect', () => process.exit(0));
}

if (process.send) {
  main(JSON.parse(process.argv[2] ?? '{}') as GatewaySpec).catch((err: unknown) => {
    process.stderr.write(`tenancy gateway: ${String(err)}\n`);
    process.exit(1);
  });
}
