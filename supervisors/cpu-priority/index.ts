// supervisors/cpu-priority/: which processes of a host yield the CPU to which (SCHED_IDLE,
// nice, CPU lists), so a gateway's answers to tenants within their quota come first.
export { allButFirstCpu, allowedCpuList, cpusBesideGateways, lowerToIdle, lowestPriorityPrefix, parseCpuList, raiseFromIdle, type Lowering } from './lowest-priority.ts';
export { IDLE_GROUP_ENV, IDLE_GROUP_NAME, autogroupsOn, cgroupPathIn, cpuControllerIn, joinIdleGroup, leaveIdleGroup, type CpuController, type IdleGroupPlacement } from './idle-group.ts';
export { ownGroupPrefix } from './launcher-session.ts';
