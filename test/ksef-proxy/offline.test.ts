import { jest } from '@jest/globals';
import { execFile } from 'node:child_process';
import { X509Certificate, constants, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { submissionDeadline } from '../../src/ksef-proxy/offline/deadlines.js';
import { checkKsefNumber } from '../../src/local/ksef-number.js';
import { adminAuth, basic } from '../support/server.js';
import { startKsefStack, withNumber, type KsefStack } from '../support/ksef.js';
import { decodePngQr, pdfText } from '../support/pdf.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { waitFor as waitUntil } from '../support/wait.js';

// jsqr's types declare an ES default export over CommonJS, so under NodeNext it sits on .default.
const jsQR = jsQRModule.default;

/** Offline mode end to end (issue 6): certificate, outage simulation, KOD II, the offline queue, send-batch. */

jest.setTimeout(120_000);

const b64 = (b: Buffer) => b.toString('base64');
const run = promisify(execFile);

interface IssuedCertificate {
  certificatePem: string;
  privateKeyPem: string;
  cert: X509Certificate;
}

/** A KSeF Offline certificate and its key, issued by the sandbox's certificate authority (as KSeF would). */
async function offlineCertificate(k: KsefStack, keyType: 'RSA' | 'EC'): Promise<IssuedCertificate> {
  const issued = (await k.sandboxAdmin('POST', '/sandbox/certificates', { nip: '5265877635', keyType, certificateType: 'Offline' })) as {
    certificatePem: string;
    privateKeyPem: string;
    serialNumber: string;
  };
  const cert = new X509Certificate(issued.certificatePem);
  expect(cert.serialNumber.toUpperCase()).toBe(issued.serialNumber.toUpperCase());
  return { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem, cert };
}

/** Checks a KOD II link's signature with the certificate's public key, independently of our signing code (FA3.md §4.2). */
function kodIIVerifies(link: string, cert: X509Certificate): boolean {
  const withoutScheme = link.replace(/^https:\/\//, '');
  const cut = withoutScheme.lastIndexOf('/');
  const data = Buffer.from(withoutScheme.slice(0, cut), 'utf8');
  const signature = Buffer.from(withoutScheme.slice(cut + 1), 'base64url');
  const key = cert.publicKey;
  return key.asymmetricKeyType === 'ec'
    ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature)
    : verify('sha256', data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
}

/**
 * The QR codes on each page of a PDF. jsQR reads one symbol per image and gives up when it sees two, so
 * each rasterised page is read in overlapping horizontal bands (30 % of the page, every 5 %).
 */
async function pdfQrCodesByPage(pdf: Buffer): Promise<string[][]> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'offline-pdf-'));
  try {
    await fs.promises.writeFile(path.join(dir, 'doc.pdf'), pdf);
    await run('pdftoppm', ['-png', '-r', '100', path.join(dir, 'doc.pdf'), path.join(dir, 'page')]);
    const byPage: string[][] = [];
    const pages = (await fs.promises.readdir(dir)).filter((f) => f.endsWith('.png')).sort();
    for (const page of pages) {
      const image = PNG.sync.read(await fs.promises.readFile(path.join(dir, page)));
      const found = new Set<string>();
      const bandHeight = Math.round(image.height * 0.3);
      const step = Math.round(image.height * 0.05);
      for (let top = 0; top < image.height; top += step) {
        const rows = Math.min(bandHeight, image.height - top);
        const band = image.data.subarray(top * image.width * 4, (top + rows) * image.width * 4);
        const code = jsQR(new Uint8ClampedArray(band.buffer, band.byteOffset, band.length), image.width, rows);
        if (code?.data) found.add(code.data);
      }
      byPage.push([...found]);
    }
    return byPage;
  } finally {
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** The deadline of `mode` for an outage that ended between `after` and `before` (robust to midnight). */
const deadlineBetween = (mode: 'offline' | 'awaryjny', deadline: Date | null, after: Date, before: Date) =>
  deadline !== null && [submissionDeadline(mode, after), submissionDeadline(mode, before)].some((d) => d.getTime() === deadline.getTime());

describeWithShared('offline mode and outage simulation', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const send = (xml: Buffer, mode: 'online' | 'offline' = 'offline') => http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(xml), mode });
  const simulate = (active: boolean, auth = adminAuth, offlineMode?: 'offline' | 'awaryjny') =>
    http().put('/ksef/test/simulation').set('Authorization', auth).send({ active, ...(offlineMode ? { offlineMode } : {}) });
  const list = (status?: string) => http().get(`/invoices/test/offline${status ? `?status=${status}` : ''}`).set('Authorization', adminAuth);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 30_000) => waitUntil(what, probe, ms, 150);
  const vat = readSample('fa3-vat.xml');
  let rsa: IssuedCertificate;
  let ec: IssuedCertificate;
  const technical = basic('offline-erp@example.com', 'technical-pass-1');

  beforeAll(async () => {
    k = await startKsefStack();
    rsa = await offlineCertificate(k, 'RSA');
    ec = await offlineCertificate(k, 'EC');
    await http().post('/admin/users').set('Authorization', adminAuth).send({ email: 'offline-erp@example.com', password: 'technical-pass-1', role: 'technical' });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  const issued: { id: string; xml: Buffer; link1: string; link2: string; cert: X509Certificate }[] = [];

  it('refuses an offline send while KSeF is available and nothing is simulated (409)', async () => {
    const res = await send(withNumber(vat, 'OFF/0'));
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/available and no outage simulation/);
  });

  it('stores an offline certificate only when certificate and key match (400 naming the field); never returns it', async () => {
    const put = (offline: object) => http().put('/ksef/test/credentials').set('Authorization', adminAuth).send({ offlineCertificate: offline });
    let res = await put({ certificatePem: 'not a certificate', privateKeyPem: rsa.privateKeyPem });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('body.offlineCertificate.certificatePem');
    res = await put({ certificatePem: rsa.certificatePem, privateKeyPem: ec.privateKeyPem });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('body.offlineCertificate.privateKeyPem');
    expect(res.body.error.message).toMatch(/does not belong to the certificate/);
    res = await put({ certificatePem: rsa.certificatePem, privateKeyPem: generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }) });
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('body.offlineCertificate.privateKeyPem');
    expect((await http().get('/ksef/test/credentials').set('Authorization', adminAuth)).body.offlineCertificate).toBeNull();
  });

  it('turns the outage simulation on (admin only); connection reports it; online send → 503 with the offline hint', async () => {
    expect((await simulate(true, technical)).status).toBe(403);
    const before = await http().get('/ksef/test/simulation').set('Authorization', technical);
    expect(before.body).toEqual({ environment: 'test', active: false, since: null, offlineMode: 'offline' });
    const on = await simulate(true);
    expect(on.status).toBe(200);
    expect(on.body).toMatchObject({ environment: 'test', active: true, offlineMode: 'offline' });
    expect(on.body.since).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const connection = await http().get('/ksef/test/connection').set('Authorization', adminAuth);
    expect(connection.body).toMatchObject({ available: false, outageSimulation: true });

    const calls = k.sandbox.state.sessions.size;
    const online = await send(withNumber(vat, 'ONLINE/SIM/1'), 'online');
    expect(online.status).toBe(503);
    expect(online.body.error.message).toMatch(/outage simulation is active/);
    expect(online.body.error.message).toMatch(/mode "offline"/);
    expect(k.sandbox.state.sessions.size).toBe(calls);
    expect(await db().selectFrom('synced_invoices').select('id').where('invoice_number', '=', 'ONLINE/SIM/1').execute()).toEqual([]);
  });

  it('without an offline certificate an offline send is a 409 naming what is missing', async () => {
    const res = await send(withNumber(vat, 'OFF/0'));
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/offline certificate/);
    expect(res.body.error.message).toMatch(/offlineCertificate/);
  });

  it('signs 5 offline invoices (3 with an RSA, 2 with an EC certificate): KOD II verifies with the certificate', async () => {
    for (const [cert, numbers] of [
      [rsa, ['OFF/1', 'OFF/2', 'OFF/3']],
      [ec, ['OFF/4', 'OFF/5']],
    ] as const) {
      const stored = await http().put('/ksef/test/credentials').set('Authorization', adminAuth).send({ offlineCertificate: { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem } });
      expect(stored.status).toBe(200);
      expect(stored.body.offlineCertificate).toMatchObject({ serialNumber: cert.cert.serialNumber.toUpperCase(), subject: cert.cert.subject.split('\n').join(', ') });
      expect(stored.body.offlineCertificate.subject).toContain('5265877635');
      expect(JSON.stringify(stored.body)).not.toMatch(/BEGIN/);
      expect(stored.body.ksefTokenConfigured).toBe(true);
      for (const number of numbers) {
        const xml = withNumber(vat, number);
        const res = await send(xml);
        expect(res.status).toBe(200);
        expect(res.body).toMatchObject({ mode: 'offline', status: 'signed', invoiceNumber: number });
        expect(res.body.qrLinkInvoice).toMatch(/^https:\/\/qr-test\.ksef\.mf\.gov\.pl\/invoice\/5265877635\/02-02-2026\/[A-Za-z0-9_-]{43}$/);
        expect(res.body.qrLinkCertificate.startsWith(`https://qr-test.ksef.mf.gov.pl/certificate/Nip/5265877635/5265877635/${cert.cert.serialNumber.toUpperCase()}/`)).toBe(true);
        expect(kodIIVerifies(res.body.qrLinkCertificate, cert.cert)).toBe(true);
        // Signed by this certificate, not the other one.
        expect(kodIIVerifies(res.body.qrLinkCertificate, (cert === rsa ? ec : rsa).cert)).toBe(false);
        expect(res.body.submissionDeadline).toMatch(/^\d{4}-\d{2}-\d{2} 23:59:59$/);
        expect(res.body.offlineMode).toBe('offline');
        issued.push({ id: res.body.offlineId, xml, link1: res.body.qrLinkInvoice, link2: res.body.qrLinkCertificate, cert: cert.cert });
      }
    }
    // The same bytes again: the stored row, not a second one.
    const again = await send(issued[0].xml);
    expect(again.body.offlineId).toBe(issued[0].id);

    const listed = await list();
    expect(listed.status).toBe(200);
    expect(listed.body.totalCount).toBe(5);
    for (const [i, inv] of listed.body.invoices.entries()) {
      expect(inv).toMatchObject({ id: issued[i].id, status: 'signed', qrLinkInvoice: issued[i].link1, qrLinkCertificate: issued[i].link2, ksefNumber: null, sessionReferenceNumber: null });
      expect(inv).toMatchObject({ issueDate: '2026-02-02', currency: 'PLN', errorMessage: null, offlineMode: 'offline' });
    }
    expect((await list('sent')).body.totalCount).toBe(0);
    expect((await list('signed')).body.totalCount).toBe(5);
  });

  it('serves each offline invoice as xml, qr (KOD I), cert (KOD II) and a PDF whose raster decodes to both links', async () => {
    const inv = issued[3];
    const doc = (docType: string) => http().get(`/invoices/test/offline/${inv.id}?docType=${docType}`).set('Authorization', adminAuth);
    const xml = await doc('xml');
    expect(Buffer.compare(Buffer.from(xml.body.content, 'base64'), inv.xml)).toBe(0);
    const qr = await doc('qr');
    expect(qr.body).toMatchObject({ contentType: 'image/png', qrVerificationUrl: inv.link1 });
    expect(decodePngQr(Buffer.from(qr.body.content, 'base64'))).toBe(inv.link1);
    const cert = await doc('cert');
    expect(decodePngQr(Buffer.from(cert.body.content, 'base64'))).toBe(inv.link2);
    const pdf = await doc('pdf');
    expect(pdf.status).toBe(200);
    expect(pdf.body).toMatchObject({ contentType: 'application/pdf', qrLinkInvoice: inv.link1, qrLinkCertificate: inv.link2 });
    const bytes = Buffer.from(pdf.body.content, 'base64');
    // The QR section is never split across pages: both codes on one page, where the official layout puts them.
    const pages = await pdfQrCodesByPage(bytes);
    expect(pages.filter((codes) => codes.length > 0).map((codes) => codes.sort())).toEqual([[inv.link1, inv.link2].sort()]);
    const text = await pdfText(bytes);
    expect(text).toContain('OFFLINE');
    expect(text).toContain('CERTYFIKAT');
    expect((await http().get('/invoices/test/offline/1b4e28ba-2fa1-11d2-883f-0016d3cca427').set('Authorization', adminAuth)).status).toBe(404);
  });

  it('send-batch is a 409 while the simulation is on', async () => {
    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.status).toBe(409);
    expect(res.body.error.message).toMatch(/outage simulation is active/);
  });

  it('simulation off → send-batch → one offline batch session → status → all sent with valid KSeF numbers', async () => {
    const endedAfter = new Date();
    const off = await simulate(false);
    const endedBefore = new Date();
    expect(off.body).toEqual({ environment: 'test', active: false, since: null, offlineMode: 'offline' });
    // The outage ended: the unavailability deadline is fixed at the next business day after that day.
    const waiting = await db().selectFrom('offline_invoices').select(['offline_mode', 'submission_deadline']).execute();
    expect(waiting.length).toBe(5);
    for (const w of waiting) {
      expect(w.offline_mode).toBe('offline');
      expect(deadlineBetween('offline', w.submission_deadline, endedAfter, endedBefore)).toBe(true);
    }
    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ totalCount: 5, status: 'processing', remainingCount: 0 });
    const ref = res.body.referenceNumber;
    expect(ref).toMatch(/^\d{8}-SB-/);
    const session = k.sandbox.state.sessions.get(ref)!;
    expect(session.batch?.offlineMode).toBe(true);
    expect(session.batch?.parts.length).toBe(1);

    const status = await waitFor('the batch to be processed', async () => {
      const s = await http().get(`/invoices/test/status/${ref}`).set('Authorization', adminAuth);
      return s.body.status?.code === 200 && s.body;
    });
    expect(status.successfulInvoiceCount).toBe(5);
    const sent = await waitFor('all five sent', async () => {
      const l = await list('sent');
      return l.body.totalCount === 5 && l.body;
    });
    for (const inv of sent.invoices) {
      expect(checkKsefNumber(inv.ksefNumber)).toMatchObject({ valid: true });
      expect(inv.sessionReferenceNumber).toBe(ref);
      expect(inv.ksefReferenceNumber).toBe(ref); // part A's name for it
    }
    const rows = await db().selectFrom('offline_invoices').selectAll().execute();
    expect(rows.every((r) => r.session_reference_number === ref && r.status === 'sent' && r.acquisition_date instanceof Date)).toBe(true);
    for (const r of rows) expect(k.sandbox.state.invoicesByKsefNumber.get(r.ksef_number!)?.offlineMode).toBe(true);
    expect((await list()).body.totalCount).toBe(0);
  });

  it('nothing queued → send-batch 404', async () => {
    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.status).toBe(404);
  });

  it('an announced failure (awaryjny): 7 business days after it ends, also for offline invoices already waiting', async () => {
    expect((await simulate(true)).body.offlineMode).toBe('offline');
    const early = await send(withNumber(vat, 'OFF/F1'));
    expect(early.status).toBe(200);
    const failure = await simulate(true, adminAuth, 'awaryjny');
    expect(failure.body).toMatchObject({ active: true, offlineMode: 'awaryjny' });
    // Saying again that the simulation is on, without a mode, keeps the failure (it does not end it).
    const since = failure.body.since;
    expect((await simulate(true)).body).toMatchObject({ active: true, offlineMode: 'awaryjny', since });
    const late = await send(withNumber(vat, 'OFF/F2'));
    expect(late.status).toBe(200);
    expect(late.body.offlineMode).toBe('awaryjny');
    const rowOf = (id: string) => db().selectFrom('offline_invoices').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect((await rowOf(early.body.offlineId)).offline_mode).toBe('offline');
    expect((await rowOf(late.body.offlineId)).offline_mode).toBe('awaryjny');
    const listed = (await list()).body.invoices.map((i: { offlineMode: string }) => i.offlineMode);
    expect(listed).toEqual(['offline', 'awaryjny']);

    const endedAfter = new Date();
    await simulate(false);
    const endedBefore = new Date();
    // Both wait for 7 business days after the failure: the one issued in it, and the earlier one it caught.
    for (const id of [late.body.offlineId, early.body.offlineId]) {
      expect(deadlineBetween('awaryjny', (await rowOf(id)).submission_deadline, endedAfter, endedBefore)).toBe(true);
    }
    expect(submissionDeadline('awaryjny', endedAfter).getTime()).toBeGreaterThan(submissionDeadline('offline', endedAfter).getTime());

    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.body).toMatchObject({ totalCount: 2, remainingCount: 0 });
    await waitFor('both sent', async () => (await list()).body.totalCount === 0);
  });

  it('one invoice KSeF rejects in a batch: only that row becomes error with KSeF message, the others sent (by the worker)', async () => {
    await simulate(true);
    const good = withNumber(vat, 'OFF/6');
    const other = withNumber(vat, 'OFF/7');
    // The same seller, kind and number as OFF/6 in other bytes: KSeF's duplicate, rejected in the package.
    const duplicate = Buffer.concat([withNumber(vat, 'OFF/6'), Buffer.from('\n')]);
    for (const xml of [good, other, duplicate]) expect((await send(xml)).status).toBe(200);
    await simulate(false);
    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.body.totalCount).toBe(3);
    const rows = await waitFor('the worker to settle the batch', async () => {
      const r = await db().selectFrom('offline_invoices').selectAll().where('session_reference_number', '=', res.body.referenceNumber).execute();
      return r.every((x) => x.status === 'sent' || x.status === 'error') && r;
    });
    const bad = rows.filter((r) => r.status === 'error');
    expect(bad.length).toBe(1);
    expect(Buffer.compare(bad[0].xml, duplicate)).toBe(0);
    expect(bad[0].error_message).toMatch(/\S/);
    expect(bad[0].error_code).toBeGreaterThanOrEqual(400);
    expect(rows.filter((r) => r.status === 'sent').length).toBe(2);
    const errors = await list('error');
    expect(errors.body.invoices[0]).toMatchObject({ id: bad[0].id, status: 'error', errorMessage: bad[0].error_message });
    // Resending a row that is not in error is refused.
    const notError = await http().post(`/invoices/test/offline/${rows.find((r) => r.status === 'sent')!.id}/resend`).set('Authorization', adminAuth).send({ invoiceXml: b64(good) });
    expect(notError.status).toBe(409);

    // The rejected row sent again as a technical correction: online, offlineMode true, hashOfCorrectedInvoice = the rejected file's hash.
    const fixed = withNumber(vat, 'OFF/6').toString('utf8').replace('?>', '?>\n');
    const resent = await http().post(`/invoices/test/offline/${bad[0].id}/resend`).set('Authorization', adminAuth).send({ invoiceXml: b64(Buffer.from(fixed)) });
    expect(resent.status).toBe(200);
    expect(resent.body).toMatchObject({ id: bad[0].id, invoiceNumber: 'OFF/6' });
    expect(resent.body.sessionReferenceNumber).toMatch(/^\d{8}-SO-/);
    const corrected = await db().selectFrom('offline_invoices').selectAll().where('id', '=', bad[0].id).executeTakeFirstOrThrow();
    expect(corrected.corrected_invoice_hash).toBe(bad[0].invoice_hash);
    const inKsef = k.sandbox.state.sessions.get(resent.body.sessionReferenceNumber)!.invoices.find((i) => i.invoiceHash === corrected.invoice_hash)!;
    expect(inKsef).toMatchObject({ offlineMode: true, hashOfCorrectedInvoice: bad[0].invoice_hash });
  });

  it('a real outage marks the environment unavailable (offline mode opens); a successful probe marks it available again', async () => {
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    try {
      const connection = await http().get('/ksef/test/connection').set('Authorization', adminAuth);
      expect(connection.body).toMatchObject({ available: false, outageSimulation: false });
      const state = await db().selectFrom('ksef_environment_state').selectAll().executeTakeFirstOrThrow();
      expect(state).toMatchObject({ available: false, simulation_active: false });
      expect(state.unavailable_since).toBeInstanceOf(Date);
      const res = await send(withNumber(vat, 'OFF/8'));
      expect(res.status).toBe(200);
      expect((await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth)).status).toBe(409);
    } finally {
      await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
    }
    await waitFor('the worker probe to mark KSeF available', async () => {
      const s = await db().selectFrom('ksef_environment_state').select('available').executeTakeFirstOrThrow();
      return s.available;
    });
    expect((await send(withNumber(vat, 'OFF/9'))).status).toBe(409);
    const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    expect(res.body.totalCount).toBe(1);
  });

  it('while the simulation is on, the worker sends nothing online: a queued invoice waits until it is off', async () => {
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    try {
      expect((await send(withNumber(vat, 'ONLINE/HELD/1'), 'online')).status).toBe(503);
    } finally {
      await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
    }
    await simulate(true);
    await db().updateTable('synced_invoices').set({ next_attempt_at: null }).where('invoice_number', '=', 'ONLINE/HELD/1').execute();
    await new Promise((r) => setTimeout(r, 1_500));
    const held = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', 'ONLINE/HELD/1').executeTakeFirstOrThrow();
    expect(held.status).toBe('queued');
    await simulate(false);
    await waitFor('delivery after the simulation', async () => {
      const r = await db().selectFrom('synced_invoices').select('status').where('invoice_number', '=', 'ONLINE/HELD/1').executeTakeFirstOrThrow();
      return r.status === 'sent';
    });
  });
});

describeWithShared('send-batch within the batch limits', () => {
  let k: KsefStack;
  const http = () => k.api.http;
  const vat = readSample('fa3-vat.xml');

  beforeAll(async () => {
    // Small limits so a few invoices exercise them: 2 invoices or 9,000 bytes per session, 1,000-byte parts.
    k = await startKsefStack({ env: { OFFLINE_BATCH_MAX_INVOICES: '2', OFFLINE_BATCH_MAX_BYTES: '9000', OFFLINE_BATCH_PART_BYTES: '1000' } });
    const cert = await offlineCertificate(k, 'RSA');
    await http().put('/ksef/test/credentials').set('Authorization', adminAuth).send({ offlineCertificate: { certificatePem: cert.certificatePem, privateKeyPem: cert.privateKeyPem } });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
  });

  it('cuts the queue into sessions by invoice count and bytes, oldest first, each archive in parts; every invoice sent once', async () => {
    await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: true });
    // ~7 kB of incompressible comment: with the next invoice it would pass 9,000 bytes, so it travels alone.
    const big = Buffer.from(withNumber(vat, 'LIM/1').toString('utf8').replace('?>', `?>\n<!-- ${randomBytes(5000).toString('base64')} -->`));
    const invoices = [big, ...[2, 3, 4, 5].map((n) => withNumber(vat, `LIM/${n}`))];
    for (const xml of invoices) {
      const res = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(xml), mode: 'offline' });
      expect(res.status).toBe(200);
    }
    await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: false });

    const sessions: { ref: string; numbers: string[] }[] = [];
    for (const remaining of [4, 2, 0]) {
      const res = await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth);
      expect(res.status).toBe(200);
      expect(res.body.remainingCount).toBe(remaining);
      const rows = await k.api.server.services.database.db
        .selectFrom('offline_invoices')
        .select('invoice_number')
        .where('session_reference_number', '=', res.body.referenceNumber)
        .orderBy('invoice_number')
        .execute();
      sessions.push({ ref: res.body.referenceNumber, numbers: rows.map((r) => r.invoice_number) });
      expect(rows.length).toBe(res.body.totalCount);
      const batch = k.sandbox.state.sessions.get(res.body.referenceNumber)!.batch!;
      expect(batch.parts.length).toBeGreaterThan(1);
      expect(batch.parts.length).toBeLessThanOrEqual(10);
    }
    expect(sessions.map((s) => s.numbers)).toEqual([['LIM/1'], ['LIM/2', 'LIM/3'], ['LIM/4', 'LIM/5']]);
    expect((await http().post('/invoices/test/offline/send-batch').set('Authorization', adminAuth)).status).toBe(404);

    const deadline = Date.now() + 30_000;
    let sent: { invoiceNumber: string; ksefNumber: string }[] = [];
    while (Date.now() < deadline) {
      sent = (await http().get('/invoices/test/offline?status=sent').set('Authorization', adminAuth)).body.invoices;
      if (sent.length === 5) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(sent.map((i) => i.invoiceNumber).sort()).toEqual(['LIM/1', 'LIM/2', 'LIM/3', 'LIM/4', 'LIM/5']);
    expect(new Set(sent.map((i) => i.ksefNumber)).size).toBe(5);
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(5);
  });
});
