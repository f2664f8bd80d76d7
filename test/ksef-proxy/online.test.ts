import { createHash } from 'node:crypto';
import { checkKsefNumber } from '../../src/local/ksef-number.js';
import { adminAuth, basic } from '../support/server.js';
import { openModeToken, startKsefStack, upoValidates, withNumber, type KsefStack } from '../support/ksef.js';
import { decodePngQr, firstPageQr, pdfText } from '../support/pdf.js';
import { describeWithShared, readSample, sampleNames } from '../support/shared.js';
import { waitFor as waitUntil } from '../support/wait.js';

/** Online sending end to end: our API → ksef-proxy → the KSeF sandbox, over real HTTP, crypto and database. */

const b64 = (b: Buffer) => b.toString('base64');

describeWithShared('online sending through ksef-proxy', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const send = (xml: Buffer, auth = adminAuth) => k.api.http.post('/invoices/test/send').set('Authorization', auth).send({ invoiceXml: b64(xml), mode: 'online' });
  const rowsFor = (invoiceNumber: string) => db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', invoiceNumber).execute();
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 20_000) => waitUntil(what, probe, ms, 100);

  beforeAll(async () => {
    k = await startKsefStack();
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  const sent: { name: string; xml: Buffer; ksefNumber: string; referenceNumber: string }[] = [];

  it('sends the four samples: each numbered by KSeF with a valid KSeF number, stored with its session', async () => {
    for (const name of sampleNames) {
      const xml = readSample(name);
      const res = await send(xml);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ mode: 'online', status: 'sent' });
      expect(checkKsefNumber(res.body.ksefNumber)).toMatchObject({ valid: true });
      expect(res.body.ksefNumber.startsWith('5265877635-')).toBe(true);
      expect(res.body.referenceNumber).toMatch(/^\d{8}-SO-/);
      sent.push({ name, xml, ksefNumber: res.body.ksefNumber, referenceNumber: res.body.referenceNumber });
      const [row] = await rowsFor(res.body.invoiceNumber);
      expect(row).toMatchObject({ status: 'sent', ksef_number: res.body.ksefNumber, session_reference_number: res.body.referenceNumber, direction: 'issued' });
      expect(Buffer.compare(row.xml, xml)).toBe(0);
      expect(row.acquisition_date).toBeInstanceOf(Date);
    }
    // One online session carried them all; one authentication for the environment.
    expect(new Set(sent.map((s) => s.referenceNumber)).size).toBe(1);
    expect(k.sandbox.state.authOperations.size).toBe(1);
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(4);
  });

  it('reports the session with all its invoices, and records the session on the local rows', async () => {
    const ref = sent[0].referenceNumber;
    await db().updateTable('synced_invoices').set({ session_reference_number: null }).execute();
    const res = await k.api.http.get(`/invoices/test/status/${ref}`).set('Authorization', adminAuth);
    expect(res.status).toBe(200);
    expect(res.body.referenceNumber).toBe(ref);
    expect(res.body.totalInvoiceCount).toBe(4);
    expect(res.body.successfulInvoiceCount).toBe(4);
    expect(res.body.failedInvoiceCount).toBe(0);
    expect(res.body.invoices.map((i: any) => i.ksefNumber)).toEqual(sent.map((s) => s.ksefNumber));
    expect(res.body.invoices.map((i: any) => i.ordinalNumber)).toEqual([1, 2, 3, 4]);
    expect(res.body.invoices[0]).toMatchObject({ invoiceNumber: 'FV/2026/02/0001', status: { code: 200 } });
    expect(res.body.invoices[0].acquisitionDate).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const rows = await db().selectFrom('synced_invoices').select('session_reference_number').execute();
    expect(rows.map((r) => r.session_reference_number)).toEqual([ref, ref, ref, ref]);
  });

  it('downloads each invoice UPO, which validates against the official XSD', async () => {
    for (const s of sent) {
      const res = await k.api.http.get(`/invoices/test/status/${s.referenceNumber}/${s.ksefNumber}/upo`).set('Authorization', adminAuth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ksefNumber: s.ksefNumber, referenceNumber: s.referenceNumber, docType: 'xml', contentType: 'application/xml' });
      const upo = Buffer.from(res.body.content, 'base64');
      expect(upo.toString('utf8')).toContain(s.ksefNumber);
      expect(await upoValidates(upo)).toEqual({ valid: true, errors: [] });
    }
  });

  it('serves the invoice XML: exactly the bytes that were sent', async () => {
    for (const s of sent) {
      const res = await k.api.http.get(`/invoices/test/${s.ksefNumber}?docType=xml`).set('Authorization', adminAuth);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ ksefNumber: s.ksefNumber, docType: 'xml', contentType: 'application/xml', fileName: `${s.ksefNumber}.xml` });
      expect(Buffer.compare(Buffer.from(res.body.content, 'base64'), s.xml)).toBe(0);
    }
  });

  it('renders a sent invoice as PDF and KOD I QR code carrying its KSeF number, and its UPO as PDF', async () => {
    const s = sent[0];
    const link = `https://qr-test.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/${createHash('sha256').update(s.xml).digest('base64url')}`;
    const pdf = await k.api.http.get(`/invoices/test/${s.ksefNumber}?docType=pdf`).set('Authorization', adminAuth);
    expect(pdf.status).toBe(200);
    expect(pdf.body).toMatchObject({ ksefNumber: s.ksefNumber, docType: 'pdf', contentType: 'application/pdf', qrVerificationUrl: link });
    const bytes = Buffer.from(pdf.body.content, 'base64');
    const text = await pdfText(bytes);
    expect(text).toContain(s.ksefNumber);
    expect(text).toContain('FV/2026/02/0001');
    expect(await firstPageQr(bytes)).toBe(link);

    const qr = await k.api.http.get(`/invoices/test/${s.ksefNumber}?docType=qr`).set('Authorization', adminAuth);
    expect(qr.body).toMatchObject({ docType: 'qr', contentType: 'image/png', qrVerificationUrl: link });
    expect(decodePngQr(Buffer.from(qr.body.content, 'base64'))).toBe(link);

    const upo = await k.api.http.get(`/invoices/test/status/${s.referenceNumber}/${s.ksefNumber}/upo?docType=pdf`).set('Authorization', adminAuth);
    expect(upo.status).toBe(200);
    expect(upo.body).toMatchObject({ docType: 'pdf', contentType: 'application/pdf', fileName: `UPO-${s.ksefNumber}.pdf` });
    const upoText = await pdfText(Buffer.from(upo.body.content, 'base64'));
    expect(upoText).toContain(s.ksefNumber);
    expect(upoText).toContain(s.referenceNumber);
  });

  it("fetches an invoice we did not send from KSeF once, then serves KSeF's copy locally", async () => {
    const xml = withNumber(readSample('fa3-vat.xml'), 'EXT/2026/1');
    await k.sandboxAdmin('POST', '/sandbox/invoices', { invoices: [{ xmlBase64: b64(xml) }] });
    const [seeded] = [...k.sandbox.state.invoicesByKsefNumber.values()].filter((i) => i.facts?.invoiceNumber === 'EXT/2026/1');
    const ksefNumber = seeded.ksefNumber!;
    const first = await k.api.http.get(`/invoices/test/${ksefNumber}`).set('Authorization', adminAuth);
    expect(first.status).toBe(200);
    expect(Buffer.compare(Buffer.from(first.body.content, 'base64'), xml)).toBe(0);
    const [row] = await rowsFor('EXT/2026/1');
    expect(row).toMatchObject({ status: 'synced', ksef_number: ksefNumber, direction: 'issued' });
    // KSeF down: the local copy still answers.
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: '503' });
    try {
      const again = await k.api.http.get(`/invoices/test/${ksefNumber}`).set('Authorization', adminAuth);
      expect(again.status).toBe(200);
      expect(again.body.content).toBe(first.body.content);
    } finally {
      await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
    }
  });

  it('answers a repeated send of the same bytes with the same number, without sending it again', async () => {
    const before = k.sandbox.state.invoicesByKsefNumber.size;
    const res = await send(sent[0].xml);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'sent', ksefNumber: sent[0].ksefNumber, referenceNumber: sent[0].referenceNumber });
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(before);
    expect(await rowsFor('FV/2026/02/0001')).toHaveLength(1);
  });

  it("maps KSeF's duplicate (another file, same seller, kind and number) to 409 with KSeF's code", async () => {
    const other = Buffer.from(readSample('fa3-vat.xml').toString('utf8').replace('<Faktura ', '<!-- re-issued -->\n<Faktura '), 'utf8');
    const res = await send(other);
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ksef_duplicate');
    expect(res.body.error.ksef.code).toBe(440);
    expect(res.body.error.message).toContain(sent[0].ksefNumber);
  });

  it('refuses an invalid invoice with 400 and paths, storing nothing', async () => {
    const broken = Buffer.from(readSample('fa3-vat.xml').toString('utf8').replace(/<P_15>[^<]*<\/P_15>/, '<P_15>1.00</P_15>'), 'utf8');
    const renamed = withNumber(broken, 'BROKEN/1');
    const res = await send(renamed);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    expect(res.body.error.details.some((d: any) => d.path.startsWith('body.invoiceXml/Faktura/Fa'))).toBe(true);
    expect(await rowsFor('BROKEN/1')).toHaveLength(0);

    const notXml = await send(Buffer.from('not xml at all'));
    expect(notXml.status).toBe(400);
    const notBase64 = await k.api.http.post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: '***', mode: 'online' });
    expect(notBase64.status).toBe(400);
    expect(JSON.stringify(notBase64.body.error.details)).toContain('invoiceXml');
    const badEnv = await k.api.http.post('/invoices/nope/send').set('Authorization', adminAuth).send({ invoiceXml: b64(renamed) });
    expect(badEnv.status).toBe(400);
    expect(badEnv.body.error.message).toContain('nope');
  });

  it("refuses an invoice whose seller is not the company's KSeF context", async () => {
    const other = Buffer.from(withNumber(readSample('fa3-vat.xml'), 'OTHER/1').toString('utf8').replace('<NIP>5265877635</NIP>', '<NIP>7352765225</NIP>'), 'utf8');
    const res = await send(other);
    expect(res.status).toBe(400);
    expect(res.body.error.details[0].path).toBe('body.invoiceXml/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP');
    expect(await rowsFor('OTHER/1')).toHaveLength(0);
  });

  it('refreshes an access token that expired mid-run, transparently', async () => {
    const authsBefore = k.sandbox.state.authOperations.size;
    await k.sandboxAdmin('POST', '/sandbox/expire', { what: 'tokens' });
    const res = await send(withNumber(readSample('fa3-vat.xml'), 'FV/EXPIRED/1'));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
    // Refresh tokens expired too in the sandbox: a fresh authentication (one) was the only way on.
    expect(k.sandbox.state.authOperations.size - authsBefore).toBeLessThanOrEqual(1);
  });

  it("rides out a storm of 429s by waiting for KSeF's Retry-After, sending once", async () => {
    const before = k.sandbox.state.invoicesByKsefNumber.size;
    await k.sandboxAdmin('POST', '/sandbox/faults/too-many-requests', { count: 3, retryAfterSeconds: 1 });
    const started = Date.now();
    const res = await send(withNumber(readSample('fa3-vat.xml'), 'FV/429/1'));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
    expect(Date.now() - started).toBeGreaterThanOrEqual(2_500);
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(before + 1);
    expect(await rowsFor('FV/429/1')).toHaveLength(1);
  });

  it('retries a KSeF 5xx on sending and delivers the invoice once', async () => {
    const before = k.sandbox.state.invoicesByKsefNumber.size;
    await k.sandboxAdmin('POST', '/sandbox/faults/fail-nth', { method: 'POST', pathPattern: '/v2/sessions/online/{ref}/invoices', n: 1, status: 500 });
    const res = await send(withNumber(readSample('fa3-vat.xml'), 'FV/500/1'));
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(before + 1);
  });

  it('answers 503 during an outage and keeps the invoice queued; the worker delivers it when KSeF is back', async () => {
    const before = k.sandbox.state.invoicesByKsefNumber.size;
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    let res;
    try {
      res = await send(withNumber(readSample('fa3-vat.xml'), 'FV/OUTAGE/1'));
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('ksef_unavailable');
      expect(res.body.error.message).toContain('queued');
      const [row] = await rowsFor('FV/OUTAGE/1');
      expect(row.status).toBe('queued');
      expect(row.ksef_number).toBeNull();
    } finally {
      await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
    }
    const row = await waitFor('delivery after the outage', async () => {
      const [r] = await rowsFor('FV/OUTAGE/1');
      return r.status === 'sent' ? r : undefined;
    });
    expect(checkKsefNumber(row.ksef_number!)).toMatchObject({ valid: true });
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(before + 1);
    // The same XML again now reports the delivered invoice.
    const again = await send(withNumber(readSample('fa3-vat.xml'), 'FV/OUTAGE/1'));
    expect(again.body).toMatchObject({ status: 'sent', ksefNumber: row.ksef_number });
  });

  it('maps an unknown session to 404 and a timeout to 504', async () => {
    const unknown = await k.api.http.get('/invoices/test/status/20260101-SO-0000000000-0000000000-00').set('Authorization', adminAuth);
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.ksef.code).toBe(21173);
  });

  it('never writes a secret to the log', async () => {
    const text = k.log.text;
    expect(text.length).toBeGreaterThan(0);
    const secretPart = k.ksefToken.split('|')[2];
    expect(text).not.toContain(secretPart);
    expect(text).not.toContain(k.ksefToken);
    const row = await db().selectFrom('ksef_credentials').selectAll().executeTakeFirstOrThrow();
    expect(row.access_token_enc).not.toBeNull();
    // At rest everything is sealed: neither the token nor a JWT appears in the stored bytes.
    for (const sealed of [row.ksef_token_enc!, row.access_token_enc!, row.refresh_token_enc!]) {
      expect(sealed.toString('latin1')).not.toContain(secretPart);
      expect(sealed.toString('latin1')).not.toContain('eyJ');
    }
    expect(text).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}\./);
  });
});

describeWithShared('KSeF credentials and the connection check', () => {
  let k: KsefStack;
  beforeAll(async () => {
    k = await startKsefStack({ storeToken: false });
    await k.api.http.post('/admin/users').set('Authorization', adminAuth).send({ email: 'erp@example.com', password: 'technical-pass-1', role: 'technical' });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });
  const technical = basic('erp@example.com', 'technical-pass-1');

  it('refuses to send before a KSeF token is stored (409, nothing stored)', async () => {
    const res = await k.api.http.post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: b64(readSample('fa3-vat.xml')) });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('ksef_not_configured');
    expect(res.body.error.message).toContain('PUT /ksef/test/credentials');
    expect(await k.api.server.services.database.db.selectFrom('synced_invoices').selectAll().execute()).toHaveLength(0);
  });

  it('reports the connection: available but not authenticated without a token', async () => {
    const res = await k.api.http.get('/ksef/test/connection').set('Authorization', technical);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ environment: 'test', available: true, authenticated: false, contextNip: '5265877635', accessTokenValidUntil: null, outageSimulation: false });
    expect(res.body.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('stores credentials for admins only and never returns the token', async () => {
    const empty = await k.api.http.get('/ksef/test/credentials').set('Authorization', adminAuth);
    expect(empty.body).toEqual({ environment: 'test', contextNip: '5265877635', ksefTokenConfigured: false, offlineCertificate: null, authenticationCertificate: null, preferredAuthentication: null, authenticationMethod: null });
    expect((await k.api.http.put('/ksef/test/credentials').set('Authorization', technical).send({ ksefToken: k.ksefToken })).status).toBe(403);
    expect((await k.api.http.get('/ksef/test/credentials').set('Authorization', technical)).status).toBe(403);
    const put = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: k.ksefToken });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ environment: 'test', contextNip: '5265877635', ksefTokenConfigured: true, offlineCertificate: null, authenticationCertificate: null, preferredAuthentication: null, authenticationMethod: 'ksefToken' });
    expect(JSON.stringify(put.body)).not.toContain(k.ksefToken.split('|')[2]);
    const bad = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ contextNip: '123' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.error.details)).toContain('contextNip');
  });

  it('refuses a KSeF token generated for another NIP than the context, naming both (400, nothing stored)', async () => {
    const before = await k.api.server.services.database.db.selectFrom('ksef_credentials').select(['ksef_token_enc', 'context_nip']).executeTakeFirstOrThrow();
    const foreign = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: openModeToken('7352765225') });
    expect(foreign.status).toBe(400);
    expect(foreign.body.error.details).toEqual([{ path: 'body.ksefToken', message: expect.stringContaining('7352765225') }]);
    expect(foreign.body.error.message).toContain('5265877635');
    expect(foreign.body.error.message).toContain('contextNip');
    // Moving the context away from the stored token's NIP is the same mistake.
    const moved = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ contextNip: '7352765225' });
    expect(moved.status).toBe(400);
    expect(moved.body.error.details[0].path).toBe('body.contextNip');
    const after = await k.api.server.services.database.db.selectFrom('ksef_credentials').select(['ksef_token_enc', 'context_nip']).executeTakeFirstOrThrow();
    expect(after).toEqual(before);
    // A token and its own context together are fine.
    const both = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: openModeToken('7352765225'), contextNip: '7352765225' });
    expect(both.status).toBe(200);
    expect(both.body.contextNip).toBe('7352765225');
    const back = await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: k.ksefToken, contextNip: '5265877635' });
    expect(back.status).toBe(200);
  });

  it('authenticates on the connection check once a token is stored', async () => {
    const res = await k.api.http.get('/ksef/test/connection').set('Authorization', technical);
    expect(res.body).toMatchObject({ available: true, authenticated: true, contextNip: '5265877635' });
    expect(res.body.accessTokenValidUntil).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
  });

  it('reports a refused token and an unreachable KSeF in the connection check', async () => {
    await k.api.http.put('/ksef/test/credentials').set('Authorization', adminAuth).send({ ksefToken: 'not-a-ksef-token' });
    const refused = await k.api.http.get('/ksef/test/connection').set('Authorization', technical);
    expect(refused.body).toMatchObject({ available: true, authenticated: false });
    expect(refused.body.message).toContain('PUT /ksef/test/credentials');
    await k.sandboxAdmin('POST', '/sandbox/faults/outage', { mode: 'refuse' });
    try {
      const down = await k.api.http.get('/ksef/test/connection').set('Authorization', technical);
      expect(down.body).toMatchObject({ available: false, authenticated: false, latencyMs: null });
      expect(down.body.message).toContain('cannot be reached');
    } finally {
      await k.sandboxAdmin('DELETE', '/sandbox/faults/outage');
    }
  });
});
