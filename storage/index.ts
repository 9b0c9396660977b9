// storage/: one interface per store (types.ts) and its adapters.
export * from './types.ts';
export { encodeCursor, decodeCursor } from './memory/page.ts';
export { syncDir } from './durable.ts';
