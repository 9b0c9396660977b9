// protocols/: the wire format and shared types. Nothing here imports the rest of Vigil.
export * from './types.ts';
export { decodeMetricBatch, encodeMetricBatch, wire } from './codec.ts';
export type { DecodedBatch } from './codec.ts';
