/**
 * The FA(3) builder (POST /invoices/build and src/local/fa3-builder): every example of the contract built over
 * HTTP and checked against the official XSD and our business rules; the rounding rules on cases where they
 * matter; each kind's arithmetic; the round trip through our parser; bad drafts refused with the field named.
 * Expected amounts are worked out here by hand or in integer grosze, not with the builder's own code.
 */
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { components } from '../../generated/api.js';
import { type Fa3Invoice, parseFa3, validateFa3 } from '../../src/local/fa3/index.js';
import { officialXsdErrors } from '../support/xmllint.js';
import { type BuiltFa3, DraftError, type InvoiceDraft, buildFa3 } from '../../src/local/fa3-builder/index.js';
import { adminAuth, startTestServer, type TestServer } from '../support/server.js';
import { describeWithShared } from '../support/shared.js';

const spec = YAML.parse(fs.readFileSync(path.join(import.meta.dirname, '..', '..', 'spec', 'openapi.yaml'), 'utf8'));
const EXAMPLES: Record<string, { summary: string; value: InvoiceDraft }> = spec.paths['/invoices/build'].post.requestBody.content['application/json'].examples;

/** A fixed "today" for the module-level builds: the drafts below are dated before it. */
const TODAY = '2026-12-03';
const build = (draft: InvoiceDraft, options: Parameters<typeof buildFa3>[1] = {}) => buildFa3(draft, { today: TODAY, ...options });

const SELLER = { nip: '5265877635', name: 'Fast KSeF Demo Sp. z o.o.', address: { line1: 'ul. Ekspresowa 7', line2: '02-676 Warszawa' } };
const BUYER = { nip: '7740001454', name: 'Odbiorca Demo S.A.', address: { line1: 'ul. Handlowa 5', line2: '61-001 Poznań' } };
const line = (unitNetPrice: string, rate: components['schemas']['DraftTaxRate'], more: object = {}) => ({
  name: 'Usługa',
  quantity: '1',
  unitNetPrice,
  rate,
  ...more,
});
const vat = (more: Partial<InvoiceDraft>): InvoiceDraft => ({ kind: 'VAT', number: 'T/1', issueDate: '2026-12-01', seller: SELLER, buyer: BUYER, lines: [line('100.00', '23')], ...more });

/** The header group of a field (`P_13_1` → its net, tax and tax in PLN) as our parser reads the built XML. */
function group(inv: Fa3Invoice, netField: string) {
  const bucket = { P_13_1: 'basic', P_13_2: 'reduced1', P_13_3: 'reduced2', P_13_4: 'taxi', P_13_6_1: 'zeroDomestic', P_13_6_2: 'zeroWdt', P_13_6_3: 'zeroExport', P_13_7: 'exempt', P_13_8: 'outsideCountry', P_13_9: 'art100', P_13_10: 'reverseCharge' }[netField];
  return inv.totals.find((t) => t.bucket === bucket);
}
const tag = (xml: Buffer, name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml.toString('utf8'))?.[1];
const tags = (xml: Buffer, name: string) => [...xml.toString('utf8').matchAll(new RegExp(`<${name}>([^<]*)</${name}>`, 'g'))].map((m) => m[1]);

/** Our validator's verdict as the send route would see it (production rules, the fixed today). */
async function rulesOf(built: BuiltFa3) {
  const result = await validateFa3(built.xml, { environment: 'prod', today: TODAY });
  return { valid: result.valid, errors: result.errors, warnings: result.warnings.filter((w) => w.code !== 'D2').map((w) => w.code) };
}

/** A correction that uses every field the builder offers. */
const EVERYTHING: InvoiceDraft = {
  kind: 'KOR',
  number: 'KOR/ALL/1',
  issueDate: '2026-12-01',
  issuePlace: 'Kraków',
  salePeriod: { from: '2026-11-01', to: '2026-11-30' },
  currency: 'EUR',
  exchangeRate: '4.2345',
  createdAt: '2026-12-01T07:30:00Z',
  systemInfo: 'ERP 7.1',
  seller: { ...SELLER, vatPrefix: true, eori: 'PL526587763500000', email: 'faktury@fastksef.example', phone: '+48 22 000 00 00' },
  buyer: { foreignId: { countryCode: 'US', id: '12-3456789' }, name: 'Buyer Inc.', address: { countryCode: 'US', line1: '1 Main St', line2: 'Springfield' }, email: 'ap@buyer.example', phone: '+1 555 0100', customerNumber: 'K-42' },
  thirdParties: [
    { internalId: '5265877635-00001', name: 'Oddział Kraków', address: { line1: 'ul. Długa 1', line2: '31-147 Kraków' }, role: 2 },
    { euVatNumber: { countryCode: 'FR', number: 'AB123456789' }, name: 'Co-buyer SARL', otherRole: 'Pełnomocnik', share: '25.5' },
  ],
  lines: [
    { name: 'Licencja', quantity: '2', unit: 'szt.', unitNetPrice: '500.00', discount: '50.00', rate: '23', gtu: 'GTU_12', procedure: 'TT_D', index: 'LIC-1', gtin: '5901234123457', pkwiu: '58.29.50.0', cn: '8523', pkob: '1220', exciseAmount: '0.00', saleDate: '2026-11-15', uuid: 'line-1', before: true },
    { name: 'Licencja', quantity: '1', unit: 'szt.', unitNetPrice: '500.00', rate: '23', annex15: true, uuid: 'line-1b' },
  ],
  cashAccounting: true,
  selfBilling: true,
  simplifiedTriangular: true,
  payment: {
    otherMethod: 'Kompensata',
    dueDate: '2026-12-15',
    paidDate: '2026-12-01',
    bankAccounts: [{ number: 'PL27114020040000300201355387', swift: 'BREXPLPW', bankName: 'mBank S.A.', description: 'Rachunek w EUR' }],
    earlyPaymentDiscount: { conditions: 'zapłata w ciągu 7 dni', amount: '2%' },
  },
  orders: [{ number: 'ZAM/1', date: '2026-10-01' }],
  contracts: [{ number: 'UM/2026/7' }],
  notes: [{ key: 'Projekt', value: 'KSeF' }, { line: 2, key: 'Licencjobiorca', value: 'Oddział Kraków' }],
  footer: 'Dziękujemy za współpracę.\nKRS 0000000000',
  correction: {
    reason: 'Zmiana liczby licencji',
    effect: 'otherDate',
    invoices: [
      { issueDate: '2026-11-16', number: 'FV/ALL/1', ksefNumber: '5265877635-20261116-010000D4E5F6-64' },
      { issueDate: '2026-11-17', number: 'FV/ALL/2', outsideKsef: true },
    ],
    correctNumber: 'FV/ALL/1A',
  },
};

describe('the contract has one example per kind', () => {
  test('seven named examples, one of each kind', () => {
    expect(Object.values(EXAMPLES).map((e) => e.value.kind).sort()).toEqual(['KOR', 'KOR_ROZ', 'KOR_ZAL', 'ROZ', 'UPR', 'VAT', 'ZAL']);
    for (const e of Object.values(EXAMPLES)) expect(e.summary).toMatch(new RegExp(`^${e.value.kind} - `));
  });
});

describe('POST /invoices/build', () => {
  let t: TestServer;
  const post = (body: unknown, auth = adminAuth) => t.http.post('/invoices/build').set('Authorization', auth).send(body as object);
  beforeAll(async () => {
    t = await startTestServer();
  });
  afterAll(() => t.close());
  afterEach(() => {
    expect(t.conformance.violations).toEqual([]);
    t.conformance.violations.length = 0;
  });

  /** What each example must come to (P_13_x, P_14_x, P_15, and the kind's own fields), worked out by hand. */
  const EXPECTED: Record<string, Record<string, string | string[]>> = {
    vat: { P_13_1: '1600.00', P_14_1: '368.00', P_13_3: '120.00', P_14_3: '6.00', P_15: '2094.00', P_11: ['1600.00', '120.00'] },
    kor: { P_13_1: '-400.00', P_14_1: '-92.00', P_15: '-492.00', P_11: ['1600.00', '1200.00'], StanPrzed: ['1'], NrKSeFFaKorygowanej: '5265877635-20261116-010000D4E5F6-64' },
    zal: { P_13_1: '5000.00', P_14_1: '1150.00', P_15: '6150.00', WartoscZamowienia: '24600.00', P_11VatZ: '4600.00', P_6: '2026-11-09', DataZaplaty: '2026-11-09' },
    roz: { P_13_1: '15000.00', P_14_1: '3450.00', P_15: '18450.00', P_11: ['20000.00'], NrKSeFFaZaliczkowej: '5265877635-20261110-010000A1B2C3-7A' },
    // 2 × 49.99 + 129.00 = 228.98 gross; tax 228.98 × 23 / 123 = 42.818… → 42.82.
    upr: { P_13_1: '186.16', P_14_1: '42.82', P_15: '228.98', P_11A: ['99.98', '129.00'] },
    kor_zal: { P_13_1: '-1000.00', P_14_1: '-230.00', P_15: '-1230.00', P_15ZK: '6150.00', WartoscZamowienia: '24600.00' },
    kor_roz: { P_13_1: '-1000.00', P_14_1: '-230.00', P_15: '-1230.00', P_15ZK: '18450.00', StanPrzed: ['1'] },
  };

  describeWithShared('every example of the contract', () => {
    test.each(Object.keys(EXAMPLES))('%s: valid against the FA(3) XSD and our rules, with the totals worked out by hand', async (name) => {
      const draft = EXAMPLES[name].value;
      const res = await post(draft);
      expect(res.status).toBe(200);
      const xml = Buffer.from(res.body.invoiceXml, 'base64');
      expect(await officialXsdErrors(xml)).toEqual([]);
      const rules = await validateFa3(xml, { environment: 'prod' });
      expect(rules.errors).toEqual([]);
      // D2 (issued before today) is the only thing to note about an example dated in the past.
      expect(rules.warnings.map((w) => w.code)).toEqual(['D2']);
      expect(res.body.warnings.map((w: { code: string }) => w.code)).toEqual(['D2']);
      for (const [field, value] of Object.entries(EXPECTED[name])) {
        expect({ field, value: Array.isArray(value) ? tags(xml, field) : tag(xml, field) }).toEqual({ field, value });
      }
      expect(tag(xml, 'RodzajFaktury')).toBe(draft.kind);
      expect(res.body.summary).toMatchObject({ invoiceNumber: draft.number, type: draft.kind, issueDate: draft.issueDate, sellerNip: '5265877635', grossAmount: EXPECTED[name].P_15, currency: 'PLN' });
      // Every flag of Adnotacje, always.
      for (const flag of ['P_16', 'P_17', 'P_18', 'P_18A', 'P_23']) expect(tag(xml, flag)).toBe('2');
      for (const flag of ['P_19N', 'P_22N', 'P_PMarzyN']) expect(tag(xml, flag)).toBe('1');
    });
  });

  test('the summary lists each rate group with its amounts', async () => {
    const res = await post(EXAMPLES.vat.value);
    expect(res.body.summary).toEqual({
      invoiceNumber: 'FV/2026/11/0011',
      type: 'VAT',
      issueDate: '2026-11-16',
      sellerNip: '5265877635',
      buyerNip: '7740001454',
      currency: 'PLN',
      netAmount: '1720.00',
      vatAmount: '374.00',
      grossAmount: '2094.00',
      taxes: [
        { netField: 'P_13_1', netAmount: '1600.00', vatAmount: '368.00', vatAmountPln: null },
        { netField: 'P_13_3', netAmount: '120.00', vatAmount: '6.00', vatAmountPln: null },
      ],
    });
  });

  test('a draft using every field the contract offers is accepted by the contract', async () => {
    const res = await post(EVERYTHING);
    expect(res.status).toBe(200);
    expect(res.body.summary).toMatchObject({ type: 'KOR', currency: 'EUR', grossAmount: '-553.50', taxes: [{ netField: 'P_13_1', netAmount: '-450.00', vatAmount: '-103.50', vatAmountPln: '-438.27' }] });
  });

  test('without credentials: 401', async () => {
    const res = await t.http.post('/invoices/build').send(EXAMPLES.vat.value);
    expect(res.status).toBe(401);
  });

  test('amounts as JSON numbers (binary floats) are refused: decimals travel as strings', async () => {
    const draft = JSON.parse(JSON.stringify(EXAMPLES.vat.value));
    draft.lines[0].quantity = 8;
    draft.lines[0].unitNetPrice = 200.1;
    const res = await post(draft);
    expect(res.status).toBe(400);
    expect(res.body.error.details).toEqual([
      { path: 'body.lines[0].quantity', message: 'must be string' },
      { path: 'body.lines[0].unitNetPrice', message: 'must be string' },
    ]);
  });

  describe('a draft that cannot become a valid invoice: 400 naming the JSON field', () => {
    const paths = (res: { body: { error: { details: { path: string }[] } } }) => res.body.error.details.map((d) => d.path);
    const cases: [string, () => unknown, string[]][] = [
      ['both prices on a line', () => vat({ lines: [line('1', '23'), line('1', '23'), line('100', '23', { unitGrossPrice: '123' })] }), ['body.lines[2].unitNetPrice']],
      ['no price on a line', () => vat({ lines: [{ name: 'X', rate: '23' }] }), ['body.lines[0].unitNetPrice']],
      ['a gross price among net prices', () => vat({ lines: [line('1', '23'), { name: 'X', unitGrossPrice: '1.23', rate: '23' }] }), ['body.lines[1].unitGrossPrice']],
      ['a rate FA(3) does not know', () => vat({ lines: [line('1', '24' as never)] }), ['body.lines[0].rate']],
      ['a price that is not a decimal', () => vat({ lines: [line('12,50', '23')] }), ['body.lines[0].unitNetPrice']],
      ['a price with 9 decimals', () => vat({ lines: [line('0.123456789', '23')] }), ['body.lines[0].unitNetPrice']],
      ['an unknown field', () => vat({ lines: [{ ...line('1', '23'), colour: 'red' } as never] }), ['body.lines[0].colour']],
      ['a foreign currency without its rate', () => vat({ currency: 'EUR' }), ['body.exchangeRate']],
      ['a currency FA(3) does not list', () => vat({ currency: 'ABC', exchangeRate: '1' }), ['body.currency']],
      ['a rate on a PLN invoice', () => vat({ exchangeRate: '4.3' }), ['body.exchangeRate']],
      ['a correction without what it corrects', () => vat({ kind: 'KOR' }), ['body.correction']],
      ['advances on a VAT invoice', () => vat({ advances: [{ ksefNumber: '5265877635-20261110-010000A1B2C3-7A', amount: '10.00' }] }), ['body.advances']],
      ['an advance invoice with lines and no order', () => vat({ kind: 'ZAL', advance: { amount: '10.00' } }), ['body.lines', 'body.order']],
      ['a seller NIP with a wrong checksum', () => vat({ seller: { ...SELLER, nip: '5265877636' } }), ['body.seller.nip']],
      ['an issue date after today', () => vat({ issueDate: '2049-12-31' }), ['body.issueDate']],
      ['a KSeF number with a wrong checksum', () => ({ ...EXAMPLES.kor.value, correction: { invoices: [{ issueDate: '2026-11-16', number: 'FV/1', ksefNumber: '5265877635-20261116-010000D4E5F6-65' }] } }), ['body.correction.invoices[0].ksefNumber']],
      ['an exempt line without the legal basis', () => vat({ lines: [line('100', 'zw')] }), ['body.exemption']],
      ['reverse charge switched off on an oo line', () => vat({ lines: [line('100', 'oo')], reverseCharge: false }), ['body.reverseCharge']],
      ['an advance above the order', () => ({ ...EXAMPLES.zal.value, advance: { amount: '24600.01' } }), ['body.advance.amount']],
      ['advances above the settlement', () => ({ ...EXAMPLES.roz.value, advances: [{ ksefNumber: '5265877635-20261110-010000A1B2C3-7A', amount: '24600.01' }] }), ['body.advances']],
      ['a KOR_ROZ without the amount before', () => ({ ...EXAMPLES.kor_roz.value, correction: { ...EXAMPLES.kor_roz.value.correction!, totalDueBefore: undefined } }), ['body.correction.totalDueBefore']],
      ['a buyer without a name on a VAT invoice', () => vat({ buyer: { nip: '7740001454' } }), ['body.buyer.name']],
      ['JST without the unit it concerns', () => vat({ buyer: { ...BUYER, jst: true } }), ['body.buyer.jst']],
      ['a note on a line that does not exist', () => vat({ notes: [{ line: 2, key: 'k', value: 'v' }] }), ['body.notes[0].line']],
      ['a blank name', () => vat({ lines: [{ ...line('1', '23'), name: '   ' }] }), ['body.lines[0].name']],
      ['a control character in a name', () => vat({ lines: [{ ...line('1', '23'), name: 'A\u0007B' }] }), ['body.lines[0].name']],
    ];
    test.each(cases)('%s', async (_what, draft, expected) => {
      const res = await post(draft());
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(paths(res).sort()).toEqual(expected);
      expect(res.body.error.message).toContain(expected[0]);
    });

    test('every problem of a draft is named in one answer', async () => {
      const res = await post(vat({ currency: 'EUR', issueDate: '2049-12-31', lines: [line('1', '23'), line('1', 'zw', { before: true })] }));
      expect(res.status).toBe(400);
      expect(paths(res).sort()).toEqual(['body.exchangeRate', 'body.exemption', 'body.issueDate', 'body.lines[1].before']);
    });
  });
});

describeWithShared('every optional part of a draft is written as valid FA(3)', () => {
  test('a correction that uses every field: valid against the XSD and our rules, and read back as written', async () => {
    const built = await build(EVERYTHING);
    expect(await officialXsdErrors(built.xml)).toEqual([]);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
    const inv = parseFa3(built.xml);
    expect(inv.period).toEqual({ from: '2026-11-01', to: '2026-11-30' });
    expect(inv.systemInfo).toBe('ERP 7.1');
    expect(inv.buyer).toMatchObject({ other: { countryCode: 'US', id: '12-3456789' }, customerNumber: 'K-42', contacts: [{ email: 'ap@buyer.example', phone: '+1 555 0100' }] });
    expect(inv.thirdParties.map((p) => [p.internalId ?? p.eu?.vatNumber, p.role, p.otherRole, p.share])).toEqual([
      ['5265877635-00001', '2', undefined, undefined],
      ['AB123456789', undefined, 'Pełnomocnik', '25.5'],
    ]);
    expect(inv.lines[0]).toMatchObject({ discount: '50.00', netValue: '950.00', gtu: 'GTU_12', procedure: 'TT_D', pkwiu: '58.29.50.0', date: '2026-11-15', exchangeRate: '4.2345', before: true });
    // 500 − 950 = −450.00 net at 23 %: tax 115.00 − 218.50 = −103.50, in PLN −438.27.
    expect(inv.totals).toEqual([{ bucket: 'basic', net: '-450.00', vat: '-103.50', vatPln: '-438.27' }]);
    expect(inv.annotations).toMatchObject({ cashAccounting: true, selfBilling: true, simplifiedTriangular: true, splitPayment: false });
    expect(inv.correctedInvoices.map((c) => [c.number, c.ksefNumber, c.outsideKsef])).toEqual([
      ['FV/ALL/1', '5265877635-20261116-010000D4E5F6-64', false],
      ['FV/ALL/2', undefined, true],
    ]);
    expect([inv.correctionType, inv.correctNumber]).toEqual(['3', 'FV/ALL/1A']);
    expect(inv.payment).toMatchObject({ paid: true, paymentDate: '2026-12-01', otherForm: 'Kompensata', terms: [{ date: '2026-12-15' }], discount: { conditions: 'zapłata w ciągu 7 dni', amount: '2%' } });
    expect(inv.additionalDescriptions).toEqual([
      { lineNo: undefined, key: 'Projekt', value: 'KSeF' },
      { lineNo: '2', key: 'Licencjobiorca', value: 'Oddział Kraków' },
    ]);
    expect(inv.footer?.information).toEqual(['Dziękujemy za współpracę.\nKRS 0000000000']);
    expect(inv.transactionTerms).toMatchObject({ orders: [{ number: 'ZAM/1', date: '2026-10-01' }], contracts: [{ number: 'UM/2026/7' }] });
  });

  test('an invoice over 1 000 000 bytes is refused before it is written out (F2)', async () => {
    const lines = Array.from({ length: 2500 }, (_, i) => line('1.00', '23', { name: `Pozycja ${i} ${'x'.repeat(400)}` }));
    await expect(build(vat({ lines }))).rejects.toMatchObject({ issues: [{ path: 'lines', message: expect.stringMatching(/^the invoice would be \d+ bytes; KSeF accepts at most 1000000$/) }] });
  });
});

describe('rounding', () => {
  test('100 lines: line values rounded per line, the tax once per rate from their sum (not line by line)', async () => {
    // Unit prices in units of 0.00001 PLN, quantity 3: 50 lines worth 1.5-2.5 grosze (each 0.02, whose own tax
    // would round to 0.00) and 50 lines at 0.005 + k × 0.01 (1.5 + 3k grosze: half a grosz each, rounded up).
    const prices = [...Array.from({ length: 50 }, (_, k) => 500 + 3 * k), ...Array.from({ length: 50 }, (_, k) => 500 + 1000 * k)];
    const lines = prices.map((p) => line((p / 100000).toFixed(5), '23', { quantity: '3' }));
    const built = await build(vat({ lines }));
    const inv = parseFa3(built.xml);
    const halfUp = (numerator: number, denominator: number) => Math.floor((2 * numerator + denominator) / (2 * denominator));
    const lineGrosze = prices.map((p) => halfUp(3 * p, 1000));
    expect(inv.lines.map((l) => l.netValue)).toEqual(lineGrosze.map((g) => (g / 100).toFixed(2)));
    const net = lineGrosze.reduce((a, b) => a + b, 0);
    const groupTax = halfUp(net * 23, 100);
    const perLineTax = lineGrosze.reduce((a, g) => a + halfUp(g * 23, 100), 0);
    expect(groupTax - perLineTax).toBeGreaterThan(10); // a case where the two methods differ by more than 0.10
    expect(group(inv, 'P_13_1')).toMatchObject({ net: (net / 100).toFixed(2), vat: (groupTax / 100).toFixed(2) });
    expect(inv.totalDue).toBe(((net + groupTax) / 100).toFixed(2));
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('a line whose value ends in half a grosz rounds away from zero (0.125 → 0.13, -0.125 → -0.13)', async () => {
    const built = await build(vat({ lines: [line('0.125', '23'), line('0.165', '23', { quantity: '3' })] }));
    expect(tags(built.xml, 'P_11')).toEqual(['0.13', '0.50']);
    const correction = await build({
      ...EXAMPLES.kor.value,
      issueDate: '2026-12-01',
      lines: [line('0.125', '23', { quantity: '-1' })],
    });
    expect(tags(correction.xml, 'P_11')).toEqual(['-0.13']);
    expect(tag(correction.xml, 'P_14_1')).toBe('-0.03'); // -0.13 × 23 % = -0.0299
  });

  test('a tax that ends in half a grosz rounds away from zero, in invoices and in corrections', async () => {
    // 2.50 × 23 % = 0.575; 0.10 × 5 % = 0.005.
    const built = await build(vat({ lines: [line('2.50', '23'), line('0.10', '5')] }));
    expect([tag(built.xml, 'P_14_1'), tag(built.xml, 'P_14_3')]).toEqual(['0.58', '0.01']);
    const correction = await build({ ...EXAMPLES.kor.value, issueDate: '2026-12-01', lines: [line('0.10', '5', { quantity: '-1' })] });
    expect([tag(correction.xml, 'P_13_3'), tag(correction.xml, 'P_14_3'), tag(correction.xml, 'P_15')]).toEqual(['-0.10', '-0.01', '-0.11']);
  });

  test('exact decimals where binary floats drift: 0.10 + 0.20 lines are 0.30', async () => {
    const built = await build(vat({ lines: [line('0.10', '0 KR'), line('0.20', '0 KR')] }));
    expect([tag(built.xml, 'P_13_6_1'), tag(built.xml, 'P_15')]).toEqual(['0.30', '0.30']);
  });

  test('foreign currency: the tax of each rate also in PLN (P_14_xW = tax × rate, half up), the rate on every line', async () => {
    // 1000.00 EUR at 23 %: tax 230.00, × 4.2345 = 973.935 → 973.94; 43.48 EUR at 8 %: tax 3.4784 → 3.48, × 4.2345 = 14.73606 → 14.74.
    const built = await build(vat({ currency: 'EUR', exchangeRate: '4.2345', lines: [line('1000.00', '23'), line('43.48', '8')] }));
    const inv = parseFa3(built.xml);
    expect(group(inv, 'P_13_1')).toEqual({ bucket: 'basic', net: '1000.00', vat: '230.00', vatPln: '973.94' });
    expect(group(inv, 'P_13_2')).toEqual({ bucket: 'reduced1', net: '43.48', vat: '3.48', vatPln: '14.74' });
    expect(inv.totalDue).toBe('1276.96'); // the PLN amounts are not part of the total
    expect(inv.lines.map((l) => l.exchangeRate)).toEqual(['4.2345', '4.2345']);
    expect(built.summary.taxes.map((t) => t.vatAmountPln)).toEqual(['973.94', '14.74']);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('the PLN tax at half a grosz rounds up (10.00 × 4.2325 = 42.325 → 42.33)', async () => {
    const built = await build(vat({ currency: 'EUR', exchangeRate: '4.2325', lines: [line('43.48', '23')] }));
    expect([tag(built.xml, 'P_14_1'), tag(built.xml, 'P_14_1W')]).toEqual(['10.00', '42.33']);
  });

  test('an advance in a foreign currency carries its rate as KursWalutyZ', async () => {
    const built = await build({ ...EXAMPLES.zal.value, currency: 'EUR', exchangeRate: '4.25' });
    expect([tag(built.xml, 'KursWalutyZ'), tag(built.xml, 'P_14_1'), tag(built.xml, 'P_14_1W')]).toEqual(['4.25', '1150.00', '4887.50']);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('gross prices: the tax of a rate is its gross sum × rate / (100 + rate), the net the rest', async () => {
    // 3 × 9.99 = 29.97 and 1 × 0.01 at 23 %: gross 29.98, tax 5.6060… → 5.61, net 24.37.
    const built = await build(vat({ lines: [{ name: 'A', quantity: '3', unitGrossPrice: '9.99', rate: '23' }, { name: 'B', unitGrossPrice: '0.01', rate: '23' }] }));
    expect(tags(built.xml, 'P_11A')).toEqual(['29.97', '0.01']);
    expect(tags(built.xml, 'P_9B')).toEqual(['9.99', '0.01']);
    expect([tag(built.xml, 'P_13_1'), tag(built.xml, 'P_14_1'), tag(built.xml, 'P_15')]).toEqual(['24.37', '5.61', '29.98']);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });
});

describe('each kind computes its own totals', () => {
  const twoRates = [line('1000.00', '23'), line('1000.00', '8')]; // gross 1230.00 + 1080.00 = 2310.00

  test('ZAL: the advance split over the order rates in proportion to their gross values', async () => {
    const built = await build({ ...EXAMPLES.zal.value, order: { lines: twoRates }, advance: { amount: '1155.00', paymentDate: '2026-11-09' } });
    // 1155 × 1230 / 2310 = 615.00 at 23 % (tax 115.00), the rest 540.00 at 8 % (tax 40.00).
    const inv = parseFa3(built.xml);
    expect(inv.totals).toEqual([
      { bucket: 'basic', net: '500.00', vat: '115.00', vatPln: undefined },
      { bucket: 'reduced1', net: '500.00', vat: '40.00', vatPln: undefined },
    ]);
    expect([inv.totalDue, inv.order?.value]).toEqual(['1155.00', '2310.00']);
    expect(inv.order?.lines.map((l) => [l.netValue, l.vatValue, l.rate])).toEqual([
      ['1000.00', '230.00', '23'],
      ['1000.00', '80.00', '8'],
    ]);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('ROZ: the lines minus two advances (split the same way), P_15 what is left to pay', async () => {
    const built = await build({
      ...EXAMPLES.roz.value,
      lines: twoRates,
      advances: [
        { ksefNumber: '5265877635-20261110-010000A1B2C3-7A', amount: '1155.00' },
        { number: 'FZ/POZA/1', amount: '462.00' },
      ],
    });
    // Advance 2: 462 × 1230 / 2310 = 246.00 (tax 46.00) and 216.00 (tax 16.00).
    const inv = parseFa3(built.xml);
    expect(inv.totals).toEqual([
      { bucket: 'basic', net: '300.00', vat: '69.00', vatPln: undefined },
      { bucket: 'reduced1', net: '300.00', vat: '24.00', vatPln: undefined },
    ]);
    expect(inv.totalDue).toBe('693.00'); // 2310 − 1155 − 462
    expect(inv.advances).toEqual([
      { ksefNumber: '5265877635-20261110-010000A1B2C3-7A', number: undefined, outsideKsef: false },
      { ksefNumber: undefined, number: 'FZ/POZA/1', outsideKsef: true },
    ]);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test("ROZ: an advance's own split, when given, is what is deducted", async () => {
    const built = await build({
      ...EXAMPLES.roz.value,
      lines: twoRates,
      advances: [{ ksefNumber: '5265877635-20261110-010000A1B2C3-7A', amount: '1230.00', taxes: [{ rate: '23', netAmount: '1000.00', vatAmount: '230.00' }] }],
    });
    expect([tag(built.xml, 'P_13_1'), tag(built.xml, 'P_14_1'), tag(built.xml, 'P_13_2'), tag(built.xml, 'P_14_2'), tag(built.xml, 'P_15')]).toEqual(['0.00', '0.00', '1000.00', '80.00', '1080.00']);
    await expect(build({ ...EXAMPLES.roz.value, advances: [{ ksefNumber: '5265877635-20261110-010000A1B2C3-7A', amount: '100.00', taxes: [{ rate: '23', netAmount: '80.00', vatAmount: '18.40' }] }] })).rejects.toMatchObject({
      issues: [{ path: 'advances[0].taxes', message: 'net + tax add up to 98.40, not the amount 100.00' }],
    });
  });

  test('KOR with difference rows: the header is the sum of the differences', async () => {
    const built = await build({ ...EXAMPLES.kor.value, lines: [line('-50.00', '23', { quantity: '2' }), line('10.00', '8')] });
    expect([tag(built.xml, 'P_13_1'), tag(built.xml, 'P_14_1'), tag(built.xml, 'P_13_2'), tag(built.xml, 'P_14_2'), tag(built.xml, 'P_15')]).toEqual(['-100.00', '-23.00', '10.00', '0.80', '-112.20']);
    expect(tags(built.xml, 'StanPrzed')).toEqual([]);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('KOR_ZAL with the order changed: before and after rows, each amount split over its own order', async () => {
    const built = await build({
      ...EXAMPLES.kor_zal.value,
      order: { lines: [line('1000.00', '23', { before: true }), line('1000.00', '23'), line('500.00', '8')] },
      advance: { amount: '1000.00', amountBefore: '615.00', paymentDate: '2026-11-09' },
    });
    // After: 1000 × 1230 / 1770 = 694.92 at 23 % (tax 129.944… → 129.94, net 564.98), 305.08 at 8 % (tax 22.60, net 282.48);
    // before: 615.00 at 23 % (tax 115.00, net 500.00).
    const inv = parseFa3(built.xml);
    expect(inv.totals).toEqual([
      { bucket: 'basic', net: '64.98', vat: '14.94', vatPln: undefined },
      { bucket: 'reduced1', net: '282.48', vat: '22.60', vatPln: undefined },
    ]);
    expect([inv.totalDue, inv.totalDueBeforeCorrection, inv.order?.value]).toEqual(['385.00', '615.00', '1770.00']);
    expect(inv.order?.lines.map((l) => l.before)).toEqual([true, false, false]);
    expect((await rulesOf(built)).errors).toEqual([]);
  });
});

describe('annotations follow the lines', () => {
  test('a line at oo: P_13_10, no tax, reverse charge P_18 = 1 without being asked', async () => {
    const built = await build(vat({ lines: [line('1000.00', 'oo')] }));
    expect([tag(built.xml, 'P_13_10'), tag(built.xml, 'P_15'), tag(built.xml, 'P_18')]).toEqual(['1000.00', '1000.00', '1']);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('an exempt line: P_13_7 and P_19 = 1 with its legal basis', async () => {
    const built = await build(vat({ lines: [line('300.00', 'zw')], exemption: { basis: 'polishLaw', text: 'art. 43 ust. 1 pkt 29 ustawy o VAT' } }));
    const inv = parseFa3(built.xml);
    expect(inv.annotations.exemption).toEqual({ basis: 'P_19A', text: 'art. 43 ust. 1 pkt 29 ustawy o VAT' });
    expect(tag(built.xml, 'P_13_7')).toBe('300.00');
    expect(tag(built.xml, 'P_19N')).toBeUndefined();
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('goods of Annex 15 over 15 000 PLN: split payment P_18A = 1; under it, 2', async () => {
    const over = await build(vat({ lines: [line('12195.13', '23', { annex15: true })] })); // 15000.01 gross
    expect([tag(over.xml, 'P_15'), tag(over.xml, 'P_18A'), tag(over.xml, 'P_12_Zal_15')]).toEqual(['15000.01', '1', '1']);
    const under = await build(vat({ lines: [line('12195.12', '23', { annex15: true })] })); // 15000.00 gross: not over
    expect(tag(under.xml, 'P_18A')).toBe('2');
    await expect(build(vat({ lines: [line('12195.13', '23', { annex15: true })], splitPayment: false }))).rejects.toBeInstanceOf(DraftError);
  });

  test('an intra-Community supply: P_13_6_2, the seller with its PL prefix, the buyer by EU VAT number', async () => {
    const built = await build(
      vat({ seller: { ...SELLER, vatPrefix: true }, buyer: { euVatNumber: { countryCode: 'DE', number: '123456789' }, name: 'Käufer GmbH', address: { countryCode: 'DE', line1: 'Hauptstraße 1', line2: '10115 Berlin' } }, lines: [line('5000.00', '0 WDT')] }),
    );
    const inv = parseFa3(built.xml);
    expect(inv.seller.vatPrefix).toBe('PL');
    expect(inv.buyer).toMatchObject({ eu: { countryCode: 'DE', vatNumber: '123456789' }, name: 'Käufer GmbH', address: { countryCode: 'DE' } });
    expect(group(inv, 'P_13_6_2')).toEqual({ bucket: 'zeroWdt', net: '5000.00', vat: undefined, vatPln: undefined });
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });

  test('JST: the subordinate unit as a third party with role 8', async () => {
    const built = await build(vat({ buyer: { ...BUYER, jst: true }, thirdParties: [{ nip: '1111111111', name: 'Szkoła Podstawowa nr 1', role: 8 }] }));
    const inv = parseFa3(built.xml);
    expect(inv.buyer.jst).toBe(true);
    expect(inv.thirdParties).toEqual([expect.objectContaining({ nip: '1111111111', name: 'Szkoła Podstawowa nr 1', role: '8' })]);
    expect(await rulesOf(built)).toEqual({ valid: true, errors: [], warnings: [] });
  });
});

describe('round trip: build → our parser → the same facts', () => {
  /** A decimal without trailing zeros, to compare '200.00' with '200'. */
  const dec = (v: string | undefined) => (v === undefined ? undefined : v.includes('.') ? v.replace(/0+$/, '').replace(/\.$/, '') : v);

  test.each(Object.keys(EXAMPLES))('%s', async (name) => {
    const draft = EXAMPLES[name].value;
    const built = await build(draft);
    const inv = parseFa3(built.xml);
    expect({ kind: inv.kind, number: inv.number, issueDate: inv.issueDate, currency: inv.currency }).toEqual({ kind: draft.kind, number: draft.number, issueDate: draft.issueDate, currency: 'PLN' });
    expect({ nip: inv.seller.nip, name: inv.seller.name, address: inv.seller.address }).toEqual({
      nip: draft.seller.nip,
      name: draft.seller.name,
      address: { countryCode: 'PL', line1: draft.seller.address.line1, line2: draft.seller.address.line2, gln: undefined },
    });
    expect({ nip: inv.buyer.nip, name: inv.buyer.name, address: inv.buyer.address?.line1 }).toEqual({ nip: draft.buyer.nip, name: draft.buyer.name, address: draft.buyer.address?.line1 });
    expect(inv.lines.map((l) => ({ name: l.name, quantity: dec(l.quantity), price: dec(l.unitNetPrice ?? l.unitGrossPrice), rate: l.rate, before: l.before, unit: l.unit, gtu: l.gtu }))).toEqual(
      (draft.lines ?? []).map((l) => ({ name: l.name, quantity: dec(l.quantity ?? '1'), price: dec(l.unitNetPrice ?? l.unitGrossPrice), rate: l.rate, before: l.before === true, unit: l.unit, gtu: l.gtu })),
    );
    expect(inv.order?.lines.map((l) => ({ name: l.name, price: dec(l.unitNetPrice), rate: l.rate }))).toEqual(draft.order?.lines.map((l) => ({ name: l.name, price: dec(l.unitNetPrice), rate: l.rate })));
    expect(inv.correctedInvoices).toEqual((draft.correction?.invoices ?? []).map((c) => ({ issueDate: c.issueDate, number: c.number, ksefNumber: c.ksefNumber, outsideKsef: false })));
    expect(inv.advances.map((a) => a.ksefNumber)).toEqual((draft.advances ?? []).map((a) => a.ksefNumber));
    // The totals the builder reports are the ones in the XML.
    expect(built.summary.taxes.map((t) => [t.netAmount, t.vatAmount])).toEqual(inv.totals.map((t) => [t.net, t.vat ?? null]));
    expect(built.summary.grossAmount).toBe(inv.totalDue);
    const forms: Record<string, string> = { transfer: '6', card: '2' };
    expect(inv.payment?.form).toBe(forms[draft.payment?.method ?? '']);
  });

  test('a draft with createdAt gives the same bytes every time; text is written with its whitespace collapsed', async () => {
    const draft = { ...EXAMPLES.vat.value, createdAt: '2026-11-16T10:00:00.123+01:00', seller: { ...SELLER, name: '  Fast   KSeF\tDemo  ' } };
    const [a, b] = [await build(draft), await build(draft, { now: new Date('2030-01-01T00:00:00Z') })];
    expect(Buffer.compare(a.xml, b.xml)).toBe(0);
    expect(tag(a.xml, 'DataWytworzeniaFa')).toBe('2026-11-16T09:00:00Z');
    expect(parseFa3(a.xml).seller.name).toBe('Fast KSeF Demo');
    expect(a.xml.subarray(0, 3).toString('hex')).not.toBe('efbbbf');
  });

  test('text that needs escaping survives: & < > " in names', async () => {
    const built = await build(vat({ lines: [{ ...line('1', '23'), name: 'Śruby <M6> & "nakrętki"' }] }));
    expect(parseFa3(built.xml).lines[0].name).toBe('Śruby <M6> & "nakrętki"');
  });
});
