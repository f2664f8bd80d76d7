import { InvoiceFacts, InvoiceType, PartyIdentifier } from '../model.js';
import { NIP } from '../util/ids.js';
import { isCalendarDate } from '../util/time.js';
import { withParsedXml } from '../../xml/parse.js';
import { fa3Schema, schemaErrors } from '../../xml/schemas.js';
import { attributeValue, childNamed as childOf, childrenNamed as childrenOf, XmlSyntaxError, type XmlElement } from '../../xml/tree.js';

/**
 * The structural checks KSeF makes on every FA(3) document before (or without) the XSD: UTF-8 without a
 * BOM, no DTD or processing instructions, well-formed, root `Faktura` in the FA(3) namespace with the
 * FA (3) form code; then it reads the facts KSeF keeps (seller, buyer, number, kind, totals…).
 * Any failure is status 450 with the reasons as details. With `schema`, the same parse also gives the full
 * XSD validation KSeF makes on every invoice (the official schema, compiled once by libxml2): one parse per
 * invoice, not one for the facts and another for the schema.
 */

export const FA3_NAMESPACE = 'http://crd.gov.pl/wzor/2025/06/25/13775/';

export type Fa3Reading = { ok: true; facts: InvoiceFacts; schemaProblems: string[] } | { ok: false; details: string[]; invoiceNumber?: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });

const INVOICE_TYPES: Record<string, InvoiceType> = {
  VAT: 'Vat',
  ZAL: 'Zal',
  KOR: 'Kor',
  ROZ: 'Roz',
  UPR: 'Upr',
  KOR_ZAL: 'KorZal',
  KOR_ROZ: 'KorRoz',
};

const NET_FIELDS = ['P_13_1', 'P_13_2', 'P_13_3', 'P_13_4', 'P_13_5', 'P_13_6_1', 'P_13_6_2', 'P_13_6_3', 'P_13_7', 'P_13_8', 'P_13_9', 'P_13_10', 'P_13_11'];
const VAT_BUCKETS = ['1', '2', '3', '4', '5'];

/** Text of a leaf element, trimmed; undefined when the element is absent. */
const text = (element: XmlElement | undefined): string | undefined => element?.text.trim();

const collapse = (value: string | undefined) => value?.replace(/\s+/g, ' ').trim() || undefined;

const amount = (parent: XmlElement | undefined, name: string): number => {
  const n = Number(text(childOf(parent, name)) ?? 0);
  return Number.isFinite(n) ? n : 0;
};

const round2 = (n: number) => Math.round(n * 100) / 100;

function identifierOf(ids: XmlElement | undefined): PartyIdentifier {
  const nip = text(childOf(ids, 'NIP'));
  if (nip) return { type: 'Nip', value: nip };
  const internal = text(childOf(ids, 'IDWew'));
  if (internal) return { type: 'InternalId', value: internal };
  const euCode = text(childOf(ids, 'KodUE'));
  const euNumber = text(childOf(ids, 'NrVatUE'));
  if (euCode && euNumber) return { type: 'VatUe', value: `${euCode}${euNumber}` };
  const other = text(childOf(ids, 'NrID'));
  if (other) return { type: 'Other', value: other };
  return { type: 'None' };
}

const INVALID_CHARS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;

/** The document tree and its XSD violations (when asked for), or the reasons it is not an acceptable XML file. */
function parse(bytes: Buffer, schema: boolean): { root?: XmlElement; problems: string[]; schemaProblems: string[] } {
  if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { problems: ['Nieprawidłowy XML: plik zawiera znacznik BOM (wymagane UTF-8 bez BOM).'], schemaProblems: [] };
  }
  let xml: string;
  try {
    xml = utf8.decode(bytes);
  } catch {
    return { problems: ['Nieprawidłowy XML: plik nie jest poprawnie zakodowany w UTF-8.'], schemaProblems: [] };
  }
  const declaration = /^<\?xml\s[^?]*\?>/.exec(xml);
  const encoding = declaration && /encoding\s*=\s*["']([^"']+)["']/i.exec(declaration[0]);
  if (encoding && !/^utf-?8$/i.test(encoding[1])) {
    return { problems: [`Nieprawidłowy XML: zadeklarowane kodowanie ${encoding[1]} (wymagane UTF-8).`], schemaProblems: [] };
  }
  if (INVALID_CHARS.test(xml)) return { problems: ['Nieprawidłowy XML: dokument zawiera niedozwolone znaki sterujące.'], schemaProblems: [] };
  try {
    return withParsedXml(bytes, (document, native) => {
      if (document.processingInstructions.length > 0) return { problems: ['Nieprawidłowy XML: instrukcje przetwarzania są niedozwolone.'], schemaProblems: [] };
      const schemaProblems = schema ? schemaErrors(fa3Schema(), native).map((e) => `Błąd walidacji XSD (linia ${e.line}): ${e.message.trim()}`) : [];
      return { root: document.root, problems: [], schemaProblems };
    });
  } catch (err) {
    if (err instanceof XmlSyntaxError) return { problems: [`Nieprawidłowy XML: ${err.message}.`], schemaProblems: [] };
    throw err;
  }
}

export function readFa3(bytes: Buffer, { schema = false } = {}): Fa3Reading {
  const { root: doc, problems: syntax, schemaProblems } = parse(bytes, schema);
  if (!doc) return { ok: false, details: syntax };
  if (doc.local !== 'Faktura' || doc.ns !== FA3_NAMESPACE) {
    return {
      ok: false,
      details: [`Nieprawidłowy XML: oczekiwano elementu głównego {${FA3_NAMESPACE}}Faktura, otrzymano {${doc.ns ?? ''}}${doc.local}.`],
    };
  }
  const problems: string[] = [];

  const form = childOf(childOf(doc, 'Naglowek'), 'KodFormularza');
  if (!form) problems.push('Brak elementu Naglowek/KodFormularza.');
  else {
    const kodSystemowy = attributeValue(form, 'kodSystemowy') ?? '';
    const wersjaSchemy = attributeValue(form, 'wersjaSchemy') ?? '';
    if (kodSystemowy !== 'FA (3)') problems.push(`Nieprawidłowy kodSystemowy formularza: "${kodSystemowy}" (oczekiwano "FA (3)").`);
    if (wersjaSchemy !== '1-0E') problems.push(`Nieprawidłowa wersjaSchemy formularza: "${wersjaSchemy}" (oczekiwano "1-0E").`);
    if (text(form) !== 'FA') problems.push('Nieprawidłowa wartość KodFormularza (oczekiwano "FA").');
  }

  const seller = childOf(doc, 'Podmiot1');
  const sellerIds = childOf(seller, 'DaneIdentyfikacyjne');
  const sellerNip = text(childOf(sellerIds, 'NIP'));
  if (!sellerNip) problems.push('Brak elementu Podmiot1/DaneIdentyfikacyjne/NIP.');
  else if (!NIP.test(sellerNip)) problems.push(`Nieprawidłowy NIP sprzedawcy (Podmiot1): ${sellerNip}.`);

  const buyer = childOf(doc, 'Podmiot2');
  if (!buyer) problems.push('Brak elementu Podmiot2.');

  const fa = childOf(doc, 'Fa');
  const invoiceNumber = collapse(text(childOf(fa, 'P_2')));
  if (!fa) problems.push('Brak elementu Fa.');
  else {
    if (!invoiceNumber) problems.push('Brak elementu Fa/P_2 (numer faktury).');
    const p1 = text(childOf(fa, 'P_1'));
    if (!p1) problems.push('Brak elementu Fa/P_1 (data wystawienia).');
    else if (!isCalendarDate(p1)) problems.push(`Nieprawidłowa data wystawienia Fa/P_1: ${p1}.`);
    const kind = text(childOf(fa, 'RodzajFaktury'));
    if (!kind) problems.push('Brak elementu Fa/RodzajFaktury.');
    else if (!INVOICE_TYPES[kind]) problems.push(`Nieprawidłowy rodzaj faktury Fa/RodzajFaktury: ${kind}.`);
    const currency = text(childOf(fa, 'KodWaluty'));
    if (!currency || !/^[A-Z]{3}$/.test(currency)) problems.push('Brak lub nieprawidłowy element Fa/KodWaluty.');
    const total = text(childOf(fa, 'P_15'));
    if (total === undefined || !Number.isFinite(Number(total)) || total === '') problems.push('Brak lub nieprawidłowy element Fa/P_15.');
  }
  if (problems.length) return { ok: false, details: problems, invoiceNumber };

  const currency = text(childOf(fa, 'KodWaluty'))!;
  const vatAmount = VAT_BUCKETS.reduce((sum, b) => {
    const inPln = currency !== 'PLN' && childOf(fa, `P_14_${b}W`) !== undefined;
    return sum + amount(fa, inPln ? `P_14_${b}W` : `P_14_${b}`);
  }, 0);
  const authorized = childOf(doc, 'PodmiotUpowazniony');
  const authorizedIds = childOf(authorized, 'DaneIdentyfikacyjne');
  const authorizedNip = text(childOf(authorizedIds, 'NIP'));
  const kind = text(childOf(fa, 'RodzajFaktury'))!;

  const facts: InvoiceFacts = {
    sellerNip: sellerNip!,
    sellerName: collapse(text(childOf(sellerIds, 'Nazwa'))),
    buyer: {
      identifier: identifierOf(childOf(buyer, 'DaneIdentyfikacyjne')),
      name: collapse(text(childOf(childOf(buyer, 'DaneIdentyfikacyjne'), 'Nazwa'))),
    },
    thirdSubjects: childrenOf(doc, 'Podmiot3').map((p) => {
      const ids = childOf(p, 'DaneIdentyfikacyjne');
      const role = Number(text(childOf(p, 'Rola')) ?? 0);
      return { identifier: identifierOf(ids), name: collapse(text(childOf(ids, 'Nazwa'))), role: Number.isInteger(role) ? role : 0 };
    }),
    authorizedSubject: authorizedNip
      ? { nip: authorizedNip, name: collapse(text(childOf(authorizedIds, 'Nazwa'))), role: Number(text(childOf(authorized, 'RolaPU')) ?? 0) || 0 }
      : undefined,
    invoiceNumber: invoiceNumber!,
    issueDate: text(childOf(fa, 'P_1'))!,
    kind,
    invoiceType: INVOICE_TYPES[kind],
    currency,
    netAmount: round2(NET_FIELDS.reduce((sum, f) => sum + amount(fa, f), 0)),
    grossAmount: round2(amount(fa, 'P_15')),
    vatAmount: round2(vatAmount),
    isSelfInvoicing: text(childOf(childOf(fa, 'Adnotacje'), 'P_17')) === '1',
    hasAttachment: childOf(doc, 'Zalacznik') !== undefined,
  };
  return { ok: true, facts, schemaProblems };
}
