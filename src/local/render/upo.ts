/**
 * UPO v4-3 (KSeF's official receipt) -> HTML, A4 landscape, laid out as FA3.md §5.3 describes.
 * The receiving body is shown as written: TEST/DEMO receipts name "Ministerstwo Finansów - środowisko
 * testowe (TE)", which the XSD's fixed value would reject, so nothing here checks it.
 */
import { RenderInputError, child, children, parseXmlDocument, text } from './xml.js';
import { Content, esc, keyValueTable } from './html.js';
import { formatDate, formatDateTime } from './format.js';
import { Labels, Lang } from './i18n.js';
import { UPO_CSS } from './styles.js';

export const UPO_NAMESPACE = 'http://upo.schematy.mf.gov.pl/KSeF/v4-3';

export interface UpoDocument {
  sellerNip: string | undefined;
  ksefNumber: string | undefined;
  invoiceNumber: string | undefined;
  issueDate: string | undefined;
  sentAt: string | undefined;
  numberedAt: string | undefined;
  hash: string | undefined;
  mode: string | undefined;
}

export interface UpoView {
  receiver: string | undefined;
  sessionReference: string | undefined;
  contextType: string | undefined;
  contextValue: string | undefined;
  authDocumentHash: string | undefined;
  tokenReference: string | undefined;
  page?: { page?: string; pages?: string; from?: string; to?: string; total?: string };
  schemaName: string | undefined;
  formCode: string | undefined;
  documents: UpoDocument[];
}

/** Identifiers that fit a cell are kept on one line: a break after a hyphen would lose it in copied text. */
const shortId = (s: string | undefined): boolean => s !== undefined && s.length <= 40;

const CONTEXT_TYPES = ['Nip', 'IdWewnetrzny', 'IdZlozonyVatUE', 'IdDostawcyUslugPeppol'];

export function parseUpo(xml: Buffer): UpoView {
  const doc = parseXmlDocument(xml, 'UPO');
  if (doc.rootName !== 'Potwierdzenie') throw new RenderInputError(`UPO: root element is <${doc.rootName}>, expected <Potwierdzenie>`);
  if (doc.rootNamespace !== UPO_NAMESPACE) {
    throw new RenderInputError(`UPO: namespace ${doc.rootNamespace ?? '(none)'} is not UPO v4-3 (${UPO_NAMESPACE})`);
  }
  const root = doc.root;
  const auth = child(root, 'Uwierzytelnienie');
  const context = child(auth, 'IdKontekstu');
  const contextType = CONTEXT_TYPES.find((t) => text(context, t) !== undefined);
  const opis = child(root, 'OpisPotwierdzenia');
  return {
    receiver: text(root, 'NazwaPodmiotuPrzyjmujacego'),
    sessionReference: text(root, 'NumerReferencyjnySesji'),
    contextType,
    contextValue: contextType ? text(context, contextType) : undefined,
    authDocumentHash: text(auth, 'SkrotDokumentuUwierzytelniajacego'),
    tokenReference: text(auth, 'NumerReferencyjnyTokenaKSeF'),
    page: opis
      ? {
          page: text(opis, 'Strona'),
          pages: text(opis, 'LiczbaStron'),
          from: text(opis, 'ZakresDokumentowOd'),
          to: text(opis, 'ZakresDokumentowDo'),
          total: text(opis, 'CalkowitaLiczbaDokumentow'),
        }
      : undefined,
    schemaName: text(root, 'NazwaStrukturyLogicznej'),
    formCode: text(root, 'KodFormularza'),
    documents: children(root, 'Dokument').map((d) => ({
      sellerNip: text(d, 'NipSprzedawcy'),
      ksefNumber: text(d, 'NumerKSeFDokumentu'),
      invoiceNumber: text(d, 'NumerFaktury'),
      issueDate: text(d, 'DataWystawieniaFaktury'),
      sentAt: text(d, 'DataPrzeslaniaDokumentu'),
      numberedAt: text(d, 'DataNadaniaNumeruKSeF'),
      hash: text(d, 'SkrotDokumentu'),
      mode: text(d, 'TrybWysylki'),
    })),
  };
}

export function upoHtml(upo: UpoView, lang: Lang, L: Labels): string {
  const U = L.upo;
  const [before, e, after] = L.systemName;
  const pageInfo = upo.page?.page && upo.page.pages ? `${upo.page.page} / ${upo.page.pages}` : undefined;
  const summary: [string, Content][] = [
    [U.sessionRef, upo.sessionReference],
    [U.page, pageInfo],
    [U.rangeFrom, upo.page?.from],
    [U.rangeTo, upo.page?.to],
    [U.total, upo.page?.total],
    [U.contextType, upo.contextType && (U.contextTypes[upo.contextType] ?? upo.contextType)],
    [U.contextId, upo.contextValue],
    [U.authHash, upo.authDocumentHash],
    [U.tokenRef, upo.tokenReference],
    [U.xsd, upo.schemaName],
    [U.formCode, upo.formCode],
  ];
  // Lp. continues across UPO pages: this page starts at ZakresDokumentowOd.
  const firstNo = Number.parseInt(upo.page?.from ?? '1', 10) || 1;
  const head = [U.lp, U.ksefNumber, U.invoiceNumber, U.sellerNip, U.issueDate, U.sentAt, U.numberedAt, U.hash, U.mode];
  const rows = upo.documents
    .map(
      (d, i) =>
        `<tr><td class="center">${firstNo + i}</td><td class="nowrap">${esc(d.ksefNumber)}</td><td${shortId(d.invoiceNumber) ? ' class="nowrap"' : ''}>${esc(d.invoiceNumber)}</td>` +
        `<td>${esc(d.sellerNip)}</td><td>${esc(formatDate(d.issueDate))}</td><td>${esc(formatDateTime(d.sentAt))}</td>` +
        `<td>${esc(formatDateTime(d.numberedAt))}</td><td class="hash">${esc(d.hash)}</td><td>${esc(d.mode)}</td></tr>`,
    )
    .join('');
  const docs = upo.documents.length
    ? `<h2>${esc(U.documents)}</h2><table class="grid docs"><thead><tr>${head.map((h, i) => `<th${i === 0 ? ' class="center"' : ''}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`
    : '';
  return (
    `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">` +
    `<title>${esc(`UPO ${upo.sessionReference ?? ''}`)}</title><style>${UPO_CSS}</style></head><body>` +
    `<div class="head"><div class="brand">${esc(before)}<span class="e">${esc(e)}</span>${esc(after)}</div>` +
    `<div class="receiver"><div class="name">${esc(upo.receiver)}</div><div>${esc(U.registered)}</div></div></div>` +
    `<h1>${esc(U.title)}</h1>` +
    keyValueTable(summary) +
    docs +
    `</body></html>`
  );
}
