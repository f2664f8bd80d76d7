import { literalRefusal, type PrivateAddresses } from './addresses.js';
import { type Kysely, type Selectable, sql } from 'kysely';
import type { Database, KsefEnvironment, WebhookDeliveryStatus, WebhookSubscriptionsTable } from '../db/schema.js';
import type { WebhookEventType } from './events.js';
import { newSigningSecret } from './signing.js';

/** Seals and opens secrets at rest (the KSeF secrets' SecretBox is one). */
export interface SecretSealer {
  seal(plaintext: string): Buffer;
  openString(sealed: Buffer): string;
}

export interface WebhookSubscription {
  id: string;
  url: string;
  events: WebhookEventType[];
  description: string | null;
  createdAt: Date;
  /** Until when the secret replaced by the latest rotation still signs beside the current one; null when none does. */
  previousSecretExpiresAt: Date | null;
}

/** What PATCH /webhooks/{id} may change; what is absent stays. */
export interface WebhookChange {
  url?: string;
  events?: WebhookEventType[];
  description?: string | null;
}

/** One delivery attempt, as GET /webhooks/{id}/deliveries lists it. */
export interface WebhookAttempt {
  eventId: string;
  eventType: WebhookEventType;
  environment: KsefEnvironment;
  attempt: number;
  statusCode: number | null;
  durationMs: number;
  error: string | null;
  succeeded: boolean;
  attemptedAt: Date;
  /** Where the delivery of this event stands now: delivered, still retried, or given up. */
  deliveryStatus: WebhookDeliveryStatus;
}

/** A URL a subscription cannot have; `message` says why. */
export class InvalidWebhookUrlError extends Error {}

/** Only http(s), with a host that may receive (addresses.ts), and no credentials (they would be stored and listed in clear). */
export function checkWebhookUrl(text: string, policy: PrivateAddresses): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidWebhookUrlError('is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new InvalidWebhookUrlError(`must be an http or https URL (got ${url.protocol.replace(/:$/, '')})`);
  if (!url.hostname) throw new InvalidWebhookUrlError('has no host');
  if (url.username || url.password) throw new InvalidWebhookUrlError('must not carry credentials; verify the signature instead');
  const refused = literalRefusal(url, policy);
  if (refused) throw new InvalidWebhookUrlError(`must not point at ${refused}`);
  return url.toString();
}

/** A company's webhook subscriptions: created with a signing secret shown once, listed without it. */
export class WebhookSubscriptions {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly sealer: SecretSealer,
    private readonly privateAddresses: PrivateAddresses,
  ) {}

  /** InvalidWebhookUrlError for a URL checkWebhookUrl refuses. */
  async create(companyId: string, input: { url: string; events: WebhookEventType[]; description?: string | null }): Promise<WebhookSubscription & { secret: string }> {
    const url = checkWebhookUrl(input.url, this.privateAddresses);
    const secret = newSigningSecret();
    const row = await this.db
      .insertInto('webhook_subscriptions')
      .values({ company_id: companyId, url, events: [...new Set(input.events)], description: input.description ?? null, secret_enc: this.sealer.seal(secret) })
      .returningAll()
      .executeTakeFirstOrThrow();
    return { ...view(row), secret };
  }

  /**
   * Changes what is given. The URL applies to the deliveries still due as well (it is read at each attempt);
   * the event types apply to events recorded from now on. Undefined when the company has no such subscription;
   * InvalidWebhookUrlError for a URL checkWebhookUrl refuses.
   */
  async update(companyId: string, id: string, change: WebhookChange): Promise<WebhookSubscription | undefined> {
    const url = change.url === undefined ? undefined : checkWebhookUrl(change.url, this.privateAddresses);
    const row = await this.db
      .updateTable('webhook_subscriptions')
      .set({
        ...(url !== undefined ? { url } : {}),
        ...(change.events !== undefined ? { events: change.events } : {}),
        ...(change.description !== undefined ? { description: change.description } : {}),
      })
      .where('company_id', '=', companyId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && view(row);
  }

  /**
   * A new signing secret, shown once. The one it replaces keeps signing beside it for
   * `previousValidForSeconds` (0: it stops at once), so receivers that still know only the old one keep
   * verifying while they switch. One statement: of two rotations at once, each replaces what the other left.
   */
  async rotateSecret(companyId: string, id: string, previousValidForSeconds: number): Promise<(WebhookSubscription & { secret: string }) | undefined> {
    const secret = newSigningSecret();
    const keepPrevious = previousValidForSeconds > 0;
    const row = await this.db
      .updateTable('webhook_subscriptions')
      .set((eb) => ({
        secret_enc: this.sealer.seal(secret),
        previous_secret_enc: keepPrevious ? eb.ref('secret_enc') : null,
        previous_secret_expires_at: keepPrevious ? sql<Date>`now() + ${previousValidForSeconds}::float8 * interval '1 second'` : null,
      }))
      .where('company_id', '=', companyId)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && { ...view(row), secret };
  }

  async list(companyId: string): Promise<WebhookSubscription[]> {
    const rows = await this.db.selectFrom('webhook_subscriptions').selectAll().where('company_id', '=', companyId).orderBy('created_at').orderBy('id').execute();
    return rows.map(view);
  }

  /** Its pending deliveries go with it. False when the company has no such subscription. */
  async delete(companyId: string, id: string): Promise<boolean> {
    const deleted = await this.db.deleteFrom('webhook_subscriptions').where('company_id', '=', companyId).where('id', '=', id).executeTakeFirst();
    return deleted.numDeletedRows > 0n;
  }

  /** The latest attempts of a subscription's deliveries, newest first; undefined when the company has no such subscription. */
  async attempts(companyId: string, id: string, limit: number): Promise<WebhookAttempt[] | undefined> {
    const owned = await this.db.selectFrom('webhook_subscriptions').select('id').where('company_id', '=', companyId).where('id', '=', id).executeTakeFirst();
    if (!owned) return undefined;
    const rows = await this.db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
      .innerJoin('webhook_events as e', 'e.id', 'd.event_id')
      .select(['e.id as event_id', 'e.type', 'e.environment', 'a.attempt', 'a.status_code', 'a.duration_ms', 'a.error', 'a.attempted_at', 'd.status'])
      .where('d.subscription_id', '=', id)
      .orderBy('a.attempted_at', 'desc')
      .orderBy('a.attempt', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      eventId: r.event_id,
      eventType: r.type as WebhookEventType,
      environment: r.environment,
      attempt: r.attempt,
      statusCode: r.status_code,
      durationMs: r.duration_ms,
      error: r.error,
      succeeded: r.error === null,
      attemptedAt: r.attempted_at,
      deliveryStatus: r.status,
    }));
  }
}

const view = (row: Selectable<WebhookSubscriptionsTable>): WebhookSubscription => ({
  id: row.id,
  url: row.url,
  events: row.events as WebhookEventType[],
  description: row.description,
  createdAt: row.created_at,
  previousSecretExpiresAt: row.previous_secret_expires_at && row.previous_secret_expires_at.getTime() > Date.now() ? row.previous_secret_expires_at : null,
});
