/**
 * The builder's input is the contract's `InvoiceDraft` (spec/openapi.yaml): one definition, so the JSON a client
 * sends and what the builder reads cannot drift apart. Amounts, prices and quantities stay decimal strings here.
 */
import type { components } from '../../../generated/api.js';
import type { Environment, Fa3Invoice, ValidationIssue } from '../fa3/index.js';

type Schemas = components['schemas'];
export type InvoiceDraft = Schemas['InvoiceDraft'];
export type InvoiceKind = InvoiceDraft['kind'];
export type DraftSeller = Schemas['DraftSeller'];
export type DraftBuyer = Schemas['DraftBuyer'];
export type DraftThirdParty = Schemas['DraftThirdParty'];
export type DraftAddress = Schemas['DraftAddress'];
export type DraftLine = Schemas['DraftLine'];
export type DraftOrderLine = Schemas['DraftOrderLine'];
export type DraftTaxRate = Schemas['DraftTaxRate'];
export type DraftCorrection = Schemas['DraftCorrection'];
export type DraftSettledAdvance = Schemas['DraftSettledAdvance'];
export type BuiltInvoiceSummary = Schemas['BuiltInvoiceSummary'];

export interface BuildOptions {
  /** Decides N1: a NIP with a wrong checksum is refused on prod (default), a warning on test/demo, as in KSeF. */
  environment?: Environment;
  /** Today in Europe/Warsaw (YYYY-MM-DD): the default issue date and the limit for it. */
  today?: string;
  /** `DataWytworzeniaFa` when the draft gives no `createdAt`. */
  now?: Date;
}

export interface BuiltFa3 {
  /** UTF-8 without BOM, exactly the bytes to send. */
  xml: Buffer;
  /** The built XML as our parser reads it back. */
  invoice: Fa3Invoice;
  summary: BuiltInvoiceSummary;
  warnings: ValidationIssue[];
}
