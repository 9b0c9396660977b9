// The refusal process: a flooding tenant's connections answered off the gateway's event loop.
export { RefusalFront, RESTART_AFTER_MS, STARVED_AFTER_MS, type RefusalFrontDeps } from './front.ts';
export { requestHead, MAX_HEAD_BYTES, type RequestHead } from './head.ts';
