/** `Platnosc` (payment terms) and `WarunkiTransakcji` (orders and contracts). */
import type { InvoiceDraft } from '../types.js';
import { type XmlElement, element, group, leaf } from '../xml-writer.js';
import { text } from './parties.js';

const PAYMENT_FORM = { cash: 1, card: 2, voucher: 3, cheque: 4, credit: 5, transfer: 6, mobile: 7 } as const;

export function payment(d: InvoiceDraft): XmlElement | undefined {
  const p = d.payment ?? {};
  // An advance invoice documents a payment received: it is paid, on the day it was received.
  const paidDate = p.paidDate ?? (d.kind === 'ZAL' ? d.advance?.paymentDate : undefined);
  return group(
    'Platnosc',
    paidDate !== undefined && [leaf('Zaplacono', 1), leaf('DataZaplaty', paidDate)],
    p.dueDate !== undefined && element('TerminPlatnosci', leaf('Termin', p.dueDate)),
    p.method ? leaf('FormaPlatnosci', PAYMENT_FORM[p.method]) : p.otherMethod !== undefined && [leaf('PlatnoscInna', 1), leaf('OpisPlatnosci', text(p.otherMethod))],
    (p.bankAccounts ?? []).map((a) =>
      element('RachunekBankowy', leaf('NrRB', a.number), leaf('SWIFT', a.swift), leaf('NazwaBanku', text(a.bankName)), leaf('OpisRachunku', text(a.description))),
    ),
    p.earlyPaymentDiscount && element('Skonto', leaf('WarunkiSkonta', text(p.earlyPaymentDiscount.conditions)), leaf('WysokoscSkonta', text(p.earlyPaymentDiscount.amount))),
  );
}

export const transactionTerms = (d: InvoiceDraft): XmlElement | undefined =>
  group(
    'WarunkiTransakcji',
    (d.contracts ?? []).map((c) => element('Umowy', leaf('DataUmowy', c.date), leaf('NrUmowy', text(c.number)))),
    (d.orders ?? []).map((o) => element('Zamowienia', leaf('DataZamowienia', o.date), leaf('NrZamowienia', text(o.number)))),
  );
