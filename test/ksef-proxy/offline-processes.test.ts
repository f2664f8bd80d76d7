import { jest } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import got from 'got';
import type { Kysely } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import type { RunningSandbox } from '../../src/sandbox/index.js';
import { openModeToken, withNumber } from '../support/ksef.js';
import type { ServerProcess } from '../support/process.js';
import { COMPANY_NIP, adminAuth } from '../support/server.js';
import { readSample } from '../support/shared.js';
import { describeMultiProcess, type MultiProcessStack, startMultiProcessStack, until } from '../support/multi-process.js';

/**
 * The offline batch survives a crash between the part upload and the close: another process finishes the
 * batch (closes the session KSeF still holds open) and every invoice gets exactly one KSeF number.
 */
jest.setTimeout(180_000);

function rsaOfflineCertificate() {
  const privateKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offline-cert-'));
  try {
    fs.writeFileSync(path.join(dir, 'key.pem'), privateKeyPem);
    execFileSync('openssl', ['req', '-x509', '-new', '-key', path.join(dir, 'key.pem'), '-subj', '/CN=Offline 5265877635', '-days', '2', '-set_serial', '0x01F20A5D352AE590', '-out', path.join(dir, 'cert.pem')]);
    return { certificatePem: fs.readFileSync(path.join(dir, 'cert.pem'), 'utf8'), privateKeyPem };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describeMultiProcess('offline batch across a crash', () => {
  let stack: MultiProcessStack;
  let sandbox: RunningSandbox;
  let db: Kysely<Database>;
  const start = () => stack.start();
  const admin = (method: 'POST' | 'DELETE', path: string, json?: object) => stack.admin(method, path, json);
  const call = (p: ServerProcess, method: 'GET' | 'POST' | 'PUT', url: string, json?: object) =>
    got(`${p.url}${url}`, { method, json, headers: { Authorization: adminAuth }, throwHttpErrors: false, responseType: 'json', timeout: { request: 120_000 } });

  beforeAll(async () => {
    stack = await startMultiProcessStack({ KSEF_MAX_ATTEMPTS: '30', OUTBOX_INTERVAL_MS: '200', OUTBOX_LEASE_MS: '3000' });
    ({ sandbox, db } = stack);
  });
  afterAll(() => stack?.close());

  it('a process killed after uploading the parts and before KSeF accepted the close: another process closes it; each invoice numbered once', async () => {
    let p = await start();
    expect((await call(p, 'PUT', '/ksef/test/credentials', { ksefToken: openModeToken(COMPANY_NIP), offlineCertificate: rsaOfflineCertificate() })).statusCode).toBe(200);
    expect((await call(p, 'PUT', '/ksef/test/simulation', { active: true })).statusCode).toBe(200);
    const numbers = ['OFF/CRASH/1', 'OFF/CRASH/2', 'OFF/CRASH/3'];
    for (const n of numbers) {
      const res = await call(p, 'POST', '/invoices/test/send', { invoiceXml: withNumber(readSample('fa3-vat.xml'), n).toString('base64'), mode: 'offline' });
      expect(res.statusCode).toBe(200);
    }
    expect((await call(p, 'PUT', '/ksef/test/simulation', { active: false })).statusCode).toBe(200);

    // Every close is answered 503 (retried), so the process is certainly between upload and close when it dies.
    for (let n = 1; n <= 30; n++) await admin('POST', '/sandbox/faults/fail-nth', { method: 'POST', pathPattern: '/v2/sessions/batch/{ref}/close', n, status: 503 });
    const inFlight = call(p, 'POST', '/invoices/test/offline/send-batch').catch(() => undefined);
    const session = await until('the parts uploaded and a close attempted', async () => {
      const s = [...sandbox.state.sessions.values()].find((x) => x.batch && x.batch.parts.every((part) => part.data));
      return s ? s : undefined;
    });
    await new Promise((r) => setTimeout(r, 300));
    await p.kill();
    await inFlight;
    expect(session.status.code).toBe(100); // still open: KSeF never saw a successful close
    const claimed = await db.selectFrom('offline_invoices').select(['status', 'session_reference_number']).execute();
    expect(claimed.every((r) => r.status === 'processing' && r.session_reference_number === session.referenceNumber)).toBe(true);
    await admin('DELETE', '/sandbox/faults');

    p = await start();
    const rows = await until('the batch finished by the new process', async () => {
      const r = await db.selectFrom('offline_invoices').selectAll().execute();
      return r.every((x) => x.status === 'sent') ? r : undefined;
    });
    expect(rows.map((r) => r.session_reference_number)).toEqual([session.referenceNumber, session.referenceNumber, session.referenceNumber]);
    for (const n of numbers) {
      const copies = [...sandbox.state.invoicesByKsefNumber.values()].filter((i) => i.facts?.invoiceNumber === n);
      expect(copies).toHaveLength(1);
      expect(copies[0].offlineMode).toBe(true);
      expect(rows.find((r) => r.invoice_number === n)!.ksef_number).toBe(copies[0].ksefNumber);
    }
    // Exactly one batch session was opened.
    expect([...sandbox.state.sessions.values()].filter((s) => s.type === 'Batch')).toHaveLength(1);
    await p.stop();
  });
}, { needsShared: true });
