import { Fa3ParseError, ValidationResult, parseFa3, summarize, validateFa3 } from '../../src/local/fa3/index.js';
import { describeWithShared, readSample, sampleNames } from '../support/shared.js';

type Sample = (typeof sampleNames)[number];

const TODAY = '2026-11-25';

/** A sample with one textual change; throws when the change does not apply. */
function edit(sample: Sample, from: string | RegExp, to: string): Buffer {
  const text = readSample(sample).toString('utf8');
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`variant of ${sample} did not apply: ${from}`);
  return Buffer.from(changed, 'utf8');
}

const codesAndPaths = (r: ValidationResult, which: 'errors' | 'warnings' = 'errors') =>
  r[which].map((i) => [i.code, i.path]);

describeWithShared('FA(3) samples', () => {
  it.each(sampleNames)('%s validates with no errors', async (name) => {
    const result = await validateFa3(readSample(name), { today: TODAY });
    expect(result.errors).toEqual([]);
    expect(result.valid).toBe(true);
    // The only remark on a past-dated sample: sent today it would count as issued offline.
    expect(result.warnings.map((w) => w.code)).toEqual(['D2']);
  });

  it.each(sampleNames)('%s validates with no issues at all in ingest mode on test', async (name) => {
    const result = await validateFa3(readSample(name), { mode: 'ingest', environment: 'test', today: TODAY });
    expect(result).toMatchObject({ valid: true, errors: [], warnings: [] });
  });

  it('summarises each sample', async () => {
    const summaries = await Promise.all(
      sampleNames.map(async (n) => (await validateFa3(readSample(n), { today: TODAY })).summary),
    );
    const common = { sellerNip: '5265877635', buyerNip: '1234563218', buyerName: 'Przykładowy Nabywca S.A.', currency: 'PLN' };
    expect(summaries).toEqual([
      { ...common, invoiceNumber: 'FV/2026/02/0001', type: 'VAT', issueDate: '2026-02-02', net: '2000.00', vat: '385.00', gross: '2385.00' },
      { ...common, invoiceNumber: 'FZ/2026/03/0001', type: 'ZAL', issueDate: '2026-03-02', net: '3000.00', vat: '690.00', gross: '3690.00' },
      { ...common, invoiceNumber: 'FV/2026/05/0007', type: 'ROZ', issueDate: '2026-05-04', net: '5000.00', vat: '1150.00', gross: '6150.00' },
      { ...common, invoiceNumber: 'KOR/2026/02/0001', type: 'KOR', issueDate: '2026-02-16', net: '-300.00', vat: '-69.00', gross: '-369.00' },
    ]);
  });

  it('parses the VAT invoice into the model', () => {
    const inv = parseFa3(readSample('fa3-vat.xml'));
    expect(inv).toMatchObject({
      formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' },
      formVariant: '3',
      createdAt: '2026-02-02T09:30:00Z',
      systemInfo: 'Example FA3 server 0.1',
      kind: 'VAT',
      number: 'FV/2026/02/0001',
      issueDate: '2026-02-02',
      place: 'Warszawa',
      saleDate: '2026-01-30',
      currency: 'PLN',
      seller: {
        nip: '5265877635',
        name: 'Przykładowy Sprzedawca Sp. z o.o.',
        address: { countryCode: 'PL', line1: 'ul. Testowa 1', line2: '00-001 Warszawa' },
        contacts: [{ email: 'faktury@sprzedawca.example' }],
      },
      buyer: { nip: '1234563218', name: 'Przykładowy Nabywca S.A.', jst: false, gv: false, noId: false },
      thirdParties: [],
      totals: [
        { bucket: 'basic', net: '1500.00', vat: '345.00' },
        { bucket: 'reduced1', net: '500.00', vat: '40.00' },
      ],
      totalDue: '2385.00',
      annotations: {
        cashAccounting: false,
        selfBilling: false,
        reverseCharge: false,
        splitPayment: false,
        simplifiedTriangular: false,
      },
      correctedInvoices: [],
      advances: [],
      payment: {
        paid: false,
        terms: [{ date: '2026-02-16' }],
        form: '6',
        bankAccounts: [{ number: '96102026290000960200123456', bankName: 'Bank Przykładowy S.A.' }],
      },
      footer: { information: ['Dziękujemy za współpracę.'], registers: [] },
    });
    expect(inv.annotations.exemption).toBeUndefined();
    expect(inv.lines).toEqual([
      expect.objectContaining({ lineNo: '1', name: 'Usługa wdrożeniowa (godziny pracy)', unit: 'godz.', quantity: '10', unitNetPrice: '150.00', netValue: '1500.00', rate: '23', before: false }),
      expect.objectContaining({ lineNo: '2', name: 'Usługa cateringowa na szkolenie', quantity: '2', unitNetPrice: '250.00', netValue: '500.00', rate: '8' }),
    ]);
  });

  it('parses the references of ZAL, ROZ and KOR', () => {
    const zal = parseFa3(readSample('fa3-zal.xml'));
    expect(zal.kind).toBe('ZAL');
    expect(zal.lines).toEqual([]);
    expect(zal.payment).toMatchObject({ paid: true, paymentDate: '2026-02-27', form: '6' });
    expect(zal.transactionTerms?.orders).toEqual([{ date: '2026-02-20', number: 'ZAM/2026/017' }]);
    expect(zal.order).toEqual({
      value: '12300.00',
      lines: [
        expect.objectContaining({ lineNo: '1', name: 'Maszyna pakująca MP-200', quantity: '1', unitNetPrice: '10000.00', netValue: '10000.00', vatValue: '2300.00', rate: '23' }),
      ],
    });

    const roz = parseFa3(readSample('fa3-roz.xml'));
    expect(roz.advances).toEqual([
      { ksefNumber: '5265877635-20260302-01000012A3B4-2C', outsideKsef: false },
      { ksefNumber: '5265877635-20260401-0100002C5D6E-30', outsideKsef: false },
    ]);
    expect(roz.totalDue).toBe('6150.00');

    const kor = parseFa3(readSample('fa3-kor.xml'));
    expect(kor).toMatchObject({
      kind: 'KOR',
      correctionReason: 'Rozliczenie faktycznie przepracowanych godzin (8 zamiast 10)',
      correctionType: '2',
      correctedInvoices: [
        { issueDate: '2026-02-02', number: 'FV/2026/02/0001', ksefNumber: '5265877635-20260202-010000F1E2D3-DC', outsideKsef: false },
      ],
      totals: [{ bucket: 'basic', net: '-300.00', vat: '-69.00' }],
      totalDue: '-369.00',
    });
    expect(kor.lines.map((l) => [l.quantity, l.netValue, l.before])).toEqual([
      ['10', '1500.00', true],
      ['8', '1200.00', false],
    ]);
  });

  it('keeps amounts as strings exactly as written', () => {
    const inv = parseFa3(edit('fa3-vat.xml', '<P_13_2>500.00</P_13_2>', '<P_13_2> 500.5 </P_13_2>'));
    expect(inv.totals[1]).toEqual({ bucket: 'reduced1', net: '500.5', vat: '40.00' });
  });

  it('reads elements written with a namespace prefix', () => {
    const text = readSample('fa3-vat.xml')
      .toString('utf8')
      .replace('<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/">', '<fa:Faktura xmlns:fa="http://crd.gov.pl/wzor/2025/06/25/13775/">')
      .replace(/<(\/?)([A-Za-z_][\w]*)([ >])/g, (m, slash, name, end) => (name === 'Faktura' && !slash ? m : `<${slash}fa:${name}${end}`));
    const inv = parseFa3(Buffer.from(text));
    expect(summarize(inv)).toMatchObject({ invoiceNumber: 'FV/2026/02/0001', gross: '2385.00' });
  });
});

describeWithShared('FA(3) validator: broken documents', () => {
  const validate = (xml: Buffer, options = {}) => validateFa3(xml, { today: TODAY, ...options });

  it('a missing mandatory element is reported at its path', async () => {
    const result = await validate(edit('fa3-vat.xml', /\s*<P_15>2385.00<\/P_15>/, ''));
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([
      expect.objectContaining({ code: 'SCHEMA_MISSING', path: '/Faktura/Fa/P_15', message: expect.stringContaining('P_15') }),
    ]);
    expect(result.invoice).toBeUndefined();
  });

  it('a missing mandatory buyer flag (FA(2)-style buyer) is reported', async () => {
    const result = await validate(edit('fa3-vat.xml', /\s*<JST>2<\/JST>/, ''));
    expect(codesAndPaths(result)).toEqual([['SCHEMA_MISSING', '/Faktura/Podmiot2/JST']]);
  });

  it('independent structural problems are reported together', async () => {
    const text = readSample('fa3-vat.xml').toString('utf8').replace(/\s*<JST>2<\/JST>/, '').replace('<P_12>8</P_12>', '<P_12>8%</P_12>');
    const result = await validate(Buffer.from(text));
    expect(codesAndPaths(result)).toEqual([
      ['SCHEMA_MISSING', '/Faktura/Podmiot2/JST'],
      ['SCHEMA_VALUE', '/Faktura/Fa/FaWiersz[2]/P_12'],
    ]);
  });

  it('a bad NIP checksum is an error on prod and a warning on test and demo', async () => {
    const xml = edit('fa3-vat.xml', '<NIP>1234563218</NIP>', '<NIP>1234563219</NIP>');
    const prod = await validate(xml, { environment: 'prod' });
    expect(codesAndPaths(prod)).toEqual([['N1', '/Faktura/Podmiot2/DaneIdentyfikacyjne/NIP']]);
    expect(prod.errors[0].message).toContain('1234563219');
    expect(prod.invoice?.buyer.nip).toBe('1234563219');

    for (const environment of ['test', 'demo'] as const) {
      const r = await validate(xml, { environment });
      expect(r.valid).toBe(true);
      expect(codesAndPaths(r, 'warnings')).toContainEqual(['N1', '/Faktura/Podmiot2/DaneIdentyfikacyjne/NIP']);
    }
  });

  it('totals that do not add up break T1', async () => {
    const result = await validate(edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>2386.00</P_15>'));
    expect(codesAndPaths(result)).toEqual([['T1', '/Faktura/Fa/P_15']]);
    expect(result.errors[0].message).toMatch(/2386\.00.*2385\.00/);
    // Already accepted by KSeF: only a warning.
    const ingest = await validate(edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>2386.00</P_15>'), { mode: 'ingest' });
    expect(ingest.valid).toBe(true);
    expect(codesAndPaths(ingest, 'warnings')).toContainEqual(['T1', '/Faktura/Fa/P_15']);
  });

  it('a KOR without the corrected invoice breaks K1', async () => {
    const xml = edit('fa3-kor.xml', /\s*<PrzyczynaKorekty>[\s\S]*<\/DaneFaKorygowanej>/, '');
    const result = await validate(xml);
    expect(codesAndPaths(result)).toEqual([['K1', '/Faktura/Fa/DaneFaKorygowanej']]);
    expect(result.errors[0].message).toContain('corrected invoice');
  });

  it('a correction block without DaneFaKorygowanej fails the structure', async () => {
    const result = await validate(edit('fa3-kor.xml', /\s*<DaneFaKorygowanej>[\s\S]*<\/DaneFaKorygowanej>/, ''));
    expect(codesAndPaths(result)).toEqual([['SCHEMA_MISSING', '/Faktura/Fa/DaneFaKorygowanej']]);
  });

  it('a wrong namespace is refused before anything else', async () => {
    const fa2 = await validate(edit('fa3-vat.xml', 'http://crd.gov.pl/wzor/2025/06/25/13775/', 'http://crd.gov.pl/wzor/2023/06/29/12648/'));
    expect(codesAndPaths(fa2)).toEqual([['NAMESPACE', '/Faktura']]);
    expect(fa2.errors[0].message).toContain('FA(2)');

    const none = await validate(edit('fa3-vat.xml', ' xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"', ''));
    expect(codesAndPaths(none)).toEqual([['NAMESPACE', '/Faktura']]);
    expect(none.errors[0].message).toContain('without a namespace');
  });

  it('another form code is refused', async () => {
    const result = await validate(edit('fa3-vat.xml', 'kodSystemowy="FA (3)"', 'kodSystemowy="FA (2)"'));
    expect(codesAndPaths(result)).toEqual([['FORM_CODE', '/Faktura/Naglowek/KodFormularza/@kodSystemowy']]);
    expect(() => parseFa3(edit('fa3-vat.xml', 'wersjaSchemy="1-0E"', 'wersjaSchemy="1-0"'))).toThrow(Fa3ParseError);
  });

  it('something that is not XML at all is refused', async () => {
    const result = await validate(Buffer.from('{"invoice": "FV/1"}'));
    expect(result).toEqual({ valid: false, errors: [expect.objectContaining({ code: 'XML', path: '/' })], warnings: [] });
    expect(result.errors[0].message).toMatch(/not XML/);
  });

  it('an empty body is refused', async () => {
    for (const body of ['', '  \n']) {
      const result = await validate(Buffer.from(body));
      expect(codesAndPaths(result)).toEqual([['EMPTY', '/']]);
    }
  });

  it('malformed XML is refused with its line', async () => {
    const result = await validate(edit('fa3-vat.xml', '</P_2>', '</P_3>'));
    expect(result.errors).toEqual([expect.objectContaining({ code: 'XML', path: '/', line: 40 })]);
    expect(result.errors[0].message).toContain('</P_3> does not match <P_2>');
  });

  it('UTF-16 and invalid UTF-8 are refused', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readSample('fa3-vat.xml').toString('utf8'), 'utf16le')]);
    expect(codesAndPaths(await validate(utf16))).toEqual([['ENCODING', '/']]);
    // A lone ISO-8859-2 'ł' byte.
    const latin2 = Buffer.concat([Buffer.from('<?xml version="1.0"?><a>'), Buffer.from([0xb3]), Buffer.from('</a>')]);
    expect(codesAndPaths(await validate(latin2))).toEqual([['ENCODING', '/']]);
  });

  it('a byte order mark breaks F1 but the invoice is still read', async () => {
    const bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), readSample('fa3-vat.xml')]);
    const result = await validate(bom);
    expect(codesAndPaths(result)).toEqual([['F1', '/']]);
    expect(result.summary?.invoiceNumber).toBe('FV/2026/02/0001');
    expect((await validate(bom, { mode: 'ingest' })).valid).toBe(true);
  });

  it('values outside their type are reported at the element', async () => {
    const cases: [Buffer, string, string | RegExp][] = [
      [edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2026-02-30</P_1>'), '/Faktura/Fa/P_1', 'not a calendar date'],
      [edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>2385.000</P_15>'), '/Faktura/Fa/P_15', 'at most 2 decimal places'],
      [edit('fa3-vat.xml', '<NIP>5265877635</NIP>', '<NIP>0265877635</NIP>'), '/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP', 'etd:TNrNIP pattern'],
      [edit('fa3-vat.xml', '<P_12>23</P_12>', '<P_12>23%</P_12>'), '/Faktura/Fa/FaWiersz[1]/P_12', /'23%' is not an allowed TStawkaPodatku value/],
      [edit('fa3-kor.xml', '<NrKSeF>1</NrKSeF>', '<NrKSeF>5265877635-20260202-010000F1E2D3-DC</NrKSeF>'), '/Faktura/Fa/DaneFaKorygowanej/NrKSeF', 'not an integer'],
    ];
    for (const [xml, path, message] of cases) {
      const result = await validate(xml);
      expect(result.errors).toEqual([expect.objectContaining({ code: 'SCHEMA_VALUE', path, message: expect.stringMatching(message) })]);
    }
  });

  it('a blank invoice number is rule I2', async () => {
    const result = await validate(edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>  </P_2>'));
    expect(codesAndPaths(result)).toEqual([['I2', '/Faktura/Fa/P_2']]);
  });

  it('unexpected, misplaced and foreign elements are reported at the element', async () => {
    const unknown = await validate(edit('fa3-vat.xml', '<P_15>', '<Foo>1</Foo><P_15>'));
    expect(codesAndPaths(unknown)).toEqual([['SCHEMA_UNEXPECTED', '/Faktura/Fa/Foo']]);
    expect(unknown.errors[0].message).toContain('expected P_15');

    const twice = await validate(edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>FV/2026/02/0001</P_2><P_2>X</P_2>'));
    expect(codesAndPaths(twice)).toEqual([['SCHEMA_UNEXPECTED', '/Faktura/Fa/P_2[2]']]);

    const foreign = await validate(edit('fa3-vat.xml', '<P_1M>Warszawa</P_1M>', '<x:P_1M xmlns:x="urn:x">Warszawa</x:P_1M>'));
    expect(codesAndPaths(foreign)).toEqual([['SCHEMA_UNEXPECTED', '/Faktura/Fa/P_1M']]);
    expect(foreign.errors[0].message).toContain('not in the FA(3) namespace');
  });

  it('attributes are checked', async () => {
    const extra = await validate(edit('fa3-vat.xml', '<Fa>', '<Fa foo="1">'));
    expect(codesAndPaths(extra)).toEqual([['SCHEMA_ATTRIBUTE', '/Faktura/Fa/@foo']]);
    const missing = await validate(edit('fa3-vat.xml', ' wersjaSchemy="1-0E"', ''));
    expect(codesAndPaths(missing)).toEqual([['SCHEMA_ATTRIBUTE', '/Faktura/Naglowek/KodFormularza/@wersjaSchemy']]);
  });

  it('lists at most 100 structural problems', async () => {
    const badLine = (n: number) => `<FaWiersz><NrWierszaFa>${n}</NrWierszaFa><P_7>x</P_7><P_12>8%</P_12></FaWiersz>`;
    const lines = Array.from({ length: 150 }, (_, i) => badLine(i + 1)).join('');
    const result = await validate(edit('fa3-vat.xml', /<FaWiersz>[\s\S]*<\/FaWiersz>/, lines));
    expect(result.errors).toHaveLength(101);
    expect(result.errors[99]).toMatchObject({ code: 'SCHEMA_VALUE', path: '/Faktura/Fa/FaWiersz[100]/P_12' });
    expect(result.errors[100]).toMatchObject({ code: 'SCHEMA_MORE', message: '50 more structural problems not listed' });
  });

  it('parseFa3 throws Fa3ParseError with issues for non-FA(3) input', () => {
    expect(() => parseFa3(Buffer.from('<a>'))).toThrow(Fa3ParseError);
    try {
      parseFa3(Buffer.from(''));
    } catch (e) {
      expect((e as Fa3ParseError).issues).toEqual([expect.objectContaining({ code: 'EMPTY', path: '/' })]);
    }
    expect.assertions(2);
  });

  it('refuses invalid options', async () => {
    await expect(validateFa3(readSample('fa3-vat.xml'), { today: '25.11.2026' })).rejects.toThrow(TypeError);
    await expect(validateFa3(readSample('fa3-vat.xml'), { environment: 'staging' as never })).rejects.toThrow(TypeError);
  });
});
