import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest, conflict, notFound } from '../http/errors.js';
import type { OfflineRow } from '../ksef-proxy/index.js';
import { validateFa3 } from '../local/fa3/index.js';
import { RenderInputError } from '../local/render/index.js';
import { caller } from './caller.js';
import { invoiceBytes } from './invoice-body.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'listOfflineInvoices' | 'getOfflineInvoiceDocument' | 'sendOfflineBatch' | 'resendOfflineInvoice'>;

/** An `offline_invoices` row as the contract's OfflineInvoice. */
function view(row: OfflineRow) {
  return {
    id: row.id,
    invoiceNumber: row.invoice_number,
    issueDate: row.issue_date,
    buyerName: row.buyer_name,
    buyerNip: row.buyer_nip,
    netAmount: row.net_amount,
    grossAmount: row.gross_amount,
    vatAmount: row.vat_amount,
    currency: row.currency,
    status: row.status,
    errorMessage: row.error_message,
    sessionReferenceNumber: row.session_reference_number,
    // Part A's name for it (API.md), kept for the clients that read it.
    ksefReferenceNumber: row.session_reference_number,
    ksefNumber: row.ksef_number,
    qrLinkInvoice: row.qr_link_invoice,
    qrLinkCertificate: row.qr_link_certificate,
    offlineMode: row.offline_mode,
    submissionDeadline: row.submission_deadline,
    createdAt: row.created_at,
  };
}

export const offlineHandlers: Handlers = {
  async listOfflineInvoices({ params, query }, ctx) {
    const principal = caller(ctx);
    const rows = await ctx.services.ksef.listOffline(principal.companyId, params.environment, query.status ?? 'unsent');
    return { status: 200, body: { invoices: rows.map(view), totalCount: rows.length } };
  },

  async getOfflineInvoiceDocument({ params, query }, ctx) {
    const principal = caller(ctx);
    const { environment, id } = params;
    const row = await ctx.services.ksef.offlineInvoice(principal.companyId, environment, id);
    if (!row) throw notFound(`No offline invoice ${id} in ${environment}; GET /invoices/${environment}/offline?status=all lists them.`);
    const docType = query.docType ?? 'xml';
    const links = { qrLinkInvoice: row.qr_link_invoice, qrLinkCertificate: row.qr_link_certificate };
    if (docType === 'xml') {
      return {
        status: 200,
        body: { id, invoiceNumber: row.invoice_number, docType, contentType: 'application/xml', content: row.xml.toString('base64'), fileName: `${fileBase(row)}.xml`, ...links },
      };
    }
    try {
      const doc = await ctx.services.documents.offlineDocument({
        xml: row.xml,
        docType,
        kodI: row.qr_link_invoice,
        kodII: row.qr_link_certificate,
        ksefNumber: row.ksef_number,
        invoiceNumber: row.invoice_number,
        lang: query.lang,
      });
      const qrVerificationUrl = docType === 'cert' ? row.qr_link_certificate : row.qr_link_invoice;
      return { status: 200, body: { id, invoiceNumber: row.invoice_number, docType, ...doc, content: doc.content.toString('base64'), qrVerificationUrl, ...links } };
    } catch (e) {
      if (e instanceof RenderInputError) throw badRequest(`The stored invoice cannot be rendered: ${e.message}.`, [{ path: 'path.id', message: e.message }]);
      throw e;
    }
  },

  async sendOfflineBatch({ params }, ctx) {
    const principal = caller(ctx);
    const { environment } = params;
    const result = await ctx.services.ksef.sendOfflineBatch(principal.companyId, environment);
    if (!result) throw notFound(`Nothing waits in the offline queue of ${environment} (no invoice is signed or pending).`);
    return { status: 200, body: { referenceNumber: result.referenceNumber, totalCount: result.totalCount, status: 'processing' as const, remainingCount: result.remainingCount } };
  },

  async resendOfflineInvoice({ params, body }, ctx) {
    const principal = caller(ctx);
    const { environment, id } = params;
    const { ksef } = ctx.services;
    const row = await ksef.offlineInvoice(principal.companyId, environment, id);
    if (!row) throw notFound(`No offline invoice ${id} in ${environment}.`);
    if (row.status !== 'error') {
      throw conflict(`Only an offline invoice KSeF rejected (status error) can be sent again as a technical correction; ${id} is ${row.status}.`);
    }
    const xml = invoiceBytes(body.invoiceXml);
    const validation = await validateFa3(xml, { environment });
    if (!validation.valid || !validation.summary || !validation.invoice) {
      const details = validation.errors.map((e) => ({ path: `body.invoiceXml${e.path}`, message: e.message }));
      throw badRequest(`The corrected invoice is not valid FA(3): ${details.slice(0, 3).map((d) => `${d.path}: ${d.message}`).join('; ')}. Nothing was sent.`, details);
    }
    const summary = validation.summary;
    const contextNip = await ksef.contextNip(principal.companyId, principal.companyNip, environment);
    if (summary.sellerNip !== contextNip || summary.invoiceNumber !== row.invoice_number) {
      throw badRequest(
        `A technical correction keeps the invoice's content: the seller must be ${contextNip} and the number ${row.invoice_number}. Nothing was sent.`,
        [{ path: 'body.invoiceXml', message: `must be invoice ${row.invoice_number} of seller ${contextNip}` }],
      );
    }
    const updated = await ksef.resendOffline(principal.companyId, environment, row, xml, { ...summary, sellerName: validation.invoice.seller.name }, contextNip);
    return { status: 200, body: view(updated) };
  },
};

const fileBase = (row: OfflineRow) => (row.ksef_number ?? row.invoice_number).replace(/[^A-Za-z0-9._-]+/g, '_');
