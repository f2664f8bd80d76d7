import { createDecipheriv } from 'node:crypto';
import fs from 'node:fs';
import { gzipSync } from 'node:zlib';
import { validateXML } from 'xmllint-wasm';
import { describeWithShared, sharedPath } from '../support/shared.js';
import { PartUploadRequest, prepareBatch, tarOf, uploadPart, zipOf } from './support/batch.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { sha256Base64, Tokens } from './support/independent-client.js';
import { FakeClock, invoiceVariant, openModeToken, SELLER_NIP, startTestSandbox, TestSandbox } from './support/sandbox.js';

describeWithShared('sandbox: batch sessions', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let tokens: Tokens;
  const run = `${process.pid}-${Date.now()}`;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now });
    tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });
  afterAll(() => t.close());

  const open = async (request: Record<string, unknown>) =>
    t.client.call<{ referenceNumber: string; partUploadRequests: PartUploadRequest[] }>('POST', 'sessions/batch', {
      bearer: tokens.accessToken,
      json: request,
      expected: 201,
    });
  const close = (ref: string) => t.raw.post(`sessions/batch/${ref}/close`, { headers: bearer(tokens.accessToken) });

  async function sendPackage(files: Record<string, Buffer>, parts: number, options: Parameters<typeof prepareBatch>[3] = {}) {
    const archive = options.compressionType === 'TarGz' ? gzipSync(tarOf(files)) : zipOf(files);
    const batch = await prepareBatch(t.client, archive, parts, options);
    const opened = await open(batch.request);
    for (const upload of opened.partUploadRequests) {
      expect((await uploadPart(upload, batch.parts[upload.ordinalNumber - 1])).statusCode).toBe(201);
    }
    expect((await close(opened.referenceNumber)).statusCode).toBe(204);
    return { ...opened, status: await t.client.waitForSession(tokens.accessToken, opened.referenceNumber) };
  }

  it('processes a zip of 500 invoices sent in 2 parts and lists all of them in the session UPO', async () => {
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 500; i++) files[`faktury/fv-${i}.xml`] = invoiceVariant('fa3-vat.xml', { number: `BATCH/${run}/${i}` });
    const sent = await sendPackage(files, 2);
    expect(sent.partUploadRequests).toHaveLength(2);
    expect(sent.partUploadRequests[0].headers).toEqual({ 'x-ms-blob-type': 'BlockBlob' });
    expect(sent.status.status).toEqual({ code: 200, description: 'Sesja wsadowa przetworzona pomyślnie' });
    expect(sent.status).toMatchObject({ invoiceCount: 500, successfulInvoiceCount: 500, failedInvoiceCount: 0 });

    const invoices = await t.client.sessionInvoices(tokens.accessToken, sent.referenceNumber, false, 1000);
    expect(invoices).toHaveLength(500);
    expect(invoices.every((i) => i.status.code === 200 && i.ksefNumber)).toBe(true);
    expect(invoices[7].invoiceFileName).toBe('faktury/fv-7.xml');
    expect(invoices[7].invoiceHash).toBe(sha256Base64(files['faktury/fv-7.xml']));
    expect(invoices[7].invoiceNumber).toBe(`BATCH/${run}/7`);

    const page = await t.client.download(sent.status.upo!.pages[0].downloadUrl);
    const upo = page.body.toString('utf8');
    expect(upo.match(/<Dokument>/g)).toHaveLength(500);
    expect(upo).toContain('<ZakresDokumentowOd>1</ZakresDokumentowOd>');
    expect(upo).toContain('<CalkowitaLiczbaDokumentow>500</CalkowitaLiczbaDokumentow>');
    for (const inv of invoices) expect(upo).toContain(`<NumerKSeFDokumentu>${inv.ksefNumber}</NumerKSeFDokumentu>`);
    const validation = await validateXML({
      xml: [{ fileName: 'upo.xml', contents: page.body }],
      schema: [{ fileName: 'upo-v4-3.xsd', contents: fs.readFileSync(sharedPath('ksef', 'xsd', 'upo-v4-3.xsd')) }],
    });
    expect(validation.errors).toEqual([]);
  });

  it('honours offlineMode, judges invoices independently and accepts TarGz packages', async () => {
    const files = {
      'a.xml': invoiceVariant('fa3-vat.xml', { number: `TGZ/${run}/1` }),
      'b.xml': invoiceVariant('fa3-vat.xml', { number: `TGZ/${run}/1` }),
      'c.xml': Buffer.from('<Faktura/>'),
    };
    const sent = await sendPackage(files, 1, { compressionType: 'TarGz', offlineMode: true });
    expect(sent.status).toMatchObject({ status: { code: 200 }, invoiceCount: 3, successfulInvoiceCount: 1, failedInvoiceCount: 2 });
    const invoices = await t.client.sessionInvoices(tokens.accessToken, sent.referenceNumber);
    expect(invoices.map((i) => [i.invoiceFileName, i.status.code, i.invoicingMode])).toEqual([
      ['a.xml', 200, 'Offline'],
      ['b.xml', 440, undefined],
      ['c.xml', 450, undefined],
    ]);
    expect(invoices[1].status.extensions).toEqual({ originalSessionReferenceNumber: sent.referenceNumber, originalKsefNumber: invoices[0].ksefNumber });
  });

  it('validates declared parts when opening: 21161 over 50 parts, 21157 for an impossible size', async () => {
    const batch = await prepareBatch(t.client, zipOf({ 'a.xml': invoiceVariant('fa3-vat.xml') }), 1);
    const file = batch.request.batchFile as { fileParts: Array<Record<string, unknown>> } & Record<string, unknown>;
    const many = Array.from({ length: 51 }, (_, i) => ({ ...file.fileParts[0], ordinalNumber: i + 1 }));
    const tooMany = await t.raw.post('sessions/batch', { json: { ...batch.request, batchFile: { ...file, fileParts: many } }, headers: bearer(tokens.accessToken) });
    expect(exceptionCode(tooMany)).toBe(21161);
    const huge = await t.raw.post('sessions/batch', {
      json: { ...batch.request, batchFile: { ...file, fileParts: [{ ...file.fileParts[0], fileSize: 200_000_000 }] } },
      headers: bearer(tokens.accessToken),
    });
    expect(exceptionCode(huge)).toBe(21157);
    const gap = await t.raw.post('sessions/batch', {
      json: { ...batch.request, batchFile: { ...file, fileParts: [{ ...file.fileParts[0], ordinalNumber: 2 }] } },
      headers: bearer(tokens.accessToken),
    });
    expect(exceptionDetails(gap)).toEqual(['batchFile.fileParts: ordinalNumber values must be 1..n, each exactly once']);
  });

  it('refuses to close with a missing part (21205) or a part of the wrong size (21157)', async () => {
    const batch = await prepareBatch(t.client, zipOf({ 'a.xml': invoiceVariant('fa3-vat.xml', { number: `MISS/${run}` }) }), 2);
    const opened = await open(batch.request);
    await uploadPart(opened.partUploadRequests[0], batch.parts[0]);
    const missing = await close(opened.referenceNumber);
    expect(exceptionCode(missing)).toBe(21205);
    expect(exceptionDetails(missing)).toEqual(["Nie przesłano zadeklarowanej '2' części pliku."]);
    await uploadPart(opened.partUploadRequests[1], batch.parts[1].subarray(0, 16));
    const short = await close(opened.referenceNumber);
    expect(exceptionCode(short)).toBe(21157);
    expect(exceptionDetails(short)).toEqual(["Zadeklarowany rozmiar części '2' nie zgadza się z rzeczywistym."]);
  });

  it('protects part uploads: the header is required and the signature must match', async () => {
    const batch = await prepareBatch(t.client, zipOf({ 'a.xml': invoiceVariant('fa3-vat.xml') }), 1);
    const opened = await open(batch.request);
    const upload = opened.partUploadRequests[0];
    expect((await uploadPart(upload, batch.parts[0], {})).statusCode).toBe(400);
    const forged = { ...upload, url: upload.url.replace(/sig=[^&]+/, 'sig=AAAA') };
    expect((await uploadPart(forged, batch.parts[0])).statusCode).toBe(403);
  });

  it('fails the session with 405 for a part hash mismatch, 435 for undecryptable parts and 430 for a broken archive', async () => {
    const xml = invoiceVariant('fa3-vat.xml');
    const tamperedBatch = await prepareBatch(t.client, zipOf({ 'a.xml': xml }), 1);
    (tamperedBatch.request.batchFile as { fileParts: Array<{ fileHash: string }> }).fileParts[0].fileHash = sha256Base64(Buffer.from('x'));
    const tampered = await open(tamperedBatch.request);
    await uploadPart(tampered.partUploadRequests[0], tamperedBatch.parts[0]);
    await close(tampered.referenceNumber);
    expect((await t.client.waitForSession(tokens.accessToken, tampered.referenceNumber)).status.code).toBe(405);

    // A part encrypted under another key, chosen so that the session key cannot strip its padding.
    let wrongKey;
    for (let seed = 1; ; seed++) {
      wrongKey = await prepareBatch(t.client, zipOf({ 'a.xml': xml }), 1, { encryptWith: { key: Buffer.alloc(32, seed), iv: Buffer.alloc(16, seed) } });
      const decipher = createDecipheriv('aes-256-cbc', wrongKey.keys.key, wrongKey.keys.iv);
      try {
        Buffer.concat([decipher.update(wrongKey.parts[0]), decipher.final()]);
      } catch {
        break;
      }
    }
    const wk = await open(wrongKey.request);
    await uploadPart(wk.partUploadRequests[0], wrongKey.parts[0]);
    await close(wk.referenceNumber);
    expect((await t.client.waitForSession(tokens.accessToken, wk.referenceNumber)).status).toEqual({
      code: 435,
      description: 'Błąd odszyfrowania zaszyfrowanych części archiwum',
      details: ['Nie udało się odszyfrować części paczki.'],
    });

    const notZip = await prepareBatch(t.client, Buffer.from('this is not a zip archive at all'), 1);
    const nz = await open(notZip.request);
    await uploadPart(nz.partUploadRequests[0], notZip.parts[0]);
    await close(nz.referenceNumber);
    const nzStatus = await t.client.waitForSession(tokens.accessToken, nz.referenceNumber);
    expect(nzStatus.status).toMatchObject({ code: 430, description: 'Błąd dekompresji pierwotnego archiwum' });
  });

  it('cancels a session whose parts arrive after 20 minutes per part: upload 403, close 21208, status 440', async () => {
    const batch = await prepareBatch(t.client, zipOf({ 'a.xml': invoiceVariant('fa3-vat.xml') }), 1);
    const opened = await open(batch.request);
    clock.advance(20 * 60_000);
    expect((await uploadPart(opened.partUploadRequests[0], batch.parts[0])).statusCode).toBe(403);
    const fresh = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
    const closed = await t.raw.post(`sessions/batch/${opened.referenceNumber}/close`, { headers: bearer(fresh.accessToken) });
    expect(exceptionCode(closed)).toBe(21208);
    expect(json(await t.raw.get(`sessions/${opened.referenceNumber}`, { headers: bearer(fresh.accessToken) })).status).toEqual({
      code: 440,
      description: 'Sesja anulowana',
      details: ['Przekroczono czas wysyłki'],
    });
    tokens = fresh;
  });

  it('hands out upload and download URLs on the configured public base URL', async () => {
    const proxied = await startTestSandbox({ publicBaseUrl: 'https://ksef-sandbox.example.com/' });
    try {
      const owner = await proxied.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      const batch = await prepareBatch(proxied.client, zipOf({ 'a.xml': invoiceVariant('fa3-vat.xml') }), 1);
      const opened = await proxied.client.call<{ partUploadRequests: PartUploadRequest[] }>('POST', 'sessions/batch', { bearer: owner.accessToken, json: batch.request, expected: 201 });
      expect(opened.partUploadRequests[0].url).toMatch(/^https:\/\/ksef-sandbox\.example\.com\/storage\/\d{8}-SB-[0-9A-F-]+\/batch-parts\/1\?sv=.*&sp=w&sig=/);
    } finally {
      await proxied.close();
    }
  });
});
