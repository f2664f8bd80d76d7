import { ValidateOptions, ValidationResult, validateFa3 } from '../../src/local/fa3/index.js';
import { describeWithShared, readSample, sampleNames } from '../support/shared.js';

type Sample = (typeof sampleNames)[number];

/** A sample with textual changes applied in order; throws when one does not apply. */
function edit(sample: Sample, ...changes: [from: string | RegExp, to: string][]): Buffer {
  let text = readSample(sample).toString('utf8');
  for (const [from, to] of changes) {
    const changed = text.replace(from, to);
    if (changed === text) throw new Error(`change of ${sample} did not apply: ${from}`);
    text = changed;
  }
  return Buffer.from(text, 'utf8');
}

const TODAY = '2026-11-25';
const validate = (xml: Buffer, options: ValidateOptions = {}) => validateFa3(xml, { today: TODAY, ...options });

/** [code, path] of the findings other than D2 (every past-dated sample gets that one). */
const findings = (r: ValidationResult, which: 'errors' | 'warnings') =>
  r[which].filter((i) => i.code !== 'D2').map((i) => [i.code, i.path]);

/** Expects exactly these errors in mode 'issue', and the same findings as warnings in mode 'ingest'. */
async function expectErrors(xml: Buffer, expected: [string, string][], options: ValidateOptions = {}) {
  const issue = await validate(xml, options);
  expect(findings(issue, 'errors')).toEqual(expected);
  expect(issue.valid).toBe(false);
  const ingest = await validate(xml, { ...options, mode: 'ingest' });
  expect(ingest.valid).toBe(true);
  expect(findings(ingest, 'warnings')).toEqual(expect.arrayContaining(expected));
  return issue;
}

async function expectWarnings(xml: Buffer, expected: [string, string][], options: ValidateOptions = {}) {
  const result = await validate(xml, options);
  expect(findings(result, 'errors')).toEqual([]);
  expect(findings(result, 'warnings')).toEqual(expected);
  return result;
}

describeWithShared('FA(3) business rules (FA3.md §6)', () => {
  describe('F: the bytes', () => {
    it('F1 refuses a non-UTF-8 declaration, processing instructions and discouraged characters', async () => {
      await expectErrors(edit('fa3-vat.xml', ['encoding="UTF-8"', 'encoding="ISO-8859-2"']), [['F1', '/']]);
      await expectErrors(edit('fa3-vat.xml', ['<Faktura', '<?xml-stylesheet href="a.xsl"?><Faktura']), [['F1', '/']]);
      const r = await expectErrors(edit('fa3-vat.xml', ['Usługa cateringowa', 'Usługa\u0080cateringowa']), [['F1', '/']]);
      expect(r.errors[0]).toMatchObject({ line: 75, message: expect.stringContaining('U+0080') });
    });

    it('F2 limits the size to 1 MB (3 MB with an attachment)', async () => {
      const padded = edit('fa3-vat.xml', ['</Stopka>', `</Stopka>${' '.repeat(1_000_000)}`]);
      await expectErrors(padded, [['F2', '/']]);
    });
  });

  describe('D: dates', () => {
    it('D1 refuses an issue date after today (Europe/Warsaw)', async () => {
      await expectErrors(readSample('fa3-vat.xml'), [['D1', '/Faktura/Fa/P_1']], { today: '2026-02-01' });
      await expectWarnings(readSample('fa3-vat.xml'), [], { today: '2026-02-02' });
    });

    it('D2 warns that an invoice dated before today is recorded as offline', async () => {
      const result = await validate(readSample('fa3-vat.xml'));
      expect(result.warnings.map((w) => [w.code, w.path])).toEqual([['D2', '/Faktura/Fa/P_1']]);
    });

    it('D3 warns when the corrected invoice is dated after the correction', async () => {
      await expectWarnings(edit('fa3-kor.xml', ['<DataWystFaKorygowanej>2026-02-02', '<DataWystFaKorygowanej>2026-02-17']), [
        ['D3', '/Faktura/Fa/DaneFaKorygowanej/DataWystFaKorygowanej'],
      ]);
    });
  });

  describe('N1: NIP checksums', () => {
    const p3 = (id: string) =>
      `</Podmiot2><Podmiot3><DaneIdentyfikacyjne>${id}<Nazwa>Odbiorca</Nazwa></DaneIdentyfikacyjne><Rola>2</Rola></Podmiot3>`;

    it('checks the seller, third parties (NIP and IDWew) and the authorised party', async () => {
      const xml = edit(
        'fa3-vat.xml',
        ['<NIP>5265877635</NIP>', '<NIP>5265877636</NIP>'],
        ['</Podmiot2>', p3('<IDWew>1234563219-00001</IDWew>') + '<Podmiot3><DaneIdentyfikacyjne><NIP>1111111112</NIP></DaneIdentyfikacyjne><Rola>2</Rola></Podmiot3>'],
        ['<Fa>', '<PodmiotUpowazniony><DaneIdentyfikacyjne><NIP>1234563217</NIP><Nazwa>Komornik</Nazwa></DaneIdentyfikacyjne><Adres><KodKraju>PL</KodKraju><AdresL1>ul. 1</AdresL1></Adres><RolaPU>1</RolaPU></PodmiotUpowazniony><Fa>'],
      );
      await expectErrors(xml, [
        ['N1', '/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP'],
        ['N1', '/Faktura/Podmiot3[1]/DaneIdentyfikacyjne/IDWew'],
        ['N1', '/Faktura/Podmiot3[2]/DaneIdentyfikacyjne/NIP'],
        ['N1', '/Faktura/PodmiotUpowazniony/DaneIdentyfikacyjne/NIP'],
      ]);
      expect((await validate(xml, { environment: 'test' })).valid).toBe(true);
    });

    it('accepts valid ones', async () => {
      await expectWarnings(edit('fa3-vat.xml', ['</Podmiot2>', p3('<IDWew>1234563218-00001</IDWew>')]), []);
    });
  });

  describe('T: totals', () => {
    it('T1 checks P_15 against the buckets, for corrections too', async () => {
      await expectErrors(edit('fa3-kor.xml', ['<P_15>-369.00</P_15>', '<P_15>-369.01</P_15>']), [['T1', '/Faktura/Fa/P_15']]);
    });

    it('T1 ignores the PLN tax (W fields)', async () => {
      const eur = edit(
        'fa3-vat.xml',
        ['<KodWaluty>PLN', '<KodWaluty>EUR'],
        ['<P_14_1>345.00</P_14_1>', '<P_14_1>345.00</P_14_1><P_14_1W>1466.25</P_14_1W>'],
        ['<P_14_2>40.00</P_14_2>', '<P_14_2>40.00</P_14_2><P_14_2W>170.00</P_14_2W>'],
        ['<P_12>23</P_12>', '<P_12>23</P_12><KursWaluty>4.25</KursWaluty>'],
      );
      await expectWarnings(eur, []);
    });

    it('T2 compares line values per rate with the header', async () => {
      const xml = edit(
        'fa3-vat.xml',
        ['<P_11>1500.00</P_11>', '<P_11>1400.00</P_11>'],
        ['<P_12>8</P_12>', '<P_12>5</P_12>'],
      );
      await expectWarnings(xml, [
        ['T2', '/Faktura/Fa/P_13_1'],
        ['T2', '/Faktura/Fa/P_13_2'],
        ['T2', '/Faktura/Fa/P_13_3'],
      ]);
    });

    it('T2 counts before-rows of a correction negatively', async () => {
      await expectWarnings(edit('fa3-kor.xml', ['<P_11>1200.00</P_11>', '<P_11>1300.00</P_11>']), [['T2', '/Faktura/Fa/P_13_1']]);
    });

    it('T3 checks the tax against the rate, with a cent of tolerance per line', async () => {
      const off = edit('fa3-vat.xml', ['<P_14_1>345.00</P_14_1>', '<P_14_1>345.02</P_14_1>'], ['<P_15>2385.00', '<P_15>2385.02']);
      const result = await expectWarnings(off, [['T3', '/Faktura/Fa/P_14_1']]);
      expect(result.warnings.find((w) => w.code === 'T3')?.message).toContain('345.00');
      const withinCent = edit('fa3-vat.xml', ['<P_14_1>345.00</P_14_1>', '<P_14_1>345.01</P_14_1>'], ['<P_15>2385.00', '<P_15>2385.01']);
      await expectWarnings(withinCent, []);
    });

    it('T4 checks the settlement sums and the amount to pay', async () => {
      const settlement = (toPay: string) =>
        edit('fa3-vat.xml', [
          '<Platnosc>',
          `<Rozliczenie><Obciazenia><Kwota>15.00</Kwota><Powod>Transport</Powod></Obciazenia><SumaObciazen>15.00</SumaObciazen><Odliczenia><Kwota>5.00</Kwota><Powod>Rabat</Powod></Odliczenia><Odliczenia><Kwota>5.00</Kwota><Powod>Rabat</Powod></Odliczenia><SumaOdliczen>10.00</SumaOdliczen><DoZaplaty>${toPay}</DoZaplaty></Rozliczenie><Platnosc>`,
        ]);
      await expectWarnings(settlement('2390.00'), []);
      await expectWarnings(settlement('2385.00'), [['T4', '/Faktura/Fa/Rozliczenie/DoZaplaty']]);
    });

    it('T5 warns when the partial payments of a ROZ exceed P_15', async () => {
      const xml = edit('fa3-roz.xml', [
        '<FakturaZaliczkowa>',
        '<ZaliczkaCzesciowa><P_6Z>2026-05-01</P_6Z><P_15Z>6000.00</P_15Z></ZaliczkaCzesciowa><ZaliczkaCzesciowa><P_6Z>2026-05-02</P_6Z><P_15Z>150.01</P_15Z></ZaliczkaCzesciowa><FakturaZaliczkowa>',
      ]);
      await expectWarnings(xml, [['T5', '/Faktura/Fa/ZaliczkaCzesciowa']]);
    });
  });

  describe('C: currency', () => {
    it('C1 requires the PLN tax on a foreign-currency invoice, C3 an exchange rate', async () => {
      const r = await expectErrors(edit('fa3-vat.xml', ['<KodWaluty>PLN', '<KodWaluty>EUR']), [
        ['C1', '/Faktura/Fa/P_14_1W'],
        ['C1', '/Faktura/Fa/P_14_2W'],
      ]);
      expect(findings(r, 'warnings')).toEqual([['C3', '/Faktura/Fa/KodWaluty']]);
    });

    it('C2 warns about PLN tax fields on a PLN invoice', async () => {
      await expectWarnings(edit('fa3-vat.xml', ['<P_14_1>345.00</P_14_1>', '<P_14_1>345.00</P_14_1><P_14_1W>345.00</P_14_1W>']), [
        ['C2', '/Faktura/Fa/P_14_1W'],
      ]);
    });
  });

  describe('K: kinds and references', () => {
    it('K1 refuses DaneFaKorygowanej on a kind that is not a correction', async () => {
      await expectErrors(edit('fa3-kor.xml', ['<RodzajFaktury>KOR', '<RodzajFaktury>VAT']), [['K1', '/Faktura/Fa/DaneFaKorygowanej']]);
    });

    it('K2 checks the CRC of referenced KSeF numbers (not of 36-character 1.0 numbers)', async () => {
      await expectErrors(edit('fa3-kor.xml', ['010000F1E2D3-DC', '010000F1E2D3-DD']), [
        ['K2', '/Faktura/Fa/DaneFaKorygowanej/NrKSeFFaKorygowanej'],
      ]);
      await expectErrors(edit('fa3-roz.xml', ['0100002C5D6E-30', '0100002C5D6E-31']), [
        ['K2', '/Faktura/Fa/FakturaZaliczkowa[2]/NrKSeFFaZaliczkowej'],
      ]);
      await expectWarnings(edit('fa3-kor.xml', ['010000F1E2D3-DC', '010000-F1E2D3-DD']), []);
    });

    it('K4 requires a ROZ to list its advances', async () => {
      await expectErrors(edit('fa3-roz.xml', [/\s*<FakturaZaliczkowa>[\s\S]*<\/FakturaZaliczkowa>/, '']), [
        ['K4', '/Faktura/Fa/FakturaZaliczkowa'],
      ]);
    });

    it('K5 requires a ZAL to describe the order, whose value should match its lines', async () => {
      await expectErrors(edit('fa3-zal.xml', [/\s*<Zamowienie>[\s\S]*<\/Zamowienie>/, '']), [['K5', '/Faktura/Fa/Zamowienie']]);
      await expectWarnings(edit('fa3-zal.xml', ['<WartoscZamowienia>12300.00', '<WartoscZamowienia>12300.02']), [
        ['K5', '/Faktura/Fa/Zamowienie/WartoscZamowienia'],
      ]);
    });

    it('K6 requires lines (except on ZAL, KOR_ZAL and discount corrections) and line names', async () => {
      await expectErrors(edit('fa3-vat.xml', [/\s*<FaWiersz>[\s\S]*<\/FaWiersz>/, '']), [['K6', '/Faktura/Fa/FaWiersz']]);
      await expectErrors(edit('fa3-vat.xml', ['<P_7>Usługa cateringowa na szkolenie</P_7>', '']), [['K6', '/Faktura/Fa/FaWiersz[2]/P_7']]);
      const discount = edit(
        'fa3-kor.xml',
        [/\s*<FaWiersz>[\s\S]*<\/FaWiersz>/, ''],
        ['</DaneFaKorygowanej>', '</DaneFaKorygowanej><OkresFaKorygowanej>2026-01</OkresFaKorygowanej>'],
      );
      await expectWarnings(discount, []);
    });

    it('K7 expects P_15ZK on corrections of advances and settlements', async () => {
      await expectWarnings(edit('fa3-kor.xml', ['<RodzajFaktury>KOR', '<RodzajFaktury>KOR_ROZ']), [['K7', '/Faktura/Fa/P_15ZK']]);
      await expectWarnings(
        edit('fa3-kor.xml', ['<RodzajFaktury>KOR', '<RodzajFaktury>KOR_ROZ'], ['</DaneFaKorygowanej>', '</DaneFaKorygowanej><P_15ZK>2385.00</P_15ZK>']),
        [],
      );
    });
  });

  describe('P: parties', () => {
    const p3 = (role: string, extra = '') =>
      `<Podmiot3><DaneIdentyfikacyjne><NIP>1111111111</NIP></DaneIdentyfikacyjne><Rola>${role}</Rola>${extra}</Podmiot3>`;

    it('P1 requires the subordinate unit for JST = 1 and the group member for GV = 1', async () => {
      await expectErrors(edit('fa3-vat.xml', ['<JST>2</JST>', '<JST>1</JST>'], ['<GV>2</GV>', '<GV>1</GV>']), [
        ['P1', '/Faktura/Podmiot2/JST'],
        ['P1', '/Faktura/Podmiot2/GV'],
      ]);
      const satisfied = edit(
        'fa3-vat.xml',
        ['<JST>2</JST>', '<JST>1</JST>'],
        ['<GV>2</GV>', '<GV>1</GV>'],
        ['</Podmiot2>', `</Podmiot2>${p3('8')}${p3('10')}`],
      );
      await expectWarnings(satisfied, []);
    });

    it('P2 warns when the additional buyers hold more than 100%', async () => {
      const xml = edit('fa3-vat.xml', ['</Podmiot2>', `</Podmiot2>${p3('4', '<Udzial>60</Udzial>')}${p3('4', '<Udzial>40.000001</Udzial>')}`]);
      await expectWarnings(xml, [['P2', '/Faktura/Podmiot3']]);
    });

    it('P3 pairs Podmiot2K with a buyer by IDNabywcy', async () => {
      const xml = (id: string) =>
        edit(
          'fa3-kor.xml',
          ['<JST>2</JST>', '<IDNabywcy>B1</IDNabywcy><JST>2</JST>'],
          [
            '</DaneFaKorygowanej>',
            `</DaneFaKorygowanej><Podmiot2K><DaneIdentyfikacyjne><NIP>1234563218</NIP><Nazwa>Stara nazwa</Nazwa></DaneIdentyfikacyjne><IDNabywcy>${id}</IDNabywcy></Podmiot2K>`,
          ],
        );
      await expectWarnings(xml('B1'), []);
      await expectWarnings(xml('B2'), [['P3', '/Faktura/Fa/Podmiot2K/IDNabywcy']]);
    });
  });

  describe('A: annotations', () => {
    it('A1 requires the exemption basis for exempt lines, and P_19N without them', async () => {
      const exempt = edit(
        'fa3-vat.xml',
        ['<P_12>8</P_12>', '<P_12>zw</P_12>'],
        ['<P_13_2>500.00</P_13_2>\n    <P_14_2>40.00</P_14_2>', '<P_13_7>500.00</P_13_7>'],
        ['<P_15>2385.00', '<P_15>2345.00'],
      );
      await expectErrors(exempt, [['A1', '/Faktura/Fa/Adnotacje/Zwolnienie']]);
      const withBasis = edit('fa3-vat.xml', ['<P_19N>1</P_19N>', '<P_19>1</P_19><P_19A>art. 43 ust. 1 pkt 29</P_19A>']);
      await expectErrors(withBasis, [['A1', '/Faktura/Fa/Adnotacje/Zwolnienie']]);
    });

    it('A2 expects the reverse-charge annotation for oo lines', async () => {
      const xml = edit(
        'fa3-vat.xml',
        ['<P_12>8</P_12>', '<P_12>oo</P_12>'],
        ['<P_13_2>500.00</P_13_2>\n    <P_14_2>40.00</P_14_2>', '<P_13_10>500.00</P_13_10>'],
        ['<P_15>2385.00', '<P_15>2345.00'],
      );
      await expectWarnings(xml, [['A2', '/Faktura/Fa/Adnotacje/P_18']]);
      await expectWarnings(edit('fa3-vat.xml', ['<P_18>2</P_18>', '<P_18>1</P_18>']), []);
    });

    it('A3 expects split payment over 15 000 PLN with Annex 15 goods', async () => {
      const big = (amount: string) =>
        edit(
          'fa3-zal.xml',
          ['<P_13_1>3000.00</P_13_1>', `<P_13_1>${amount}</P_13_1>`],
          ['<P_14_1>690.00</P_14_1>', '<P_14_1>0.00</P_14_1>'],
          ['<P_15>3690.00</P_15>', `<P_15>${amount}</P_15>`],
          ['<P_12Z>23</P_12Z>', '<P_12Z>23</P_12Z><P_12Z_Zal_15>1</P_12Z_Zal_15>'],
        );
      const over = await validate(big('15000.01'));
      expect(findings(over, 'warnings')).toContainEqual(['A3', '/Faktura/Fa/Adnotacje/P_18A']);
      const at = await validate(big('15000.00'));
      expect(findings(at, 'warnings')).not.toContainEqual(['A3', '/Faktura/Fa/Adnotacje/P_18A']);
    });
  });

  describe('M1: line numbers', () => {
    it('warns about a gap and about references to missing lines', async () => {
      const xml = edit(
        'fa3-vat.xml',
        ['<NrWierszaFa>2</NrWierszaFa>', '<NrWierszaFa>3</NrWierszaFa>'],
        ['<FaWiersz>', '<DodatkowyOpis><NrWiersza>7</NrWiersza><Klucz>k</Klucz><Wartosc>v</Wartosc></DodatkowyOpis><FaWiersz>'],
      );
      await expectWarnings(xml, [
        ['M1', '/Faktura/Fa/FaWiersz[2]/NrWierszaFa'],
        ['M1', '/Faktura/Fa/DodatkowyOpis/NrWiersza'],
      ]);
    });
  });
});
