// protocols/: the wire format and shared types. Nothing here imports the rest of Vigil.
export * from './types.ts';
export type * from './runbooks.ts';
export { decodeMetricBatch, encodeMetricBatch, wire } from './codec.ts';
export type { DecodedBatch } from './codec.ts';
export { sampleCount, samplesInBody } from './batch-size.ts';
export { VigilError, QuotaError, HTTP_STATUS } from './errors.ts';
export type { ErrorCode } from './errors.ts';
export { DocumentInvalid, describeValue, isMapping, lineOfPlace, placeText, yamlSyntaxError } from './document-place.ts';
export type { DocPath } from './document-place.ts';
export { fnv1a, stableId } from './ids.ts';
export { labelsName, seriesId, seriesName, sortedLabelNames } from './series-name.ts';
export { hashKey, SHA256_HEX } from './keys.ts';
export { DEFAULT_REMOTE_WRITE_MAPPING, readRemoteWrite, RecentSeries, remoteWire } from './remote-write.ts';
export type { DroppedCounts, KnownSeries, RemoteWriteBatch, RemoteWriteMapping, SeriesMemory } from './remote-write.ts';
