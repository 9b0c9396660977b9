// Prometheus remote-write 1.0 in (https://prometheus.io/docs/specs/remote_write_spec/):
// the snappy block, the WriteRequest, and the mapping of Prometheus series (label sets)
// onto Vigil's (service, metric, labels). Pure: what is remembered between requests (the
// mapping of each label set and its last accepted sample) lives in a SeriesMemory the
// caller owns and passes in.
import './long-off.ts';
import { prometheus } from './gen/vigil.js';
import { VigilError } from './errors.ts';
import { unsnappy } from './snappy.ts';
import { LABEL_KEY_PATTERN, LABEL_MAX_COUNT, LABEL_VALUE_MAX, NAME_MAX } from './schemas.ts';
import { seriesId, seriesName } from './series-name.ts';
import type { Labels, SeriesInput } from './types.ts';

export const remoteWire = prometheus;

/** How Prometheus series become Vigil series (config keys `remoteWrite.*`). */
export interface RemoteWriteMapping {
  /** labels that name the service, the first one present wins; it leaves the series labels */
  serviceLabels: string[];
  /** the label that names the metric */
  metricLabel: string;
  /** labels left out of the series labels (e.g. 'instance' to merge the targets of a job) */
  dropLabels: string[];
  /**
   * A sample older than its series' last one, or at the same time with another value:
   * 'reject' refuses the whole request with 400 (Prometheus' own receiver), 'drop' drops
   * that sample and counts it (the rest of the request is accepted).
   */
  outOfOrder: 'reject' | 'drop';
}

export const DEFAULT_SERVICE_LABELS: readonly string[] = ['service', 'job'];
export const DEFAULT_METRIC_LABEL = '__name__';
export const DEFAULT_OUT_OF_ORDER = 'reject';
export const DEFAULT_REMOTE_WRITE_MAPPING: Readonly<RemoteWriteMapping> = Object.freeze({
  serviceLabels: [...DEFAULT_SERVICE_LABELS],
  metricLabel: DEFAULT_METRIC_LABEL,
  dropLabels: [],
  outOfOrder: DEFAULT_OUT_OF_ORDER,
});

/** A Prometheus series as Vigil knows it: its mapping and its last accepted sample. */
export interface KnownSeries {
  /** undefined when the label set does not map (no metric or service label, labels over the limits) */
  target: { service: string; metric: string; labels: Labels; id: string } | undefined;
  /** the last accepted sample; -Infinity before the first */
  lastTs: number;
  lastValue: number;
}

/** Where KnownSeries are kept between requests, keyed by the label set as sent (an LRU, a Map). */
export interface SeriesMemory {
  get(key: string): KnownSeries | undefined;
  set(key: string, series: KnownSeries): void;
}

/**
 * A SeriesMemory holding about `max` label sets: two generations of Maps. A hit in the
 * old one moves to the young one; when the young one is full the old one is dropped.
 * One Map lookup per known series (an LRU list costs more, measured), and what is
 * forgotten costs only a remap and, for that series, one order check against the past.
 */
export class RecentSeries implements SeriesMemory {
  private young = new Map<string, KnownSeries>();
  private old = new Map<string, KnownSeries>();

  constructor(private readonly max: number) {}

  get(key: string): KnownSeries | undefined {
    const hit = this.young.get(key);
    if (hit !== undefined) return hit;
    const aged = this.old.get(key);
    if (aged !== undefined) {
      this.old.delete(key);
      this.set(key, aged);
    }
    return aged;
  }

  set(key: string, series: KnownSeries): void {
    if (this.young.size >= Math.ceil(this.max / 2)) {
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, series);
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

/** Samples not passed on, by reason. */
export interface DroppedCounts {
  /** NaN (Prometheus' staleness markers, summaries without observations) and ±Inf */
  nonFinite: number;
  /** same series, same timestamp, same value as one already accepted (Prometheus ignores these too) */
  duplicate: number;
  /** older than the series' last sample, or its timestamp again with another value ('drop' mode) */
  outOfOrder: number;
  /** series without a metric or service label, or whose labels break Vigil's limits */
  unmapped: number;
}

export interface RemoteWriteBatch {
  /** one entry per Vigil series, samples in time order */
  series: SeriesInput[];
  samples: number;
  dropped: DroppedCounts;
  /** Records the batch's last samples as accepted; call once the engine took the batch. */
  commit(): void;
}

/** The whole way in: snappy block → WriteRequest → Vigil series. */
export function readRemoteWrite(body: Uint8Array, maxDecodedBytes: number, mapping: RemoteWriteMapping, memory: SeriesMemory): RemoteWriteBatch {
  return toSeriesInputs(unsnappy(body, maxDecodedBytes), mapping, memory);
}

interface Group {
  input: SeriesInput;
  known: KnownSeries[];
}

/**
 * Maps an encoded WriteRequest onto Vigil series. Prometheus sends one TimeSeries per
 * sample, so a series may appear several times in a request: its samples are gathered
 * into one entry. The bytes are walked directly (protocols/proto/remote.proto gives the
 * fields): a label set seen before is found by its bytes, so only a new one is decoded
 * and mapped, and no object is built per label or sample (the generated decoder's
 * objects cost more than the rest of the mapping; bench:ingest --profile shows it).
 *
 * Order, as Prometheus' own receiver handles it (storage/remote/write_handler.go, v1 path,
 * over its TSDB appender; the 1.0 spec makes senders send each series in time order):
 * - a sample at its series' last timestamp with the same value is a duplicate and is
 *   ignored (the TSDB appender accepts it as a no-op);
 * - a sample older than the series' last one (ErrOutOfOrderSample), or at the same time
 *   with another value (ErrDuplicateSampleForTimestamp), makes the handler roll the whole
 *   request back and answer 400 "to prevent retries": mode 'reject' does the same. Mode
 *   'drop' drops just those samples and counts them (what Prometheus' 2.0 receiver does
 *   as a partial write, minus the 400).
 * - a series without a metric name or with invalid labels is skipped and counted while
 *   the rest is written (write_handler.go's samplesWithInvalidLabels): so are series this
 *   mapping cannot place (no service label) or whose labels break Vigil's limits.
 * Vigil's detectors take finite values only, so NaN (the staleness marker Prometheus sends
 * when a series disappears, and summaries without observations) and ±Inf are dropped and
 * counted rather than refusing a request Prometheus considers normal.
 */
export function toSeriesInputs(bytes: Uint8Array, mapping: RemoteWriteMapping, memory: SeriesMemory): RemoteWriteBatch {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dropped: DroppedCounts = { nonFinite: 0, duplicate: 0, outOfOrder: 0, unmapped: 0 };
  const groups = new Map<string, Group>();
  const reject = mapping.outOfOrder === 'reject';
  const r = new WireReader(buf);
  let index = -1;
  while (r.pos < buf.length) {
    const tag = r.varint32();
    if (tag !== 0x0a) { // WriteRequest.timeseries (1, length-delimited); metadata and the rest skipped
      r.skip(tag);
      continue;
    }
    index++;
    const end = r.lengthEnd();
    // One pass over the TimeSeries: where its labels are, where its samples are.
    let labelsStart = -1;
    let labelsEnd = -1;
    let split = false; // labels not contiguous (some other field between them)
    let samplesAt = -1;
    let samplesCount = 0;
    while (r.pos < end) {
      const at = r.pos;
      const t = r.varint32();
      if (t === 0x0a) {
        const e = r.lengthEnd();
        if (labelsStart < 0) labelsStart = at;
        else if (labelsEnd !== at) split = true;
        labelsEnd = r.pos = e;
      } else if (t === 0x12) {
        if (samplesAt < 0) samplesAt = at;
        samplesCount++;
        r.pos = r.lengthEnd();
      } else {
        r.skip(t);
      }
    }
    if (r.pos !== end) throw r.fail('a field runs past its series');
    if (samplesCount === 0) continue;
    const key = labelsStart < 0 ? '' : split ? splitLabelsKey(buf, labelsStart, end) : buf.toString('latin1', labelsStart, labelsEnd);
    let known = memory.get(key);
    if (!known) {
      known = { target: mapLabels(readLabels(buf, labelsStart < 0 ? end : labelsStart, end), mapping), lastTs: -Infinity, lastValue: NaN };
      memory.set(key, known);
    }
    const target = known.target;
    if (!target) {
      dropped.unmapped += samplesCount;
      r.pos = end;
      continue;
    }
    let group = groups.get(target.id);
    if (!group) {
      group = { input: { service: target.service, metric: target.metric, labels: target.labels, samples: [] }, known: [] };
      groups.set(target.id, group);
    }
    if (!group.known.includes(known)) group.known.push(known);
    const out = group.input.samples;
    // The newest accepted sample: this request's, else the last request's.
    let lastTs = known.lastTs;
    let lastValue = known.lastValue;
    if (out.length > 0) {
      const tail = out[out.length - 1]!;
      if (tail[0] >= lastTs) {
        lastTs = tail[0];
        lastValue = tail[1];
      }
    }
    r.pos = samplesAt;
    while (r.pos < end) {
      const t = r.varint32();
      if (t !== 0x12) {
        r.skip(t);
        continue;
      }
      const sampleEnd = r.lengthEnd();
      let v = 0;
      let ts = 0;
      while (r.pos < sampleEnd) {
        const f = r.varint32();
        if (f === 0x09) v = r.double();
        else if (f === 0x10) ts = r.varint64();
        else r.skip(f);
      }
      if (r.pos !== sampleEnd) throw r.fail('a sample runs past its end');
      if (!Number.isFinite(v)) {
        dropped.nonFinite++;
        continue;
      }
      if (ts > lastTs) {
        out.push([ts, v]);
        lastTs = ts;
        lastValue = v;
        continue;
      }
      if (ts === lastTs && v === lastValue) {
        dropped.duplicate++;
        continue;
      }
      if (reject) {
        const why = ts === lastTs ? `a second value at timestamp ${ts} (${v}, first ${lastValue})` : `out of order: timestamp ${ts} is older than ${lastTs}`;
        throw new VigilError('BAD_REQUEST', `timeseries[${index}] (service ${target.service}, ${seriesName(target.metric, target.labels)}): ${why}`);
      }
      dropped.outOfOrder++;
    }
  }
  const series: SeriesInput[] = [];
  let samples = 0;
  for (const g of groups.values()) {
    if (g.input.samples.length === 0) continue;
    series.push(g.input);
    samples += g.input.samples.length;
  }
  return {
    series,
    samples,
    dropped,
    commit() {
      for (const g of groups.values()) {
        const s = g.input.samples;
        if (s.length === 0) continue;
        const [t, v] = s[s.length - 1]!;
        for (const k of g.known) {
          // two requests in flight for one series: keep the newer mark
          if (t > k.lastTs) {
            k.lastTs = t;
            k.lastValue = v;
          }
        }
      }
    },
  };
}

export interface RawLabel {
  name: string;
  value: string;
}

/** The Label fields (1) of a TimeSeries between `from` and `end`, decoded. */
function readLabels(buf: Buffer, from: number, end: number): RawLabel[] {
  const r = new WireReader(buf, from);
  const labels: RawLabel[] = [];
  while (r.pos < end) {
    const t = r.varint32();
    if (t !== 0x0a) {
      r.skip(t);
      continue;
    }
    const labelEnd = r.lengthEnd();
    const label: RawLabel = { name: '', value: '' };
    while (r.pos < labelEnd) {
      const f = r.varint32();
      if (f === 0x0a || f === 0x12) {
        const e = r.lengthEnd();
        const text = buf.toString('utf8', r.pos, e);
        if (f === 0x0a) label.name = text;
        else label.value = text;
        r.pos = e;
      } else {
        r.skip(f);
      }
    }
    labels.push(label);
  }
  return labels;
}

/** The key of labels interleaved with other fields: their bytes, joined. */
function splitLabelsKey(buf: Buffer, from: number, end: number): string {
  const r = new WireReader(buf, from);
  let key = '';
  while (r.pos < end) {
    const at = r.pos;
    const t = r.varint32();
    if (t === 0x0a) {
      r.pos = r.lengthEnd();
      key += buf.toString('latin1', at, r.pos);
    } else {
      r.skip(t);
    }
  }
  return key;
}

/** Protobuf wire reading over a Buffer, bounds-checked; errors are the client's (400). */
class WireReader {
  constructor(readonly buf: Buffer, public pos = 0) {}

  fail(why: string): VigilError {
    return new VigilError('BAD_REQUEST', `body is not a valid prometheus.WriteRequest: ${why} (byte ${this.pos})`);
  }

  varint32(): number {
    let n = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw this.fail('varint too long');
  }

  /** An int64 (two's complement in 10 bytes when negative), as a number. */
  varint64(): number {
    // fast path: non-negative and at most 7 bytes (49 bits), as every Unix-ms timestamp
    const buf = this.buf;
    let pos = this.pos;
    let n = 0;
    let scale = 1;
    for (let i = 0; i < 7 && pos < buf.length; i++) {
      const b = buf[pos++]!;
      n += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.pos = pos;
        return n;
      }
      scale *= 128;
    }
    return this.varint64Slow();
  }

  private varint64Slow(): number {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.buf.length) throw this.fail('truncated varint');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo += (b & 0x7f) * 2 ** (7 * i);
      else if (i === 4) {
        lo += (b & 0x0f) * 2 ** 28;
        hi += (b & 0x70) >> 4;
      } else hi += (b & 0x7f) * 2 ** (7 * (i - 5) + 3);
      if (b < 0x80) {
        hi %= 2 ** 32;
        return hi >= 2 ** 31 ? (hi - 2 ** 32) * 2 ** 32 + lo : hi * 2 ** 32 + lo;
      }
    }
    throw this.fail('varint too long');
  }

  double(): number {
    if (this.pos + 8 > this.buf.length) throw this.fail('truncated double');
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Reads a length prefix; returns where the field ends. */
  lengthEnd(): number {
    const len = this.varint32();
    const end = this.pos + len;
    if (end > this.buf.length) throw this.fail('a length runs past the end');
    return end;
  }

  skip(tag: number): void {
    switch (tag & 7) {
      case 0: this.varint64(); return;
      case 1: this.pos += 8; break;
      case 2: this.pos = this.lengthEnd(); return;
      case 5: this.pos += 4; break;
      default: throw this.fail(`unsupported wire type ${tag & 7}`);
    }
    if (this.pos > this.buf.length) throw this.fail('truncated field');
  }
}

// characters outside NAME_PATTERN's
const NAME_CHAR = /[^A-Za-z0-9_.:/-]/g;
const LABEL_KEY = new RegExp(LABEL_KEY_PATTERN);

/**
 * One Prometheus label set → service, metric and labels, or undefined when it does not
 * map. Service and metric names take Vigil's name rules by replacing other characters
 * with '_' (a job "node exporter" becomes service "node_exporter"); label names must
 * already fit (Prometheus' own rules are the same); empty values mean "no label" in
 * Prometheus and are left out.
 */
export function mapLabels(labels: RawLabel[], mapping: RemoteWriteMapping): KnownSeries['target'] {
  let metric: string | undefined;
  let service: string | undefined;
  let serviceRank = mapping.serviceLabels.length;
  let serviceLabel: string | undefined;
  for (const l of labels) {
    const { name, value } = l;
    if (value === '') continue;
    if (name === mapping.metricLabel) metric = value;
    const rank = mapping.serviceLabels.indexOf(name);
    if (rank >= 0 && rank < serviceRank) {
      serviceRank = rank;
      service = value;
      serviceLabel = name;
    }
  }
  if (metric === undefined || service === undefined) return undefined;
  const rest: Labels = {};
  let count = 0;
  for (const l of labels) {
    const { name, value } = l;
    if (value === '' || name === mapping.metricLabel || name === serviceLabel || mapping.dropLabels.includes(name)) continue;
    if (!LABEL_KEY.test(name) || name.length > NAME_MAX || value.length > LABEL_VALUE_MAX || ++count > LABEL_MAX_COUNT) return undefined;
    if (Object.hasOwn(rest, name)) return undefined; // a label name twice: Prometheus refuses these too
    rest[name] = value;
  }
  const svc = vigilName(service);
  const met = vigilName(metric);
  if (svc === undefined || met === undefined) return undefined;
  return { service: svc, metric: met, labels: rest, id: seriesId({ service: svc, metric: met, labels: rest }) };
}

/** A name made to fit NAME_PATTERN, or undefined when it is too long. */
function vigilName(raw: string): string | undefined {
  let name = raw.replace(NAME_CHAR, '_');
  if (!/^[A-Za-z_]/.test(name)) name = `_${name}`;
  return name.length <= NAME_MAX ? name : undefined;
}
