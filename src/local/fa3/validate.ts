/**
 * The FA(3) validator: (a) bytes, well-formedness, namespace and form code; (b) structure against our
 * transcription of the schema; (c) business rules (FA3.md §6); (d) the official XSD through xmllint when a
 * schema directory is configured. Later layers run only when (a) and (b) pass: on a broken document they
 * would only repeat the same problem in other words.
 */
import { checkIdentity, readDocument } from './document.js';
import { ValidationIssue } from './issues.js';
import { Fa3Invoice, buildInvoice } from './model.js';
import { Environment, ValidationMode, documentRules, invoiceRules } from './rules.js';
import { FA3_NAMESPACE, FAKTURA } from './schema.js';
import { checkElement } from './structure.js';
import { InvoiceSummary, summarize } from './summary.js';
import { validateWithXsd } from './xsd.js';

export interface ValidateOptions {
  /** 'issue' (default): our own invoice before sending. 'ingest': already accepted by KSeF, rules only warn. */
  mode?: ValidationMode;
  /** Target environment; decides N1 (NIP checksum: error on prod, warning on test/demo). Default 'prod'. */
  environment?: Environment;
  /** Today in Europe/Warsaw, YYYY-MM-DD (D1/D2); default: the current date there. */
  today?: string;
  /** Directory with schemat_FA(3)_v1-0E.xsd and bazowe/*.xsd; default: env KSEF_XSD_DIR; none: layer (d) off. */
  xsdDir?: string;
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

export async function validateFa3(xml: Buffer, options: ValidateOptions = {}): Promise<ValidationResult> {
  const mode = options.mode ?? 'issue';
  const environment = options.environment ?? 'prod';
  const today = options.today ?? warsawDate.format(new Date());
  const xsdDir = options.xsdDir ?? (process.env.KSEF_XSD_DIR || undefined);
  if (!MODES.includes(mode)) throw new TypeError(`mode must be one of ${MODES.join(', ')}`);
  if (!ENVIRONMENTS.includes(environment)) throw new TypeError(`environment must be one of ${ENVIRONMENTS.join(', ')}`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(today)) throw new TypeError('today must be YYYY-MM-DD');
  const ruleOptions = { mode, environment, today };

  const read = readDocument(xml);
  if (!read.ok) return { valid: false, errors: read.issues, warnings: [] };
  const root = read.document.root;
  const identity = checkIdentity(root);
  if (identity.length > 0) return { valid: false, errors: identity, warnings: [] };

  const hasAttachment = root.children.some((c) => c.local === 'Zalacznik' && c.ns === FA3_NAMESPACE);
  const bytes = documentRules(read.facts, hasAttachment, ruleOptions);
  const errors = [...bytes.errors];
  const warnings = [...bytes.warnings];

  const structure = checkElement(root, FAKTURA);
  if (structure.length > 0) return { valid: false, errors: [...errors, ...capped(structure)], warnings };

  const xsd = xsdDir ? validateWithXsd(xml, xsdDir, root) : Promise.resolve([]);
  const invoice = buildInvoice(root);
  const rules = invoiceRules(invoice, ruleOptions);
  errors.push(...(await xsd), ...rules.errors);
  warnings.push(...rules.warnings);
  return { valid: errors.length === 0, errors, warnings, invoice, summary: summarize(invoice) };
}
