// actors/notify/: what a degraded node tells people directly. The notices (pure) and their
// delivery to the on-call and SRE webhooks (retried, behind the external_integrations breaker).
export { CRITICAL_SCORE, alertAudiences, alertsNotice, levelNotice, tellsSre } from './notice.ts';
export type { AlertNotifier, AlertsNotice, Audience, LevelNotice, Notice, PassThroughAlert } from './notice.ts';
export { DEFAULT_NOTIFY_QUEUE, NOTIFY_CONCURRENCY, REQUEUE_MS, WebhookNotifier, postJson } from './webhook.ts';
export { deliverWebhook } from './webhook-delivery.ts';
export type { WebhookDeliveryOptions, WebhookOutcome } from './webhook-delivery.ts';
export type { NotifyStats, NotifyTargets, PostJson, WebhookNotifierOptions } from './webhook.ts';
