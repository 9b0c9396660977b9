// api/: the HTTP/WebSocket gateway of a node (see README.md for the routes).
export { startGateway, API_VERSION } from './gateway.ts';
export type { Gateway, GatewayConfig, GatewayOptions } from './gateway.ts';
export { hashKey } from './keys.ts';
export { LOG_REDACTION, REDACTED, safeUrl } from './redaction.ts';
export { openTenancy, defaultDetectionTier, largeWithoutNodes, nodeUsage, pinnedOn, QuotaGate, Tenancy } from './tenancy/index.ts';
export type { GatewayTenancy, NodeUsage, SharedTenants, SharedTenantsEntry, TenantSpec, TenantsChange } from './tenancy/index.ts';
export { CLOSE_SLOW_CONSUMER, STREAM_PATH } from './stream.ts';
export type { StreamOptions } from './stream.ts';
export type { CorrelationDesk, Engine, EventQuery, FaultRequest, IncidentQuery, IngestResult, NodeStatusView, SeriesQuery, TreeNode } from './engine.ts';
export type { ErrorBody } from './errors.ts';
export type { IncidentRcaView } from './rca.ts';
