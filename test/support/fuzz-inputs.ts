// Generators of malformed input for the fuzz suite (fast-check). Most inputs start from a valid
// one and break it in one place (a text or byte mutation, a wrong type at some path, an unknown
// field, a name, number or time out of range), so they reach deep into the checks instead of
// failing at the first byte; the rest are random bytes, JSON and text.
import fc from 'fast-check';
import { compress } from 'snappyjs';
import { remoteWire, wire } from '../../protocols/index.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Strings a validator meets in the wild: control characters, surrogates, huge, numeric-looking, path-like. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
  { weight: 2, arbitrary: fc.constantFrom('', ' ', '\u0000', '\n', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '..', '../../etc/passwd',
    '%00', '%zz', '%', '{{incident.id}}', '${x}', "'; drop table x;--", '<script>', 'NaN', 'Infinity', '-0', '1e309', '0x1f', '9'.repeat(40), '\uFFFF', '\uD800', 'é', '🙂',
    'a'.repeat(129), 'a'.repeat(257), 'a'.repeat(5000), 'globex', 'acme', 'null', 'true', '[]', '{}') },
  { weight: 1, arbitrary: fc.integer().map(String) },
);

/** Numbers a validator meets in the wild. */
export const nastyNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, -0, 1e21, -1e21, Number.MAX_SAFE_INTEGER + 2, Number.MIN_SAFE_INTEGER - 2, Number.MAX_VALUE, 2 ** 53, 1e300, 8_640_000_000_000_001),
  fc.double(),
  fc.integer(),
);

const anyJson: fc.Arbitrary<Json> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
  nastyString,
  nastyNumber.filter(Number.isFinite),
  fc.constant(null),
  fc.array(nastyString, { maxLength: 3 }),
);

/** A JSON value with one defect at a random place: a wrong value, a field removed or added, a prototype key. */
export function brokenJson(base: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(base);
  return fc.tuple(fc.constantFrom(...paths), fc.nat(5), anyJson, fc.oneof(nastyString, fc.constantFrom('__proto__', 'constructor', 'tenant', 'tenantId', 'zz')))
    .map(([path, how, value, key]) => {
      const copy = structuredClone(base);
      if (path.length === 0) return how < 2 ? value : copy;
      const parent = at(copy, path.slice(0, -1));
      const last = path[path.length - 1]!;
      if (parent === null || typeof parent !== 'object') return copy;
      const obj = parent as Record<string | number, Json>;
      const target = obj[last];
      if (how <= 1) obj[last] = value;                                       // a wrong value
      else if (how === 2 && Array.isArray(obj)) obj.splice(Number(last), 1);  // an element gone
      else if (how === 2) delete obj[last];                                   // a field gone
      else if (how === 3 && target && typeof target === 'object' && !Array.isArray(target)) {
        Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true }); // an extra field (even __proto__)
      } else if (how === 4 && Array.isArray(target)) target.push(value);      // one element more
      else obj[last] = typeof target === 'string' ? `${target}${key}` : value;
      return copy;
    });
}

function pathsOf(v: Json, path: Array<string | number> = [], out: Array<Array<string | number>> = []): Array<Array<string | number>> {
  out.push(path);
  if (Array.isArray(v)) v.forEach((x, i) => pathsOf(x, [...path, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) pathsOf(x, [...path, k], out);
  return out;
}

function at(v: Json, path: Array<string | number>): Json {
  let cur: Json = v;
  for (const p of path) cur = (cur as Record<string | number, Json>)[p] ?? null;
  return cur;
}

/** Text mutations of a serialized body: cut, a character in, a character out or changed, a piece repeated. */
export function brokenText(base: string): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(base.length), fc.nat(4), fc.string({ unit: 'binary', minLength: 1, maxLength: 3 }), fc.nat(base.length)).map(([i, how, s, j]) => {
    switch (how) {
      case 0: return base.slice(0, i);
      case 1: return base.slice(0, i) + s + base.slice(i);
      case 2: return base.slice(0, i) + base.slice(i + 1);
      case 3: return base.slice(0, i) + s + base.slice(i + s.length);
      default: return base.slice(0, Math.min(i, j)) + base.slice(Math.min(i, j), Math.max(i, j)).repeat(3) + base.slice(Math.max(i, j));
    }
  });
}

/** Byte mutations: cut, bits flipped, bytes in, a varint made endless. */
export function brokenBytes(base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.tuple(fc.nat(Math.max(0, base.length - 1)), fc.nat(3), fc.uint8Array({ minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 255 })).map(([i, how, bytes, mask]) => {
    const out = Uint8Array.from(base);
    switch (how) {
      case 0: return out.subarray(0, i);
      case 1: out[i] = (out[i] ?? 0) ^ mask; return out;
      case 2: return Uint8Array.from([...out.subarray(0, i), ...bytes, ...out.subarray(i)]);
      default: return Uint8Array.from([...out.subarray(0, i), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, ...out.subarray(i)]);
    }
  });
}

// ---- ingest -------------------------------------------------------------------------

export interface SeriesLike { service: string; metric: string; labels?: Record<string, string>; samples: Array<[number, number]> }

/** A valid series, as a base to break. */
export function validSeries(now: number): fc.Arbitrary<SeriesLike> {
  return fc.record({
    service: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
    metric: fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/),
    labels: fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9]{0,5}$/), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    samples: fc.array(fc.tuple(fc.integer({ min: now - 3_600_000, max: now - 1000 }), fc.double({ noNaN: true, noDefaultInfinity: true })), { minLength: 1, maxLength: 4 }),
  });
}

/** Timestamps and values the ingest path must refuse. */
export const badSample: fc.Arbitrary<[unknown, unknown]> = fc.oneof(
  fc.tuple(fc.constantFrom(8_640_000_000_000_000, 1e15, 1.5, -1, 0, Number.MAX_SAFE_INTEGER + 2, 1e21), fc.constant(1)),
  fc.tuple(fc.constant(Date.now() - 1000), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY)),
  fc.tuple(fc.constant(Date.now() - 1000), anyJson.filter((v) => typeof v !== 'number')),
  fc.tuple(anyJson.filter((v) => typeof v !== 'number'), fc.constant(1)),
);

/** A JSON ingest body that is malformed somewhere (almost always). */
export function brokenIngestJson(now: number): fc.Arbitrary<string> {
  const base = fc.array(validSeries(now), { minLength: 1, maxLength: 3 }).map((series) => ({ series }) as unknown as Json);
  return fc.oneof(
    { weight: 4, arbitrary: base.chain((b) => brokenJson(b)).map((j) => JSON.stringify(j)) },
    { weight: 3, arbitrary: base.chain((b) => brokenText(JSON.stringify(b))) },
    { weight: 2, arbitrary: fc.tuple(base, badSample, fc.nat()).map(([b, s, i]) => {
      const series = (b as unknown as { series: Array<{ samples: unknown[] }> }).series;
      series[i % series.length]!.samples.push(s);
      return JSON.stringify(b, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `__${String(v)}__` : v)).replace(/"__(NaN|Infinity|-Infinity)__"/g, '$1');
    }) },
    { weight: 1, arbitrary: anyJson.map((j) => JSON.stringify(j)) },
    { weight: 1, arbitrary: fc.constantFrom(`{"series":${'['.repeat(3000)}`, `{"series":[${'{},'.repeat(20000)}{}]}`, '{"series":[{"service":"a","metric":"b","samples":[[1e400,1]]}]}', '\uFEFF{"series":[]}', '{"series":[],"series":[]}', '') },
  );
}

/** A protobuf MetricBatch that is malformed somewhere: bytes broken, or well-formed with bad content. */
export function brokenIngestProtobuf(now: number): fc.Arbitrary<Uint8Array> {
  const encoded = fc.array(validSeries(now), { minLength: 1, maxLength: 3 }).map((series) => wire.MetricBatch.encode({
    tenant: 'globex',
    series: series.map((s) => ({ service: s.service, metric: s.metric, labels: s.labels, timestamps: s.samples.map((p) => p[0]), values: s.samples.map((p) => p[1]) })),
  }).finish());
  const badContent = fc.record({
    service: fc.oneof(nastyString, fc.constant('ok')),
    metric: fc.oneof(nastyString, fc.constant('ok')),
    labels: fc.dictionary(nastyString, nastyString, { maxKeys: 40 }),
    timestamps: fc.array(fc.oneof(fc.integer({ min: now - 1000, max: now }), fc.constantFrom(-1, 0, 8_640_000_000_000_000, now + 3_600_000)), { maxLength: 4 }),
    values: fc.array(fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY)), { maxLength: 5 }),
  }).map((s) => wire.MetricBatch.encode({ series: [s] }).finish());
  return fc.oneof(
    { weight: 4, arbitrary: encoded.chain(brokenBytes) },
    { weight: 3, arbitrary: badContent },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  );
}

/** A remote-write body that is malformed somewhere: not snappy, snappy of garbage, a WriteRequest broken or out of window. */
export function brokenRemoteWrite(now: number): fc.Arbitrary<{ body: Uint8Array; headers: Record<string, string> }> {
  const request = fc.array(fc.record({
    labels: fc.array(fc.record({ name: fc.oneof(fc.constantFrom('__name__', 'job', 'service', 'instance'), nastyString), value: nastyString }), { maxLength: 4 }),
    samples: fc.array(fc.record({ timestamp: fc.oneof(fc.integer({ min: now - 60_000, max: now }), fc.constantFrom(-1, 8_640_000_000_000_000, now + 86_400_000)), value: fc.double() }), { maxLength: 3 }),
  }), { minLength: 1, maxLength: 3 }).map((timeseries) => remoteWire.WriteRequest.encode({ timeseries }).finish());
  const snappy = (b: Uint8Array) => new Uint8Array(compress(Buffer.from(b)));
  const headers = fc.oneof(
    { weight: 6, arbitrary: fc.constant({ 'content-type': 'application/x-protobuf', 'content-encoding': 'snappy' }) },
    { weight: 1, arbitrary: fc.record({ 'content-type': fc.constantFrom('application/x-protobuf;proto=io.prometheus.write.v2.Request', 'application/json', 'text/plain', 'application/x-protobuf; proto=prometheus.WriteRequest'), 'content-encoding': fc.constantFrom('snappy', 'gzip', 'identity', 'SNAPPY') }) },
  );
  const body = fc.oneof(
    { weight: 3, arbitrary: request.map(snappy) },
    { weight: 3, arbitrary: request.map(snappy).chain(brokenBytes) },
    { weight: 2, arbitrary: request.chain(brokenBytes).map(snappy) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map(snappy) },
    { weight: 1, arbitrary: fc.constantFrom(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x7f]), Uint8Array.from([0x80, 0x80]), new Uint8Array(0)) },
  );
  return fc.record({ body, headers });
}

// ---- queries, paths and headers -------------------------------------------------------

/** Percent-encoding that survives lone surrogates (they become an invalid UTF-8 escape, itself a good input). */
export function enc(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s.split('').map((c) => (/[\uD800-\uDFFF]/.test(c) ? '%ED%A0%80' : encodeURIComponent(c))).join('');
  }
}

/** A path parameter: random, encoded or not. */
export const pathSegment: fc.Arbitrary<string> = fc.oneof(
  nastyString.map(enc),
  fc.constantFrom('%', '%zz', '%2F', '..', '.', '%2e%2e', '%00', 'a%20b', '*', 'x'.repeat(300), 'run_0123456789abcdef'),
  fc.stringMatching(/^[A-Za-z0-9_.:-]{1,20}$/),
).map((s) => (s === '' ? '%20' : s));

/** A query string: the route's own parameters with bad values, unknown ones, repeats and broken encodings. */
export function queryString(known: readonly string[]): fc.Arbitrary<string> {
  const name = fc.oneof({ weight: 4, arbitrary: known.length > 0 ? fc.constantFrom(...known) : nastyString }, { weight: 1, arbitrary: nastyString });
  const value = fc.oneof(
    nastyString,
    nastyNumber.map(String),
    fc.constantFrom('-1', '0', '1001', '99999999999999999999', '1e3', '0x10', ' 5', '5 ', '+5', '', 'open', 'resolved', 'true', 'false', 'a=~"(a|a)*"', '{x="y"}', 'x=~"["'),
  );
  const pair = fc.tuple(name, value, fc.nat(9)).map(([n, v, how]) => {
    if (how === 0) return `${n}=${v}`; // raw, may break the encoding
    if (how === 1) return n;           // a name without a value
    return `${enc(n)}=${enc(v)}`;
  });
  return fc.array(pair, { minLength: 1, maxLength: 5 }).map((pairs) => pairs.join('&'));
}

/** Header sets a client may send wrong: keys, content types, lengths, encodings, request ids. */
export const brokenHeaders: fc.Arbitrary<Record<string, string>> = fc.record({
  authorization: fc.oneof(fc.constantFrom('Bearer', 'Bearer ', 'bearer  acme-key-1', 'Basic YWNtZTp4', 'Bearer acme-key-1 acme-key-1', 'Bearer\tacme-key-1', `Bearer ${'k'.repeat(5000)}`, 'Bearer acme-key-1\u0000'), nastyString.map((s) => `Bearer ${s}`)),
  'content-type': fc.constantFrom('application/json', 'application/json; charset=utf-16', 'application/x-protobuf', 'text/plain', 'multipart/form-data; boundary=x', 'application/yaml', '*/*', 'application/json;;', ''),
  'content-encoding': fc.constantFrom('identity', 'gzip', 'br', 'snappy', 'x'),
  'x-request-id': nastyString,
}, { requiredKeys: ['authorization'] }).map((h) => Object.fromEntries(Object.entries(h).map(([k, v]) => [k, v.replace(/[^\t\x20-\x7e]/g, '?')])));
