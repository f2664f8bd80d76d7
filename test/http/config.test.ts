import { adminAuth, basic, COMPANY_NIP, startTestServer, type TestServer } from '../support/server.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
  const { id } = await t.server.services.database.db.selectFrom('companies').select('id').executeTakeFirstOrThrow();
  await t.server.services.users.create(id, { email: 'tech@example.com', password: 'tech-password-1', role: 'technical' });
});
afterAll(() => t.close());
afterEach(() => expect(t.conformance.violations).toEqual([]));

const put = (key: string, value: string, auth = adminAuth) => t.http.put(`/admin/config/${key}`).set('Authorization', auth).send({ value });

describe('system configuration and the date format', () => {
  test('defaults: yyyy-MM-dd HH:mm:ss in Europe/Warsaw', async () => {
    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', adminAuth)).body).toEqual({ key: 'api.date.format', value: 'yyyy-MM-dd HH:mm:ss' });
    expect((await t.http.get('/admin/config/api.date.timezone').set('Authorization', adminAuth)).body).toEqual({ key: 'api.date.timezone', value: 'Europe/Warsaw' });
    const status = await t.http.get('/status');
    expect(status.body.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  test('a new pattern shows on the next request, in /status and in other responses', async () => {
    expect((await put('api.date.format', "yyyy-MM-dd'T'HH:mm:ssXXX")).status).toBe(200);
    expect((await put('api.date.timezone', 'UTC')).status).toBe(200);
    const status = await t.http.get('/status');
    expect(status.body.time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    expect(Math.abs(Date.parse(status.body.time) - Date.now())).toBeLessThan(60_000);
    const users = await t.http.get('/admin/users').set('Authorization', adminAuth);
    for (const u of users.body.users) expect(u.createdAt).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

    await put('api.date.format', 'dd.MM.yyyy HH:mm');
    await put('api.date.timezone', 'Europe/Warsaw');
    expect((await t.http.get('/status')).body.time).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/);
    const created = await t.http.post('/admin/users').set('Authorization', adminAuth).send({ email: 'new@example.com', password: 'new-password-1', role: 'technical' });
    expect(created.body.createdAt).toMatch(/^\d{2}\.\d{2}\.\d{4} \d{2}:\d{2}$/);
    await put('api.date.format', 'yyyy-MM-dd HH:mm:ss');
  });

  test('the setting is stored in company_settings, for the admin\'s company', async () => {
    await put('api.date.timezone', 'Europe/London');
    const { id } = await t.server.services.database.db.selectFrom('companies').select('id').where('nip', '=', COMPANY_NIP).executeTakeFirstOrThrow();
    const rows = await t.server.services.database.db.selectFrom('company_settings').selectAll().where('key', '=', 'api.date.timezone').execute();
    expect(rows).toEqual([expect.objectContaining({ company_id: id, value: 'Europe/London' })]);
    await put('api.date.timezone', 'Europe/Warsaw');
  });

  test("one company's admin changes its own settings only; a company with none set has the defaults", async () => {
    const db = t.server.services.database.db;
    const other = await db.insertInto('companies').values({ nip: '1234563218', name: 'Other S.A.' }).returning('id').executeTakeFirstOrThrow();
    await t.server.services.users.create(other.id, { email: 'admin-b@example.com', password: 'admin-b-password-1', role: 'admin' });
    const adminB = basic('admin-b@example.com', 'admin-b-password-1');
    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', adminB)).body.value).toBe('yyyy-MM-dd HH:mm:ss');

    expect((await put('api.date.format', "dd.MM.yyyy 'B-WAS-HERE'", adminB)).status).toBe(200);
    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', adminB)).body.value).toBe("dd.MM.yyyy 'B-WAS-HERE'");
    const usersB = await t.http.get('/admin/users').set('Authorization', adminB);
    expect(usersB.body.users[0].createdAt).toMatch(/^\d{2}\.\d{2}\.\d{4} B-WAS-HERE$/);

    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', adminAuth)).body.value).toBe('yyyy-MM-dd HH:mm:ss');
    const usersA = await t.http.get('/admin/users').set('Authorization', adminAuth);
    for (const u of usersA.body.users) expect(u.createdAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    // Unauthenticated answers use the installation's own (first) company.
    expect((await t.http.get('/status')).body.time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  test('an invalid pattern → 400 naming body.value, nothing stored', async () => {
    const res = await put('api.date.format', 'yyyy-MM-dd qq');
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([{ path: 'body.value', message: expect.stringContaining('"qq"') }]);
    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', adminAuth)).body.value).toBe('yyyy-MM-dd HH:mm:ss');
  });

  test('an unknown time zone → 400', async () => {
    const res = await put('api.date.timezone', 'Mars/Olympus_Mons');
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain('Mars/Olympus_Mons');
  });

  test('an unknown key → 400', async () => {
    const res = await t.http.get('/admin/config/api.secret').set('Authorization', adminAuth);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('path.key');
  });

  test('only admins may read or change settings', async () => {
    const tech = basic('tech@example.com', 'tech-password-1');
    expect((await put('api.date.format', 'yyyy', tech)).status).toBe(403);
    expect((await t.http.get('/admin/config/api.date.format').set('Authorization', tech)).status).toBe(403);
  });
});
