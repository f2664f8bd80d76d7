import { Migrator, sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/db/connect.js';
import { migrationProvider } from '../../src/db/migrations/index.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let testDb: TestDatabase;
beforeAll(async () => {
  testDb = await createTestDatabase();
});
afterAll(() => testDb.drop());

const tables = [
  'advance_group_invoices',
  'advance_groups',
  'bulk_batch_items',
  'bulk_batches',
  'companies',
  'company_settings',
  'invoice_corrections',
  'invoice_sync_meta',
  'invoice_sync_runs',
  'invoice_sync_settings',
  'ksef_credentials',
  'ksef_environment_state',
  'ksef_sessions',
  'login_throttle',
  'offline_invoices',
  'sync_staged_invoices',
  'sync_staged_metadata',
  'synced_invoices',
  'users',
  'webhook_attempts',
  'webhook_deliveries',
  'webhook_events',
  'webhook_subscriptions',
];

describe(`migrations (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  test('run twice without error, the second time changing nothing, and create the whole schema', async () => {
    const handle = await openDatabase(testDb.options);
    try {
      await migrateToLatest(handle.db);
      expect(await migrateToLatest(handle.db)).toEqual([]);
      const rows = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%' order by table_name collate "C"`.execute(handle.db);
      expect(rows.rows.map((r) => r.table_name)).toEqual(tables);
    } finally {
      await handle.close();
    }
  });

  test('the same queries return the same JS types on both drivers', async () => {
    const handle = await openDatabase(testDb.options);
    try {
      await migrateToLatest(handle.db);
      const { rows } = await sql<{ d: unknown; n: unknown; c: unknown; t: unknown }>`select '2026-02-02'::date as d, 1234.50::numeric(18,2) as n, count(*) as c, now() as t`.execute(handle.db);
      expect(rows[0].d).toBe('2026-02-02');
      expect(rows[0].n).toBe('1234.50');
      expect(rows[0].c).toBe(1);
      expect(rows[0].t).toBeInstanceOf(Date);
    } finally {
      await handle.close();
    }
  });

  test('a unique invoice hash per company and environment is enforced', async () => {
    const handle = await openDatabase(testDb.options);
    try {
      await migrateToLatest(handle.db);
      const company = await handle.db.insertInto('companies').values({ nip: '5265877635', name: 'A' }).returning('id').executeTakeFirstOrThrow();
      const row = {
        company_id: company.id,
        environment: 'test' as const,
        direction: 'issued' as const,
        status: 'queued' as const,
        invoice_number: 'FV/1',
        invoice_type: 'VAT',
        issue_date: '2026-02-02',
        seller_nip: '5265877635',
        net_amount: '100.00',
        vat_amount: '23.00',
        gross_amount: '123.00',
        currency: 'PLN',
        invoice_hash: 'qCezuL3iwedb58monMMu5EfIMsZSkhf03yKG0bMKoB4=',
        xml: Buffer.from('<Faktura/>'),
      };
      await handle.db.insertInto('synced_invoices').values(row).execute();
      await expect(handle.db.insertInto('synced_invoices').values(row).execute()).rejects.toThrow(/unique|duplicate/i);
      await handle.db.insertInto('synced_invoices').values({ ...row, environment: 'demo' }).execute();
    } finally {
      await handle.close();
    }
  });

  test('settings that were global become every existing company\'s own', async () => {
    const db = await createTestDatabase();
    const handle = await openDatabase(db.options);
    try {
      const names = Object.keys(await migrationProvider.getMigrations()).sort();
      const before = names[names.indexOf('0006_company_settings') - 1];
      const migrator = new Migrator({ db: handle.db, provider: migrationProvider });
      // A fresh PGlite test database starts migrated: go back to before per-company settings first.
      await migrator.migrateTo(before);
      expect((await migrator.migrateTo(before)).error).toBeUndefined();
      await sql`insert into companies (nip, name) values ('5265877635', 'A'), ('1234563218', 'B')`.execute(handle.db);
      await sql`insert into system_config (key, value) values ('api.date.format', 'dd.MM.yyyy')`.execute(handle.db);
      await migrateToLatest(handle.db);
      const rows = await handle.db
        .selectFrom('company_settings as s')
        .innerJoin('companies as c', 'c.id', 's.company_id')
        .select(['c.nip', 's.key', 's.value'])
        .orderBy('c.nip')
        .execute();
      expect(rows).toEqual([
        { nip: '1234563218', key: 'api.date.format', value: 'dd.MM.yyyy' },
        { nip: '5265877635', key: 'api.date.format', value: 'dd.MM.yyyy' },
      ]);
    } finally {
      await handle.close();
      await db.drop();
    }
  });
});
