// The node's notifier (actors/notify): the on-call and SRE webhooks of config `notify`, the
// external_integrations breaker in the node's health (so /v1/status and `vigil ctl breaker`
// see it), and the SRE team told when the node enters or leaves L4. None without a webhook.
// Each post meets the node's injected webhook fault first, as a dead receiver would fail it.
import type { Logger } from 'pino';
import type { Clock, Rng } from '../actors/runtime/index.ts';
import { WebhookNotifier, postJson } from '../actors/notify/index.ts';
import type { NodeHealth, VigilConfig } from '../cluster/index.ts';

export function startNotifier(config: VigilConfig, health: NodeHealth, clock: Clock, rng: Rng, log: Logger, statusPage: () => string): WebhookNotifier | undefined {
  const { onCall, sre } = config.notify;
  if (onCall === undefined && sre === undefined) return undefined;
  const breaker = health.breakers.get('external_integrations') ?? health.breakers.create('external_integrations', 'external_integrations');
  const notifier = new WebhookNotifier({
    targets: { ...(onCall ? { onCall } : {}), ...(sre ? { sre } : {}) },
    clock, rng, breaker, log, node: config.node.id, statusPage,
    post: async (url, body, headers, signal) => {
      await health.gate('webhook');
      return postJson(url, body, headers, signal);
    },
  });
  health.onChange((_status, change) => notifier.levelChanged(change));
  return notifier;
}
