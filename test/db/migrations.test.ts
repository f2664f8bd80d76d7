import { sql } from 'kysely';
import { migrateToLatest, openDatabase } from '../../src/db/connect';
import { createTestDatabase, type TestDatabase } from '../support/database';

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
  'invoice_corrections',
  'invoice_sync_meta',
  'ksef_credentials',
  'ksef_environment_state',
  'ksef_sessions',
  'offline_invoices',
  'synced_invoices',
  'system_config',
  'users',
];

describe(`migrations (${process.env.DATABASE_URL ? 'PostgreSQL' : 'PGlite'})`, () => {
  test('run twice without error, the second time changing nothing, and create the whole schema', async () => {
    const handle = await openDatabase(testDb.options);
    try {
      await migrateToLatest(handle.db);
      expect(await migrateToLatest(handle.db)).toEqual([]);
      const rows = await sql<{ table_name: string }>`
        select table_name from information_schema.tables where table_schema = 'public' and table_name not like 'kysely_%' order by table_name`.execute(handle.db);
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
});
