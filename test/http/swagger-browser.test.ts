import puppeteer, { type Browser } from 'puppeteer';
import { resolveExecutablePath } from '../../src/local/pdf/chromium.js';
import { ADMIN_EMAIL, ADMIN_PASSWORD, startTestServer, type TestServer } from '../support/server.js';

/** Swagger UI in a real browser, on a random port: Authorize with Basic, then "Try it out" reaches this server. */
describe('Swagger "Try it out" on any host and port', () => {
  let t: TestServer;
  let browser: Browser;
  beforeAll(async () => {
    t = await startTestServer({ env: { OUTBOX_INTERVAL_MS: '0' } });
    browser = await puppeteer.launch({ executablePath: resolveExecutablePath(), headless: true, args: ['--no-sandbox', '--disable-gpu'] });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.close();
  });

  test('GET /admin/users executed from the page answers 200 with the users', async () => {
    const page = await browser.newPage();
    const calls: string[] = [];
    page.on('request', (r) => calls.push(r.url()));
    await page.goto(`${t.url}/swagger`, { waitUntil: 'networkidle0' });

    await page.click('.auth-wrapper .authorize');
    await page.waitForSelector('.auth-container input[type=text]');
    await page.type('.auth-container input[type=text]', ADMIN_EMAIL);
    await page.type('.auth-container input[type=password]', ADMIN_PASSWORD);
    await page.click('.auth-btn-wrapper .authorize');
    await page.click('.auth-btn-wrapper .btn-done');

    const operation = '#operations-admin-listUsers';
    await page.waitForSelector(`${operation} .opblock-summary`);
    await page.click(`${operation} .opblock-summary`);
    await page.waitForSelector(`${operation} .try-out__btn`);
    await page.click(`${operation} .try-out__btn`);
    await page.waitForSelector(`${operation} .execute`);
    await page.click(`${operation} .execute`);
    await page.waitForSelector(`${operation} .live-responses-table tr.response td.response-col_status`);

    const status = await page.$eval(`${operation} .live-responses-table tr.response td.response-col_status`, (el) => el.textContent?.trim());
    const body = await page.$eval(`${operation} .live-responses-table .microlight`, (el) => el.textContent ?? '');
    expect(status).toBe('200');
    expect(JSON.parse(body).users.map((u: { email: string }) => u.email)).toEqual([ADMIN_EMAIL]);
    expect(calls).toContain(`${t.url}/admin/users`);
    await page.close();
  });
});
