/**
 * `npm run user:add -- --email E --role admin|technical [--password P] [--company-nip NIP --company-name NAME]`
 * Adds an API user (creating the company when a new NIP is given). Without --password one is generated
 * and printed once. The password may also come from the USER_PASSWORD environment variable.
 */
import crypto from 'node:crypto';
import { parseArgs } from 'node:util';
import { apiRoles, Users } from '../src/accounts/users.js';
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/db/connect.js';
import { databaseOptions } from '../src/server.js';

async function main() {
  const { values } = parseArgs({
    options: {
      email: { type: 'string' },
      role: { type: 'string', default: 'technical' },
      password: { type: 'string' },
      'company-nip': { type: 'string' },
      'company-name': { type: 'string' },
    },
  });
  if (!values.email) throw new Error('--email is required');
  if (!(apiRoles as readonly string[]).includes(values.role!)) throw new Error(`--role must be one of ${apiRoles.join(', ')} (got ${values.role})`);
  const password = values.password ?? process.env.USER_PASSWORD ?? crypto.randomBytes(18).toString('base64url');
  if (password.length < 10) throw new Error('the password must have at least 10 characters');

  const database = await openDatabase(databaseOptions(loadConfig()));
  try {
    await migrateToLatest(database.db);
    const db = database.db;
    let company = values['company-nip']
      ? await db.selectFrom('companies').select('id').where('nip', '=', values['company-nip']).executeTakeFirst()
      : await db.selectFrom('companies').select('id').orderBy('created_at').executeTakeFirst();
    if (!company) {
      if (!values['company-nip']) throw new Error('there is no company yet: pass --company-nip and --company-name');
      if (!/^[1-9]((\d[1-9])|([1-9]\d))\d{7}$/.test(values['company-nip'])) throw new Error('--company-nip must be a 10-digit NIP');
      company = await db
        .insertInto('companies')
        .values({ nip: values['company-nip'], name: values['company-name'] ?? values['company-nip'] })
        .returning('id')
        .executeTakeFirstOrThrow();
    }
    const user = await new Users(db).create(company.id, { email: values.email, password, role: values.role! });
    console.log(`added ${user.email} (${user.role}), id ${user.id}`);
    if (!values.password && !process.env.USER_PASSWORD) console.log(`password (shown once): ${password}`);
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(`user:add failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
