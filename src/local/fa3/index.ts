/** FA(3) invoices: namespace-aware parsing into a typed model, and layered validation. */
export { Fa3ParseError, parseFa3, validateFa3 } from './validate.js';
export type { ValidateOptions, ValidationResult } from './validate.js';
export { summarize } from './summary.js';
export type { InvoiceSummary } from './summary.js';
export type { ValidationIssue } from './issues.js';
export type { Environment, ValidationMode } from './rules.js';
export { TAX_BUCKETS } from './model.js';
export type {
  Address,
  AdvanceInvoiceRef,
  Annotations,
  Attachment,
  AttachmentTable,
  AuthorizedParty,
  BankAccount,
  Buyer,
  Contact,
  CorrectedBuyer,
  CorrectedInvoice,
  CorrectedSeller,
  Fa3Invoice,
  Footer,
  InvoiceKind,
  InvoiceLine,
  KeyValue,
  NewVehicle,
  Order,
  OrderLine,
  PartialAdvancePayment,
  PartyIdentity,
  Payment,
  Seller,
  Settlement,
  TaxBucketId,
  TaxBucketInfo,
  TaxTotal,
  ThirdParty,
  TransactionTerms,
  Transport,
} from './model.js';
export { FA3_NAMESPACE, FA3_SCHEMA_VERSION, FA3_SYSTEM_CODE, INVOICE_KINDS, TAX_RATES } from './schema.js';
export { FA3_XSD_FILE } from './xsd.js';
