import { type Kysely, sql } from 'kysely';
import type { Database } from '../db/schema.js';
import { hashPassword } from './passwords.js';

/** Roles that may use the API. Other roles may exist in the table (e.g. disabled accounts) and get 403. */
export const apiRoles = ['admin', 'technical'] as const;
export type ApiRole = (typeof apiRoles)[number];

export interface UserRecord {
  id: string;
  email: string;
  role: string;
  createdAt: Date;
}

export interface Principal {
  userId: string;
  email: string;
  role: string;
  companyId: string;
  companyNip: string;
  companyName: string;
}

export class EmailTakenError extends Error {}

const normalizeEmail = (email: string) => email.trim().toLowerCase();

export class Users {
  constructor(private readonly db: Kysely<Database>) {}

  /** The user, their company and the stored password hash: what a login check needs, in one query. */
  async findForLogin(email: string) {
    return this.db
      .selectFrom('users')
      .innerJoin('companies', 'companies.id', 'users.company_id')
      .select([
        'users.id as userId',
        'users.email',
        'users.role',
        'users.password_hash as passwordHash',
        'companies.id as companyId',
        'companies.nip as companyNip',
        'companies.name as companyName',
      ])
      .where((eb) => eb(eb.fn('lower', ['users.email']), '=', normalizeEmail(email)))
      .executeTakeFirst();
  }

  async list(companyId: string): Promise<UserRecord[]> {
    const rows = await this.db
      .selectFrom('users')
      .select(['id', 'email', 'role', 'created_at'])
      .where('company_id', '=', companyId)
      .orderBy('created_at')
      .orderBy('email')
      .execute();
    return rows.map((r) => ({ id: r.id, email: r.email, role: r.role, createdAt: r.created_at }));
  }

  async create(companyId: string, input: { email: string; password: string; role: string }): Promise<UserRecord> {
    const email = normalizeEmail(input.email);
    const passwordHash = await hashPassword(input.password);
    const row = await this.db
      .insertInto('users')
      .values({ company_id: companyId, email, password_hash: passwordHash, role: input.role })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doNothing())
      .returning(['id', 'email', 'role', 'created_at'])
      .executeTakeFirst();
    if (!row) throw new EmailTakenError(`a user with email ${email} already exists`);
    return { id: row.id, email: row.email, role: row.role, createdAt: row.created_at };
  }

  async setPassword(userId: string, password: string): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password), updated_at: new Date() })
      .where('id', '=', userId)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  /** Deletes within the company only: another company's user is "not found", never touched. */
  async delete(companyId: string, userId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('users').where('id', '=', userId).where('company_id', '=', companyId).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
