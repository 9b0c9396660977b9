// cluster/: the node (composition of gateway, actors and stores), the bus, and later
// membership, shards and leases.
export { defaultConfig, DEFAULT_PORT, DEFAULT_BODY_LIMIT_BYTES } from './config.ts';
export type { VigilConfig, TenantConfig } from './config.ts';
