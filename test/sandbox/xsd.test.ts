import { generateFa3 } from '../../src/sandbox/invoices/seed.js';
import { readFa3 } from '../../src/sandbox/invoices/fa3.js';
import { describeWithShared, readSample, sampleNames } from '../support/shared.js';
import { authenticatedSession, invoiceVariant, OpenSession, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

describeWithShared('sandbox: full FA(3) XSD validation, always on', () => {
  let t: TestSandbox;
  let s: OpenSession;

  beforeAll(async () => {
    t = await startTestSandbox();
    s = await authenticatedSession(t.client);
  });
  afterAll(() => t.close());

  it('accepts the four valid samples', async () => {
    const refs = [];
    for (const name of sampleNames) refs.push(await t.client.sendInvoice(s.tokens.accessToken, s.referenceNumber, s.keys, readSample(name)));
    for (const ref of refs) expect((await t.client.waitForInvoice(s.tokens.accessToken, s.referenceNumber, ref)).status.code).toBe(200);
  });

  it('rejects a well-formed invoice the schema refuses with 450 and the validator message', async () => {
    const xml = invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), buyerNip: '0123456789' });
    const ref = await t.client.sendInvoice(s.tokens.accessToken, s.referenceNumber, s.keys, xml);
    const inv = await t.client.waitForInvoice(s.tokens.accessToken, s.referenceNumber, ref);
    expect(inv.status.code).toBe(450);
    expect(inv.status.details![0]).toMatch(/^Błąd walidacji XSD \(linia 25\): Element '\{http:\/\/crd\.gov\.pl\/wzor\/2025\/06\/25\/13775\/\}NIP'/);
  });

  it('validates what the admin API generates for seeding, for every invoice kind', async () => {
    const docs = ['VAT', 'ZAL', 'KOR', 'ROZ', 'UPR', 'KOR_ZAL', 'KOR_ROZ'].map((kind) =>
      Buffer.from(
        generateFa3({
          sellerNip: '5265877635',
          sellerName: 'Sprzedawca <&>',
          buyerNip: '1234563218',
          buyerName: 'Nabywca',
          kind,
          invoiceNumber: `GEN/${kind}`,
          issueDate: '2026-02-02',
          currency: kind === 'VAT' ? 'PLN' : 'EUR',
          netAmount: 100,
          vatAmount: 23,
          createdAt: new Date(),
        }),
      ),
    );
    expect(docs.map((d) => readFa3(d, { schema: true }))).toEqual(docs.map(() => expect.objectContaining({ ok: true, schemaProblems: [] })));
  });
});
