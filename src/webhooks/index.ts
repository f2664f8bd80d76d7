import type { Kysely } from 'kysely';
import type { WebhookConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { WebhookDelivery } from './delivery.js';
import { type SecretSealer, WebhookSubscriptions } from './subscriptions.js';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.js';
export { InvalidWebhookUrlError, type SecretSealer, type WebhookAttempt, type WebhookSubscription } from './subscriptions.js';

/**
 * Webhooks: a company's subscriptions, and the background delivery of the events ksef-proxy records
 * (events.ts) in the transactions of the changes they announce.
 */
export class Webhooks {
  readonly subscriptions: WebhookSubscriptions;
  private readonly delivery: WebhookDelivery;

  constructor(db: Kysely<Database>, config: WebhookConfig, sealer: SecretSealer, logger: Logger, version: string) {
    this.subscriptions = new WebhookSubscriptions(db, sealer, config.privateAddresses);
    this.delivery = new WebhookDelivery(db, sealer, config, logger, `FastKSeF-Webhooks/${version}`);
  }

  start(): void {
    this.delivery.start();
  }

  stop(timeoutMs?: number): Promise<void> {
    return this.delivery.stop(timeoutMs);
  }
}
