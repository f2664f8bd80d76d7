import { sql } from 'kysely';
import { type DatabaseHandle, openDatabase } from '../../src/db/connect.js';
import { heldBySomeSession, tryAdvisoryLock } from '../../src/ksef-proxy/locks.js';
import { createTestDatabase, type TestDatabase, usingPostgres } from '../support/database.js';

/**
 * The session-level lock a sync runs under, across PostgreSQL sessions: another process's holder is seen
 * (and makes a start answer 'busy'), and asking whether it is held never makes a start fail.
 */
const acrossSessions = (name: string, fn: () => void) =>
  usingPostgres ? describe(name, fn) : describe(name, () => test.skip('skipped: needs PostgreSQL (DATABASE_URL); CI runs it in its PostgreSQL pass', () => {}));

acrossSessions('advisory locks across sessions', () => {
  let testDb: TestDatabase;
  let handle: DatabaseHandle;
  let other: DatabaseHandle; // a second pool: another process's sessions
  beforeAll(async () => {
    testDb = await createTestDatabase();
    handle = await openDatabase(testDb.options);
    other = await openDatabase(testDb.options);
  });
  afterAll(async () => {
    await handle?.close();
    await other?.close();
    await testDb?.drop();
  });

  it('a lock another session holds is seen as held and makes a start busy; released, the start runs', async () => {
    const name = 'sync:locks-test:held';
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = other.db.connection().execute(async (conn) => {
      await sql`select pg_advisory_lock(hashtextextended(${name}, 0))`.execute(conn);
      locked();
      await released;
      await sql`select pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
    });
    await isLocked;
    expect(await heldBySomeSession(handle.db, name)).toBe(true);
    expect(await heldBySomeSession(handle.db, 'sync:locks-test:another')).toBe(false);
    expect(await tryAdvisoryLock(handle.db, name, true, async () => 'ran')).toBe('busy');
    release();
    await holder;
    expect(await heldBySomeSession(handle.db, name)).toBe(false);
    expect(await tryAdvisoryLock(handle.db, name, true, async () => heldBySomeSession(other.db, name))).toEqual({ ran: true, result: true });
  });

  it('status probes from other sessions, however many at once, never make a start answer busy', async () => {
    const name = 'sync:locks-test:probed';
    let starting = true;
    let probes = 0;
    const prober = async () => {
      while (starting) {
        await heldBySomeSession(other.db, name);
        probes++;
      }
    };
    const probers = Array.from({ length: 4 }, prober);
    const outcomes: unknown[] = [];
    for (let i = 0; i < 100; i++) outcomes.push(await tryAdvisoryLock(handle.db, name, true, async () => 'ran'));
    starting = false;
    await Promise.all(probers);
    expect(probes).toBeGreaterThan(100);
    expect(outcomes.filter((o) => o === 'busy')).toHaveLength(0);
  });
});
