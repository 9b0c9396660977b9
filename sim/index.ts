// sim/: workloads and their drivers. Today: the simulated web shop (topology, a model
// whose faults propagate along dependencies, seeded noise) and an HTTP driver for a
// live node; the deterministic cluster simulator grows from here.
export { SHOP_SERVICES, topologyOf, upstreamOf } from './topology.ts';
export type { ServiceSpec, Dependency } from './topology.ts';
export { faultLevel, faultEffect } from './fault.ts';
export type { Fault, FaultKind } from './fault.ts';
export { ServiceModel, DEFAULT_MODEL, dailyLoad } from './model.ts';
export type { ModelOptions } from './model.ts';
export { Workload, METRICS } from './workload.ts';
export type { WorkloadOptions, Sample, MetricName } from './workload.ts';
export { WorkloadDriver } from './driver.ts';
export type { DriverOptions } from './driver.ts';
export { demoScenario } from './scenario.ts';
export type { DemoScenario, DemoOptions } from './scenario.ts';
