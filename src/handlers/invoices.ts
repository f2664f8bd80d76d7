import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { ApiError, badRequest, conflict, toApiError } from '../http/errors.js';
import { KsefOutageSimulatedError, KsefRateLimitedError, KsefServerError, KsefTimeoutError, KsefUnavailableError, type KsefStatusInfo } from '../ksef-proxy/index.js';
import { caller } from './caller.js';
import { buildDraft, checkForSending, invoiceInput, sellerField } from './invoice-body.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'sendInvoice' | 'getInvoiceDocument' | 'getSessionStatus' | 'getInvoiceUpo'>;

const QUEUED_HINT =
  ' The invoice is stored and queued: Fast KSeF delivers it in the background when KSeF answers again. Sending the same XML again is safe (it is never sent twice) and shows its state.';

const isTransient = (err: unknown) =>
  err instanceof KsefUnavailableError || err instanceof KsefTimeoutError || err instanceof KsefServerError || err instanceof KsefRateLimitedError;

const status = (s: KsefStatusInfo) => ({ code: s.code, description: s.description, ...(s.details?.length ? { details: s.details } : {}) });

export const invoiceHandlers: Handlers = {
  async sendInvoice({ params, body }, ctx) {
    const principal = caller(ctx);
    const { environment } = params;
    const input = invoiceInput(body, 'body');
    // A draft is built here; the built bytes are what is stored and sent, like XML sent as it is.
    const xml = 'xml' in input ? input.xml : (await buildDraft(input.draft, input.field, environment)).xml;
    const { ksef } = ctx.services;

    // Nothing is stored or sent unless the invoice passes the local validator.
    const contextNip = await ksef.contextNip(principal.companyId, principal.companyNip, environment);
    const check = await checkForSending(xml, environment, contextNip, input.field, sellerField(input));
    if (!check.ok && check.reason === 'invalid') {
      const details = check.details;
      throw badRequest(`The invoice is not valid FA(3): ${details.slice(0, 3).map((d) => `${d.path}: ${d.message}`).join('; ')}. Nothing was stored or sent.`, details);
    }
    if (!check.ok) {
      throw badRequest(`The seller NIP ${check.sellerNip} is not the KSeF context NIP ${contextNip} of your company; KSeF would refuse it. Nothing was stored or sent.`, check.details);
    }
    const facts = check.facts;
    if (body.mode === 'offline') {
      const row = await ksef.issueOffline(principal.companyId, environment, xml, facts, contextNip);
      if (row.status !== 'signed') {
        throw conflict(`This invoice (the same XML) is already in the offline queue as ${row.id} with status ${row.status}; GET /invoices/${environment}/offline/${row.id} shows it.`);
      }
      return {
        status: 200,
        body: {
          mode: 'offline' as const,
          offlineId: row.id,
          status: 'signed' as const,
          invoiceNumber: row.invoice_number,
          qrLinkInvoice: row.qr_link_invoice,
          qrLinkCertificate: row.qr_link_certificate,
          offlineMode: row.offline_mode,
          ...(row.submission_deadline ? { submissionDeadline: row.submission_deadline } : {}),
        },
      };
    }

    try {
      const result = await ksef.sendOnline(principal.companyId, environment, xml, facts);
      if (result.status === 'queued') {
        throw new ApiError(503, 'ksef_pending', `KSeF has not accepted the invoice yet.${QUEUED_HINT}`);
      }
      return { status: 200, body: { mode: 'online' as const, ...result } };
    } catch (err) {
      if (!isTransient(err) || err instanceof KsefOutageSimulatedError) throw err;
      const mapped = toApiError(err, ctx.log);
      throw new ApiError(mapped.status, mapped.code, `${mapped.message}${QUEUED_HINT}`, mapped.details, mapped.extra);
    }
  },

  async getInvoiceDocument({ params, query }, ctx) {
    const principal = caller(ctx);
    const { environment, ksefNumber } = params;
    const docType = query.docType ?? 'xml';
    const xml = await ctx.services.ksef.invoiceXml(principal.companyId, principal.companyNip, environment, ksefNumber);
    if (docType === 'xml') {
      return { status: 200, body: { ksefNumber, docType, contentType: 'application/xml', content: xml.toString('base64'), fileName: `${ksefNumber}.xml` } };
    }
    const doc = await ctx.services.documents.invoiceDocument(xml, ksefNumber, environment, docType, query.lang);
    return {
      status: 200,
      body: { ksefNumber, docType, contentType: doc.contentType, content: doc.content.toString('base64'), fileName: doc.fileName, qrVerificationUrl: doc.qrVerificationUrl },
    };
  },

  async getSessionStatus({ params }, ctx) {
    const principal = caller(ctx);
    const { status: session, invoices } = await ctx.services.ksef.session(principal.companyId, params.environment, params.referenceNumber);
    const failed = invoices.filter((i) => i.status.code >= 400).length;
    return {
      status: 200,
      body: {
        referenceNumber: params.referenceNumber,
        status: status(session.status),
        dateCreated: new Date(session.dateCreated),
        dateUpdated: new Date(session.dateUpdated),
        totalInvoiceCount: session.invoiceCount ?? invoices.length,
        successfulInvoiceCount: session.successfulInvoiceCount ?? invoices.filter((i) => i.status.code === 200).length,
        failedInvoiceCount: session.failedInvoiceCount ?? failed,
        invoices: invoices.map((i) => ({
          ordinalNumber: i.ordinalNumber,
          invoiceNumber: i.invoiceNumber ?? null,
          ksefNumber: i.ksefNumber ?? null,
          acquisitionDate: i.acquisitionDate ? new Date(i.acquisitionDate) : null,
          status: status(i.status),
        })),
      },
    };
  },

  async getInvoiceUpo({ params, query }, ctx) {
    const principal = caller(ctx);
    const { environment, referenceNumber, ksefNumber } = params;
    const upo = await ctx.services.ksef.invoiceUpo(principal.companyId, environment, referenceNumber, ksefNumber);
    if ((query.docType ?? 'xml') === 'xml') {
      return {
        status: 200,
        body: { ksefNumber, referenceNumber, docType: 'xml' as const, contentType: 'application/xml' as const, content: upo.toString('base64'), fileName: `UPO-${ksefNumber}.xml` },
      };
    }
    const pdf = await ctx.services.documents.upoPdf(upo, query.lang);
    return {
      status: 200,
      body: { ksefNumber, referenceNumber, docType: 'pdf' as const, contentType: 'application/pdf' as const, content: pdf.toString('base64'), fileName: `UPO-${ksefNumber}.pdf` },
    };
  },
};
