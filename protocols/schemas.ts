// JSON Schemas of the HTTP API: request bodies, query strings, path params and responses.
// The gateway validates with them (fastify/ajv, no type coercion, unknown fields refused)
// and builds /docs/openapi.json from the same objects, so the docs cannot drift.
// They stay inside the common subset of draft-07 (ajv) and 2020-12 (OpenAPI 3.1):
// no array-form `items`, no `$ref`.
// Query strings carry text, so numbers there are digit strings the gateway converts.

export const NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_.:/-]*$';
export const NAME_MAX = 128;
export const LABEL_MAX_COUNT = 32;
export const LABEL_KEY_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';
export const LABEL_VALUE_MAX = 256;
export const MAX_SERIES_PER_REQUEST = 10_000;
export const MAX_SAMPLES_PER_SERIES = 100_000;
export const MAX_TOPOLOGY_SERVICES = 100_000;
export const MAX_DEPENDENCIES = 1_000;
export const MAX_PAGE_LIMIT = 1_000;
export const MAX_SERIES_LIMIT = 10_000;

const name = { type: 'string', minLength: 1, maxLength: NAME_MAX, pattern: NAME_PATTERN } as const;
const id = { type: 'string', minLength: 1, maxLength: 200 } as const;

export const labelsSchema = {
  type: 'object',
  maxProperties: LABEL_MAX_COUNT,
  propertyNames: { maxLength: NAME_MAX, pattern: LABEL_KEY_PATTERN },
  additionalProperties: { type: 'string', maxLength: LABEL_VALUE_MAX },
} as const;

/** A sample is a [timestampMs, value] pair; finiteness and time range are checked after the schema. */
export const sampleSchema = {
  type: 'array', minItems: 2, maxItems: 2, items: { type: 'number' },
  description: '[timestamp (Unix ms), value]',
} as const;

export const seriesInputSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'metric', 'samples'],
  properties: {
    service: name,
    metric: name,
    labels: labelsSchema,
    samples: { type: 'array', minItems: 1, maxItems: MAX_SAMPLES_PER_SERIES, items: sampleSchema },
  },
} as const;

export const metricsBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['series'],
  properties: {
    series: { type: 'array', minItems: 1, maxItems: MAX_SERIES_PER_REQUEST, items: seriesInputSchema },
  },
} as const;

export const topologyBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['services'],
  properties: {
    services: {
      type: 'array',
      maxItems: MAX_TOPOLOGY_SERVICES,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'dependsOn'],
        properties: {
          name,
          dependsOn: { type: 'array', maxItems: MAX_DEPENDENCIES, items: name },
        },
      },
    },
  },
} as const;

export const restartBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: { path: { type: 'string', minLength: 1, maxLength: 1000 } },
} as const;

const msParam = { type: 'string', pattern: '^[0-9]{1,16}$', description: 'Unix ms' } as const;
const limitParam = (max: number) => ({ type: 'string', pattern: '^[0-9]{1,6}$', description: `1..${max}` }) as const;
const cursorParam = { type: 'string', maxLength: 200, description: 'opaque, from `next` of the previous page' } as const;

export const eventQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: { service: name, metric: name, from: msParam, to: msParam, limit: limitParam(MAX_PAGE_LIMIT), cursor: cursorParam },
} as const;

export const incidentQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
    service: name, from: msParam, to: msParam, limit: limitParam(MAX_PAGE_LIMIT), cursor: cursorParam,
  },
} as const;

/** Widest step bucket a series query takes (a year; the 1-hour rollup is the coarsest table). */
export const MAX_SERIES_STEP_MS = 365 * 24 * 3600_000;

export const seriesQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['service', 'metric'],
  properties: {
    service: name, metric: name, from: msParam, to: msParam, limit: limitParam(MAX_SERIES_LIMIT),
    step: { type: 'string', pattern: '^[0-9]{1,12}$', description: `bucket width in ms, 1..${MAX_SERIES_STEP_MS}: buckets instead of raw samples (raw below 1 min, the 1-minute rollup below 1 h, the 1-hour rollup from there)` },
  },
} as const;

export const idParamsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['id'],
  properties: { id },
} as const;

// ---- responses ------------------------------------------------------------------
// Objects allow additional properties so a field added to a domain type still reaches clients.

export const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const tier = { type: 'string', enum: ['basic', 'agile', 'robust'] } as const;
const seriesKey = { service: { type: 'string' }, metric: { type: 'string' }, labels: { type: 'object', additionalProperties: { type: 'string' } } } as const;

export const anomalySchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'tenant', 'service', 'metric', 'timestamp', 'value', 'score'],
  properties: {
    id: { type: 'string' }, tenant: { type: 'string' }, ...seriesKey,
    timestamp: { type: 'number' }, value: { type: 'number' }, expected: { type: 'number' },
    score: { type: 'number' }, tier, direction: { type: 'string', enum: ['up', 'down'] },
  },
} as const;

export const alertSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'tenant', 'service', 'metric', 'timestamp', 'score', 'severity'],
  properties: {
    id: { type: 'string' }, tenant: { type: 'string' }, ...seriesKey,
    timestamp: { type: 'number' }, score: { type: 'number' },
    severity: { type: 'string', enum: ['warning', 'critical'] }, tier,
    anomalyId: { type: 'string' }, incidentId: { type: 'string' },
  },
} as const;

export const incidentSchema = {
  type: 'object',
  additionalProperties: true,
  required: ['id', 'tenant', 'status', 'services', 'openedAt', 'updatedAt'],
  properties: {
    id: { type: 'string' }, tenant: { type: 'string' },
    status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
    title: { type: 'string' },
    services: { type: 'array', items: { type: 'string' } },
    alertIds: { type: 'array', items: { type: 'string' } },
    openedAt: { type: 'number' }, updatedAt: { type: 'number' },
    acknowledgedAt: { type: 'number' }, resolvedAt: { type: 'number' },
    peakScore: { type: 'number' },
  },
} as const;

const page = (key: string, item: object) => ({
  type: 'object',
  required: [key],
  properties: { [key]: { type: 'array', items: item }, next: { type: 'string' } },
}) as const;

export const anomaliesPageSchema = page('anomalies', anomalySchema);
export const alertsPageSchema = page('alerts', alertSchema);
export const incidentsPageSchema = page('incidents', incidentSchema);

export const acceptedSchema = {
  type: 'object', required: ['accepted'], properties: { accepted: { type: 'integer' } },
} as const;

const seriesBucketSchema = {
  type: 'object',
  required: ['t', 'count', 'avg', 'min', 'max', 'p50', 'p95', 'p99'],
  properties: {
    t: { type: 'integer', description: 'bucket start, Unix ms' }, count: { type: 'integer' },
    avg: { type: 'number' }, min: { type: 'number' }, max: { type: 'number' },
    p50: { type: 'number' }, p95: { type: 'number' }, p99: { type: 'number' },
  },
} as const;

/** Without a step: only `samples` (raw). With one: `samples` are the bucket averages, and the rest. */
export const seriesSamplesSchema = {
  type: 'object',
  required: ['samples'],
  properties: {
    samples: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
    resolution: { type: 'string', enum: ['raw', '1m', '1h'], description: 'the table that answered: raw samples or a rollup' },
    step: { type: 'integer' },
    buckets: { type: 'array', items: seriesBucketSchema },
  },
} as const;

export const topologySchema = topologyBodySchema;

export const topologyPutResultSchema = {
  type: 'object', required: ['services', 'dependencies'],
  properties: { services: { type: 'integer' }, dependencies: { type: 'integer' } },
} as const;

// --- resilience: status, injected faults, operator overrides ---------------------------

/** 24 h: the longest fault or override one request may set (a forgotten one must still end). */
const MAX_HOLD_MS = 86_400_000;

export const faultBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['dependency', 'mode', 'durationMs'],
  properties: {
    dependency: { type: 'string', enum: ['tsdb', 'graph', 'cache', 'model', 'bus', 'webhook'] },
    mode: { type: 'string', enum: ['fail', 'slow', 'hang'], description: 'fail: calls fail at once; slow: calls wait 2.5 s first; hang: calls wait until the fault ends, then fail' },
    durationMs: { type: 'integer', minimum: 1, maximum: MAX_HOLD_MS, description: 'the fault ends by itself after this long (node clock)' },
  },
} as const;

export const degradeBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['level', 'durationMs'],
  properties: {
    level: { type: 'integer', minimum: 0, maximum: 4, description: 'hold the level at least here; 0 drops the override' },
    durationMs: { type: 'integer', minimum: 1, maximum: MAX_HOLD_MS },
  },
} as const;

export const breakerCommandBodySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['command'],
  properties: { command: { type: 'string', enum: ['open', 'close', 'disable'], description: 'open: forced open; close: reset to closed; disable: let everything through' } },
} as const;

export const breakerNameParamsSchema = {
  type: 'object',
  required: ['name'],
  properties: { name: { type: 'string', minLength: 1, maxLength: 200, pattern: '^[A-Za-z0-9_./:-]+$' } },
} as const;

const breakersSchema = { type: 'object', additionalProperties: { type: 'string', enum: ['closed', 'open', 'halfOpen', 'forcedOpen', 'disabled'] } } as const;

/** GET /v1/status: a tenant key sees level and breakers; the admin key also dependencies, override and faults. */
export const statusSchema = {
  type: 'object',
  required: ['level', 'levelName', 'since', 'breakers'],
  properties: {
    level: { type: 'integer', minimum: 0, maximum: 4 },
    levelName: { type: 'string' },
    since: { type: 'integer', description: 'Unix ms of the last level change' },
    breakers: breakersSchema,
    override: { type: 'object', properties: { level: { type: 'integer' }, until: { type: 'integer' } } },
    dependencies: { type: 'object', additionalProperties: { type: 'string', enum: ['up', 'down'] } },
    faults: {
      type: 'array',
      items: { type: 'object', properties: { dependency: { type: 'string' }, mode: { type: 'string' }, until: { type: 'integer' } } },
    },
  },
} as const;
