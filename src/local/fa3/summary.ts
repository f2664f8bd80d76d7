import { dec, format, sum } from './decimal.js';
import { Fa3Invoice, InvoiceKind } from './model.js';

/** The few fields a listing or a send result shows; amounts as decimal strings with 2 places. */
export interface InvoiceSummary {
  invoiceNumber: string;
  type: InvoiceKind;
  issueDate: string;
  sellerNip: string;
  /** The buyer's Polish NIP; null for EU, foreign or unidentified buyers. */
  buyerNip: string | null;
  buyerName: string | null;
  /** Σ P_13_* (for corrections: the change). */
  net: string;
  /** Σ P_14_1..5 (in the invoice currency). */
  vat: string;
  /** P_15, the total due (ROZ: the amount still to pay; corrections: the change). */
  gross: string;
  currency: string;
}

export function summarize(invoice: Fa3Invoice): InvoiceSummary {
  return {
    invoiceNumber: invoice.number,
    type: invoice.kind,
    issueDate: invoice.issueDate,
    sellerNip: invoice.seller.nip,
    buyerNip: invoice.buyer.nip ?? null,
    buyerName: invoice.buyer.name ?? null,
    net: format(sum(invoice.totals.map((t) => dec(t.net))), 2),
    vat: format(sum(invoice.totals.flatMap((t) => (t.vat !== undefined ? [dec(t.vat)] : []))), 2),
    gross: format(dec(invoice.totalDue), 2),
    currency: invoice.currency,
  };
}
