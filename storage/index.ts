// storage/: what the stores share (types.ts: event filters and pages; page.ts: the cursor
// codec; durable.ts). Each store is a folder with its own face: tsdb/, writer/, graph/,
// cache/, audit/, backup/.
export * from './types.ts';
export { encodeCursor, decodeCursor } from './page.ts';
export { syncDir } from './durable.ts';
