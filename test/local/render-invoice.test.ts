import { RenderInputError, renderInvoiceHtml, renderUpoHtml } from '../../src/local/render/index.js';
import { describeWithShared, readSample, sharedPath } from '../support/shared.js';
import fs from 'node:fs';

const NBSP = '\u00a0';
/** Amounts as printed: no-break space between digit groups and before the currency code. */
const nb = (s: string): string => s.replace(/(\d) (?=\d{3}\b)/g, `$1${NBSP}`).replace(/(\d) (?=[A-Z]{3}\b)/g, `$1${NBSP}`);

/** Visible text of an HTML fragment, whitespace collapsed (NBSP kept: amounts are asserted with it). */
const textOf = (html: string): string =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<\/?span[^>]*>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/[ \t\n]+/g, ' ');

const sectionsOf = (html: string): string[] => [...html.matchAll(/data-section="([^"]+)"/g)].map((m) => m[1]);

const sectionHtml = (html: string, name: string): string => {
  const start = html.indexOf(`data-section="${name}"`);
  if (start < 0) return '';
  const end = html.indexOf('data-section=', start + 1);
  return html.slice(start, end < 0 ? undefined : end);
};

const tableRows = (html: string): string[][] =>
  [...html.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((tr) => [...tr[1].matchAll(/<t[dh][^>]*>([\s\S]*?)<\/t[dh]>/g)].map((c) => textOf(c[1]).trim()));

const SELLER = { name: 'Przykładowy Sprzedawca Sp. z o.o.', nip: '5265877635' };
const BUYER = { name: 'Przykładowy Nabywca S.A.', nip: '1234563218' };

describeWithShared('renderInvoiceHtml on the four samples', () => {
  const cases = [
    {
      file: 'fa3-vat.xml',
      number: 'FV/2026/02/0001',
      kind: 'Faktura podstawowa',
      total: 'Kwota należności ogółem: 2 385,00 PLN',
      sections: ['header', 'parties', 'details', 'lines', 'vat-summary', 'payment', 'footer', 'produced-by'],
    },
    {
      file: 'fa3-zal.xml',
      number: 'FZ/2026/03/0001',
      kind: 'Faktura zaliczkowa',
      total: 'Kwota zapłaty (zaliczki) dokumentowana fakturą: 3 690,00 PLN',
      sections: ['header', 'parties', 'details', 'order', 'vat-summary', 'payment', 'terms', 'produced-by'],
    },
    {
      file: 'fa3-roz.xml',
      number: 'FV/2026/05/0007',
      kind: 'Faktura rozliczeniowa',
      total: 'Kwota pozostała do zapłaty: 6 150,00 PLN',
      sections: ['header', 'parties', 'details', 'lines', 'vat-summary', 'payment', 'produced-by'],
    },
    {
      file: 'fa3-kor.xml',
      number: 'KOR/2026/02/0001',
      kind: 'Faktura korygująca',
      total: 'Korekta kwoty należności ogółem: -369,00 PLN',
      sections: ['header', 'corrected', 'parties', 'details', 'lines', 'vat-summary', 'produced-by'],
    },
  ] as const;

  it.each(cases)('$file: number, kind, parties, gross total, sections in the official order', (c) => {
    const html = renderInvoiceHtml(readSample(c.file), { ksefNumber: '5265877635-20260202-010000F1E2D3-DC' });
    const text = textOf(html);
    expect(html.startsWith('<!DOCTYPE html><html lang="pl">')).toBe(true);
    expect(text).toContain(`Numer Faktury: ${c.number}`);
    expect(text).toContain(c.kind);
    expect(text).toContain('Numer KSEF: 5265877635-20260202-010000F1E2D3-DC');
    expect(text).toContain(`Sprzedawca NIP: ${SELLER.nip} Nazwa: ${SELLER.name}`);
    expect(text).toContain(`Nabywca NIP: ${BUYER.nip} Nazwa: ${BUYER.name}`);
    expect(text).toContain(nb(c.total));
    expect(sectionsOf(html)).toEqual(c.sections);
  });

  it('fa3-vat: VAT summary rows from the header totals, gross = net + tax', () => {
    const html = renderInvoiceHtml(readSample('fa3-vat.xml'));
    const summary = sectionHtml(html, 'vat-summary');
    expect(summary).toContain('<h2>Podsumowanie stawek podatku</h2>');
    expect(tableRows(summary)).toEqual([
      ['Lp.', 'Stawka podatku', 'Kwota netto', 'Kwota podatku', 'Kwota brutto'],
      ['1', '23% lub 22%', nb('1 500,00'), '345,00', nb('1 845,00')],
      ['2', '8% lub 7%', '500,00', '40,00', '540,00'],
    ]);
  });

  it('fa3-vat: lines, dates, payment with the account grouped in fours', () => {
    const html = renderInvoiceHtml(readSample('fa3-vat.xml'));
    expect(tableRows(sectionHtml(html, 'lines'))).toEqual([
      ['Lp.', 'Nazwa towaru lub usługi', 'Cena jedn. netto', 'Ilość', 'Miara', 'Stawka podatku', 'Wartość sprzedaży netto'],
      ['1', 'Usługa wdrożeniowa (godziny pracy)', '150,00', '10', 'godz.', '23%', nb('1 500,00')],
      ['2', 'Usługa cateringowa na szkolenie', '250,00', '2', 'szt.', '8%', '500,00'],
    ]);
    const text = textOf(html);
    expect(text).toContain('Data wystawienia, z zastrzeżeniem art. 106na ust. 1 ustawy: 02.02.2026');
    expect(text).toContain('Data dokonania lub zakończenia dostawy towarów lub wykonania usługi: 30.01.2026');
    expect(text).toContain('Miejsce wystawienia: Warszawa');
    expect(text).toContain('Forma płatności: Przelew');
    expect(text).toContain('16.02.2026');
    expect(text).toContain('Pełny numer rachunku 96 1020 2629 0000 9602 0012 3456');
    expect(text).toContain('Nazwa banku Bank Przykładowy S.A.');
    expect(text).toContain('Stopka faktury Dziękujemy za współpracę.');
    expect(text).toContain('Wytworzona w: Example FA3 server 0.1');
    expect(text).toContain('Faktura dotyczy jednostki podrzędnej JST: Nie');
  });

  it('fa3-roz: the earlier advance invoices by KSeF number', () => {
    const details = sectionHtml(renderInvoiceHtml(readSample('fa3-roz.xml')), 'details');
    expect(tableRows(details)).toEqual([
      ['Numery wcześniejszych faktur zaliczkowych'],
      ['5265877635-20260302-01000012A3B4-2C'],
      ['5265877635-20260401-0100002C5D6E-30'],
    ]);
  });

  it('fa3-kor: corrected invoice data and before/after lines', () => {
    const html = renderInvoiceHtml(readSample('fa3-kor.xml'));
    const corrected = textOf(sectionHtml(html, 'corrected'));
    expect(corrected).toContain('Dane faktury korygowanej');
    expect(corrected).toContain('Przyczyna korekty dla faktur korygujących: Rozliczenie faktycznie przepracowanych godzin (8 zamiast 10)');
    expect(corrected).toContain('Typ skutku korekty: Korekta skutkująca w dacie wystawienia faktury korygującej');
    expect(corrected).toContain('Data wystawienia faktury, której dotyczy faktura korygująca: 02.02.2026');
    expect(corrected).toContain('Numer faktury korygowanej: FV/2026/02/0001');
    expect(corrected).toContain('Numer KSeF faktury korygowanej: 5265877635-20260202-010000F1E2D3-DC');
    const rows = tableRows(sectionHtml(html, 'lines'));
    expect(rows[0]).toContain('Stan przed');
    expect(rows.slice(1).map((r) => r[r.length - 1])).toEqual(['Tak', 'Nie']);
    expect(tableRows(sectionHtml(html, 'vat-summary'))[1]).toEqual(['1', '23% lub 22%', '-300,00', '-69,00', '-369,00']);
  });

  it('fa3-zal: the order, the payment date label and the order reference', () => {
    const html = renderInvoiceHtml(readSample('fa3-zal.xml'));
    const order = sectionHtml(html, 'order');
    expect(order).toContain('<h2>Zamówienie</h2>');
    expect(textOf(order)).toContain(nb('Wartość zamówienia lub umowy z uwzględnieniem kwoty podatku: 12 300,00 PLN'));
    expect(tableRows(order)[1]).toEqual(['1', 'Maszyna pakująca MP-200', nb('10 000,00'), '1', 'szt.', '23%', nb('10 000,00'), nb('2 300,00')]);
    const text = textOf(html);
    expect(text).toContain('Data otrzymania zapłaty: 27.02.2026');
    expect(text).toContain('Informacja o płatności: Zapłacono');
    expect(text).toContain('Data zapłaty: 27.02.2026');
    expect(tableRows(sectionHtml(html, 'terms'))).toEqual([
      ['Data zamówienia', 'Numer zamówienia'],
      ['20.02.2026', 'ZAM/2026/017'],
    ]);
  });

  it("lang 'en' shows English labels and none of the Polish ones", () => {
    for (const file of ['fa3-vat.xml', 'fa3-zal.xml', 'fa3-roz.xml', 'fa3-kor.xml'] as const) {
      const html = renderInvoiceHtml(readSample(file), { lang: 'en', ksefNumber: '5265877635-20260202-010000F1E2D3-DC' });
      const text = textOf(html);
      expect(html).toContain('<html lang="en">');
      for (const label of ['Seller', 'Buyer', 'Details', 'Tax rate summary', 'Invoice number:', 'KSeF number:', 'Tax ID (NIP):']) {
        expect(text).toContain(label);
      }
      expect(html).not.toMatch(/>(Sprzedawca|Nabywca)</);
      for (const polish of [
        'Szczegóły',
        'Pozycje',
        'Podsumowanie stawek podatku',
        'Numer Faktury',
        'Płatność',
        'Zamówienie',
        'Dane faktury korygowanej',
        'Kwota należności',
        'Stawka podatku',
        'Wytworzona w',
        'Krajowy System',
      ]) {
        expect(text).not.toContain(polish);
      }
    }
    const vat = textOf(renderInvoiceHtml(readSample('fa3-vat.xml'), { lang: 'en' }));
    expect(vat).toContain('Basic invoice');
    expect(vat).toContain(nb('Total amount due: 2 385,00 PLN'));
    expect(vat).toContain('Payment method: Bank transfer');
    const roz = textOf(renderInvoiceHtml(readSample('fa3-roz.xml'), { lang: 'en' }));
    expect(roz).toContain('Earlier advance invoices');
    const kor = textOf(renderInvoiceHtml(readSample('fa3-kor.xml'), { lang: 'en' }));
    expect(kor).toContain('Corrected invoice data');
    expect(kor).toContain('Correction effective on the issue date of the corrective invoice');
  });

  it('QR blocks carry the caller-made SVG, caption and link; the watermark is printed', () => {
    const kodI = { link: 'https://qr-test.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/abc', caption: 'OFFLINE', svg: '<svg id="kod1"></svg>' };
    const kodII = { link: 'https://qr-test.ksef.mf.gov.pl/certificate/Nip/1/2/3/4/5', caption: 'CERTYFIKAT', svg: '<svg id="kod2"></svg>' };
    const html = renderInvoiceHtml(readSample('fa3-vat.xml'), { qr: { kodI, kodII }, watermark: 'OFFLINE' });
    const qr = sectionHtml(html, 'qr');
    expect(qr).toContain('<svg id="kod1"></svg>');
    expect(qr).toContain('<svg id="kod2"></svg>');
    expect(qr).toContain(`<a href="${kodI.link}">${kodI.link}</a>`);
    expect(qr).toContain(`<a href="${kodII.link}">`);
    expect(textOf(qr)).toContain('Sprawdź, czy Twoja faktura znajduje się w KSeF!');
    expect(textOf(qr)).toContain('Zweryfikuj dostawcę faktury');
    expect(textOf(qr)).toContain('CERTYFIKAT');
    expect(qr.indexOf('kod1')).toBeLessThan(qr.indexOf('kod2'));
    expect(html).toContain('<div class="watermark" aria-hidden="true">OFFLINE</div>');
    expect(sectionsOf(html).slice(-2)).toEqual(['qr', 'produced-by']);
  });

  it('references nothing outside the document (fonts are local, no URLs to fetch)', () => {
    const html = renderInvoiceHtml(readSample('fa3-vat.xml'));
    expect(html).not.toMatch(/\ssrc=|url\(|@import|<link|<script/i);
    expect(html).toContain('"Liberation Sans","DejaVu Sans",sans-serif');
    expect(html).toContain("default-src 'none'");
  });
});

/** Everything §5.1 can show, in one invoice (EUR, so the PLN tax column and rates appear too). */
const RICH = `<?xml version="1.0" encoding="UTF-8"?>
<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/">
  <Naglowek><KodFormularza kodSystemowy="FA (3)" wersjaSchemy="1-0E">FA</KodFormularza><WariantFormularza>3</WariantFormularza>
    <DataWytworzeniaFa>2026-03-10T10:00:00Z</DataWytworzeniaFa></Naglowek>
  <Podmiot1><PrefiksPodatnika>PL</PrefiksPodatnika><NrEORI>PL526587763500000</NrEORI>
    <DaneIdentyfikacyjne><NIP>5265877635</NIP><Nazwa>Żółta Łódź Sp. z o.o.</Nazwa></DaneIdentyfikacyjne>
    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Świętokrzyska 5</AdresL1><AdresL2>00-001 Warszawa</AdresL2><GLN>5901234123457</GLN></Adres>
    <AdresKoresp><KodKraju>PL</KodKraju><AdresL1>skr. poczt. 12</AdresL1></AdresKoresp>
    <DaneKontaktowe><Email>biuro@zolta.example</Email><Telefon>+48 22 000 00 00</Telefon></DaneKontaktowe>
    <StatusInfoPodatnika>2</StatusInfoPodatnika></Podmiot1>
  <Podmiot2><DaneIdentyfikacyjne><KodUE>DE</KodUE><NrVatUE>123456789</NrVatUE><Nazwa>Müller &amp; Söhne GmbH</Nazwa></DaneIdentyfikacyjne>
    <Adres><KodKraju>DE</KodKraju><AdresL1>Hauptstraße 1</AdresL1><AdresL2>10115 Berlin</AdresL2></Adres>
    <NrKlienta>K-77</NrKlienta><IDNabywcy>B1</IDNabywcy><JST>2</JST><GV>2</GV></Podmiot2>
  <Podmiot3><IDNabywcy>B2</IDNabywcy><DaneIdentyfikacyjne><NIP>1111111111</NIP><Nazwa>Faktor Finanse S.A.</Nazwa></DaneIdentyfikacyjne>
    <Rola>1</Rola><Udzial>50</Udzial></Podmiot3>
  <Podmiot3><DaneIdentyfikacyjne><BrakID>1</BrakID><Nazwa>Jan Kowalski</Nazwa></DaneIdentyfikacyjne><RolaInna>1</RolaInna><OpisRoli>Pełnomocnik</OpisRoli></Podmiot3>
  <PodmiotUpowazniony><DaneIdentyfikacyjne><NIP>1234563218</NIP><Nazwa>Komornik Sądowy Anna Nowak</Nazwa></DaneIdentyfikacyjne>
    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Sądowa 3</AdresL1></Adres><DaneKontaktowe><EmailPU>kancelaria@komornik.example</EmailPU></DaneKontaktowe>
    <RolaPU>2</RolaPU></PodmiotUpowazniony>
  <Fa>
    <KodWaluty>EUR</KodWaluty><P_1>2026-03-10</P_1><P_1M>Gdańsk</P_1M><P_2>FV/EUR/2026/03/1</P_2>
    <WZ>WZ/1/2026</WZ><WZ>WZ/2/2026</WZ>
    <OkresFa><P_6_Od>2026-02-01</P_6_Od><P_6_Do>2026-02-28</P_6_Do></OkresFa>
    <P_13_1>0.10</P_13_1><P_14_1>0.20</P_14_1><P_14_1W>0.85</P_14_1W>
    <P_13_7>12345678901234.56</P_13_7>
    <P_15>12345678901234.86</P_15>
    <Adnotacje><P_16>1</P_16><P_17>1</P_17><P_18>1</P_18><P_18A>1</P_18A>
      <Zwolnienie><P_19>1</P_19><P_19A>art. 43 ust. 1 pkt 37 ustawy</P_19A></Zwolnienie>
      <NoweSrodkiTransportu><P_22>1</P_22><P_42_5>1</P_42_5>
        <NowySrodekTransportu><P_22A>2026-01-15</P_22A><P_NrWierszaNST>1</P_NrWierszaNST><P_22BMK>Škoda</P_22BMK><P_22B>120</P_22B></NowySrodekTransportu>
      </NoweSrodkiTransportu>
      <P_23>1</P_23><PMarzy><P_PMarzy>1</P_PMarzy><P_PMarzy_3_1>1</P_PMarzy_3_1></PMarzy></Adnotacje>
    <RodzajFaktury>VAT</RodzajFaktury>
    <FP>1</FP><TP>1</TP>
    <DodatkowyOpis><NrWiersza>1</NrWiersza><Klucz>Kolor</Klucz><Wartosc>zielony</Wartosc></DodatkowyOpis>
    <ZwrotAkcyzy>1</ZwrotAkcyzy>
    <FaWiersz><NrWierszaFa>1</NrWierszaFa><UU_ID>aaaa-1</UU_ID><P_6A>2026-02-10</P_6A><P_7>Łódka &lt;script&gt;alert(1)&lt;/script&gt;</P_7><Indeks>IDX-1</Indeks>
      <GTIN>5901234123457</GTIN><PKWiU>30.12</PKWiU><CN>8903</CN><P_8A>szt.</P_8A><P_8B>1.5</P_8B><P_9A>0.0666666</P_9A><P_10>1.00</P_10>
      <P_11>0.10</P_11><P_12>23</P_12><KwotaAkcyzy>0.01</KwotaAkcyzy><GTU>GTU_12</GTU><Procedura>TT_D</Procedura><KursWaluty>4.2512</KursWaluty></FaWiersz>
    <FaWiersz><NrWierszaFa>2</NrWierszaFa><P_7>Usługa zwolniona</P_7><P_11>12345678901234.56</P_11><P_12>zw</P_12><KursWaluty>4.3</KursWaluty></FaWiersz>
    <Rozliczenie><Obciazenia><Kwota>10.00</Kwota><Powod>Opłata za transport</Powod></Obciazenia><SumaObciazen>10.00</SumaObciazen>
      <Odliczenia><Kwota>5.00</Kwota><Powod>Kara umowna</Powod></Odliczenia><SumaOdliczen>5.00</SumaOdliczen><DoZaplaty>12345678901239.86</DoZaplaty></Rozliczenie>
    <Platnosc><ZnacznikZaplatyCzesciowej>1</ZnacznikZaplatyCzesciowej>
      <ZaplataCzesciowa><KwotaZaplatyCzesciowej>100.00</KwotaZaplatyCzesciowej><DataZaplatyCzesciowej>2026-03-01</DataZaplatyCzesciowej><FormaPlatnosci>2</FormaPlatnosci></ZaplataCzesciowa>
      <TerminPlatnosci><TerminOpis><Ilosc>14</Ilosc><Jednostka>dni</Jednostka><ZdarzeniePoczatkowe>od dostawy</ZdarzeniePoczatkowe></TerminOpis></TerminPlatnosci>
      <PlatnoscInna>1</PlatnoscInna><OpisPlatnosci>Kompensata</OpisPlatnosci>
      <RachunekBankowy><NrRB>PL61109010140000071219812874</NrRB><SWIFT>WBKPPLPP</SWIFT><NazwaBanku>Bank Śląski</NazwaBanku></RachunekBankowy>
      <RachunekBankowyFaktora><NrRB>96102026290000960200123456</NrRB><RachunekWlasnyBanku>2</RachunekWlasnyBanku></RachunekBankowyFaktora>
      <Skonto><WarunkiSkonta>zapłata w 7 dni</WarunkiSkonta><WysokoscSkonta>2%</WysokoscSkonta></Skonto>
      <LinkDoPlatnosci>https://pay.example/p?IPKSeF=123ABCDEFGHIJ</LinkDoPlatnosci><IPKSeF>123ABCDEFGHIJ</IPKSeF></Platnosc>
    <WarunkiTransakcji><Umowy><DataUmowy>2026-01-02</DataUmowy><NrUmowy>UM/7</NrUmowy></Umowy>
      <NrPartiiTowaru>P-1</NrPartiiTowaru><NrPartiiTowaru>P-2</NrPartiiTowaru><WarunkiDostawy>DAP</WarunkiDostawy>
      <KursUmowny>4.25</KursUmowny><WalutaUmowna>PLN</WalutaUmowna>
      <Transport><RodzajTransportu>3</RodzajTransportu><Przewoznik><DaneIdentyfikacyjne><NIP>1234563218</NIP><Nazwa>Trans-Pol</Nazwa></DaneIdentyfikacyjne>
        <AdresPrzewoznika><KodKraju>PL</KodKraju><AdresL1>ul. Drogowa 9</AdresL1></AdresPrzewoznika></Przewoznik>
        <OpisLadunku>13</OpisLadunku><DataGodzRozpTransportu>2026-02-10T06:30:00Z</DataGodzRozpTransportu>
        <WysylkaZ><KodKraju>PL</KodKraju><AdresL1>Magazyn Łódź</AdresL1></WysylkaZ><WysylkaDo><KodKraju>DE</KodKraju><AdresL1>Lager Berlin</AdresL1></WysylkaDo></Transport>
      <PodmiotPosredniczacy>1</PodmiotPosredniczacy></WarunkiTransakcji>
  </Fa>
  <Stopka><Informacje><StopkaFaktury>Kapitał zakładowy 5 000 zł</StopkaFaktury></Informacje>
    <Rejestry><PelnaNazwa>Żółta Łódź Spółka z ograniczoną odpowiedzialnością</PelnaNazwa><KRS>0000123456</KRS><REGON>123456785</REGON><BDO>000012345</BDO></Rejestry></Stopka>
  <Zalacznik><BlokDanych><ZNaglowek>Specyfikacja</ZNaglowek><MetaDane><ZKlucz>Projekt</ZKlucz><ZWartosc>Alfa</ZWartosc></MetaDane>
    <Tekst><Akapit>Pierwszy akapit.</Akapit></Tekst>
    <Tabela><TNaglowek><Kol Typ="txt"><NKom>Pozycja</NKom></Kol><Kol Typ="dec"><NKom>Kwota</NKom></Kol></TNaglowek>
      <Wiersz><WKom>Śruby</WKom><WKom>12.50</WKom></Wiersz><Suma><SKom>Razem</SKom><SKom>12.50</SKom></Suma></Tabela></BlokDanych></Zalacznik>
</Faktura>`;

describe('renderInvoiceHtml on an invoice using every section', () => {
  const html = renderInvoiceHtml(Buffer.from(RICH), { ksefNumber: '5265877635-20260310-0100001AF629-AF' });
  const text = textOf(html);

  it('shows every section of FA3.md §5.1 in order', () => {
    expect(sectionsOf(html)).toEqual([
      'header',
      'parties',
      'details',
      'lines',
      'vat-summary',
      'annotations',
      'additional',
      'settlement',
      'payment',
      'terms',
      'footer',
      'attachment',
      'produced-by',
    ]);
  });

  it('parties: identifiers, addresses, contacts, status, third parties and the authorised entity', () => {
    const parties = textOf(sectionHtml(html, 'parties'));
    for (const s of [
      'Numer EORI: PL526587763500000',
      'Prefiks VAT: PL',
      'Nazwa: Żółta Łódź Sp. z o.o.',
      'Adres ul. Świętokrzyska 5 00-001 Warszawa Polska GLN: 5901234123457',
      'Adres do korespondencji skr. poczt. 12',
      'Dane kontaktowe E-mail: biuro@zolta.example Tel.: +48 22 000 00 00',
      'Status podatnika: Podatnik, który jest w trakcie postępowania restrukturyzacyjnego',
      'Numer VAT-UE: DE123456789',
      'Nazwa: Müller & Söhne GmbH',
      'Niemcy',
      'Numer klienta: K-77',
      'Podmiot inny 1',
      'Rola: Faktor',
      'Udział: 50%',
      'Podmiot inny 2',
      'Brak identyfikatora',
      'Rola inna: Pełnomocnik',
      'Podmiot upoważniony',
      'E-mail: kancelaria@komornik.example',
      'Rola: Komornik sądowy',
    ]) {
      expect(parties).toContain(s);
    }
  });

  it('details: period, currency, the common-rate absence, and split line tables when over 9 columns', () => {
    const details = textOf(sectionHtml(html, 'details'));
    expect(details).toContain('Okres dokonania dostawy towarów lub wykonania usługi: od 01.02.2026 do 28.02.2026');
    expect(details).toContain('Kod waluty: EUR');
    expect(details).not.toContain('Kurs waluty wspólny');
    const lines = sectionHtml(html, 'lines');
    const tables = lines.match(/<table/g) ?? [];
    expect(tables).toHaveLength(2);
    const rows = tableRows(lines);
    expect(rows[0]).toEqual([
      'Lp.',
      'Unikalny numer wiersza',
      'Nazwa towaru lub usługi',
      'Cena jedn. netto',
      'Ilość',
      'Miara',
      'Rabat',
      'Stawka podatku',
      'Wartość sprzedaży netto',
      'Kurs waluty',
      'Indeks',
    ]);
    expect(rows[1]).toEqual(['1', 'aaaa-1', 'Łódka <script>alert(1)</script>', '0,0666666', '1,5', 'szt.', '1,00', '23%', '0,10', '4,251200', 'IDX-1']);
    expect(rows[3]).toEqual(['Lp.', 'GTIN', 'PKWiU', 'CN', 'Kwota akcyzy', 'GTU', 'Procedura', 'Data dostawy / wykonania']);
    expect(lines).toContain('Łódka &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<script>alert(1)</script>');
  });

  it('VAT summary: exact decimal sums and the PLN tax column', () => {
    expect(tableRows(sectionHtml(html, 'vat-summary'))).toEqual([
      ['Lp.', 'Stawka podatku', 'Kwota netto', 'Kwota podatku', 'Kwota brutto', 'Kwota podatku PLN'],
      ['1', '23% lub 22%', '0,10', '0,20', '0,30', '0,85'],
      ['2', 'zwolnione od podatku', nb('12 345 678 901 234,56'), '0,00', nb('12 345 678 901 234,56'), ''],
    ]);
    expect(text).toContain(nb('Kwota należności ogółem: 12 345 678 901 234,86 EUR'));
  });

  it('annotations: only the flags set, with the exemption basis and the new means of transport', () => {
    const a = textOf(sectionHtml(html, 'annotations'));
    for (const s of [
      'Przepis ustawy albo aktu wydanego na podstawie ustawy, na podstawie którego podatnik stosuje zwolnienie od podatku: art. 43 ust. 1 pkt 37 ustawy',
      'Wewnątrzwspólnotowa dostawa nowych środków transportu',
      'Obowiązek wystawienia dokumentu, o którym mowa w art. 42 ust. 5 ustawy: Tak',
      '15.01.2026',
      'Škoda',
      'Mechanizm podzielonej płatności',
      'Metoda kasowa',
      'Odwrotne obciążenie',
      'Procedura trójstronna uproszczona',
      'Procedura marży: procedura marży - towary używane',
      'Samofakturowanie',
    ]) {
      expect(a).toContain(s);
    }
    const plainFlags =
      '<Adnotacje><P_16>2</P_16><P_17>2</P_17><P_18>2</P_18><P_18A>2</P_18A><Zwolnienie><P_19N>1</P_19N></Zwolnienie>' +
      '<NoweSrodkiTransportu><P_22N>1</P_22N></NoweSrodkiTransportu><P_23>2</P_23><PMarzy><P_PMarzyN>1</P_PMarzyN></PMarzy></Adnotacje>';
    const plain = renderInvoiceHtml(Buffer.from(RICH.replace(/<Adnotacje>[\s\S]*<\/Adnotacje>/, plainFlags)));
    expect(sectionsOf(plain)).not.toContain('annotations');
  });

  it('additional information, settlement, payment and transaction terms', () => {
    const additional = textOf(sectionHtml(html, 'additional'));
    expect(additional).toContain('Istniejące powiązania pomiędzy nabywcą a dokonującym dostawy towarów lub usługodawcą');
    expect(additional).toContain('Faktura, o której mowa w art. 109 ust. 3d ustawy');
    expect(additional).toContain('Dodatkowa informacja dotycząca zwrotu podatku akcyzowego');
    expect(additional).toContain('1 Kolor zielony');
    const settlement = textOf(sectionHtml(html, 'settlement'));
    expect(settlement).toContain(nb('Opłata za transport 10,00 EUR'));
    expect(settlement).toContain(nb('Kara umowna 5,00 EUR'));
    expect(settlement).toContain(nb('Do zapłaty: 12 345 678 901 239,86 EUR'));
    const payment = textOf(sectionHtml(html, 'payment'));
    for (const s of [
      'Informacja o płatności: Zapłata częściowa',
      'Rodzaj zapłaty częściowej: Zapłacono w części',
      'Forma płatności: Płatność inna',
      'Opis płatności innej: Kompensata',
      `01.03.2026 100,00${NBSP}EUR Karta`,
      '14 dni od dostawy',
      'Link do płatności bezgotówkowej: https://pay.example/p?IPKSeF=123ABCDEFGHIJ',
      'Identyfikator płatności Krajowego Systemu e-Faktur: 123ABCDEFGHIJ',
      'Numer rachunku bankowego Pełny numer rachunku PL61 1090 1014 0000 0712 1981 2874 Kod SWIFT WBKPPLPP Nazwa banku Bank Śląski',
      'Numer rachunku bankowego faktora Pełny numer rachunku 96 1020 2629 0000 9602 0012 3456',
      'Warunki skonta: zapłata w 7 dni',
    ]) {
      expect(payment).toContain(s);
    }
    const terms = textOf(sectionHtml(html, 'terms'));
    for (const s of [
      '02.01.2026 UM/7',
      'Numery partii towaru P-1, P-2',
      'Warunki dostawy towarów: DAP',
      'Kurs umowny: 4,250000',
      'Waluta umowna: PLN',
      'Rodzaj transportu: Transport drogowy',
      'Opis ładunku: Paleta',
      'Data i godzina rozpoczęcia transportu: 10.02.2026 07:30:00',
      'Przewoźnik NIP: 1234563218 Nazwa: Trans-Pol',
      'Adres miejsca wysyłki Magazyn Łódź',
      'Adres miejsca docelowego Lager Berlin',
      'Dostawa dokonana przez podmiot, o którym mowa w art. 22 ust. 2d ustawy',
    ]) {
      expect(terms).toContain(s);
    }
  });

  it('footer: WZ numbers, registers, footer text and the attachment', () => {
    const footer = textOf(sectionHtml(html, 'footer'));
    expect(footer).toContain('Numery dokumentów magazynowych WZ');
    expect(footer).toContain('WZ/1/2026 WZ/2/2026');
    expect(footer).toContain('Żółta Łódź Spółka z ograniczoną odpowiedzialnością 0000123456 123456785 000012345');
    expect(footer).toContain('Stopka faktury Kapitał zakładowy 5 000 zł');
    const attachment = sectionHtml(html, 'attachment');
    expect(textOf(attachment)).toContain('Załącznik do Faktury VAT Specyfikacja Projekt Alfa Pierwszy akapit.');
    expect(tableRows(attachment).slice(-3)).toEqual([
      ['Pozycja', 'Kwota'],
      ['Śruby', '12.50'],
      ['Razem', '12.50'],
    ]);
    expect(text).toContain('Wytworzona w: Aplikacja Podatnika KSeF');
  });
});

/** Corrections with the parties' data before and after, and the collective discount form. */
describe('renderInvoiceHtml on corrections', () => {
  const kor = (extraFa: string, kind = 'KOR') =>
    Buffer.from(
      RICH.replace('<RodzajFaktury>VAT</RodzajFaktury>', `<RodzajFaktury>${kind}</RodzajFaktury>${extraFa}`).replace(
        /<Zalacznik>[\s\S]*<\/Zalacznik>/,
        '',
      ),
    );
  const refs =
    '<DaneFaKorygowanej><DataWystFaKorygowanej>2026-01-10</DataWystFaKorygowanej><NrFaKorygowanej>FV/1</NrFaKorygowanej><NrKSeFN>1</NrKSeFN></DaneFaKorygowanej>' +
    '<DaneFaKorygowanej><DataWystFaKorygowanej>2026-01-11</DataWystFaKorygowanej><NrFaKorygowanej>FV/2</NrFaKorygowanej><NrKSeF>1</NrKSeF><NrKSeFFaKorygowanej>5265877635-20250826-0100001AF629-AF</NrKSeFFaKorygowanej></DaneFaKorygowanej>';

  it('Podmiot1K/Podmiot2K show "Treść korygowana" next to "Treść korygująca"; several corrected invoices are numbered', () => {
    const html = renderInvoiceHtml(
      kor(
        `<PrzyczynaKorekty>Błędny adres</PrzyczynaKorekty><TypKorekty>1</TypKorekty>${refs}<NrFaKorygowany>FV/1/POPR</NrFaKorygowany>` +
          '<Podmiot1K><DaneIdentyfikacyjne><NIP>5265877635</NIP><Nazwa>Stara Nazwa Sp. z o.o.</Nazwa></DaneIdentyfikacyjne><Adres><KodKraju>PL</KodKraju><AdresL1>ul. Stara 1</AdresL1></Adres></Podmiot1K>' +
          '<Podmiot2K><DaneIdentyfikacyjne><KodUE>DE</KodUE><NrVatUE>123456789</NrVatUE><Nazwa>Müller alt</Nazwa></DaneIdentyfikacyjne><IDNabywcy>B1</IDNabywcy></Podmiot2K>' +
          '<Podmiot2K><DaneIdentyfikacyjne><NIP>1111111111</NIP><Nazwa>Faktor dawniej</Nazwa></DaneIdentyfikacyjne><IDNabywcy>B2</IDNabywcy></Podmiot2K>',
      ),
    );
    expect(sectionsOf(html).slice(0, 3)).toEqual(['header', 'corrected', 'parties']);
    const corrected = textOf(sectionHtml(html, 'corrected'));
    expect(corrected).toContain('Poprawny numer faktury korygowanej: FV/1/POPR');
    expect(corrected).toContain('Dane identyfikacyjne faktury korygowanej 1 Data wystawienia faktury, której dotyczy faktura korygująca: 10.01.2026 Numer faktury korygowanej: FV/1 Dane');
    expect(corrected).toContain('Dane identyfikacyjne faktury korygowanej 2');
    expect(corrected).toContain('Numer KSeF faktury korygowanej: 5265877635-20250826-0100001AF629-AF');
    const parties = textOf(sectionHtml(html, 'parties'));
    expect(parties).toContain('Sprzedawca Treść korygowana NIP: 5265877635 Nazwa: Stara Nazwa Sp. z o.o.');
    expect(parties).toContain('Treść korygująca Numer EORI: PL526587763500000 Prefiks VAT: PL NIP: 5265877635 Nazwa: Żółta Łódź Sp. z o.o.');
    expect(parties).toContain('Nabywca Treść korygowana Numer VAT-UE: DE123456789 Nazwa: Müller alt');
    expect(parties).toContain('Podmiot inny 1 Treść korygowana NIP: 1111111111 Nazwa: Faktor dawniej');
  });

  it('KOR with OkresFaKorygowanej is the collective discount: "Rabat" instead of the lines', () => {
    const html = renderInvoiceHtml(kor(`${refs}<OkresFaKorygowanej>luty 2026</OkresFaKorygowanej>`));
    const text = textOf(html);
    expect(text).toContain('Faktura korygująca zbiorcza (rabat)');
    expect(text).toContain('Okres, którego dotyczy rabat: luty 2026');
    const lines = sectionHtml(html, 'lines');
    expect(lines).toContain('<h2>Rabat</h2>');
    expect(textOf(lines)).toContain(nb('Wartość rabatu ogółem: 12 345 678 901 234,86 EUR'));
    expect(textOf(lines)).toContain('Rabat nie dotyczy wszystkich dostaw towarów');
  });

  it('KOR_ZAL titles and labels', () => {
    const html = renderInvoiceHtml(kor(`${refs}<P_15ZK>50.00</P_15ZK>`, 'KOR_ZAL'));
    const text = textOf(html);
    expect(text).toContain('Faktura korygująca zaliczkową');
    expect(text).toContain(nb('Kwota zapłaty (zaliczki) przed korektą: 50,00 EUR'));
    expect(text).not.toContain('Kwota należności ogółem');
  });
});

describe('renderInvoiceHtml rejects what is not an FA(3) invoice', () => {
  const bad = (xml: string | Buffer) => () => renderInvoiceHtml(typeof xml === 'string' ? Buffer.from(xml) : xml);
  it.each([
    ['empty body', Buffer.alloc(0), /empty document/],
    ['not XML', 'this is not xml', /not well-formed XML/],
    ['broken XML', '<Faktura><Fa></Faktura>', /not well-formed XML/],
    ['wrong root', '<Invoice xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"/>', /root element is <Invoice>/],
    ['FA(2) namespace', '<Faktura xmlns="http://crd.gov.pl/wzor/2023/06/29/12648/"><Fa/></Faktura>', /is not FA\(3\)/],
    ['no Fa', '<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><Naglowek/></Faktura>', /Fa is missing/],
    ['DOCTYPE', '<!DOCTYPE x [<!ENTITY a "b">]><Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"/>', /DOCTYPE/],
  ])('%s', (_name, xml, message) => {
    expect(bad(xml)).toThrow(RenderInputError);
    expect(bad(xml)).toThrow(message);
  });

  it('an unknown language', () => {
    expect(() => renderInvoiceHtml(Buffer.from(RICH), { lang: 'de' as 'pl' })).toThrow(/lang must be 'pl' or 'en'/);
  });

  it('a prefixed namespace is fine', () => {
    const prefixed = RICH.replace('<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/">', '<fa:Faktura xmlns:fa="http://crd.gov.pl/wzor/2025/06/25/13775/">')
      .replace('</Faktura>', '</fa:Faktura>');
    expect(textOf(renderInvoiceHtml(Buffer.from(prefixed)))).toContain('FV/EUR/2026/03/1');
  });
});

describeWithShared('renderUpoHtml', () => {
  const dir = sharedPath('ksef', 'official', 'faktury', 'upo', 'przyklady', 'v4-3', 'kontekst-nip');
  const session = fs.readFileSync(`${dir}/upo-sesja-kontekst-id-nip.xml`);
  const single = fs.readFileSync(`${dir}/upo-faktura-kontekst-id-nip.xml`);

  it('session UPO: header, key/value table and one row per document', () => {
    const html = renderUpoHtml(session);
    const text = textOf(html);
    expect(html).toContain('@page{size:A4 landscape');
    expect(text).toContain('Krajowy System e-Faktur');
    expect(text).toContain('Ministerstwo Finansów - środowisko testowe (TE)');
    expect(text).toContain('Dokument został zarejestrowany w systemie teleinformatycznym Ministerstwa Finansów');
    expect(text).toContain('Urzędowe poświadczenie odbioru dokumentu elektronicznego KSeF');
    const rows = tableRows(html);
    expect(rows.slice(0, 11)).toEqual([
      ['Numer referencyjny sesji', '36950822-93-9D5A28BFDA-47C899773E-5C'],
      ['Strona dokumentu UPO', '1 / 1'],
      ['Zakres dokumentów od', '1'],
      ['Zakres dokumentów do', '2'],
      ['Całkowita liczba dokumentów', '2'],
      ['Typ kontekstu', 'NIP'],
      ['Identyfikator kontekstu', '5265877635'],
      ['Skrót dokumentu uwierzytelniającego', 'kyqH+QUgP8ATWd/95IY632mP4uqibwG66Oqclq9+qno='],
      ['Nazwa pliku XSD struktury logicznej', 'Schemat_FA(3)_v1-0E.xsd'],
      ['Kod formularza', 'FA (3)'],
      [
        'Lp.',
        'Numer KSeF dokumentu',
        'Numer faktury',
        'NIP sprzedawcy',
        'Data wystawienia faktury',
        'Data przesłania do KSeF',
        'Data nadania numeru KSeF',
        'Skrót dokumentu',
        'Tryb wysyłki',
      ],
    ]);
    expect(rows.slice(11)).toEqual([
      [
        '1',
        '5265877635-20250916-010040741B3E-46',
        'FA/SIGTF-3388125147/11/2025',
        '5265877635',
        '16.09.2025',
        '16.09.2025 11:02:41',
        '16.09.2025 11:02:42',
        'jli86Kp2Kw7jppX59P8VmjWRcwLTvsPK3DcPEB87mNk=',
        'Online',
      ],
      [
        '2',
        '5265877635-20250916-0200A0D6723E-C2',
        'FA/XVQUD-9997622510/04/2027',
        '5265877635',
        '16.09.2025',
        '16.09.2025 11:05:40',
        '16.09.2025 11:05:41',
        'GZMGNVzs3krF6URKgvaw77OOeG3nJ+WGziT5xguliQ8=',
        'Online',
      ],
    ]);
  });

  it('single-invoice UPO (no page description) in English', () => {
    const html = renderUpoHtml(single, { lang: 'en' });
    const text = textOf(html);
    expect(text).toContain('Session reference number 36950822-93-9D5A28BFDA-47C899773E-5C');
    expect(text).toContain('Context type Tax ID (NIP)');
    expect(text).toContain('5265877635-20250916-0200A0D6723E-C2');
    expect(text).not.toContain('UPO page');
    expect(text).not.toContain('Numer referencyjny sesji');
  });

  it('rejects an invoice passed as a UPO', () => {
    expect(() => renderUpoHtml(readSample('fa3-vat.xml'))).toThrow(/UPO: root element is <Faktura>/);
  });
});
