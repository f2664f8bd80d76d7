import { X509Certificate, createHash } from 'node:crypto';
import request from 'supertest';
import { createSandboxApp } from '../../src/sandbox/index.js';
import { pathMatcher } from '../../src/sandbox/admin/faults.js';
import { readFa3 } from '../../src/sandbox/invoices/fa3.js';
import { generateFa3 } from '../../src/sandbox/invoices/seed.js';
import { sessionUpoPages } from '../../src/sandbox/invoices/upo.js';
import { FA3_FORM, InvoiceRecord, Session } from '../../src/sandbox/model.js';
import { createKeyStore } from '../../src/sandbox/keys.js';
import { PUBLISHED_RATE_LIMITS, RateLimiter } from '../../src/sandbox/limits/rate-limiter.js';
import { resolveOptions } from '../../src/sandbox/options.js';
import { SandboxState } from '../../src/sandbox/state.js';
import { crc8, crc8Hex, hasValidChecksum, KSEF_NUMBER, REFERENCE_NUMBER } from '../../src/sandbox/util/ids.js';
import { tar, untar } from '../../src/sandbox/util/tar.js';
import { ksefDateTime, parseApiDateTime, warsawDateTime, warsawDay } from '../../src/sandbox/util/time.js';

/** Deterministic "random" bytes for reproducible identifiers. */
function seeded(seed: number) {
  let x = seed;
  return (n: number) => Buffer.from(Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 16) & 0xff));
}

describe('sandbox building blocks', () => {
  describe('numbers', () => {
    it('computes CRC-8/SMBUS as PROTOCOL.md §6 specifies', () => {
      expect(crc8('123456789')).toBe(0xf4);
      expect(crc8Hex('5265877635-20250826-0100001AF629')).toBe('AF');
      expect(crc8Hex('5265877635-20250729-01004014E040')).toBe('00');
      expect(hasValidChecksum('5265877635-20250826-0100001AF629-AF')).toBe(true);
      expect(hasValidChecksum('5265877635-20250826-0100001AF629-AE')).toBe(false);
    });

    it('mints reference and KSeF numbers in KSeF format, reproducibly with an injected random source', () => {
      const make = () => new SandboxState(resolveOptions({ random: seeded(7), now: () => new Date('2026-03-29T22:30:00Z') }));
      const [a, b] = [make(), make()];
      const ref = a.newReference('SO');
      expect(ref).toBe(b.newReference('SO'));
      expect(ref).toMatch(REFERENCE_NUMBER);
      expect(ref.startsWith('20260330-SO-')).toBe(true); // Warsaw day (00:30 CEST)
      expect(hasValidChecksum(ref)).toBe(true);
      const number = a.newKsefNumber('5265877635', new Date('2026-03-29T22:30:00Z'));
      expect(number).toMatch(KSEF_NUMBER);
      expect(number).toMatch(/^5265877635-20260330-[0-9A-F]{12}-[0-9A-F]{2}$/);
      expect(hasValidChecksum(number)).toBe(true);
      expect(a.newReference('SO')).not.toBe(ref);
      a.dispose();
      b.dispose();
    });
  });

  describe('dates', () => {
    it('formats server timestamps with 7 fractional digits and an explicit offset', () => {
      expect(ksefDateTime(new Date('2025-07-11T12:23:56.015Z'))).toBe('2025-07-11T12:23:56.0150000+00:00');
    });

    it('uses Warsaw days and offsets across daylight-saving changes', () => {
      expect(warsawDay(new Date('2026-01-15T23:30:00Z'))).toBe('2026-01-16');
      expect(warsawDay(new Date('2026-07-15T21:59:59Z'))).toBe('2026-07-15');
      expect(warsawDay(new Date('2026-07-15T22:00:00Z'))).toBe('2026-07-16');
      expect(warsawDateTime(new Date('2026-07-01T10:00:00.123Z'))).toBe('2026-07-01T12:00:00.123+02:00');
      expect(warsawDateTime(new Date('2026-12-01T10:00:00Z'))).toBe('2026-12-01T11:00:00.000+01:00');
    });

    it('reads request dates without an offset as Warsaw time', () => {
      expect(parseApiDateTime('2026-01-15T10:00:00')?.toISOString()).toBe('2026-01-15T09:00:00.000Z');
      expect(parseApiDateTime('2026-07-15T10:00:00.5')?.toISOString()).toBe('2026-07-15T08:00:00.500Z');
      expect(parseApiDateTime('2025-07-11T12:23:56.0154302+00:00')?.toISOString()).toBe('2025-07-11T12:23:56.015Z');
      expect(parseApiDateTime('2026-02-30T10:00:00Z')).toBeUndefined();
      expect(parseApiDateTime('yesterday')).toBeUndefined();
    });
  });

  it.each([
    ['<a><b></a></b>', /Opening and ending tag mismatch/],
    ['<a>&nbsp;</a>', /Entity 'nbsp' not defined/],
    ['<?xml version="1.0"?><?pi x?><a/>', /instrukcje przetwarzania są niedozwolone/],
    ['<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', /DOCTYPE/],
    ['<a/><b/>', /Extra content at the end of the document/],
  ])('refuses %s as invalid XML (450 details)', (xml, reason) => {
    const reading = readFa3(Buffer.from(xml));
    expect(reading.ok).toBe(false);
    expect(reading.ok ? [] : reading.details).toEqual([expect.stringMatching(/^Nieprawidłowy XML: /)]);
    expect(reading.ok ? '' : reading.details[0]).toMatch(reason);
  });

  it('writes FA(3) documents for every invoice kind that read back with the same facts', () => {
    for (const kind of ['VAT', 'ZAL', 'KOR', 'ROZ', 'UPR', 'KOR_ZAL', 'KOR_ROZ']) {
      const xml = generateFa3({
        sellerNip: '5265877635',
        sellerName: 'A & B',
        buyerNip: '1234563218',
        buyerName: 'C',
        kind,
        invoiceNumber: `X/${kind}`,
        issueDate: '2026-02-02',
        currency: 'EUR',
        netAmount: 1000,
        vatAmount: 230,
        createdAt: new Date('2026-02-02T10:00:00Z'),
      });
      const reading = readFa3(Buffer.from(xml));
      expect(reading).toMatchObject({
        ok: true,
        facts: { sellerNip: '5265877635', sellerName: 'A & B', kind, invoiceNumber: `X/${kind}`, netAmount: 1000, vatAmount: 230, grossAmount: 1230, currency: 'EUR' },
      });
    }
  });

  it('round-trips tar archives', async () => {
    const entries = [
      { name: 'a.xml', data: Buffer.from('<a/>') },
      { name: 'dir/b.xml', data: Buffer.alloc(1500, 0x41) },
    ];
    expect((await untar(await tar(entries, new Date()))).map((e) => [e.name, Buffer.from(e.data).toString()])).toEqual(entries.map((e) => [e.name, e.data.toString()]));
    const corrupt = await tar(entries, new Date());
    corrupt[10] ^= 1;
    await expect(untar(corrupt)).rejects.toThrow('Invalid tar header');
  });

  it('makes self-signed RSA-2048 certificates whose key ids are SHA-256 of DER and SPKI', async () => {
    const keys = await createKeyStore(new Date('2026-01-01T00:00:00Z'), seeded(1));
    for (const entry of keys.entries) {
      const cert = new X509Certificate(entry.certificateDer);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(cert.validFrom).toBe('Dec 31 23:00:00 2025 GMT');
      expect(createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64')).toBe(entry.publicKeyId);
      expect(cert.subject).toContain(entry.usage);
    }
  });

  it('counts sliding windows and computes Retry-After from the oldest request that must leave', () => {
    const limiter = new RateLimiter({ invoiceSend: { perSecond: 2, perMinute: 3 } });
    expect(limiter.admit('invoiceSend', 'k', 0)).toBeUndefined();
    expect(limiter.admit('invoiceSend', 'k', 100)).toBeUndefined();
    expect(limiter.admit('invoiceSend', 'k', 200)?.retryAfterSeconds).toBe(1);
    expect(limiter.admit('invoiceSend', 'other', 200)).toBeUndefined();
    expect(limiter.admit('invoiceSend', 'k', 1_000)).toBeUndefined();
    expect(limiter.admit('invoiceSend', 'k', 1_500)).toMatchObject({ retryAfterSeconds: 59, message: 'Przekroczono limit 3 żądań na minutę. Spróbuj ponownie po 59 sekundach.' });
    expect(limiter.admit('invoiceSend', 'k', 60_000)).toBeUndefined();
    expect(limiter.admit('onlineSession', 'k', 0)).toBeUndefined();
    expect(PUBLISHED_RATE_LIMITS.invoiceDownload).toEqual({ perSecond: 8, perMinute: 16, perHour: 64 });
  });

  it('matches fault path patterns as templates or regular expressions', () => {
    expect(pathMatcher('/v2/sessions/{ref}/invoices').test('/v2/sessions/20260101-SO-1/invoices')).toBe(true);
    expect(pathMatcher('/v2/sessions/{ref}/invoices').test('/v2/sessions/a/b/invoices')).toBe(false);
    expect(pathMatcher('/v2/auth/*').test('/v2/auth/token/redeem')).toBe(true);
    expect(pathMatcher('^/v2/invoices/').test('/v2/invoices/ksef/1')).toBe(true);
  });

  it('pages a session UPO at 10 000 documents', () => {
    const state = new SandboxState(resolveOptions({ random: seeded(3) }));
    const session = {
      type: 'Online',
      referenceNumber: '20260101-SO-0000000000-0000000000-00',
      context: { type: 'Nip', value: '5265877635' },
      authentication: { kind: 'token', tokenReference: '20260101-EC-0000000000-0000000000-00' },
      formCode: FA3_FORM,
      invoices: [] as InvoiceRecord[],
    } as unknown as Session;
    const facts = readFa3(Buffer.from(generateFa3({ sellerNip: '5265877635', sellerName: 'S', buyerNip: '1234563218', buyerName: 'B', kind: 'VAT', invoiceNumber: 'N', issueDate: '2026-01-01', currency: 'PLN', netAmount: 1, vatAmount: 0, createdAt: new Date() })));
    for (let i = 0; i < 10_001; i++) {
      session.invoices.push({
        ordinalNumber: i + 1,
        session,
        formCode: FA3_FORM,
        invoiceHash: 'x'.repeat(43) + '=',
        invoiceSize: 1,
        invoicingDate: new Date(),
        acquisitionDate: new Date(),
        offlineMode: false,
        status: { code: 200, description: 'Sukces' },
        ksefNumber: `5265877635-20260101-${i.toString(16).toUpperCase().padStart(12, '0')}-00`,
        invoicingMode: 'Online',
        facts: (facts as { facts: InvoiceRecord['facts'] }).facts,
      });
    }
    const pages = sessionUpoPages(state, session).map((p) => p.content.toString());
    expect(pages).toHaveLength(2);
    expect(pages[0].match(/<Dokument>/g)).toHaveLength(10_000);
    expect(pages[0]).toContain('<Strona>1</Strona><LiczbaStron>2</LiczbaStron><ZakresDokumentowOd>1</ZakresDokumentowOd><ZakresDokumentowDo>10000</ZakresDokumentowDo>');
    expect(pages[1]).toContain('<ZakresDokumentowOd>10001</ZakresDokumentowOd><ZakresDokumentowDo>10001</ZakresDokumentowDo><CalkowitaLiczbaDokumentow>10001</CalkowitaLiczbaDokumentow>');
    state.dispose();
  });

  it('serves from createSandboxApp without listening', async () => {
    const { app, state } = createSandboxApp();
    const response = await request(app).post('/v2/auth/challenge').set('host', 'sandbox.local:8080');
    expect(response.status).toBe(200);
    expect(response.body.challenge).toMatch(REFERENCE_NUMBER);
    const keys = await request(app).get('/v2/security/public-key-certificates');
    expect(keys.body).toHaveLength(2);
    state.dispose();
  });
});
