/**
 * The local document operations as the API offers them: validation in the contract's shape, and an
 * invoice as PDF, HTML or its KOD I QR code. The KOD I link, its caption and the file name are decided
 * here once, so `POST /invoices/render` and `GET /invoices/{environment}/{ksefNumber}` cannot disagree.
 * Nothing here calls KSeF; only the PDF needs Chromium (started lazily by the PdfRenderer).
 */
import type { components } from '../../generated/api.js';
import { type Environment, type ValidationIssue, validateFa3 } from './fa3/index.js';
import { type PdfEngineState, type PdfRenderer, renderInvoicePdf, renderUpoPdf } from './pdf/index.js';
import { CAPTION_CERTIFICATE, CAPTION_OFFLINE, kodILink, qrPng, qrSvg } from './qr/index.js';
import { type Lang, RenderInputError, type RenderInvoiceOptions, parseInvoice, renderInvoiceHtml } from './render/index.js';

export type ApiValidationResult = components['schemas']['ValidationResult'];
export type RenderDocType = 'pdf' | 'html' | 'qr';

export interface RenderRequest {
  xml: Buffer;
  docType: RenderDocType;
  /** Decides the KOD I host (qr-test / qr-demo / qr); default 'test' as API.md fixes for the render route. */
  environment?: Environment;
  /** Printed in the header and under the QR code; without it the caption is OFFLINE (FA3.md §4.1). */
  ksefNumber?: string | null;
  lang?: Lang;
}

export interface RenderedInvoice {
  docType: RenderDocType;
  contentType: string;
  content: Buffer;
  fileName: string;
  /** The KOD I link: what the QR code (in the PDF, the HTML or the PNG) encodes. */
  qrVerificationUrl: string;
}

const CONTENT_TYPES: Record<RenderDocType, string> = {
  pdf: 'application/pdf',
  html: 'text/html; charset=utf-8',
  qr: 'image/png',
};

const EXTENSIONS: Record<RenderDocType, string> = { pdf: '.pdf', html: '.html', qr: '-qr.png' };

/**
 * A file name any OS and any Content-Disposition header accept: `FV/2026/02/0001` → `FV_2026_02_0001`.
 * ASCII only (Polish letters lose their marks, ł becomes l), capped so a 256-character P_2 stays usable.
 */
export function fileBaseName(value: string | undefined): string {
  const ascii = (value ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/ł/g, 'l')
    .replace(/Ł/g, 'L');
  const safe = ascii.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|[._]+$/g, '').slice(0, 100);
  return safe || 'invoice';
}

const issue = ({ path, message, code }: ValidationIssue) => (code === undefined ? { path, message } : { path, message, code });

/** One per server: owns the PDF renderer (its warm Chromium and cache); `close()` stops it. */
export class LocalDocuments {
  constructor(private readonly pdf: PdfRenderer) {}

  /**
   * The FA(3) validator's verdict in the API's shape. The default environment is 'prod', the strictest:
   * a bad NIP checksum (N1) is an error only there, so an invoice valid for prod is valid everywhere.
   */
  async validate(xml: Buffer, environment: Environment = 'prod'): Promise<ApiValidationResult> {
    const result = await validateFa3(xml, { environment });
    const s = result.summary;
    return {
      valid: result.valid,
      errors: result.errors.map(issue),
      warnings: result.warnings.map(issue),
      summary: s
        ? {
            invoiceNumber: s.invoiceNumber,
            type: s.type,
            issueDate: s.issueDate,
            sellerNip: s.sellerNip,
            buyerNip: s.buyerNip,
            netAmount: s.net,
            vatAmount: s.vat,
            grossAmount: s.gross,
            // Part A's names (API.md), kept for the clients that read them.
            net: s.net,
            vat: s.vat,
            gross: s.gross,
            currency: s.currency,
          }
        : null,
    };
  }

  /**
   * The invoice as PDF (the official visualisation with KOD I), HTML (the same page) or the KOD I code
   * alone as PNG. Deliberately lenient like the visualisation: only a document that is not an FA(3)
   * invoice, or lacks the seller NIP or issue date KOD I is made of, throws RenderInputError.
   * The PDF may throw the Pdf*Error family (busy, timeout, Chromium unavailable).
   */
  async render(request: RenderRequest): Promise<RenderedInvoice> {
    const { xml, docType, ksefNumber = null, lang } = request;
    const view = parseInvoice(xml);
    const link = kodI(xml, request.environment ?? 'test', view.seller.id.nip, view.issueDate);
    const caption = ksefNumber ?? CAPTION_OFFLINE;
    const fileName = fileBaseName(ksefNumber ?? view.number) + EXTENSIONS[docType];
    const result = (content: Buffer): RenderedInvoice => ({ docType, contentType: CONTENT_TYPES[docType], content, fileName, qrVerificationUrl: link });

    if (docType === 'qr') return result(await qrPng(link, caption));
    // The page prints the caption under the code itself: the SVG carries the bare (square) symbol.
    const options: RenderInvoiceOptions = { ksefNumber, lang, qr: { kodI: { link, caption, svg: await qrSvg(link, '') } } };
    if (docType === 'html') return result(Buffer.from(renderInvoiceHtml(xml, options), 'utf8'));
    return result(await renderInvoicePdf(this.pdf, xml, options));
  }

  /**
   * For `GET /invoices/{environment}/{ksefNumber}?docType=pdf|qr`: an invoice KSeF holds, rendered from
   * KSeF's exact bytes (KOD I hashes them), captioned with its KSeF number, file named `<ksefNumber>.pdf`
   * or `<ksefNumber>-qr.png`. The caller adds `ksefNumber` and base64-encodes `content`. Throws like render().
   */
  invoiceDocument(xml: Buffer, ksefNumber: string, environment: Environment, docType: 'pdf' | 'qr', lang?: Lang): Promise<RenderedInvoice> {
    return this.render({ xml, docType, environment, ksefNumber, lang });
  }

  /**
   * An invoice issued offline (PROTOCOL.md §10): `qr` is KOD I (captioned with the KSeF number once known,
   * else OFFLINE), `cert` is KOD II (captioned CERTYFIKAT), `pdf` carries both codes and an OFFLINE watermark.
   */
  async offlineDocument(p: {
    xml: Buffer;
    docType: 'pdf' | 'qr' | 'cert';
    kodI: string;
    kodII: string;
    ksefNumber: string | null;
    invoiceNumber: string;
    lang?: Lang;
  }): Promise<{ contentType: string; content: Buffer; fileName: string }> {
    const caption = p.ksefNumber ?? CAPTION_OFFLINE;
    const base = fileBaseName(p.ksefNumber ?? p.invoiceNumber);
    if (p.docType === 'qr') return { contentType: 'image/png', content: await qrPng(p.kodI, caption), fileName: `${base}-qr.png` };
    if (p.docType === 'cert') return { contentType: 'image/png', content: await qrPng(p.kodII, CAPTION_CERTIFICATE), fileName: `${base}-cert-qr.png` };
    const options: RenderInvoiceOptions = {
      ksefNumber: p.ksefNumber,
      lang: p.lang,
      qr: {
        kodI: { link: p.kodI, caption, svg: await qrSvg(p.kodI, '') },
        kodII: { link: p.kodII, caption: CAPTION_CERTIFICATE, svg: await qrSvg(p.kodII, '') },
      },
      watermark: CAPTION_OFFLINE,
    };
    return { contentType: 'application/pdf', content: await renderInvoicePdf(this.pdf, p.xml, options), fileName: `${base}.pdf` };
  }

  /** The UPO v4-3 receipt as PDF (A4 landscape); RenderInputError when the XML is not a UPO. */
  upoPdf(upoXml: Buffer, lang?: Lang): Promise<Buffer> {
    return renderUpoPdf(this.pdf, upoXml, { lang });
  }

  /** Whether a PDF can be rendered now (readiness); never launches Chromium. */
  pdfEngine(): PdfEngineState {
    return this.pdf.engineState();
  }

  close(): Promise<void> {
    return this.pdf.close();
  }
}

function kodI(xml: Buffer, environment: Environment, sellerNip: string | undefined, issueDate: string | undefined): string {
  try {
    return kodILink({ environment, sellerNip: sellerNip ?? '', issueDate: issueDate ?? '', xml });
  } catch (e) {
    // kodILink refuses what KOD I cannot encode; for this document that is the invoice's fault, not ours.
    if (!(e instanceof RangeError)) throw e;
    throw new RenderInputError(
      `invoice: no KOD I link can be made: ${e.message} (seller NIP in Podmiot1: ${sellerNip ?? 'missing'}, issue date P_1: ${issueDate ?? 'missing'})`,
    );
  }
}
