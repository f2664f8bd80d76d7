import { randomBytes } from 'node:crypto';
import { describeWithShared, readSample } from '../support/shared.js';
import { bearer, exceptionCode, exceptionDetails, json } from './support/http.js';
import { aesEncrypt, sendInvoiceRequest, sha256Base64 } from './support/independent-client.js';
import {
  authenticatedSession,
  FakeClock,
  invoiceVariant,
  OpenSession,
  openModeToken,
  OTHER_NIP,
  SELLER_NIP,
  startTestSandbox,
  TestSandbox,
  uniqueNumber,
} from './support/sandbox.js';

const warsawToday = () => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Warsaw' }).format(new Date());

describeWithShared('sandbox: online sessions', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let s: OpenSession;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now });
    s = await authenticatedSession(t.client);
  });
  afterAll(() => t.close());

  const send = (xml: Buffer, extra = {}) => t.client.sendInvoice(s.tokens.accessToken, s.referenceNumber, s.keys, xml, extra);
  const judged = async (xml: Buffer, extra = {}) => t.client.waitForInvoice(s.tokens.accessToken, s.referenceNumber, await send(xml, extra));
  const postInvoice = (body: object, session = s) =>
    t.raw.post(`sessions/online/${session.referenceNumber}/invoices`, { json: body as Record<string, unknown>, headers: bearer(session.tokens.accessToken) });

  it('rejects a second invoice with the same seller, kind and number as a 440 duplicate naming the original', async () => {
    const number = uniqueNumber('DUP');
    const original = await judged(invoiceVariant('fa3-vat.xml', { number }));
    expect(original.status.code).toBe(200);
    const duplicate = await judged(invoiceVariant('fa3-vat.xml', { number, buyerNip: OTHER_NIP }));
    expect(duplicate.status).toEqual({
      code: 440,
      description: 'Duplikat faktury',
      details: [
        `Duplikat faktury. Faktura o numerze KSeF: ${original.ksefNumber} została już prawidłowo przesłana do systemu w sesji: ${s.referenceNumber}`,
      ],
      extensions: { originalSessionReferenceNumber: s.referenceNumber, originalKsefNumber: original.ksefNumber },
    });
    expect(duplicate.invoiceNumber).toBe(number);
    expect(duplicate.ksefNumber).toBeUndefined();
    // Another kind with the same number is not a duplicate.
    const xml = readSample('fa3-zal.xml').toString().replace(/<P_2>[^<]*<\/P_2>/, `<P_2>${number}</P_2>`);
    expect((await judged(Buffer.from(xml))).status.code).toBe(200);
  });

  it('reports malformed XML, a BOM, a foreign namespace and a wrong form code as 450 with details', async () => {
    const malformed = await judged(Buffer.from('<?xml version="1.0" encoding="UTF-8"?><Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><Naglowek></Faktura>'));
    expect(malformed.status.code).toBe(450);
    expect(malformed.status.description).toBe('Błąd weryfikacji semantyki dokumentu faktury');
    expect(malformed.status.details![0]).toMatch(/^Nieprawidłowy XML: .*Naglowek/);

    const bom = await judged(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), invoiceVariant('fa3-vat.xml', { number: uniqueNumber() })]));
    expect(bom.status).toMatchObject({ code: 450, details: ['Nieprawidłowy XML: plik zawiera znacznik BOM (wymagane UTF-8 bez BOM).'] });

    const fa2 = await judged(Buffer.from(invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }).toString().replace('2025/06/25/13775', '2023/06/29/12648')));
    expect(fa2.status.code).toBe(450);
    expect(fa2.status.details![0]).toContain('oczekiwano elementu głównego {http://crd.gov.pl/wzor/2025/06/25/13775/}Faktura');

    const form = await judged(Buffer.from(invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }).toString().replace('kodSystemowy="FA (3)"', 'kodSystemowy="FA (2)"')));
    expect(form.status.details).toEqual(['Nieprawidłowy kodSystemowy formularza: "FA (2)" (oczekiwano "FA (3)").']);

    const missing = await judged(Buffer.from(invoiceVariant('fa3-vat.xml').toString().replace(/<P_2>[^<]*<\/P_2>/, '')));
    expect(missing.status.details).toEqual(['Brak elementu Fa/P_2 (numer faktury).']);
  });

  it('rejects an invoice of another seller than the context with 410', async () => {
    const inv = await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), sellerNip: OTHER_NIP }));
    expect(inv.status.code).toBe(410);
    expect(inv.status.details![0]).toContain('Brak uprawnienia fakturowego');
  });

  it('rejects a wrong encrypted size (21402) and hash (21403) synchronously', async () => {
    const request = sendInvoiceRequest(s.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }));
    const size = await postInvoice({ ...request, encryptedInvoiceSize: request.encryptedInvoiceSize + 16 });
    expect(exceptionCode(size)).toBe(21402);
    const hash = await postInvoice({ ...request, encryptedInvoiceHash: sha256Base64(Buffer.from('other')) });
    expect(exceptionCode(hash)).toBe(21403);
  });

  it('marks tampered ciphertext 435 and a wrong plain hash 430, asynchronously', async () => {
    const xml = invoiceVariant('fa3-vat.xml', { number: uniqueNumber() });
    const encrypted = aesEncrypt(s.keys, xml);
    // CBC: a byte changed in the next-to-last block changes the same byte of the last plain block. Turning the
    // padding byte p into 0 breaks PKCS#7 every time (flipping the last cipher byte only garbled the block, and
    // left a valid padding about once in 256 runs).
    const padding = 16 - (xml.length % 16);
    encrypted[encrypted.length - 17] ^= padding;
    const tampered = {
      ...sendInvoiceRequest(s.keys, xml),
      encryptedInvoiceHash: sha256Base64(encrypted),
      encryptedInvoiceContent: encrypted.toString('base64'),
    };
    const sent = json(await postInvoice(tampered));
    const inv = await t.client.waitForInvoice(s.tokens.accessToken, s.referenceNumber, sent.referenceNumber);
    expect(inv.status).toEqual({ code: 435, description: 'Błąd odszyfrowania pliku', details: ['Plik niepoprawnie zaszyfrowany'] });

    const wrongPlainHash = await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }), { invoiceHash: sha256Base64(Buffer.from('x')) });
    expect(wrongPlainHash.status).toMatchObject({ code: 430, details: ['Skrót treści nie zgadza się z invoiceHash.'] });
  });

  it('rejects an invoice over 1 000 000 bytes without an attachment with 430', async () => {
    const base = invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }).toString();
    const padding = `<!-- ${'x'.repeat(1_000_001 - Buffer.byteLength(base))} -->`;
    const big = Buffer.from(base.replace('</Faktura>', `${padding}</Faktura>`));
    expect(big.length).toBeGreaterThan(1_000_000);
    const inv = await judged(big);
    expect(inv.status).toMatchObject({ code: 430, description: 'Błąd weryfikacji pliku faktury', details: ['Przekroczono dopuszczalny rozmiar faktury (1000000 B).'] });
  });

  it('rejects an issue date after the day of receipt with 450', async () => {
    const tomorrow = new Date(Date.now() + 36 * 3600_000).toISOString().slice(0, 10);
    const inv = await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), issueDate: tomorrow }));
    expect(inv.status.code).toBe(450);
    expect(inv.status.details![0]).toContain(`P_1 ${tomorrow}`);
  });

  it('makes invoices issued on an earlier day Offline automatically, same-day ones Online, and honours offlineMode', async () => {
    const today = warsawToday();
    expect((await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), issueDate: today }))).invoicingMode).toBe('Online');
    expect((await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), issueDate: '2026-01-05' }))).invoicingMode).toBe('Offline');
    expect((await judged(invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), issueDate: today }), { offlineMode: true })).invoicingMode).toBe('Offline');
  });

  it('accepts one technical correction of a rejected offline invoice, and only one', async () => {
    const number = uniqueNumber('TECH');
    const fixed = invoiceVariant('fa3-vat.xml', { number });
    const broken = Buffer.from(fixed.toString().replace('</Fa>', ''));
    const rejected = await judged(broken, { offlineMode: true });
    expect(rejected.status.code).toBe(450);

    const correction = await judged(fixed, { offlineMode: true, hashOfCorrectedInvoice: rejected.invoiceHash });
    expect(correction.status.code).toBe(200);
    expect(correction.invoicingMode).toBe('Offline');
    const second = await postInvoice(sendInvoiceRequest(s.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }), { offlineMode: true, hashOfCorrectedInvoice: rejected.invoiceHash }));
    expect(exceptionCode(second)).toBe(21166);
    const ofAccepted = await postInvoice(sendInvoiceRequest(s.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }), { offlineMode: true, hashOfCorrectedInvoice: correction.invoiceHash }));
    expect(exceptionCode(ofAccepted)).toBe(21167);
    const notOffline = await postInvoice(sendInvoiceRequest(s.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }), { hashOfCorrectedInvoice: rejected.invoiceHash }));
    expect(exceptionDetails(notOffline)).toEqual(['hashOfCorrectedInvoice: a technical correction must be sent with offlineMode: true']);
  });

  it('gives a session whose key cannot be unwrapped status 415, and refuses invoices to it with 21180', async () => {
    const encryption = await t.client.encryptionFor({ key: randomBytes(32), iv: randomBytes(16) });
    const opened = json(
      await t.raw.post('sessions/online', {
        json: { formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' }, encryption: { ...encryption, encryptedSymmetricKey: randomBytes(256).toString('base64') } },
        headers: bearer(s.tokens.accessToken),
      }),
    );
    const status = await t.client.sessionStatus(s.tokens.accessToken, opened.referenceNumber);
    expect(status.status).toEqual({ code: 415, description: 'Błąd odszyfrowania dostarczonego klucza' });
    const refused = await postInvoice(sendInvoiceRequest(s.keys, readSample('fa3-vat.xml')), { ...s, referenceNumber: opened.referenceNumber });
    expect(exceptionCode(refused)).toBe(21180);
    expect(exceptionDetails(refused)).toEqual(['Status sesji 415 uniemożliwia wysyłkę faktur.']);

    const badKey = await t.raw.post('sessions/online', {
      json: { formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' }, encryption: { ...encryption, publicKeyId: Buffer.alloc(32).toString('base64') } },
      headers: bearer(s.tokens.accessToken),
    });
    expect(exceptionCode(badKey)).toBe(21470);
  });

  it('answers 21173 for an unknown session', async () => {
    const response = await postInvoice(sendInvoiceRequest(s.keys, readSample('fa3-vat.xml')), { ...s, referenceNumber: '20260101-SO-0000000000-0000000000-00' });
    expect(exceptionCode(response)).toBe(21173);
  });

  it('closes: 440 without invoices, 445 when none is valid, 200 with a session UPO otherwise; closed sessions take no invoices', async () => {
    const empty = await t.client.openOnlineSession(s.tokens.accessToken);
    await t.client.closeOnlineSession(s.tokens.accessToken, empty.referenceNumber);
    expect((await t.client.waitForSession(s.tokens.accessToken, empty.referenceNumber)).status).toEqual({
      code: 440,
      description: 'Sesja anulowana',
      details: ['Nie przesłano faktur'],
    });

    const bad = await t.client.openOnlineSession(s.tokens.accessToken);
    await t.client.sendInvoice(s.tokens.accessToken, bad.referenceNumber, bad.keys, Buffer.from('<nope'));
    await t.client.closeOnlineSession(s.tokens.accessToken, bad.referenceNumber);
    const badStatus = await t.client.waitForSession(s.tokens.accessToken, bad.referenceNumber);
    expect(badStatus).toMatchObject({ status: { code: 445 }, invoiceCount: 1, successfulInvoiceCount: 0, failedInvoiceCount: 1 });
    expect(badStatus.upo).toBeUndefined();

    const good = await t.client.openOnlineSession(s.tokens.accessToken);
    const ref = await t.client.sendInvoice(s.tokens.accessToken, good.referenceNumber, good.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }));
    await t.client.closeOnlineSession(s.tokens.accessToken, good.referenceNumber);
    const done = await t.client.waitForSession(s.tokens.accessToken, good.referenceNumber);
    expect(done.status).toEqual({ code: 200, description: 'Sesja interaktywna przetworzona pomyślnie' });
    expect(done.upo!.pages).toHaveLength(1);
    const page = done.upo!.pages[0];
    const viaApi = await t.raw.get(`sessions/${good.referenceNumber}/upo/${page.referenceNumber}`, { headers: bearer(s.tokens.accessToken) });
    expect(viaApi.statusCode).toBe(200);
    expect(viaApi.headers['x-ms-meta-hash']).toBe(sha256Base64(viaApi.body as Buffer));
    const viaLink = await t.client.download(page.downloadUrl);
    expect(viaLink.body.equals(viaApi.body as Buffer)).toBe(true);

    const late = await t.raw.post(`sessions/online/${good.referenceNumber}/invoices`, {
      json: sendInvoiceRequest(good.keys, readSample('fa3-vat.xml')),
      headers: bearer(s.tokens.accessToken),
    });
    expect(exceptionCode(late)).toBe(21180);
    const closeAgain = await t.raw.post(`sessions/online/${good.referenceNumber}/close`, { headers: bearer(s.tokens.accessToken) });
    expect(exceptionCode(closeAgain)).toBe(21180);

    const inv = await t.client.invoiceStatus(s.tokens.accessToken, good.referenceNumber, ref);
    const byKsef = await t.raw.get(`sessions/${good.referenceNumber}/invoices/ksef/${inv.ksefNumber}/upo`, { headers: bearer(s.tokens.accessToken) });
    const byRef = await t.raw.get(`sessions/${good.referenceNumber}/invoices/${ref}/upo`, { headers: bearer(s.tokens.accessToken) });
    expect(byKsef.statusCode).toBe(200);
    expect((byKsef.body as Buffer).equals(byRef.body as Buffer)).toBe(true);
    const failedUpo = await t.raw.get(`sessions/${bad.referenceNumber}/invoices/${(await t.client.sessionInvoices(s.tokens.accessToken, bad.referenceNumber))[0].referenceNumber}/upo`, {
      headers: bearer(s.tokens.accessToken),
    });
    expect(exceptionCode(failedUpo)).toBe(21178);
  });

  it('pages invoice lists with x-continuation-token and refuses foreign tokens and page sizes out of range', async () => {
    const session = await t.client.openOnlineSession(s.tokens.accessToken);
    for (let i = 0; i < 12; i++) {
      const xml = i % 4 === 0 ? Buffer.from('<broken') : invoiceVariant('fa3-vat.xml', { number: uniqueNumber('PAGE') });
      await t.client.sendInvoice(s.tokens.accessToken, session.referenceNumber, session.keys, xml);
    }
    await t.client.closeOnlineSession(s.tokens.accessToken, session.referenceNumber);
    await t.client.waitForSession(s.tokens.accessToken, session.referenceNumber);

    const first = json(await t.raw.get(`sessions/${session.referenceNumber}/invoices?pageSize=10`, { headers: bearer(s.tokens.accessToken) }));
    expect(first.invoices.map((i: { ordinalNumber: number }) => i.ordinalNumber)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(typeof first.continuationToken).toBe('string');
    const second = json(
      await t.raw.get(`sessions/${session.referenceNumber}/invoices?pageSize=10`, { headers: { ...bearer(s.tokens.accessToken), 'x-continuation-token': first.continuationToken } }),
    );
    expect(second.invoices.map((i: { ordinalNumber: number }) => i.ordinalNumber)).toEqual([11, 12]);
    expect(second.continuationToken).toBeNull();

    const failed = await t.client.sessionInvoices(s.tokens.accessToken, session.referenceNumber, true, 10);
    expect(failed.map((i) => i.ordinalNumber)).toEqual([1, 5, 9]);
    expect(failed.every((i) => i.status.code === 450)).toBe(true);

    const forged = await t.raw.get(`sessions/${session.referenceNumber}/invoices`, { headers: { ...bearer(s.tokens.accessToken), 'x-continuation-token': 'eyJmb28iOjF9' } });
    expect(exceptionCode(forged)).toBe(21418);
    const small = await t.raw.get(`sessions/${session.referenceNumber}/invoices?pageSize=5`, { headers: bearer(s.tokens.accessToken) });
    expect(exceptionDetails(small)).toEqual(['pageSize: must be between 10 and 1000']);
  });

  it('lists sessions newest first, filtered by type and status, requiring sessionType', async () => {
    const missing = await t.raw.get('sessions', { headers: bearer(s.tokens.accessToken) });
    expect(exceptionCode(missing)).toBe(21405);
    const all: Array<{ referenceNumber: string; dateCreated: string; status: { code: number } }> = [];
    let token: string | null = null;
    do {
      const page: { sessions: typeof all; continuationToken: string | null } = json(
        await t.raw.get('sessions?sessionType=Online&pageSize=10', { headers: { ...bearer(s.tokens.accessToken), ...(token ? { 'x-continuation-token': token } : {}) } }),
      );
      all.push(...page.sessions);
      token = page.continuationToken;
    } while (token);
    expect(all.length).toBeGreaterThan(5);
    expect(new Set(all.map((x) => x.referenceNumber)).size).toBe(all.length);
    const dates = all.map((x) => Date.parse(x.dateCreated));
    expect([...dates].sort((a, b) => b - a)).toEqual(dates);

    const cancelled = json(await t.raw.get('sessions?sessionType=Online&statuses=Cancelled&pageSize=100', { headers: bearer(s.tokens.accessToken) }));
    expect(cancelled.sessions.length).toBeGreaterThan(0);
    expect(cancelled.sessions.every((x: { status: { code: number } }) => x.status.code === 440)).toBe(true);
    const batches = json(await t.raw.get('sessions?sessionType=Batch', { headers: bearer(s.tokens.accessToken) }));
    expect(batches.sessions).toEqual([]);
  });

  it('closes a session by itself after 12 hours and lets its UPO links expire after 3 days', async () => {
    const session = await t.client.openOnlineSession(s.tokens.accessToken);
    const ref = await t.client.sendInvoice(s.tokens.accessToken, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }));
    const inv = await t.client.waitForInvoice(s.tokens.accessToken, session.referenceNumber, ref);
    const fresh = await t.client.download(inv.upoDownloadUrl!);
    expect(fresh.status).toBe(200);
    const tampered = await t.client.download(inv.upoDownloadUrl!.replace('sp=r', 'sp=w'));
    expect(tampered.status).toBe(403);

    const tokens = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
    clock.advance(12 * 3600_000);
    const refreshed = json(await t.raw.post('auth/token/refresh', { headers: bearer(tokens.refreshToken) })).accessToken.token as string;
    const status = await t.client.waitForSession(refreshed, session.referenceNumber);
    expect(status.status.code).toBe(200);
    const late = await t.raw.post(`sessions/online/${session.referenceNumber}/invoices`, {
      json: sendInvoiceRequest(session.keys, readSample('fa3-vat.xml')),
      headers: bearer(refreshed),
    });
    expect(exceptionCode(late)).toBe(21180);

    clock.advance(3 * 24 * 3600_000);
    const expired = await t.client.download(inv.upoDownloadUrl!);
    expect(expired.status).toBe(403);
    expect(expired.body.toString()).toContain('AuthenticationFailed');
  });

  it('moves invoices through 100 -> 150 -> 200 and a closed session through 170, one processing delay per step', async () => {
    const slow = await startTestSandbox({ processingDelayMs: 1_500 });
    try {
      const session = await authenticatedSession(slow.client);
      const ref = await slow.client.sendInvoice(session.tokens.accessToken, session.referenceNumber, session.keys, invoiceVariant('fa3-vat.xml', { number: uniqueNumber() }));
      const seen: number[] = [];
      for (;;) {
        const code = (await slow.client.invoiceStatus(session.tokens.accessToken, session.referenceNumber, ref)).status.code;
        if (seen[seen.length - 1] !== code) seen.push(code);
        if (code >= 200) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(seen).toEqual([100, 150, 200]);
      await slow.client.closeOnlineSession(session.tokens.accessToken, session.referenceNumber);
      expect((await slow.client.sessionStatus(session.tokens.accessToken, session.referenceNumber)).status).toEqual({ code: 170, description: 'Sesja interaktywna zamknięta' });
      expect((await slow.client.waitForSession(session.tokens.accessToken, session.referenceNumber)).status.code).toBe(200);
    } finally {
      await slow.close();
    }
  });
});
