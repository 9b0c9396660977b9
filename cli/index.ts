// cli/: the `vigil` command. main.ts is the entry point; runCli is the dispatcher.
export { runCli, MAIN_HELP } from './run.ts';
export { createLogger } from './log.ts';
export type { LogOptions } from './log.ts';
export { renderTree } from './tree-table.ts';
export { fetchTree, restartActor } from './admin-client.ts';
export type { AdminTarget } from './admin-client.ts';
