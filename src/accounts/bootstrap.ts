import crypto from 'node:crypto';
import type { Kysely } from 'kysely';
import type { AppConfig } from '../config.js';
import type { Database } from '../db/schema.js';
import { EmailTakenError, Users } from './users.js';

export interface BootstrapResult {
  created: boolean;
  adminEmail?: string;
  /** Set only when the password was generated: it is shown once, by the caller, and never stored in clear. */
  generatedPassword?: string;
}

/** An empty database gets one company and its admin, from ADMIN_* / COMPANY_* or generated defaults. */
export async function bootstrapIfEmpty(db: Kysely<Database>, settings: AppConfig['bootstrap']): Promise<BootstrapResult> {
  const existing = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (existing) return { created: false };
  const nip = settings.companyNip ?? '5265877635';
  const company = await db
    .insertInto('companies')
    .values({ nip, name: settings.companyName ?? 'My company' })
    .onConflict((oc) => oc.column('nip').doUpdateSet({ nip }))
    .returning('id')
    .executeTakeFirstOrThrow();
  const adminEmail = settings.adminEmail ?? 'admin@localhost';
  const generatedPassword = settings.adminPassword ? undefined : crypto.randomBytes(18).toString('base64url');
  try {
    await new Users(db).create(company.id, { email: adminEmail, password: settings.adminPassword ?? generatedPassword!, role: 'admin' });
  } catch (err) {
    // Another process starting at the same moment bootstrapped first.
    if (err instanceof EmailTakenError) return { created: false };
    throw err;
  }
  return { created: true, adminEmail, generatedPassword };
}
