// Remote-write request bodies shaped as Prometheus sends them: the series are split over
// shards (one per connection, one request in flight each, as Prometheus' queue manager),
// and each request holds SAMPLES one-sample TimeSeries of its shard, cycling through the
// shard's series; a shard's clock steps forward each time it has sent all its series once
// (one scrape). Protobuf is written by hand from per-series label bytes made once, so the
// load generator spends its time compressing, as Prometheus does, not building objects.
import { compress } from 'snappyjs';

const SCRAPE_STEP_MS = 10_000;
const SERVICES = 100;
const METRICS = 10;

export interface RemoteWriteShape {
  series: number;
  samplesPerRequest: number;
  shards: number;
  start: number;
}

interface Shard {
  labels: Buffer[];
  next: number;
  clock: number;
}

export class RemoteWriteMaker {
  private readonly shards: Shard[];
  private readonly wave: number[];
  private readonly scratch: Buffer;

  constructor(private readonly shape: RemoteWriteShape) {
    const all = Array.from({ length: shape.series }, (_, i) => seriesLabels(i));
    const per = Math.ceil(shape.series / shape.shards);
    this.shards = Array.from({ length: shape.shards }, (_, s) => ({ labels: all.slice(s * per, (s + 1) * per), next: 0, clock: shape.start }));
    this.wave = Array.from({ length: 4096 }, (_, i) => 100 + 20 * Math.sin(i / 50) + ((i * 7919) % 13) - 6);
    const longest = Math.max(...all.map((b) => b.length));
    this.scratch = Buffer.alloc(shape.samplesPerRequest * (longest + 32));
  }

  /** The next snappy-compressed WriteRequest of one shard. */
  body(shardIndex: number): Buffer {
    const shard = this.shards[shardIndex % this.shards.length]!;
    const out = this.scratch;
    let pos = 0;
    for (let k = 0; k < this.shape.samplesPerRequest; k++) {
      if (shard.next === shard.labels.length) {
        shard.next = 0;
        shard.clock += SCRAPE_STEP_MS;
      }
      const labels = shard.labels[shard.next]!;
      const value = this.wave[(Math.floor(shard.clock / SCRAPE_STEP_MS) + shard.next) % this.wave.length]!;
      shard.next++;
      // Sample { double value = 1; int64 timestamp = 2; }
      const tsLen = varintLength(shard.clock);
      const sampleLen = 1 + 8 + 1 + tsLen;
      const seriesLen = labels.length + 1 + 1 + sampleLen;
      out[pos++] = 0x0a; // WriteRequest.timeseries
      pos = writeVarint(out, pos, seriesLen);
      pos += labels.copy(out, pos);
      out[pos++] = 0x12; // TimeSeries.samples
      out[pos++] = sampleLen;
      out[pos++] = 0x09;
      out.writeDoubleLE(value, pos);
      pos += 8;
      out[pos++] = 0x10;
      pos = writeVarint(out, pos, shard.clock);
    }
    return compress(Buffer.from(out.subarray(0, pos)));
  }
}

/** The label fields of series i (sorted by name, as the spec wants): __name__, instance, job. */
function seriesLabels(i: number): Buffer {
  const service = i % SERVICES;
  const metric = Math.floor(i / SERVICES) % METRICS;
  const instance = Math.floor(i / (SERVICES * METRICS));
  const pairs: Array<[string, string]> = [['__name__', `bench_metric_${metric}`], ['instance', `host-${instance}:9100`], ['job', `svc-${service}`]];
  const parts: Buffer[] = [];
  for (const [name, value] of pairs) {
    const n = Buffer.from(name);
    const v = Buffer.from(value);
    // Label { string name = 1; string value = 2; }, as TimeSeries.labels (field 1)
    parts.push(Buffer.from([0x0a, 2 + n.length + 2 + v.length, 0x0a, n.length]), n, Buffer.from([0x12, v.length]), v);
  }
  return Buffer.concat(parts);
}

function varintLength(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

function writeVarint(out: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    out[pos++] = (n % 128) | 0x80;
    n = Math.floor(n / 128);
  }
  out[pos++] = n;
  return pos;
}
