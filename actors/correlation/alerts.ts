// Alerts as the correlator sees them, whichever way they came: raised from Vigil's own
// anomalies, or sent by a Prometheus to the Alertmanager-compatible intake. An alert's
// identity is its fingerprint (a hash of its label set; for anomalies, of the series): the
// same fingerprint while it fires is the same alert, however often it is delivered.
import { fnv1a, labelsName, seriesId } from '../../protocols/index.ts';
import type { AlertSource, AlertView, AnomalyEvent, Labels, Severity } from '../../protocols/index.ts';

export type { AlertSource, AlertView };

export interface AlertInput {
  source: AlertSource;
  fingerprint: string;
  /** the label set silences, inhibition rules and label grouping match against */
  labels: Labels;
  annotations: Labels;
  service: string;
  /** the metric (anomalies) or the alertname */
  name: string;
  /** when it started firing (Unix ms) */
  startsAt: number;
  /** when it stops firing, if the sender says; absent: until it is quiet for a timeout */
  endsAt?: number;
  generatorURL?: string;
  score: number;
  severity: Severity;
  /** the delivery's own id (an anomaly's): an exact redelivery is dropped at once */
  deliveryId?: string;
  /** the anomaly behind it, for the stored alert record */
  anomaly?: AnomalyEvent;
}

/** 16 hex digits from two independent 32-bit hashes: Alertmanager shows fingerprints this way. */
export function fingerprintOf(text: string): string {
  return fnv1a(text).toString(16).padStart(8, '0') + fnv1a(text, 0x9e3779b9).toString(16).padStart(8, '0');
}

/** An Alertmanager alert's fingerprint: its labels, in the one order (protocols' labelsName). */
export function labelsFingerprint(labels: Labels): string {
  return fingerprintOf(labelsName(labels));
}

export function anomalyTitle(a: AnomalyEvent): string {
  return `${a.service}: ${a.metric} anomalous (${a.direction})`;
}

/** An anomaly as an alert: one alert per series (its fingerprint), labelled with its service and metric. */
export function anomalyInput(a: AnomalyEvent, severity: Severity): AlertInput {
  return {
    source: 'anomaly',
    fingerprint: fingerprintOf(`anomaly\u0000${seriesId(a)}`),
    labels: { ...a.labels, alertname: a.metric, service: a.service, severity },
    annotations: { summary: anomalyTitle(a), value: String(a.value), expected: String(a.expected) },
    service: a.service,
    name: a.metric,
    startsAt: a.timestamp,
    score: a.score,
    severity,
    deliveryId: a.id,
    anomaly: a,
  };
}

/** Severities a rule's `severity` label may name that mean "critical" here. */
const CRITICAL = new Set(['critical', 'page', 'error', 'high', 'fatal', 'emergency']);
export const UNKNOWN_SERVICE = 'unknown';

export interface ExternalAlert {
  labels: Labels;
  annotations?: Labels;
  startsAt?: number;
  endsAt?: number;
  generatorURL?: string;
}

/**
 * An Alertmanager alert as an alert: the service is the first of `serviceLabels` present
 * (the remote-write mapping's, so a rule over scraped series lands on the same service as
 * its samples), else "unknown"; the name is `alertname`. A firing rule is certain: score 1.
 */
export function alertmanagerInput(a: ExternalAlert, serviceLabels: readonly string[], now: number): AlertInput {
  const labels = a.labels;
  const svc = serviceLabels.find((n) => Object.hasOwn(labels, n) && labels[n] !== '');
  const severity = Object.hasOwn(labels, 'severity') ? labels.severity!.toLowerCase() : '';
  const input: AlertInput = {
    source: 'alertmanager',
    fingerprint: labelsFingerprint(labels),
    labels: { ...labels },
    annotations: { ...(a.annotations ?? {}) },
    service: svc !== undefined ? labels[svc]! : UNKNOWN_SERVICE,
    name: Object.hasOwn(labels, 'alertname') ? labels.alertname! : '',
    startsAt: a.startsAt ?? now,
    score: 1,
    severity: CRITICAL.has(severity) ? 'critical' : 'warning',
  };
  if (a.endsAt !== undefined) input.endsAt = a.endsAt;
  if (a.generatorURL !== undefined && a.generatorURL !== '') input.generatorURL = a.generatorURL;
  return input;
}
