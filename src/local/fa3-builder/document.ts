/** The whole `Faktura`, element by element in the order of schemat_FA(3)_v1-0E.xsd (FA3.md §1.2). */
import { FA3_NAMESPACE, FA3_SCHEMA_VERSION, FA3_SYSTEM_CODE } from '../fa3/index.js';
import type { Computed } from './compute.js';
import { type Dec, amountText, dec, decimalText } from './money.js';
import { annotations } from './sections/annotations.js';
import { invoiceLines, order } from './sections/lines.js';
import { buyer, seller, text, thirdParty } from './sections/parties.js';
import { payment, transactionTerms } from './sections/payment.js';
import { correctionBlock, settledAdvance } from './sections/references.js';
import type { InvoiceDraft } from './types.js';
import { type XmlElement, element, leaf } from './xml-writer.js';

const ADVANCE_KINDS = new Set(['ZAL', 'KOR_ZAL']);

/** `P_6`: the supply date (on advances the payment date), written only when it differs from the issue date. */
function supplyDate(d: InvoiceDraft, issueDate: string): XmlElement | XmlElement[] | undefined {
  if (d.salePeriod) return element('OkresFa', leaf('P_6_Od', d.salePeriod.from), leaf('P_6_Do', d.salePeriod.to));
  const date = ADVANCE_KINDS.has(d.kind) ? d.advance?.paymentDate : d.saleDate;
  return date !== undefined && date !== issueDate ? leaf('P_6', date) : undefined;
}

function header(c: Computed): XmlElement[] {
  return c.header.flatMap((h) => [
    leaf(h.bucket.netField, amountText(h.net))!,
    ...(h.bucket.vatField && h.vat ? [leaf(h.bucket.vatField, amountText(h.vat))!] : []),
    ...(h.bucket.vatPlnField && h.vatPln ? [leaf(h.bucket.vatPlnField, amountText(h.vatPln))!] : []),
  ]);
}

function body(d: InvoiceDraft, c: Computed, issueDate: string): XmlElement {
  const exchangeRate: Dec | undefined = d.exchangeRate !== undefined ? dec(d.exchangeRate) : undefined;
  const advance = ADVANCE_KINDS.has(d.kind);
  return element(
    'Fa',
    leaf('KodWaluty', d.currency ?? 'PLN'),
    leaf('P_1', issueDate),
    leaf('P_1M', text(d.issuePlace)),
    leaf('P_2', text(d.number)),
    supplyDate(d, issueDate),
    header(c),
    leaf('P_15', amountText(c.totalDue)),
    // An advance has no lines to carry the rate: it goes in KursWalutyZ.
    leaf('KursWalutyZ', advance && exchangeRate ? decimalText(exchangeRate) : undefined),
    annotations(d, c),
    leaf('RodzajFaktury', d.kind),
    d.correction && correctionBlock(d.correction, c.totalDueBefore),
    (d.notes ?? []).map((n) => element('DodatkowyOpis', leaf('NrWiersza', n.line), leaf('Klucz', text(n.key)), leaf('Wartosc', text(n.value)))),
    (d.advances ?? []).map(settledAdvance),
    invoiceLines(c.lines, c.pricing, advance ? undefined : exchangeRate),
    payment(d),
    transactionTerms(d),
    c.order && order(c.order.lines, c.order.value),
  );
}

export function faktura(d: InvoiceDraft, c: Computed, issueDate: string, createdAt: string): XmlElement {
  return {
    name: 'Faktura',
    attributes: [['xmlns', FA3_NAMESPACE]],
    children: [
      element(
        'Naglowek',
        { name: 'KodFormularza', attributes: [['kodSystemowy', FA3_SYSTEM_CODE], ['wersjaSchemy', FA3_SCHEMA_VERSION]], text: 'FA' },
        leaf('WariantFormularza', 3),
        leaf('DataWytworzeniaFa', createdAt),
        leaf('SystemInfo', text(d.systemInfo) ?? 'Fast KSeF'),
      ),
      seller(d.seller),
      buyer(d.buyer),
      ...(d.thirdParties ?? []).map(thirdParty),
      body(d, c, issueDate),
      // The footer keeps its line breaks (etd:TTekstowy is not a token).
      ...(d.footer !== undefined ? [element('Stopka', element('Informacje', leaf('StopkaFaktury', d.footer)))] : []),
    ],
  };
}
