/**
 * The FA(3) validator: (a) bytes, well-formedness, namespace and form code; (b) the official XSD, compiled
 * once by libxml2; (c) business rules (FA3.md §6) on top. Later layers run only when the earlier pass: on a
 * broken document they would only repeat the same problem in other words.
 */
import { checkIdentity, readDocument } from './document.js';
import { ValidationIssue } from './issues.js';
import { Fa3Invoice, buildInvoice } from './model.js';
import { Environment, ValidationMode, documentRules, invoiceRules } from './rules.js';
import { fa3Schema, schemaErrors } from '../../xml/schemas.js';
import { FA3_NAMESPACE } from './constants.js';
import { schemaIssue } from './schema-issues.js';
import { InvoiceSummary, summarize } from './summary.js';

export interface ValidateOptions {
  /** 'issue' (default): our own invoice before sending. 'ingest': already accepted by KSeF, rules only warn. */
  mode?: ValidationMode;
  /** Target environment; decides N1 (NIP checksum: error on prod, warning on test/demo). Default 'prod'. */
  environment?: Environment;
  /** Today in Europe/Warsaw, YYYY-MM-DD (D1/D2); default: the current date there. */
  today?: string;
}

export interface ValidationResult {
  valid: boolean;
  errors: ValidationIssue[];
  warnings: ValidationIssue[];
  /** Present when the document is structurally valid FA(3) (business-rule errors may remain). */
  invoice?: Fa3Invoice;
  summary?: InvoiceSummary;
}

export class Fa3ParseError extends Error {
  constructor(readonly issues: ValidationIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'Fa3ParseError';
  }
}

/**
 * Parses an FA(3) invoice into the model without validating it (for invoices already accepted, e.g. to
 * render them). Throws Fa3ParseError when the bytes are not well-formed XML or not an FA(3) invoice.
 */
export function parseFa3(xml: Buffer): Fa3Invoice {
  const read = readDocument(xml);
  if (!read.ok) throw new Fa3ParseError(read.issues);
  const identity = checkIdentity(read.document.root);
  if (identity.length > 0) throw new Fa3ParseError(identity);
  return buildInvoice(read.document.root);
}

/** A response stays readable (and small) however broken the document: the first problems tell the story. */
const MAX_STRUCTURE_ISSUES = 100;

function capped(issues: ValidationIssue[]): ValidationIssue[] {
  if (issues.length <= MAX_STRUCTURE_ISSUES) return issues;
  return [
    ...issues.slice(0, MAX_STRUCTURE_ISSUES),
    { path: '/', message: `${issues.length - MAX_STRUCTURE_ISSUES} more structural problems not listed`, code: 'SCHEMA_MORE' },
  ];
}

const MODES: readonly ValidationMode[] = ['issue', 'ingest'];
const ENVIRONMENTS: readonly Environment[] = ['test', 'demo', 'prod'];

const warsawDate = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Europe/Warsaw',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today's date in Europe/Warsaw, YYYY-MM-DD: the day KSeF compares issue dates with (D1, D2). */
export const warsawToday = (): string => warsawDate.format(new Date());

export async function validateFa3(xml: Buffer, options: ValidateOptions = {}): Promise<ValidationResult> {
  const mode = options.mode ?? 'issue';
  const environment = options.environment ?? 'prod';
  const today = options.today ?? warsawToday();
  if (!MODES.includes(mode)) throw new TypeError(`mode must be one of ${MODES.join(', ')}`);
  if (!ENVIRONMENTS.includes(environment)) throw new TypeError(`environment must be one of ${ENVIRONMENTS.join(', ')}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new TypeError('today must be YYYY-MM-DD');
  const ruleOptions = { mode, environment, today };

  const read = readDocument(xml, (document, native) => {
    const identity = checkIdentity(document.root);
    return { identity, schema: identity.length > 0 ? [] : schemaErrors(fa3Schema(), native).map((d) => schemaIssue(d, document.root)) };
  });
  if (!read.ok) return { valid: false, errors: read.issues, warnings: [] };
  const root = read.document.root;
  const { identity, schema } = read.inspected;
  if (identity.length > 0) return { valid: false, errors: identity, warnings: [] };

  const hasAttachment = root.children.some((c) => c.local === 'Zalacznik' && c.ns === FA3_NAMESPACE);
  const bytes = documentRules(read.facts, hasAttachment, ruleOptions);
  const errors = [...bytes.errors];
  const warnings = [...bytes.warnings];

  if (schema.length > 0) return { valid: false, errors: [...errors, ...capped(schema)], warnings };

  const invoice = buildInvoice(root);
  const rules = invoiceRules(invoice, ruleOptions);
  errors.push(...rules.errors);
  warnings.push(...rules.warnings);
  return { valid: errors.length === 0, errors, warnings, invoice, summary: summarize(invoice) };
}
