import { ContextIdentifier, InvoiceRecord, Session, UpoPage } from '../model.js';
import { SandboxState } from '../state.js';
import { warsawDateTime } from '../util/time.js';

/**
 * UPO v4-3 (PROTOCOL.md §12), valid against upo-v4-3.xsd: the receiving party must be exactly
 * "Ministerstwo Finansów" (the XSD fixes it), so the sandbox does not add an environment suffix.
 */

export const UPO_NAMESPACE = 'http://upo.schematy.mf.gov.pl/KSeF/v4-3';
export const UPO_PAGE_SIZE = 10_000;

const escapeXml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);

const element = (name: string, value: string | number) => `<${name}>${escapeXml(String(value))}</${name}>`;

function contextElement(context: ContextIdentifier): string {
  switch (context.type) {
    case 'Nip':
      return element('Nip', context.value);
    case 'InternalId':
      return element('IdWewnetrzny', context.value);
    case 'NipVatUe':
      return element('IdZlozonyVatUE', context.value);
    case 'PeppolId':
      return element('IdDostawcyUslugPeppol', context.value);
  }
}

function documentElement(inv: InvoiceRecord): string {
  const facts = inv.facts!;
  return [
    '<Dokument>',
    element('NipSprzedawcy', facts.sellerNip),
    element('NumerKSeFDokumentu', inv.ksefNumber!),
    element('NumerFaktury', facts.invoiceNumber),
    element('DataWystawieniaFaktury', facts.issueDate),
    element('DataPrzeslaniaDokumentu', warsawDateTime(inv.invoicingDate)),
    element('DataNadaniaNumeruKSeF', warsawDateTime(inv.acquisitionDate!)),
    element('SkrotDokumentu', inv.invoiceHash),
    element('TrybWysylki', inv.invoicingMode!),
    '</Dokument>',
  ].join('');
}

interface Page {
  number: number;
  count: number;
  from: number;
  to: number;
  total: number;
}

function build(session: Session, documents: InvoiceRecord[], page?: Page): Buffer {
  const [formName, formVersion] = [session.formCode.systemCode.replace(/\s+/g, ''), session.formCode.schemaVersion];
  const xml = [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<Potwierdzenie xmlns="${UPO_NAMESPACE}">`,
    element('NazwaPodmiotuPrzyjmujacego', 'Ministerstwo Finansów'),
    element('NumerReferencyjnySesji', session.referenceNumber),
    '<Uwierzytelnienie>',
    `<IdKontekstu>${contextElement(session.context)}</IdKontekstu>`,
    session.authentication.kind === 'token'
      ? element('NumerReferencyjnyTokenaKSeF', session.authentication.tokenReference)
      : element('SkrotDokumentuUwierzytelniajacego', session.authentication.documentHash),
    '</Uwierzytelnienie>',
    page
      ? [
          '<OpisPotwierdzenia>',
          element('Strona', page.number),
          element('LiczbaStron', page.count),
          element('ZakresDokumentowOd', page.from),
          element('ZakresDokumentowDo', page.to),
          element('CalkowitaLiczbaDokumentow', page.total),
          '</OpisPotwierdzenia>',
        ].join('')
      : '',
    element('NazwaStrukturyLogicznej', `Schemat_${formName}_v${formVersion}.xsd`),
    element('KodFormularza', session.formCode.systemCode),
    ...documents.map(documentElement),
    '</Potwierdzenie>',
  ].join('\n');
  return Buffer.from(xml, 'utf8');
}

/** The per-invoice UPO of an accepted invoice (built once). */
export function invoiceUpo(inv: InvoiceRecord): Buffer | undefined {
  if (!inv.session || !inv.ksefNumber || inv.status.code !== 200) return undefined;
  inv.upo ??= build(inv.session, [inv]);
  return inv.upo;
}

/** The session UPO: every accepted invoice, in ordinal order, in pages of at most 10 000 documents. */
export function sessionUpoPages(state: SandboxState, session: Session): UpoPage[] {
  const accepted = session.invoices.filter((i) => i.status.code === 200);
  const count = Math.ceil(accepted.length / UPO_PAGE_SIZE);
  const pages: UpoPage[] = [];
  for (let p = 0; p < count; p++) {
    const slice = accepted.slice(p * UPO_PAGE_SIZE, (p + 1) * UPO_PAGE_SIZE);
    const from = p * UPO_PAGE_SIZE + 1;
    pages.push({
      referenceNumber: state.newReference('EU'),
      content: build(session, slice, { number: p + 1, count, from, to: from + slice.length - 1, total: accepted.length }),
    });
  }
  return pages;
}
