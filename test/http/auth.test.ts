import { Users } from '../../src/accounts/users.js';
import { adminAuth, ADMIN_EMAIL, basic, startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;
let users: Users;
let otherCompanyId: string;
let otherAdminId: string;

beforeAll(async () => {
  t = await startTestServer({ env: { AUTH_CACHE_TTL_MS: '600000' } });
  const db = t.server.services.database.db;
  users = new Users(db);
  const { id: companyId } = await db.selectFrom('companies').select('id').executeTakeFirstOrThrow();
  await users.create(companyId, { email: 'tech@example.com', password: 'tech-password-1', role: 'technical' });
  await users.create(companyId, { email: 'auditor@example.com', password: 'auditor-password', role: 'auditor' });
  otherCompanyId = (await db.insertInto('companies').values({ nip: '1234563218', name: 'Other S.A.' }).returning('id').executeTakeFirstOrThrow()).id;
  otherAdminId = (await users.create(otherCompanyId, { email: 'boss@other.pl', password: 'other-password-1', role: 'admin' })).id;
});

afterAll(() => t.close());
afterEach(() => expect(t.conformance.violations).toEqual([]));

describe('who may call the API', () => {
  test('no credentials → 401 with a Basic challenge', async () => {
    const res = await t.http.get('/admin/users');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic realm=/);
    expect(res.body.error.code).toBe('unauthorized');
  });

  test.each(['/healthz', '/favicon.ico', '/invoices/test/sync/nothing-here', '/v2/sessions'])('a path no operation has → 404 even without credentials: %s', async (path) => {
    const res = await t.http.get(path);
    expect(res.status).toBe(404);
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body.error.code).toBe('not_found');
  });

  test('a known path with a method it lacks still asks for credentials first', async () => {
    expect((await t.http.delete('/invoices/test/sync')).status).toBe(401);
    expect((await t.http.delete('/invoices/test/sync').set('Authorization', adminAuth)).status).toBe(405);
  });

  test('wrong password → 401', async () => {
    const res = await t.http.get('/admin/users').set('Authorization', basic(ADMIN_EMAIL, 'not-the-password'));
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic/);
  });

  test('unknown user → 401', async () => {
    const res = await t.http.get('/admin/users').set('Authorization', basic('nobody@example.com', 'whatever-123'));
    expect(res.status).toBe(401);
  });

  test('a role other than admin/technical → 403', async () => {
    const res = await t.http.get('/invoices/test/offline').set('Authorization', basic('auditor@example.com', 'auditor-password'));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('auditor');
  });

  test('admin passes', async () => {
    const res = await t.http.get('/admin/users').set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    expect(res.body.users.map((u: { email: string }) => u.email).sort()).toEqual(['admin@example.com', 'auditor@example.com', 'tech@example.com']);
  });

  test('technical passes on API routes but not on admin routes', async () => {
    const tech = basic('tech@example.com', 'tech-password-1');
    expect((await t.http.get('/invoices/test/offline').set('Authorization', tech)).status).toBe(200);
    const admin = await t.http.get('/admin/users').set('Authorization', tech);
    expect(admin.status).toBe(403);
  });

  test('email is matched case-insensitively', async () => {
    const res = await t.http.get('/admin/users').set('Authorization', basic(ADMIN_EMAIL.toUpperCase(), 'admin-password-1'));
    expect(res.status).toBe(200);
  });
});

describe('the verification cache never lets a stale credential through', () => {
  test('a changed password is refused at once, the new one accepted', async () => {
    const db = t.server.services.database.db;
    const { id: companyId } = await db.selectFrom('companies').select('id').where('nip', '=', '5265877635').executeTakeFirstOrThrow();
    const user = await users.create(companyId, { email: 'rotating@example.com', password: 'first-password', role: 'technical' });
    const first = basic('rotating@example.com', 'first-password');
    expect((await t.http.get('/invoices/test/offline').set('Authorization', first)).status).toBe(200);
    await users.setPassword(user.id, 'second-password');
    expect((await t.http.get('/invoices/test/offline').set('Authorization', first)).status).toBe(401);
    expect((await t.http.get('/invoices/test/offline').set('Authorization', basic('rotating@example.com', 'second-password'))).status).toBe(200);
  });

  test('a deleted user is refused at once', async () => {
    const create = await t.http
      .post('/admin/users')
      .set('Authorization', adminAuth)
      .send({ email: 'leaving@example.com', password: 'leaving-password', role: 'technical' });
    expect(create.status).toBe(201);
    const leaving = basic('leaving@example.com', 'leaving-password');
    expect((await t.http.get('/invoices/test/offline').set('Authorization', leaving)).status).toBe(200);
    expect((await t.http.delete(`/admin/users/${create.body.id}`).set('Authorization', adminAuth)).status).toBe(204);
    expect((await t.http.get('/invoices/test/offline').set('Authorization', leaving)).status).toBe(401);
  });

  test('passwords are stored as salted scrypt hashes', async () => {
    const rows = await t.server.services.database.db.selectFrom('users').select(['email', 'password_hash']).execute();
    const hashes = rows.map((r) => r.password_hash);
    for (const h of hashes) expect(h).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
    expect(new Set(hashes.map((h) => h.split('$')[4])).size).toBe(hashes.length);
    expect(hashes.join()).not.toContain('admin-password-1');
  });
});

describe('tenancy', () => {
  test("company A's admin does not see company B's users", async () => {
    const res = await t.http.get('/admin/users').set('Authorization', adminAuth);
    expect(res.body.users.map((u: { email: string }) => u.email)).not.toContain('boss@other.pl');
    const other = await t.http.get('/admin/users').set('Authorization', basic('boss@other.pl', 'other-password-1'));
    expect(other.body.users.map((u: { email: string }) => u.email)).toEqual(['boss@other.pl']);
  });

  test("company A's admin cannot delete company B's user (404, and the user stays)", async () => {
    const res = await t.http.delete(`/admin/users/${otherAdminId}`).set('Authorization', adminAuth);
    expect(res.status).toBe(404);
    const still = await t.server.services.database.db.selectFrom('users').select('id').where('id', '=', otherAdminId).executeTakeFirst();
    expect(still).toBeDefined();
  });

  test('an admin cannot delete their own account', async () => {
    const me = (await t.http.get('/admin/users').set('Authorization', adminAuth)).body.users.find((u: { email: string }) => u.email === ADMIN_EMAIL);
    const res = await t.http.delete(`/admin/users/${me.id}`).set('Authorization', adminAuth);
    expect(res.status).toBe(409);
  });

  test('a duplicate email → 409', async () => {
    const res = await t.http.post('/admin/users').set('Authorization', adminAuth).send({ email: 'BOSS@other.pl', password: 'whatever-123', role: 'technical' });
    expect(res.status).toBe(409);
  });
});
