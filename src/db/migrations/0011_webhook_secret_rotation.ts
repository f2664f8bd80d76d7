import type { Kysely } from 'kysely';

/**
 * Rotating a webhook's signing secret without losing deliveries: the replaced secret (sealed) keeps signing
 * beside the new one until `previous_secret_expires_at`, so receivers can switch over at their own pace.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('webhook_subscriptions')
    .addColumn('previous_secret_enc', 'bytea')
    .addColumn('previous_secret_expires_at', 'timestamptz')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('webhook_subscriptions').dropColumn('previous_secret_enc').dropColumn('previous_secret_expires_at').execute();
}
