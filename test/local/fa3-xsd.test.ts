import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { validateXML } from 'xmllint-wasm';
import { validateFa3 } from '../../src/local/fa3/index.js';
import { FA3_XSD_FILE, validateWithXsd } from '../../src/local/fa3/xsd.js';
import { describeWithShared, readSample, sampleNames, sharedPath } from '../support/shared.js';

type Sample = (typeof sampleNames)[number];

/** A sample with one textual change; throws when the change does not apply (a variant must differ). */
function edit(sample: Sample, from: string | RegExp, to: string): Buffer {
  const text = readSample(sample).toString('utf8');
  const changed = text.replace(from, to);
  if (changed === text) throw new Error(`variant of ${sample} did not apply: ${from}`);
  return Buffer.from(changed, 'utf8');
}

const thirdParty = (inner: string) =>
  `</Podmiot2><Podmiot3><DaneIdentyfikacyjne><NIP>1111111111</NIP></DaneIdentyfikacyjne>${inner}</Podmiot3>`;

/**
 * Structural variants (schema questions only) and whether the FA(3) XSD accepts them. Business-rule
 * problems are deliberately absent: the XSD cannot see them.
 */
const variants: [name: string, xml: () => Buffer, validPerXsd: boolean][] = [
  // FA3.md §3: variants that must fail.
  ['a KSeF number inside the NrKSeF flag', () => edit('fa3-kor.xml', '<NrKSeF>1</NrKSeF>', '<NrKSeF>5265877635-20260202-010000F1E2D3-DC</NrKSeF>'), false],
  ['both NrFaZaliczkowej and NrKSeFFaZaliczkowej', () => edit('fa3-roz.xml', '<FakturaZaliczkowa>\n      <NrKSeFFaZaliczkowej>', '<FakturaZaliczkowa><NrKSeFZN>1</NrKSeFZN><NrFaZaliczkowej>FZ/1</NrFaZaliczkowej>\n      <NrKSeFFaZaliczkowej>'), false],
  ['no JST', () => edit('fa3-vat.xml', /\s*<JST>2<\/JST>/, ''), false],
  ['three decimal places', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>2385.000</P_15>'), false],
  ['NIP starting with 0', () => edit('fa3-vat.xml', '<NIP>1234563218</NIP>', '<NIP>0234563218</NIP>'), false],
  ["P_12 '8%'", () => edit('fa3-vat.xml', '<P_12>8</P_12>', '<P_12>8%</P_12>'), false],
  ['DataWytworzeniaFa before 2025-09-01', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2025-08-31T23:59:59Z'), false],
  // Missing, extra, misplaced and repeated elements.
  ['missing P_15', () => edit('fa3-vat.xml', /\s*<P_15>2385.00<\/P_15>/, ''), false],
  ['missing Naglowek', () => edit('fa3-vat.xml', /<Naglowek>[\s\S]*<\/Naglowek>/, ''), false],
  ['missing Adnotacje/P_23', () => edit('fa3-vat.xml', /\s*<P_23>2<\/P_23>/, ''), false],
  ['P_14_1 without its P_13_1', () => edit('fa3-vat.xml', /\s*<P_13_1>1500.00<\/P_13_1>/, ''), false],
  ['P_14_2 missing', () => edit('fa3-vat.xml', /\s*<P_14_2>40.00<\/P_14_2>/, ''), false],
  ['unknown element', () => edit('fa3-vat.xml', '<P_15>', '<Foo>1</Foo><P_15>'), false],
  ['P_2 before P_1', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>\n    <P_1M>Warszawa</P_1M>\n    <P_2>FV/2026/02/0001</P_2>', '<P_2>FV/2026/02/0001</P_2><P_1>2026-02-02</P_1><P_1M>Warszawa</P_1M>'), false],
  ['P_2 twice', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>FV/2026/02/0001</P_2><P_2>X</P_2>'), false],
  ['four DaneKontaktowe', () => edit('fa3-vat.xml', '<DaneKontaktowe>', '<DaneKontaktowe/><DaneKontaktowe/><DaneKontaktowe/><DaneKontaktowe>'), false],
  ['three DaneKontaktowe', () => edit('fa3-vat.xml', '<DaneKontaktowe>', '<DaneKontaktowe/><DaneKontaktowe/><DaneKontaktowe>'), true],
  ['P_6 and OkresFa together', () => edit('fa3-vat.xml', '<P_6>2026-01-30</P_6>', '<P_6>2026-01-30</P_6><OkresFa><P_6_Od>2026-01-01</P_6_Od><P_6_Do>2026-01-30</P_6_Do></OkresFa>'), false],
  ['OkresFa instead of P_6', () => edit('fa3-vat.xml', '<P_6>2026-01-30</P_6>', '<OkresFa><P_6_Od>2026-01-01</P_6_Od><P_6_Do>2026-01-30</P_6_Do></OkresFa>'), true],
  ['correction block without DaneFaKorygowanej', () => edit('fa3-kor.xml', /<DaneFaKorygowanej>[\s\S]*<\/DaneFaKorygowanej>/, ''), false],
  ['NrKSeFN instead of a KSeF number', () => edit('fa3-kor.xml', /<NrKSeF>1<\/NrKSeF>\s*<NrKSeFFaKorygowanej>.*<\/NrKSeFFaKorygowanej>/, '<NrKSeFN>1</NrKSeFN>'), true],
  ['outside-KSeF advance', () => edit('fa3-roz.xml', '<NrKSeFFaZaliczkowej>5265877635-20260401-0100002C5D6E-30</NrKSeFFaZaliczkowej>', '<NrKSeFZN>1</NrKSeFZN><NrFaZaliczkowej>FZ/2026/04/0002</NrFaZaliczkowej>'), true],
  ['element in another namespace', () => edit('fa3-vat.xml', '<P_1M>Warszawa</P_1M>', '<x:P_1M xmlns:x="urn:x">Warszawa</x:P_1M>'), false],
  ['FA(3) through a prefix', () => edit('fa3-vat.xml', /<P_1M>Warszawa<\/P_1M>/, '<fa:P_1M xmlns:fa="http://crd.gov.pl/wzor/2025/06/25/13775/">Warszawa</fa:P_1M>'), true],
  ['text inside an element-only element', () => edit('fa3-vat.xml', '<Fa>', '<Fa>abc'), false],
  ['an element inside a value', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>FV<X/>1</P_2>'), false],
  ['a comment inside a value', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>FV/2026<!-- x -->/02/0001</P_2>'), true],
  ['extra attribute', () => edit('fa3-vat.xml', '<Fa>', '<Fa foo="1">'), false],
  ['xml:lang attribute', () => edit('fa3-vat.xml', '<Fa>', '<Fa xml:lang="pl">'), false],
  ['xsi:schemaLocation', () => edit('fa3-vat.xml', '<Fa>', '<Fa xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="a b">'), true],
  ['xsi:nil', () => edit('fa3-vat.xml', '<P_15>', '<P_15 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="false">'), false],
  ['missing wersjaSchemy', () => edit('fa3-vat.xml', ' wersjaSchemy="1-0E"', ''), false],
  ['KodFormularza text with spaces', () => edit('fa3-vat.xml', '>FA</KodFormularza>', '> FA </KodFormularza>'), false],
  // Values and facets.
  ['P_1 not a calendar date', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2026-02-30</P_1>'), false],
  ['P_1 with a time zone', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2026-02-02Z</P_1>'), false],
  ['P_1 padded with spaces', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1> 2026-02-02 </P_1>'), true],
  ['P_1 29 February of a leap year', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2024-02-29</P_1>'), true],
  ['P_1 before 2006', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2005-12-31</P_1>'), false],
  ['P_1 after 2050-01-01', () => edit('fa3-vat.xml', '<P_1>2026-02-02</P_1>', '<P_1>2050-01-02</P_1>'), false],
  ['blank P_2', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', '<P_2>   </P_2>'), false],
  ['P_2 of 257 characters', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', `<P_2>${'X'.repeat(257)}</P_2>`), false],
  ['P_2 of 256 characters', () => edit('fa3-vat.xml', '<P_2>FV/2026/02/0001</P_2>', `<P_2>${'Ż'.repeat(256)}</P_2>`), true],
  ['amount with a plus sign', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>+2385.00</P_15>'), false],
  ['amount with a trailing dot', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>2385.</P_15>'), false],
  ['amount with leading zero', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>02385.00</P_15>'), false],
  ['amount padded with spaces', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15> 2385.00 </P_15>'), true],
  ['negative zero', () => edit('fa3-vat.xml', '<P_13_2>500.00</P_13_2>', '<P_13_2>-0</P_13_2>'), true],
  ['17 integer digits', () => edit('fa3-vat.xml', '<P_15>2385.00</P_15>', '<P_15>12345678901234567</P_15>'), false],
  ['quantity with 6 decimals', () => edit('fa3-vat.xml', '<P_8B>10</P_8B>', '<P_8B>10.000001</P_8B>'), true],
  ['quantity with 7 decimals', () => edit('fa3-vat.xml', '<P_8B>10</P_8B>', '<P_8B>10.0000001</P_8B>'), false],
  ['NIP with a leading space', () => edit('fa3-vat.xml', '<NIP>1234563218</NIP>', '<NIP> 1234563218</NIP>'), false],
  ['NIP of 9 digits', () => edit('fa3-vat.xml', '<NIP>1234563218</NIP>', '<NIP>123456321</NIP>'), false],
  ['currency with a leading space', () => edit('fa3-vat.xml', '<KodWaluty>PLN</KodWaluty>', '<KodWaluty> PLN</KodWaluty>'), false],
  ['unknown currency', () => edit('fa3-vat.xml', '<KodWaluty>PLN</KodWaluty>', '<KodWaluty>XYZ</KodWaluty>'), false],
  ['EUR', () => edit('fa3-vat.xml', '<KodWaluty>PLN</KodWaluty>', '<KodWaluty>EUR</KodWaluty>'), true],
  ['unknown country', () => edit('fa3-vat.xml', '<KodKraju>PL</KodKraju>', '<KodKraju>QQ</KodKraju>'), false],
  ['payment form 06', () => edit('fa3-vat.xml', '<FormaPlatnosci>6</FormaPlatnosci>', '<FormaPlatnosci>06</FormaPlatnosci>'), true],
  ['payment form +6 with spaces', () => edit('fa3-vat.xml', '<FormaPlatnosci>6</FormaPlatnosci>', '<FormaPlatnosci> +6 </FormaPlatnosci>'), true],
  ['payment form 8', () => edit('fa3-vat.xml', '<FormaPlatnosci>6</FormaPlatnosci>', '<FormaPlatnosci>8</FormaPlatnosci>'), false],
  ['flag 2 where only 1 is allowed', () => edit('fa3-vat.xml', '<P_19N>1</P_19N>', '<P_19N>2</P_19N>'), false],
  ['JST 3', () => edit('fa3-vat.xml', '<JST>2</JST>', '<JST>3</JST>'), false],
  ['line number 0', () => edit('fa3-vat.xml', '<NrWierszaFa>1</NrWierszaFa>', '<NrWierszaFa>0</NrWierszaFa>'), false],
  ['line number 01', () => edit('fa3-vat.xml', '<NrWierszaFa>1</NrWierszaFa>', '<NrWierszaFa>01</NrWierszaFa>'), true],
  ["rate '0  KR' (whitespace collapses)", () => edit('fa3-vat.xml', '<P_12>8</P_12>', '<P_12>0  KR</P_12>'), true],
  ['rate 0', () => edit('fa3-vat.xml', '<P_12>8</P_12>', '<P_12>0</P_12>'), false],
  ['empty GLN', () => edit('fa3-vat.xml', '<AdresL2>00-001 Warszawa</AdresL2>', '<AdresL2>00-001 Warszawa</AdresL2><GLN></GLN>'), false],
  ['email a@b', () => edit('fa3-vat.xml', 'faktury@sprzedawca.example', 'a@b'), true],
  ['email without local part', () => edit('fa3-vat.xml', 'faktury@sprzedawca.example', '@b'), false],
  ['bank account of 9 characters', () => edit('fa3-vat.xml', '<NrRB>96102026290000960200123456</NrRB>', '<NrRB>961020262</NrRB>'), false],
  ['date-time with offset on the boundary', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2025-09-01T02:00:00+02:00'), true],
  ['date-time with fractional seconds', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2026-02-02T09:30:00.123Z'), true],
  ['date-time without a zone', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2026-02-02T09:30:00'), true],
  ['date-time 24:00:00', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2026-02-02T24:00:00Z'), true],
  ['date-time second 60', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2026-02-02T09:30:60Z'), false],
  ['date-time zone +14:01', () => edit('fa3-vat.xml', '2026-02-02T09:30:00Z', '2026-02-02T09:30:00+14:01'), false],
  ['KSeF number in lower case', () => edit('fa3-kor.xml', '010000F1E2D3-DC', '010000f1e2d3-dc'), false],
  ['36-character KSeF 1.0 number', () => edit('fa3-kor.xml', '010000F1E2D3-DC', '010000-F1E2D3-DC'), true],
  ['third party with a share of 50.0000000', () => edit('fa3-vat.xml', '</Podmiot2>', thirdParty('<Rola>4</Rola><Udzial>50.0000000</Udzial>')), true],
  ['third party with a share over 100', () => edit('fa3-vat.xml', '</Podmiot2>', thirdParty('<Rola>4</Rola><Udzial>100.000001</Udzial>')), false],
  ['third party without a role', () => edit('fa3-vat.xml', '</Podmiot2>', thirdParty('')), false],
  ['third party with RolaInna', () => edit('fa3-vat.xml', '</Podmiot2>', thirdParty('<RolaInna>1</RolaInna><OpisRoli>Agent</OpisRoli>')), true],
  ['empty PrefiksPodatnika takes its fixed value', () => edit('fa3-vat.xml', '<Podmiot1>', '<Podmiot1><PrefiksPodatnika/>'), true],
  ['PrefiksPodatnika DE', () => edit('fa3-vat.xml', '<Podmiot1>', '<Podmiot1><PrefiksPodatnika>DE</PrefiksPodatnika>'), false],
  ['REGON of 14 digits', () => edit('fa3-vat.xml', '</Informacje>', '</Informacje><Rejestry><REGON>12345678901234</REGON></Rejestry>'), true],
  ['REGON of 10 digits', () => edit('fa3-vat.xml', '</Informacje>', '</Informacje><Rejestry><REGON>1234567890</REGON></Rejestry>'), false],
  ['payment link with IPKSeF', () => edit('fa3-vat.xml', '</RachunekBankowy>', '</RachunekBankowy><LinkDoPlatnosci>https://pay.example.com/p?a=1&amp;IPKSeF=123abcDEF4567</LinkDoPlatnosci>'), true],
  ['payment link without IPKSeF', () => edit('fa3-vat.xml', '</RachunekBankowy>', '</RachunekBankowy><LinkDoPlatnosci>https://pay.example.com/p?a=1</LinkDoPlatnosci>'), false],
  ['attachment table', () => edit('fa3-vat.xml', '</Stopka>', '</Stopka><Zalacznik><BlokDanych><MetaDane><ZKlucz>k</ZKlucz><ZWartosc>v</ZWartosc></MetaDane><Tabela><TNaglowek><Kol Typ="txt"><NKom>A</NKom></Kol></TNaglowek><Wiersz><WKom>1</WKom></Wiersz></Tabela></BlokDanych></Zalacznik>'), true],
  ['attachment column without Typ', () => edit('fa3-vat.xml', '</Stopka>', '</Stopka><Zalacznik><BlokDanych><MetaDane><ZKlucz>k</ZKlucz><ZWartosc>v</ZWartosc></MetaDane><Tabela><TNaglowek><Kol><NKom>A</NKom></Kol></TNaglowek><Wiersz><WKom>1</WKom></Wiersz></Tabela></BlokDanych></Zalacznik>'), false],
  ['new means of transport', () => edit('fa3-vat.xml', '<P_22N>1</P_22N>', '<P_22>1</P_22><P_42_5>2</P_42_5><NowySrodekTransportu><P_22A>2026-01-10</P_22A><P_NrWierszaNST>1</P_NrWierszaNST><P_22B>1200</P_22B><P_22B1>VIN123</P_22B1></NowySrodekTransportu>'), true],
  ['new means of transport without kind data', () => edit('fa3-vat.xml', '<P_22N>1</P_22N>', '<P_22>1</P_22><P_42_5>2</P_42_5><NowySrodekTransportu><P_22A>2026-01-10</P_22A><P_NrWierszaNST>1</P_NrWierszaNST></NowySrodekTransportu>'), false],
  ['transport', () => edit('fa3-zal.xml', '</Zamowienia>', '</Zamowienia><Transport><RodzajTransportu>3</RodzajTransportu><OpisLadunku>5</OpisLadunku><WysylkaPrzez><KodKraju>DE</KodKraju><AdresL1>Berlin</AdresL1></WysylkaPrzez></Transport>'), true],
  ['transport without cargo', () => edit('fa3-zal.xml', '</Zamowienia>', '</Zamowienia><Transport><RodzajTransportu>3</RodzajTransportu></Transport>'), false],
  ['order without lines', () => edit('fa3-zal.xml', /<ZamowienieWiersz>[\s\S]*<\/ZamowienieWiersz>/, ''), false],
  ['partial payments', () => edit('fa3-zal.xml', /<Zaplacono>1<\/Zaplacono>\s*<DataZaplaty>2026-02-27<\/DataZaplaty>/, '<ZnacznikZaplatyCzesciowej>1</ZnacznikZaplatyCzesciowej><ZaplataCzesciowa><KwotaZaplatyCzesciowej>100</KwotaZaplatyCzesciowej><DataZaplatyCzesciowej>2026-02-27</DataZaplatyCzesciowej><PlatnoscInna>1</PlatnoscInna><OpisPlatnosci>barter</OpisPlatnosci></ZaplataCzesciowa>'), true],
  ['Zaplacono without DataZaplaty', () => edit('fa3-zal.xml', /\s*<DataZaplaty>2026-02-27<\/DataZaplaty>/, ''), false],
];

describeWithShared('FA(3) structure layer agrees with the official XSD (xmllint-wasm)', () => {
  const xsdDir = sharedPath('ksef', 'xsd');
  const cases: [name: string, xml: Buffer][] = [
    ...sampleNames.map((n): [string, Buffer] => [n, readSample(n)]),
    ...variants.map(([n, build]): [string, Buffer] => [n, build()]),
  ];
  /** xmllint's verdict per case, from one run over all documents (the schema compiles once). */
  const officialVerdicts = new Map<string, boolean>();

  beforeAll(async () => {
    const files = cases.map(([, xml], i) => ({ fileName: `case${i}.xml`, contents: xml }));
    const result = await validateXML({
      xml: files,
      schema: { fileName: FA3_XSD_FILE, contents: fs.readFileSync(path.join(xsdDir, FA3_XSD_FILE)) },
      preload: fs.readdirSync(path.join(xsdDir, 'bazowe')).map((f) => ({
        fileName: `bazowe/${f}`,
        contents: fs.readFileSync(path.join(xsdDir, 'bazowe', f)),
      })),
    });
    cases.forEach(([name], i) => officialVerdicts.set(name, new RegExp(`^case${i}\\.xml validates$`, 'm').test(result.rawOutput)));
  });

  /** Our verdict on layers (a)+(b): mode 'ingest' turns every business rule into a warning. */
  const ours = async (xml: Buffer) => (await validateFa3(xml, { mode: 'ingest' })).valid;

  it.each(sampleNames)('%s is valid for both', async (name) => {
    expect(officialVerdicts.get(name)).toBe(true);
    expect(await ours(readSample(name))).toBe(true);
  });

  it.each(variants)('%s', async (name, build, validPerXsd) => {
    expect(officialVerdicts.get(name)).toBe(validPerXsd);
    expect(await ours(build())).toBe(validPerXsd);
  });

  it('maps xmllint messages to element paths', async () => {
    const issues = await validateWithXsd(edit('fa3-vat.xml', /\s*<JST>2<\/JST>/, ''), xsdDir, undefined);
    expect(issues[0]).toMatchObject({ code: 'XSD', path: '/' });

    const { parseXml } = await import('../../src/local/fa3/xml.js');
    const xml = edit('fa3-vat.xml', '<NrWierszaFa>2</NrWierszaFa>', '<NrWierszaFa>0</NrWierszaFa>');
    const withPaths = await validateWithXsd(xml, xsdDir, parseXml(xml.toString('utf8')).root);
    expect(withPaths).toEqual([
      expect.objectContaining({ code: 'XSD', path: '/Faktura/Fa/FaWiersz[2]/NrWierszaFa', line: expect.any(Number) }),
    ]);
    expect(withPaths[0].message).toContain("The value '0' must be greater than '0'");
    expect(withPaths[0].message).not.toContain('{http');
  });
});

describeWithShared('FA(3) validator, layer (d)', () => {
  let dir: string;

  /** A stand-in "official" schema that rejects every FA(3) invoice: proves the layer runs and reports. */
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fa3-xsd-'));
    fs.mkdirSync(path.join(dir, 'bazowe'));
    fs.writeFileSync(
      path.join(dir, FA3_XSD_FILE),
      `<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="http://crd.gov.pl/wzor/2025/06/25/13775/" elementFormDefault="qualified">
  <xsd:element name="Faktura" type="xsd:string"/>
</xsd:schema>`,
    );
  });
  afterEach(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    delete process.env.KSEF_XSD_DIR;
  });

  it('runs the XSD from xsdDir and reports its errors with a path', async () => {
    const result = await validateFa3(readSample('fa3-vat.xml'), { xsdDir: dir, today: '2026-11-25' });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual([expect.objectContaining({ code: 'XSD', path: '/Faktura', line: 2 })]);
  });

  it('takes the schema directory from KSEF_XSD_DIR when no option is given', async () => {
    process.env.KSEF_XSD_DIR = dir;
    const result = await validateFa3(readSample('fa3-vat.xml'), { today: '2026-11-25' });
    expect(result.errors.map((e) => e.code)).toEqual(['XSD']);
  });

  it('reads the schema files once per directory', async () => {
    const first = await validateFa3(readSample('fa3-zal.xml'), { xsdDir: dir, today: '2026-11-25' });
    fs.rmSync(path.join(dir, FA3_XSD_FILE));
    const second = await validateFa3(readSample('fa3-zal.xml'), { xsdDir: dir, today: '2026-11-25' });
    expect(second.errors).toEqual(first.errors);
  });

  it('validates the samples against the real schema with no errors', async () => {
    for (const name of sampleNames) {
      const result = await validateFa3(readSample(name), { xsdDir: sharedPath('ksef', 'xsd'), today: '2026-11-25' });
      expect({ name, errors: result.errors }).toEqual({ name, errors: [] });
    }
  });
});
