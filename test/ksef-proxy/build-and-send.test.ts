import { jest } from '@jest/globals';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { validateFa3 } from '../../src/local/fa3/index.js';
import { officialXsdErrors } from '../support/xmllint.js';
import type { InvoiceDraft } from '../../src/local/fa3-builder/index.js';
import { checkKsefNumber } from '../../src/local/ksef-number.js';
import { adminAuth } from '../support/server.js';
import { startKsefStack, type KsefStack } from '../support/ksef.js';
import { describeWithShared } from '../support/shared.js';
import { waitFor as waitUntil } from '../support/wait.js';

/**
 * The builder end to end: drafts built by POST /invoices/build, or sent as `invoice` to send and batch, reach the
 * KSeF sandbox (which checks them against the official XSD too) and are numbered; what is stored is the built XML.
 */
jest.setTimeout(120_000);

const spec = YAML.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'spec', 'openapi.yaml'), 'utf8'));
const EXAMPLES: Record<string, { value: InvoiceDraft }> = spec.paths['/invoices/build'].post.requestBody.content['application/json'].examples;

describeWithShared('building and sending', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const build = (draft: unknown) => http().post('/invoices/build').set('Authorization', adminAuth).send(draft as object);
  const send = (body: object) => http().post('/invoices/test/send').set('Authorization', adminAuth).send(body);
  const storedXml = async (ksefNumber: string) => (await db().selectFrom('synced_invoices').select('xml').where('ksef_number', '=', ksefNumber).executeTakeFirstOrThrow()).xml;
  const rowCount = async () => Number((await db().selectFrom('synced_invoices').select(db().fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const waitFor = <T>(what: string, probe: () => Promise<T | undefined | null | false>, ms = 60_000) => waitUntil(what, probe, ms, 200);
  /** An example under another number (KSeF's key is seller, kind and number), dated today by default. */
  const variant = (name: string, number: string, more: Partial<InvoiceDraft> = {}): InvoiceDraft => {
    const { issueDate: _dated, ...draft } = EXAMPLES[name].value;
    return { ...draft, number, ...more };
  };

  beforeAll(async () => {
    k = await startKsefStack();
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  it('every example of the contract: built, valid against the XSD and our rules, sent, numbered by KSeF', async () => {
    for (const name of ['vat', 'zal', 'roz', 'upr', 'kor', 'kor_zal', 'kor_roz']) {
      const built = await build(EXAMPLES[name].value);
      expect(built.status).toBe(200);
      const xml = Buffer.from(built.body.invoiceXml, 'base64');
      expect(await officialXsdErrors(xml)).toEqual([]);
      expect((await validateFa3(xml, { environment: 'prod' })).errors).toEqual([]);
      const res = await send({ invoiceXml: built.body.invoiceXml, mode: 'online' });
      expect({ name, status: res.status, body: res.body }).toMatchObject({ name, status: 200, body: { mode: 'online', status: 'sent', invoiceNumber: EXAMPLES[name].value.number } });
      expect(checkKsefNumber(res.body.ksefNumber)).toMatchObject({ valid: true, parts: { nip: '5265877635' } });
      expect(Buffer.compare(await storedXml(res.body.ksefNumber), xml)).toBe(0);
      expect(k.sandbox.state.invoicesByKsefNumber.get(res.body.ksefNumber)?.facts?.invoiceNumber).toBe(EXAMPLES[name].value.number);
    }
  });

  it('a settlement built from two advances built and sent before it links to them in the register', async () => {
    const order = { lines: [{ name: 'Serwer archiwum faktur SA-4', quantity: '1', unitNetPrice: '20000.00', rate: '23' as const }] };
    const sent = async (draft: InvoiceDraft) => {
      const res = await send({ invoice: draft, mode: 'online' });
      expect(res.status).toBe(200);
      expect(res.body.status).toBe('sent');
      return res.body.ksefNumber as string;
    };
    const first = await sent(variant('zal', 'FZ/BS/1', { order, advance: { amount: '6150.00' } }));
    const second = await sent(variant('zal', 'FZ/BS/2', { order, advance: { amount: '2460.00' } }));
    const settlement = await sent(
      variant('roz', 'FV/BS/1', {
        advances: [
          { ksefNumber: first, amount: '6150.00' },
          { ksefNumber: second, amount: '2460.00' },
        ],
      }),
    );
    // 24600.00 − 6150.00 − 2460.00 is what the settlement asks for.
    const xml = (await storedXml(settlement)).toString('utf8');
    expect(xml).toContain('<P_15>15990.00</P_15>');
    expect([...xml.matchAll(/<NrKSeFFaZaliczkowej>([^<]+)</g)].map((m) => m[1])).toEqual([first, second]);

    const group = await waitFor('the advance group to resolve', async () => {
      const res = await http().get(`/invoices/test/${settlement}/links`).set('Authorization', adminAuth);
      const g = res.body.advanceGroup;
      return g?.advances?.length === 2 && g.advances.every((a: { resolved: boolean }) => a.resolved) && g;
    });
    expect(group.settlement).toMatchObject({ ksefNumber: settlement, invoiceNumber: 'FV/BS/1', type: 'ROZ' });
    expect(group.advances.map((a: { ksefNumber: string; invoiceNumber: string; grossAmount: string }) => [a.ksefNumber, a.invoiceNumber, a.grossAmount])).toEqual([
      [first, 'FZ/BS/1', '6150.00'],
      [second, 'FZ/BS/2', '2460.00'],
    ]);
    expect(group).toMatchObject({ advancesTotal: '8610.00', remainder: '15990.00', orderTotal: null, currency: 'PLN' });
    const fromAdvance = await http().get(`/invoices/test/${first}/links`).set('Authorization', adminAuth);
    expect(fromAdvance.body.advanceGroup.settlement.ksefNumber).toBe(settlement);
  });

  it('{invoice} is built, sent and stored as built: the stored XML is the XML POST /invoices/build gives for it', async () => {
    const draft = variant('vat', 'FV/BS/2', { createdAt: '2026-12-01T08:00:00Z' });
    const built = await build(draft);
    expect(built.status).toBe(200);
    const res = await send({ invoice: draft, mode: 'online' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ mode: 'online', status: 'sent', invoiceNumber: 'FV/BS/2' });
    const stored = await storedXml(res.body.ksefNumber);
    expect(stored.toString('base64')).toBe(built.body.invoiceXml);
    const served = await http().get(`/invoices/test/${res.body.ksefNumber}?docType=xml`).set('Authorization', adminAuth);
    expect(served.body.content).toBe(built.body.invoiceXml);
    // The same draft (with createdAt) is the same bytes: sending it again is answered from the store.
    const invoices = k.sandbox.state.invoicesByKsefNumber.size;
    const again = await send({ invoice: draft, mode: 'online' });
    expect(again.body).toMatchObject({ status: 'sent', ksefNumber: res.body.ksefNumber });
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(invoices);
  });

  it('exactly one of invoice and invoiceXml: both, or neither, is a 400 naming the field, and nothing is stored', async () => {
    const rows = await rowCount();
    const built = await build(variant('vat', 'FV/BS/3'));
    const both = await send({ invoice: variant('vat', 'FV/BS/3'), invoiceXml: built.body.invoiceXml, mode: 'online' });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ path: 'body.invoice', message: 'must not be sent together with body.invoiceXml' }]);
    const neither = await send({ mode: 'online' });
    expect(neither.status).toBe(400);
    expect(neither.body.error.details).toEqual([{ path: 'body.invoiceXml', message: 'is required' }]);
    expect(neither.body.error.message).toContain('body.invoice');
    expect(await rowCount()).toBe(rows);
  });

  it('a draft the builder refuses is a 400 naming body.invoice.<field>; a seller other than the company names its NIP', async () => {
    const rows = await rowCount();
    const noRate = await send({ invoice: variant('vat', 'FV/BS/4', { currency: 'EUR' }) });
    expect(noRate.status).toBe(400);
    expect(noRate.body.error.details).toEqual([{ path: 'body.invoice.exchangeRate', message: expect.stringContaining('EUR') }]);
    const shape = await send({ invoice: { ...variant('vat', 'FV/BS/4'), lines: [{ name: 'X', unitNetPrice: '1', rate: '24' }] } });
    expect(shape.status).toBe(400);
    expect(shape.body.error.details.map((d: { path: string }) => d.path)).toEqual(['body.invoice.lines[0].rate']);
    const otherSeller = await send({ invoice: variant('vat', 'FV/BS/4', { seller: { ...EXAMPLES.vat.value.seller, nip: '7740001454' } }) });
    expect(otherSeller.status).toBe(400);
    expect(otherSeller.body.error.details).toEqual([{ path: 'body.invoice.seller.nip', message: 'must be 5265877635' }]);
    expect(await rowCount()).toBe(rows);
  });

  it("the route's environment decides the NIP checksum rule: refused by build (production rules), sent on test", async () => {
    const draft = variant('vat', 'FV/BS/5', { buyer: { ...EXAMPLES.vat.value.buyer, nip: '7740001455' } });
    const built = await build(draft);
    expect(built.status).toBe(400);
    expect(built.body.error.details).toEqual([{ path: 'body.buyer.nip', message: expect.stringContaining('checksum') }]);
    const res = await send({ invoice: draft, mode: 'online' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
  });

  it('batch: items as invoice or invoiceXml; a draft the builder refuses is rejected by index with its field, the rest numbered', async () => {
    const built = await build(variant('vat', 'FV/BS/8'));
    const res = await http()
      .post('/invoices/test/batch')
      .set('Authorization', adminAuth)
      .send({ invoices: [{ invoice: variant('vat', 'FV/BS/6') }, { invoice: variant('vat', 'FV/BS/7', { currency: 'EUR' }) }, { invoiceXml: built.body.invoiceXml }] });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ totalCount: 3, acceptedCount: 2, rejected: [{ index: 1, errors: [{ path: 'body.invoices[1].invoice.exchangeRate', message: expect.any(String) }] }] });
    const batch = await waitFor('the batch to complete', async () => {
      const progress = await http().get(`/invoices/test/batch/${res.body.batchId}`).set('Authorization', adminAuth);
      return progress.body.status === 'completed' && progress.body;
    });
    expect(batch.invoices.map((i: { index: number; invoiceNumber: string; status: string }) => [i.index, i.invoiceNumber, i.status])).toEqual([
      [0, 'FV/BS/6', 'sent'],
      [2, 'FV/BS/8', 'sent'],
    ]);
    const both = await http()
      .post('/invoices/test/batch')
      .set('Authorization', adminAuth)
      .send({ invoices: [{ invoice: variant('vat', 'FV/BS/9'), invoiceXml: built.body.invoiceXml }] });
    expect(both.status).toBe(400);
    expect(both.body.error.details).toEqual([{ path: 'body.invoices[0].invoice', message: 'must not be sent together with body.invoices[0].invoiceXml' }]);
  });
});
