import { ContextIdentifier, FA3_FORM, InvoiceFacts, InvoiceRecord, InvoicingMode } from '../model.js';
import { SandboxState } from '../state.js';
import { sha256Base64 } from '../util/crypto.js';
import { NIP } from '../util/ids.js';
import { isCalendarDate, parseApiDateTime, warsawDay } from '../util/time.js';
import { readFa3 } from './fa3.js';
import { businessKey, effectiveInvoicingMode, indexByHash, store } from './pipeline.js';

/**
 * Seeding invoices straight into storage (admin API), e.g. thousands of purchase invoices for sync tests.
 * Each item is either real FA(3) XML or a few fields from which a schema-valid FA(3) invoice is written.
 */

export interface SeedItem {
  xml?: string;
  xmlBase64?: string;
  sellerNip?: string;
  sellerName?: string;
  buyerNip?: string;
  buyerName?: string;
  /** Named in Podmiot3: the invoice is then that NIP's Subject3. */
  thirdPartyNip?: string;
  /** PodmiotUpowazniony: the invoice is then that NIP's SubjectAuthorized. */
  authorizedNip?: string;
  /** RodzajFaktury: VAT, ZAL, KOR, ROZ, UPR, KOR_ZAL, KOR_ROZ. */
  kind?: string;
  invoiceNumber?: string;
  issueDate?: string;
  currency?: string;
  netAmount?: number;
  vatAmount?: number;
  invoicingDate?: string;
  acquisitionDate?: string;
  permanentStorageDate?: string;
  invoicingMode?: InvoicingMode;
}

export class SeedError extends Error {
  constructor(
    readonly index: number,
    message: string,
  ) {
    super(`invoices[${index}]: ${message}`);
  }
}

const KINDS = ['VAT', 'ZAL', 'KOR', 'ROZ', 'UPR', 'KOR_ZAL', 'KOR_ROZ'];

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);

const money = (n: number) => (Math.round(n * 100) / 100).toFixed(2);

/** A minimal FA(3) invoice that validates against schemat_FA(3)_v1-0E.xsd. */
export function generateFa3(p: {
  sellerNip: string;
  sellerName: string;
  buyerNip: string;
  buyerName: string;
  thirdPartyNip?: string;
  authorizedNip?: string;
  kind: string;
  invoiceNumber: string;
  issueDate: string;
  currency: string;
  netAmount: number;
  vatAmount: number;
  createdAt: Date;
}): string {
  const thirdParty = p.thirdPartyNip
    ? [
        '  <Podmiot3>',
        `    <DaneIdentyfikacyjne><NIP>${p.thirdPartyNip}</NIP><Nazwa>Podmiot ${p.thirdPartyNip}</Nazwa></DaneIdentyfikacyjne>`,
        '    <Rola>4</Rola>',
        '  </Podmiot3>',
      ]
    : [];
  const authorized = p.authorizedNip
    ? [
        '  <PodmiotUpowazniony>',
        `    <DaneIdentyfikacyjne><NIP>${p.authorizedNip}</NIP><Nazwa>Upoważniony ${p.authorizedNip}</Nazwa></DaneIdentyfikacyjne>`,
        '    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Urzędowa 3, 00-002 Warszawa</AdresL1></Adres>',
        '    <RolaPU>1</RolaPU>',
        '  </PodmiotUpowazniony>',
      ]
    : [];
  const correction = p.kind.startsWith('KOR')
    ? [
        '    <PrzyczynaKorekty>Korekta danych</PrzyczynaKorekty>',
        '    <TypKorekty>2</TypKorekty>',
        '    <DaneFaKorygowanej>',
        `      <DataWystFaKorygowanej>${p.issueDate}</DataWystFaKorygowanej>`,
        `      <NrFaKorygowanej>${escapeXml(p.invoiceNumber)}-ORG</NrFaKorygowanej>`,
        '      <NrKSeFN>1</NrKSeFN>',
        '    </DaneFaKorygowanej>',
      ]
    : [];
  const created = p.createdAt.getTime() < Date.parse('2025-09-01T00:00:00Z') ? '2025-09-01T00:00:00Z' : `${p.createdAt.toISOString().slice(0, 19)}Z`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/">',
    '  <Naglowek>',
    '    <KodFormularza kodSystemowy="FA (3)" wersjaSchemy="1-0E">FA</KodFormularza>',
    '    <WariantFormularza>3</WariantFormularza>',
    `    <DataWytworzeniaFa>${created}</DataWytworzeniaFa>`,
    '    <SystemInfo>KSeF sandbox seed</SystemInfo>',
    '  </Naglowek>',
    '  <Podmiot1>',
    `    <DaneIdentyfikacyjne><NIP>${p.sellerNip}</NIP><Nazwa>${escapeXml(p.sellerName)}</Nazwa></DaneIdentyfikacyjne>`,
    '    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Przykładowa 1, 00-001 Warszawa</AdresL1></Adres>',
    '  </Podmiot1>',
    '  <Podmiot2>',
    `    <DaneIdentyfikacyjne><NIP>${p.buyerNip}</NIP><Nazwa>${escapeXml(p.buyerName)}</Nazwa></DaneIdentyfikacyjne>`,
    '    <Adres><KodKraju>PL</KodKraju><AdresL1>ul. Kupiecka 2, 30-001 Kraków</AdresL1></Adres>',
    '    <JST>2</JST>',
    '    <GV>2</GV>',
    '  </Podmiot2>',
    ...thirdParty,
    ...authorized,
    '  <Fa>',
    `    <KodWaluty>${p.currency}</KodWaluty>`,
    `    <P_1>${p.issueDate}</P_1>`,
    `    <P_2>${escapeXml(p.invoiceNumber)}</P_2>`,
    `    <P_13_1>${money(p.netAmount)}</P_13_1>`,
    `    <P_14_1>${money(p.vatAmount)}</P_14_1>`,
    ...(p.currency === 'PLN' ? [] : [`    <P_14_1W>${money(p.vatAmount)}</P_14_1W>`]),
    `    <P_15>${money(p.netAmount + p.vatAmount)}</P_15>`,
    '    <Adnotacje>',
    '      <P_16>2</P_16><P_17>2</P_17><P_18>2</P_18><P_18A>2</P_18A>',
    '      <Zwolnienie><P_19N>1</P_19N></Zwolnienie>',
    '      <NoweSrodkiTransportu><P_22N>1</P_22N></NoweSrodkiTransportu>',
    '      <P_23>2</P_23>',
    '      <PMarzy><P_PMarzyN>1</P_PMarzyN></PMarzy>',
    '    </Adnotacje>',
    `    <RodzajFaktury>${p.kind}</RodzajFaktury>`,
    ...correction,
    '    <FaWiersz>',
    '      <NrWierszaFa>1</NrWierszaFa>',
    '      <P_7>Usługa</P_7>',
    `      <P_11>${money(p.netAmount)}</P_11>`,
    '      <P_12>23</P_12>',
    '    </FaWiersz>',
    '  </Fa>',
    '</Faktura>',
    '',
  ].join('\n');
}

function dateField(index: number, name: string, value: string | undefined, fallback: Date): Date {
  if (value === undefined) return fallback;
  const parsed = parseApiDateTime(value);
  if (!parsed) throw new SeedError(index, `${name} must be a date-time`);
  return parsed;
}

function prepare(item: SeedItem, index: number, now: Date, counter: number): { content: Buffer; facts: InvoiceFacts } {
  if (item.xml !== undefined || item.xmlBase64 !== undefined) {
    const content = item.xml !== undefined ? Buffer.from(item.xml, 'utf8') : Buffer.from(item.xmlBase64!, 'base64');
    const reading = readFa3(content);
    if (!reading.ok) throw new SeedError(index, reading.details.join(' '));
    return { content, facts: reading.facts };
  }
  const sellerNip = item.sellerNip;
  if (!sellerNip || !NIP.test(sellerNip)) throw new SeedError(index, 'sellerNip (a valid NIP) is required without xml');
  const buyerNip = item.buyerNip ?? '1234563218';
  if (!NIP.test(buyerNip)) throw new SeedError(index, 'buyerNip must be a valid NIP');
  for (const field of ['thirdPartyNip', 'authorizedNip'] as const) {
    if (item[field] !== undefined && !NIP.test(item[field])) throw new SeedError(index, `${field} must be a valid NIP`);
  }
  const kind = item.kind ?? 'VAT';
  if (!KINDS.includes(kind)) throw new SeedError(index, `kind must be one of ${KINDS.join(', ')}`);
  const issueDate = item.issueDate ?? warsawDay(now);
  if (!isCalendarDate(issueDate)) throw new SeedError(index, 'issueDate must be YYYY-MM-DD');
  const currency = item.currency ?? 'PLN';
  if (!/^[A-Z]{3}$/.test(currency)) throw new SeedError(index, 'currency must be an ISO 4217 code');
  const netAmount = item.netAmount ?? 100;
  const xml = generateFa3({
    sellerNip,
    sellerName: item.sellerName ?? `Sprzedawca ${sellerNip}`,
    buyerNip,
    buyerName: item.buyerName ?? `Nabywca ${buyerNip}`,
    thirdPartyNip: item.thirdPartyNip,
    authorizedNip: item.authorizedNip,
    kind,
    invoiceNumber: item.invoiceNumber ?? `SEED/${now.getTime()}/${counter}`,
    issueDate,
    currency,
    netAmount,
    vatAmount: item.vatAmount ?? Math.round(netAmount * 23) / 100,
    createdAt: now,
  });
  const content = Buffer.from(xml, 'utf8');
  const reading = readFa3(content);
  if (!reading.ok) throw new SeedError(index, reading.details.join(' '));
  return { content, facts: reading.facts };
}

/** Validates every item, then stores all of them (or none). */
export function seedInvoices(state: SandboxState, items: SeedItem[]): InvoiceRecord[] {
  const now = state.now();
  const seen = new Set<string>();
  const prepared = items.map((item, index) => {
    if (!item || typeof item !== 'object') throw new SeedError(index, 'must be an object');
    const { content, facts } = prepare(item, index, now, index + 1);
    const key = businessKey(facts);
    if (seen.has(key) || state.invoicesByBusinessKey.has(key)) {
      throw new SeedError(index, `duplicate of an existing invoice (seller ${facts.sellerNip}, ${facts.kind}, ${facts.invoiceNumber})`);
    }
    seen.add(key);
    const invoicingDate = dateField(index, 'invoicingDate', item.invoicingDate, now);
    const acquisitionDate = dateField(index, 'acquisitionDate', item.acquisitionDate, invoicingDate);
    const permanentStorageDate = dateField(index, 'permanentStorageDate', item.permanentStorageDate, acquisitionDate);
    if (item.invoicingMode !== undefined && item.invoicingMode !== 'Online' && item.invoicingMode !== 'Offline') {
      throw new SeedError(index, 'invoicingMode must be Online or Offline');
    }
    return { item, content, facts, invoicingDate, acquisitionDate, permanentStorageDate };
  });
  return prepared.map(({ item, content, facts, invoicingDate, acquisitionDate, permanentStorageDate }, i) => {
    const issuer: ContextIdentifier = { type: 'Nip', value: facts.sellerNip };
    const inv: InvoiceRecord = {
      ordinalNumber: i + 1,
      issuerContext: issuer,
      formCode: FA3_FORM,
      invoiceHash: sha256Base64(content),
      invoiceSize: content.length,
      invoicingDate,
      offlineMode: item.invoicingMode === 'Offline',
      status: { code: 100, description: '' },
      content,
    };
    store(state, inv, facts, acquisitionDate, permanentStorageDate);
    inv.invoicingMode = item.invoicingMode ?? effectiveInvoicingMode(false, facts.issueDate, invoicingDate);
    indexByHash(state, inv);
    return inv;
  });
}
