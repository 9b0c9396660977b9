// A runbook run as the API and the live stream show it (GET /v1/runbook-runs, the
// `runbook_run` stream event). actors/automation computes it; this is only its shape.

export type RunbookRunStatus =
  /** a step is being carried out */
  | 'running'
  /** a wait step is counting down */
  | 'waiting'
  /** a destructive step (or a suggested run) waits for an operator's approve */
  | 'awaiting_approval'
  /** a webhook's destination is failing (its breaker is open): the step is sent again once it recovers */
  | 'queued'
  /** at degradation level L2 or worse: listed for an operator, not run */
  | 'suggested'
  | 'succeeded'
  | 'failed'
  | 'cancelled';

export type RunbookStepStatus =
  | 'pending' | 'running' | 'waiting' | 'awaiting_approval' | 'queued'
  | 'succeeded' | 'failed' | 'skipped' | 'dry_run' | 'cancelled';

/** An HTTP request as a run records it: header values and query values are not shown. */
export interface RunbookRequestView {
  method: string;
  url: string;
  headers: string[];
  body?: unknown;
}

export interface RunbookStepRun {
  id: string;
  kind: 'webhook' | 'notify' | 'wait' | 'condition' | 'scale' | 'restart';
  status: RunbookStepStatus;
  destructive: boolean;
  startedAt?: number;
  endedAt?: number;
  /** HTTP attempts made (retries included) */
  attempts?: number;
  request?: RunbookRequestView;
  /** the answer's status, and its body when short */
  response?: { status: number; body?: unknown };
  /** a wait step's end */
  waitUntil?: number;
  /** a condition's outcome */
  result?: boolean;
  /** a notify step's text; why a step was skipped, queued or refused */
  message?: string;
  error?: string;
  approvedBy?: string;
}

export interface RunbookRun {
  id: string;
  tenant: string;
  runbookId: string;
  runbookVersion: number;
  incidentId: string;
  status: RunbookRunStatus;
  dryRun: boolean;
  /** 'trigger' for a run an incident started, else who started it */
  startedBy: string;
  /** who approved a suggested run (it then runs as if started by hand) */
  approvedBy?: string;
  /** the degradation level when the run was created */
  level: number;
  /** index of the step under way (steps.length when done) */
  step: number;
  steps: RunbookStepRun[];
  createdAt: number;
  updatedAt: number;
  endedAt?: number;
  /** why it ended, was suggested or is waiting */
  reason?: string;
}
