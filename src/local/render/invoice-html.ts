/**
 * FA(3) -> HTML in the order and with the labels of the official visualisation (FA3.md §5.1).
 * Each section function returns '' when the invoice has nothing for it.
 */
import { Column, Content, dataTable, esc, filledColumns, heading, html, keyValueTable, labelValue, section, twoColumns } from './html.js';
import {
  formatAccount,
  formatAmount,
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  formatRate,
  formatTaxRate,
} from './format.js';
import { signOf } from './decimal.js';
import { Labels, Lang, countryName } from './i18n.js';
import { Address, BankAccount, InvoiceView, Party, Row, ThirdParty, Transport } from './invoice-model.js';
import { INVOICE_CSS } from './styles.js';

export interface QrInput {
  link: string;
  caption: string;
  /** Ready SVG markup from the caller (trusted: inserted as is). */
  svg: string;
}

export interface InvoiceHtmlOptions {
  ksefNumber?: string | null;
  lang: Lang;
  qr?: { kodI?: QrInput; kodII?: QrInput };
  watermark?: string;
}

interface Ctx {
  inv: InvoiceView;
  L: Labels;
  lang: Lang;
}

export function invoiceHtml(inv: InvoiceView, options: InvoiceHtmlOptions, L: Labels): string {
  const ctx: Ctx = { inv, L, lang: options.lang };
  const isDiscountCorrection = inv.kind === 'KOR' && inv.correction?.discountPeriod !== undefined;
  const title = `${inv.number ?? ''} — ${kindTitle(ctx)}`;
  const body = [
    options.watermark ? `<div class="watermark" aria-hidden="true">${esc(options.watermark)}</div>` : '',
    headerSection(ctx, options.ksefNumber ?? undefined),
    correctedSection(ctx),
    partiesSection(ctx),
    detailsSection(ctx),
    isDiscountCorrection ? discountSection(ctx) : linesSection(ctx),
    orderSection(ctx),
    vatSummarySection(ctx),
    annotationsSection(ctx),
    additionalSection(ctx),
    settlementSection(ctx),
    paymentSection(ctx),
    termsSection(ctx),
    footerSection(ctx),
    attachmentSection(ctx),
    qrSection(ctx, options.qr),
    producedBySection(ctx),
  ].join('');
  return (
    `<!DOCTYPE html><html lang="${options.lang}"><head><meta charset="utf-8">` +
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">` +
    `<title>${esc(title)}</title><style>${INVOICE_CSS}</style></head><body>${body}</body></html>`
  );
}

function kindTitle({ inv, L }: Ctx): string {
  const key = inv.kind === 'KOR' && inv.correction?.discountPeriod !== undefined ? 'KOR_RABAT' : inv.kind;
  return L.kinds[key] ?? inv.kind;
}

const yesNo = (L: Labels, v: boolean): string => (v ? L.yes : L.no);

const money = (ctx: Ctx, v: string | undefined): string => formatMoney(v, ctx.inv.currency);

// 1. Header -------------------------------------------------------------------------------------

function headerSection(ctx: Ctx, ksefNumber: string | undefined): string {
  const { inv, L } = ctx;
  const [before, e, after] = L.systemName;
  return (
    `<header class="sec sec-header" data-section="header">` +
    `<div class="brand">${esc(before)}<span class="e">${esc(e)}</span>${esc(after)}</div>` +
    `<div class="ident"><div class="l">${esc(L.invoiceNumber)}</div><div class="number">${esc(inv.number)}</div>` +
    `<div class="kind">${esc(kindTitle(ctx))}</div>` +
    (ksefNumber ? `<div class="ksef"><span class="l">${esc(L.ksefNumber)}</span> <span class="v">${esc(ksefNumber)}</span></div>` : '') +
    `</div></header>`
  );
}

// 2. Corrected invoice ----------------------------------------------------------------------------

function correctedSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const c = inv.correction;
  if (!c) return '';
  const C = L.corrected;
  const left = [
    labelValue(C.correctNumber, c.correctNumber),
    labelValue(C.reason, c.reason),
    labelValue(C.type, c.type && (C.types[c.type] ?? c.type)),
    labelValue(inv.kind === 'KOR_ROZ' ? C.remainingBefore : C.advanceBefore, c.amountBefore && money(ctx, c.amountBefore)),
    labelValue(C.rateBefore, c.rateBefore && formatRate(c.rateBefore)),
  ].join('');
  const numbered = c.invoices.length > 1;
  const right = c.invoices
    .map(
      (ref, i) =>
        heading(3, numbered ? `${C.ids} ${i + 1}` : C.ids) +
        labelValue(C.issueDate, formatDate(ref.issueDate)) +
        labelValue(C.number, ref.number) +
        labelValue(C.ksefNumber, ref.ksefNumber, 'nowrap'),
    )
    .join('');
  return section('corrected', C.title, twoColumns(left, right));
}

// 3. Parties ---------------------------------------------------------------------------------------

function addressBlock(ctx: Ctx, title: string, a: Address | undefined): string {
  if (!a) return '';
  const lines = [a.line1, a.line2, a.countryCode && countryName(a.countryCode, ctx.lang)]
    .filter((s): s is string => !!s)
    .map((s) => `<div>${esc(s)}</div>`)
    .join('');
  return `<div class="addr">${heading(4, title)}${lines}${labelValue(ctx.L.party.gln, a.gln)}</div>`;
}

function contactsBlock(ctx: Ctx, p: Party): string {
  const P = ctx.L.party;
  const rows = p.contacts.map((c) => labelValue(P.email, c.email) + labelValue(P.phone, c.phone)).join('');
  return rows ? `<div class="contact">${heading(4, P.contact)}${rows}</div>` : '';
}

function partyBody(ctx: Ctx, p: Party): string {
  const P = ctx.L.party;
  return [
    labelValue(P.eori, p.eori),
    labelValue(P.vatPrefix, p.vatPrefix),
    labelValue(P.nip, p.id.nip),
    labelValue(P.internalId, p.id.internalId),
    labelValue(P.euVat, p.id.euVat),
    labelValue(P.otherId, p.id.otherId),
    p.id.noId ? `<div class="lv">${esc(P.noId)}</div>` : '',
    labelValue(P.name, p.name),
    addressBlock(ctx, P.address, p.address),
    addressBlock(ctx, P.correspondence, p.correspondence),
    contactsBlock(ctx, p),
    labelValue(P.customerNumber, p.customerNumber),
    labelValue(P.buyerId, p.buyerId),
    labelValue(P.status, p.status && (P.statuses[p.status] ?? p.status)),
  ].join('');
}

/** A party, or with corrected data its "before" and "after" side by side. */
function partyWithCorrection(ctx: Ctx, title: string, now: string, before: Party | undefined): string {
  if (!before) return `<div class="party">${heading(2, title)}${now}</div>`;
  const P = ctx.L.party;
  return `<div class="party">${heading(2, title)}${twoColumns(heading(3, P.before) + partyBody(ctx, before), heading(3, P.after) + now)}</div>`;
}

function partiesSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const P = L.party;
  const seller = partyWithCorrection(ctx, P.seller, partyBody(ctx, inv.seller), inv.sellerBefore);
  const buyerBody =
    partyBody(ctx, inv.buyer) + labelValue(P.jst, yesNo(L, inv.buyer.jst)) + labelValue(P.gv, yesNo(L, inv.buyer.gv));
  const buyer = partyWithCorrection(ctx, P.buyer, buyerBody, inv.buyerBefore);
  const sideBySide = !inv.sellerBefore && !inv.buyerBefore;
  const main = sideBySide ? twoColumns(seller, buyer) : seller + buyer;
  const others = inv.thirdParties.map((t, i) => thirdPartyBlock(ctx, t, i + 1)).join('');
  const authorised = inv.authorised
    ? `<div class="party">${heading(2, P.authorised)}${partyBody(ctx, inv.authorised)}${labelValue(
        P.role,
        inv.authorised.role && (P.authorisedRoles[inv.authorised.role] ?? inv.authorised.role),
      )}</div>`
    : '';
  return section('parties', undefined, main + others + authorised);
}

function thirdPartyBlock(ctx: Ctx, t: ThirdParty, n: number): string {
  const P = ctx.L.party;
  const body =
    partyBody(ctx, t) +
    labelValue(P.role, t.role && (P.roles[t.role] ?? t.role)) +
    labelValue(P.otherRole, t.otherRole) +
    labelValue(P.share, t.share && `${formatNumber(t.share)}%`);
  return partyWithCorrection(ctx, `${P.thirdParty} ${n}`, body, t.before);
}

// 4. Details ---------------------------------------------------------------------------------------

function detailsSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const D = L.details;
  const paymentDateKind = inv.kind === 'ZAL' || inv.kind === 'KOR_ZAL';
  const period = inv.supplyPeriod
    ? [inv.supplyPeriod.from && `${D.from} ${formatDate(inv.supplyPeriod.from)}`, inv.supplyPeriod.to && `${D.to} ${formatDate(inv.supplyPeriod.to)}`]
        .filter(Boolean)
        .join(' ')
    : undefined;
  const anyOss = inv.lines.some((l) => l.P_12_XII) || (inv.order?.lines ?? []).some((l) => l.P_12Z_XII);
  const items = [
    labelValue(D.issueDate, formatDate(inv.issueDate)),
    labelValue(D.issuePlace, inv.issuePlace),
    labelValue(D.discountPeriod, inv.correction?.discountPeriod),
    labelValue(paymentDateKind ? D.paymentReceived : D.supplyDate, inv.supplyDate && formatDate(inv.supplyDate)),
    labelValue(D.supplyPeriod, period),
    labelValue(D.currency, inv.currency),
    anyOss ? `<div class="lv"><span class="l">${esc(D.oss)}</span></div>` : '',
    ...exchangeRateItems(ctx),
  ].filter((s) => s !== '');
  const left = items.filter((_, i) => i % 2 === 0).join('');
  const right = items.filter((_, i) => i % 2 === 1).join('');
  const partials = dataTable(
    [
      { key: 'P_6Z', title: D.partialDate, format: formatDate },
      { key: 'P_15Z', title: D.partialAmount, format: (v) => money(ctx, v), align: 'right' },
      { key: 'KursWalutyZW', title: D.partialRate, format: formatRate, align: 'right' },
    ],
    inv.partialAdvances,
  );
  const advances = dataTable(
    [{ key: 'number', title: D.advanceInvoices, nowrap: true }],
    inv.advanceInvoices.map((number) => ({ number })),
    { cls: 'advances' },
  );
  return section('details', D.title, twoColumns(left, right) + partials + advances);
}

/** The rate shared by the whole invoice: KursWalutyZ, or the one rate every line carries. */
function commonRate(inv: InvoiceView): string | undefined {
  if (inv.currency === 'PLN') return undefined;
  if (inv.exchangeRate) return inv.exchangeRate;
  const rates = new Set(inv.lines.map((l) => l.KursWaluty).filter(Boolean));
  return rates.size === 1 && inv.lines.every((l) => l.KursWaluty) ? [...rates][0] : undefined;
}

function exchangeRateItems(ctx: Ctx): string[] {
  const rate = commonRate(ctx.inv);
  if (!rate) return [];
  const D = ctx.L.details;
  return [`<div class="lv"><span class="l">${esc(D.commonRate)}</span></div>`, labelValue(D.rate, formatRate(rate))];
}

// 5. Lines -----------------------------------------------------------------------------------------

function lineColumns(ctx: Ctx): { first: Column<Row>[]; second: Column<Row>[] } {
  const W = ctx.L.lines;
  const amount = (v: string): string => formatAmount(v);
  return {
    first: [
      { key: 'UU_ID', title: W.uuid, breakAll: true },
      { key: 'P_7', title: W.name },
      { key: 'P_9A', title: W.unitNet, format: amount, align: 'right' },
      { key: 'P_9B', title: W.unitGross, format: amount, align: 'right' },
      { key: 'P_8B', title: W.quantity, format: formatNumber, align: 'right' },
      { key: 'P_8A', title: W.unit },
      { key: 'P_10', title: W.discount, format: amount, align: 'right' },
      { key: 'P_12', title: W.rate, format: formatTaxRate },
      { key: 'P_12_XII', title: W.rateOss, format: (v) => `${formatNumber(v)}%` },
      { key: 'P_12_Zal_15', title: W.annex15, format: (v) => yesNo(ctx.L, v === '1') },
      { key: 'P_11', title: W.net, format: amount, align: 'right' },
      { key: 'P_11A', title: W.gross, format: amount, align: 'right' },
      { key: 'P_11Vat', title: W.vat, format: amount, align: 'right' },
      { key: 'KursWaluty', title: W.fxRate, format: formatRate, align: 'right' },
      { key: 'StanPrzed', title: W.before },
      { key: 'Indeks', title: W.index },
    ],
    second: [
      { key: 'GTIN', title: 'GTIN' },
      { key: 'PKWiU', title: 'PKWiU' },
      { key: 'CN', title: 'CN' },
      { key: 'PKOB', title: 'PKOB' },
      { key: 'KwotaAkcyzy', title: W.excise, format: amount, align: 'right' },
      { key: 'GTU', title: 'GTU' },
      { key: 'Procedura', title: W.procedure },
      { key: 'P_6A', title: W.deliveryDate, format: formatDate },
    ],
  };
}

/** Lines as shown: "Stan przed" as Tak/Nie once any line has it, and a rate column only when rates differ. */
function displayLines(ctx: Ctx): Row[] {
  const { inv, L } = ctx;
  const anyBefore = inv.lines.some((l) => l.StanPrzed === '1');
  const rateShownInDetails = commonRate(inv) !== undefined;
  return inv.lines.map((l) => ({
    ...l,
    StanPrzed: anyBefore ? yesNo(L, l.StanPrzed === '1') : undefined,
    KursWaluty: rateShownInDetails ? undefined : l.KursWaluty,
  }));
}

/** Up to 9 filled columns in one table; more are split in two, each led by Lp. (as the official one). */
function linesTables(lp: Column<Row>, first: Column<Row>[], second: Column<Row>[], rows: Row[]): string {
  const filled = filledColumns([...first, ...second], rows);
  if (filled.length + 1 <= 9) return dataTable([lp, ...first, ...second], rows, { cls: 'lines', required: [lp.key] });
  return (
    dataTable([lp, ...first], rows, { cls: 'lines', required: [lp.key] }) +
    dataTable([lp, ...second], rows, { cls: 'lines', required: [lp.key] })
  );
}

function linesSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const W = L.lines;
  if (inv.lines.length === 0) return '';
  const rows = displayLines(ctx);
  const { first, second } = lineColumns(ctx);
  const lp: Column<Row> = { key: 'NrWierszaFa', title: W.lp, align: 'center' };
  const gross = !inv.lines.some((l) => l.P_11);
  const closingLabel =
    inv.kind === 'ROZ'
      ? W.remaining
      : inv.kind === 'KOR' || inv.kind === 'KOR_ROZ'
        ? W.totalDueCorrection
        : inv.kind === 'VAT' || inv.kind === 'UPR'
          ? W.totalDue
          : undefined;
  const closing =
    closingLabel && signOf(inv.total) !== 0 && inv.total !== undefined
      ? `<div class="total"><span class="l">${esc(closingLabel)}</span> <span class="v">${esc(money(ctx, inv.total))}</span></div>`
      : '';
  return section(
    'lines',
    W.title,
    `<p class="note">${esc(W.pricesIn(gross, inv.currency))}</p>` + linesTables(lp, first, second, rows) + closing,
  );
}

/** KOR with OkresFaKorygowanej: a collective discount instead of the lines table. */
function discountSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const W = L.lines;
  const table = dataTable(
    [
      { key: 'NrWierszaFa', title: W.lp, align: 'center' },
      { key: 'P_7', title: W.name },
      { key: 'P_8B', title: W.quantity, format: formatNumber, align: 'right' },
      { key: 'P_8A', title: W.unit },
    ],
    inv.lines,
    { cls: 'lines' },
  );
  return section(
    'lines',
    W.discountTitle,
    `<div class="total"><span class="l">${esc(W.discountTotal)}</span> <span class="v">${esc(money(ctx, inv.total))}</span></div>` +
      `<p>${esc(W.discountScope(inv.lines.length === 0))}</p>` +
      table,
  );
}

// 6. Order -----------------------------------------------------------------------------------------

function orderSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const order = inv.order;
  if (!order) return '';
  const W = L.lines;
  const O = L.order;
  const amount = (v: string): string => formatAmount(v);
  const anyBefore = order.lines.some((l) => l.StanPrzedZ === '1');
  const rows = order.lines.map((l) => ({ ...l, StanPrzedZ: anyBefore ? yesNo(L, l.StanPrzedZ === '1') : undefined }));
  const lp: Column<Row> = { key: 'NrWierszaZam', title: W.lp, align: 'center' };
  const first: Column<Row>[] = [
    { key: 'UU_IDZ', title: W.uuid, breakAll: true },
    { key: 'P_7Z', title: W.name },
    { key: 'P_9AZ', title: W.unitNet, format: amount, align: 'right' },
    { key: 'P_8BZ', title: W.quantity, format: formatNumber, align: 'right' },
    { key: 'P_8AZ', title: W.unit },
    { key: 'P_12Z', title: W.rate, format: formatTaxRate },
    { key: 'P_12Z_XII', title: W.rateOss, format: (v) => `${formatNumber(v)}%` },
    { key: 'P_12Z_Zal_15', title: W.annex15, format: (v) => yesNo(L, v === '1') },
    { key: 'P_11NettoZ', title: W.net, format: amount, align: 'right' },
    { key: 'P_11VatZ', title: W.vat, format: amount, align: 'right' },
    { key: 'StanPrzedZ', title: W.before },
    { key: 'IndeksZ', title: W.index },
  ];
  const second: Column<Row>[] = [
    { key: 'GTINZ', title: 'GTIN' },
    { key: 'PKWiUZ', title: 'PKWiU' },
    { key: 'CNZ', title: 'CN' },
    { key: 'PKOBZ', title: 'PKOB' },
    { key: 'KwotaAkcyzyZ', title: W.excise, format: amount, align: 'right' },
    { key: 'GTUZ', title: 'GTU' },
    { key: 'ProceduraZ', title: W.procedure },
  ];
  let advance = '';
  if (inv.kind === 'ZAL' && signOf(inv.total) === 1) advance = labelValue(O.advance, money(ctx, inv.total), 'total');
  if (inv.kind === 'KOR_ZAL' && inv.total !== undefined) advance = labelValue(O.advanceCorrection, money(ctx, inv.total), 'total');
  return section(
    'order',
    O.title,
    labelValue(O.value, order.value && money(ctx, order.value)) + linesTables(lp, first, second, rows) + advance,
  );
}

// 7. VAT summary -----------------------------------------------------------------------------------

function vatSummarySection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const S = L.summary;
  if (inv.vatSummary.length === 0) return '';
  const head = [S.lp, S.rate, S.net, S.tax, S.gross, ...(inv.anyTaxPln ? [S.taxPln] : [])];
  const rows = inv.vatSummary.map((r, i) => {
    const cells = [
      `<td class="center">${i + 1}</td>`,
      `<td>${esc(S.buckets[r.bucket])}</td>`,
      `<td class="right">${esc(formatAmount(r.net))}</td>`,
      `<td class="right">${esc(formatAmount(r.tax))}</td>`,
      `<td class="right">${esc(formatAmount(r.gross))}</td>`,
      ...(inv.anyTaxPln ? [`<td class="right">${esc(r.taxPln && formatAmount(r.taxPln))}</td>`] : []),
    ];
    return `<tr data-bucket="${esc(r.bucket)}">${cells.join('')}</tr>`;
  });
  const table =
    `<table class="grid vat-summary"><thead><tr>${head.map((h, i) => `<th${i === 0 ? ' class="center"' : i >= 2 ? ' class="right"' : ''}>${esc(h)}</th>`).join('')}</tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table>`;
  return section('vat-summary', S.title, table);
}

// 8. Annotations -----------------------------------------------------------------------------------

function annotationsSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const A = L.annotations;
  const a = inv.annotations;
  const item = (text: string): string => `<li>${esc(text)}</li>`;
  const items: string[] = [];
  if (a.exemption) {
    items.push(
      `<li>${esc(A.exemption)}${labelValue(A.exemptionA, a.exemption.basisA)}${labelValue(A.exemptionB, a.exemption.basisB)}${labelValue(
        A.exemptionC,
        a.exemption.basisC,
      )}</li>`,
    );
  }
  if (a.newTransport) {
    const cols: Column<Row>[] = Object.entries(A.transportColumns).map(([key, title]) => ({
      key,
      title,
      format: key === 'P_22A' ? formatDate : undefined,
    }));
    items.push(
      `<li>${esc(A.newTransport)}${labelValue(A.art42, yesNo(L, a.newTransport.art42))}${dataTable(cols, a.newTransport.vehicles)}</li>`,
    );
  }
  if (a.splitPayment) items.push(item(A.splitPayment));
  if (a.cashMethod) items.push(item(A.cashMethod));
  if (a.reverseCharge) items.push(item(A.reverseCharge));
  if (a.triangular) items.push(item(A.triangular));
  if (a.margin !== undefined) items.push(`<li>${labelValue(A.margin, A.marginKinds[a.margin] ?? html('&nbsp;'))}</li>`);
  if (a.selfBilling) items.push(item(A.selfBilling));
  return section('annotations', A.title, items.length ? `<ul class="flags">${items.join('')}</ul>` : '');
}

// 9. Additional information --------------------------------------------------------------------------

function additionalSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const X = L.additional;
  const sentences = [inv.tp && X.tp, inv.fp && X.fp, inv.exciseRefund && X.excise]
    .filter((s): s is string => typeof s === 'string')
    .map((s) => `<li>${esc(s)}</li>`)
    .join('');
  const table = dataTable(
    [
      { key: 'NrWiersza', title: X.line, align: 'center' },
      { key: 'Klucz', title: X.key },
      { key: 'Wartosc', title: X.value },
    ],
    inv.descriptions,
  );
  return section(
    'additional',
    X.title,
    (sentences ? `<ul class="flags">${sentences}</ul>` : '') + (table ? heading(3, X.description) + table : ''),
  );
}

// 10. Settlement -------------------------------------------------------------------------------------

function settlementSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const s = inv.settlement;
  if (!s) return '';
  const R = L.settlement;
  const cols: Column<Row>[] = [
    { key: 'Powod', title: R.reason },
    { key: 'Kwota', title: R.amount, format: (v) => money(ctx, v), align: 'right' },
  ];
  const charges = dataTable(cols, s.charges);
  const deductions = dataTable(cols, s.deductions);
  return section(
    'settlement',
    R.title,
    twoColumns(
      (charges ? heading(3, R.charges) + charges : '') + labelValue(R.sumCharges, s.chargesSum && money(ctx, s.chargesSum)),
      (deductions ? heading(3, R.deductions) + deductions : '') +
        labelValue(R.sumDeductions, s.deductionsSum && money(ctx, s.deductionsSum)),
    ) +
      labelValue(R.toPay, s.toPay && money(ctx, s.toPay), 'total') +
      labelValue(R.toSettle, s.toSettle && money(ctx, s.toSettle), 'total'),
  );
}

// 11. Payment ----------------------------------------------------------------------------------------

function accountTable(ctx: Ctx, title: string, a: BankAccount): string {
  const Y = ctx.L.payment;
  const rows: [string, Content][] = [
    [Y.accountNumber, formatAccount(a.number)],
    [Y.swift, a.swift],
    [Y.ownAccount, a.ownAccount && (Y.ownAccountKinds[a.ownAccount] ?? a.ownAccount)],
    [Y.bankName, a.bankName],
    [Y.accountDescription, a.description],
  ];
  return `<div class="account">${heading(3, title)}${keyValueTable(rows)}</div>`;
}

function paymentSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const p = inv.payment;
  if (!p) return '';
  const Y = L.payment;
  const partial = p.partialFlag === '1' || p.partialFlag === '2';
  const status = [
    labelValue(Y.status, p.paid ? Y.paid : partial ? Y.partial : Y.notPaid),
    partial ? labelValue(Y.partialKind, p.partialFlag === '1' ? Y.paidInPart : Y.paidInFullInParts) : '',
    labelValue(Y.date, p.paid ? formatDate(p.paidDate) : undefined),
    labelValue(Y.method, p.method ? (Y.methods[p.method] ?? p.method) : p.otherMethod !== undefined ? Y.other : undefined),
    labelValue(Y.otherDescription, p.otherMethod),
  ].join('');
  const partials = dataTable(
    [
      { key: 'DataZaplatyCzesciowej', title: Y.partialDate, format: formatDate },
      { key: 'KwotaZaplatyCzesciowej', title: Y.partialAmount, format: (v) => money(ctx, v), align: 'right' },
      { key: 'method', title: Y.partialMethod },
    ],
    p.partials.map((r) => ({
      ...r,
      method: r.FormaPlatnosci ? (Y.methods[r.FormaPlatnosci] ?? r.FormaPlatnosci) : r.PlatnoscInna === '1' ? (r.OpisPlatnosci ?? Y.other) : undefined,
    })),
  );
  const due = dataTable(
    [
      { key: 'Termin', title: Y.dueDate, format: formatDate },
      { key: 'TerminOpis', title: Y.dueDescription },
    ],
    p.dueDates,
  );
  const link = p.link
    ? `<div class="lv"><span class="l">${esc(Y.link)}</span> <a class="break" href="${esc(p.link)}">${esc(p.link)}</a></div>`
    : '';
  const accounts = [
    ...p.accounts.map((a) => accountTable(ctx, Y.account, a)),
    ...p.factorAccounts.map((a) => accountTable(ctx, Y.factorAccount, a)),
  ];
  const accountRows: string[] = [];
  for (let i = 0; i < accounts.length; i += 2) accountRows.push(twoColumns(accounts[i], accounts[i + 1] ?? ''));
  const discount = p.discount
    ? heading(3, Y.discount) + labelValue(Y.discountConditions, p.discount.conditions) + labelValue(Y.discountAmount, p.discount.amount)
    : '';
  return section(
    'payment',
    Y.title,
    status +
      twoColumns(due, partials ? heading(3, Y.partial) + partials : '') +
      link +
      labelValue(Y.ipksef, p.ipksef) +
      accountRows.join('') +
      discount,
  );
}

// 12. Transaction terms ------------------------------------------------------------------------------

function transportBlock(ctx: Ctx, t: Transport, n: number, many: boolean): string {
  const T = ctx.L.terms;
  const carrier = t.carrier
    ? `<div class="carrier">${heading(4, T.carrier)}${partyBody(ctx, { ...t.carrier, address: undefined })}${addressBlock(
        ctx,
        ctx.L.party.address,
        t.carrier.address,
      )}</div>`
    : '';
  return (
    heading(3, many ? `${T.transport} ${n}` : T.transport) +
    labelValue(T.transportKind, t.kind && (T.transportKinds[t.kind] ?? t.kind)) +
    labelValue(T.otherTransport, t.otherKind) +
    labelValue(T.transportOrder, t.orderNumber) +
    labelValue(T.cargo, t.cargo && (T.cargoKinds[t.cargo] ?? t.cargo)) +
    labelValue(T.otherCargo, t.otherCargo) +
    labelValue(T.packaging, t.packaging) +
    labelValue(T.start, t.start && formatDateTime(t.start)) +
    labelValue(T.end, t.end && formatDateTime(t.end)) +
    carrier +
    addressBlock(ctx, T.shipFrom, t.from) +
    t.via.map((a) => addressBlock(ctx, T.shipVia, a)).join('') +
    addressBlock(ctx, T.shipTo, t.to)
  );
}

function termsSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const t = inv.terms;
  if (!t) return '';
  const T = L.terms;
  const contracts = dataTable(
    [
      { key: 'DataUmowy', title: T.contractDate, format: formatDate },
      { key: 'NrUmowy', title: T.contractNumber },
    ],
    t.contracts,
  );
  const orders = dataTable(
    [
      { key: 'DataZamowienia', title: T.orderDate, format: formatDate },
      { key: 'NrZamowienia', title: T.orderNumber },
    ],
    t.orders,
  );
  const batches = t.batches.length ? heading(3, T.batches) + `<div>${esc(t.batches.join(', '))}</div>` : '';
  return section(
    'terms',
    T.title,
    twoColumns(contracts ? heading(3, T.contracts) + contracts : '', orders ? heading(3, T.orders) + orders : '') +
      batches +
      labelValue(T.delivery, t.delivery) +
      labelValue(T.agreedRate, t.agreedRate && formatRate(t.agreedRate)) +
      labelValue(T.agreedCurrency, t.agreedCurrency) +
      t.transports.map((tr, i) => transportBlock(ctx, tr, i + 1, t.transports.length > 1)).join('') +
      (t.intermediary ? `<p>${esc(T.intermediary)}</p>` : ''),
  );
}

// 13. Footer, attachment, QR codes -------------------------------------------------------------------

function footerSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  const F = L.footer;
  const wz = dataTable([{ key: 'wz', title: F.wzNumber }], inv.wz.map((wz) => ({ wz })));
  const registers = dataTable(
    [
      { key: 'PelnaNazwa', title: F.fullName },
      { key: 'KRS', title: 'KRS' },
      { key: 'REGON', title: 'REGON' },
      { key: 'BDO', title: 'BDO' },
    ],
    inv.registers,
  );
  const info = dataTable([{ key: 'text', title: F.footerText }], inv.footerTexts.map((text) => ({ text })), { cls: 'footer-text' });
  return section(
    'footer',
    undefined,
    (wz ? heading(3, F.wz) + wz : '') + (registers ? heading(2, F.registers) + registers : '') + (info ? heading(2, F.otherInfo) + info : ''),
  );
}

function attachmentSection(ctx: Ctx): string {
  const { inv, L } = ctx;
  if (inv.attachment.length === 0) return '';
  const metaTable = (rows: Row[]): string => keyValueTable(rows.map((r) => [r.key ?? '', r.value]));
  const blocks = inv.attachment.map((b) => {
    const tables = b.tables.map((t) => {
      const numeric = t.columns.map((c) => c.type === 'dec' || c.type === 'int');
      const cell = (v: string | undefined, i: number, tag: 'td' | 'th'): string =>
        `<${tag}${numeric[i] ? ' class="right"' : ''}>${esc(v)}</${tag}>`;
      const head = `<tr>${t.columns.map((c, i) => cell(c.title, i, 'th')).join('')}</tr>`;
      const body = t.rows.map((r) => `<tr>${t.columns.map((_, i) => cell(r[i], i, 'td')).join('')}</tr>`).join('');
      const foot = t.sums ? `<tfoot><tr>${t.columns.map((_, i) => cell(t.sums?.[i], i, 'th')).join('')}</tr></tfoot>` : '';
      return (
        metaTable(t.meta) +
        (t.description ? `<p>${esc(t.description)}</p>` : '') +
        `<table class="grid"><thead>${head}</thead><tbody>${body}</tbody>${foot}</table>`
      );
    });
    return (
      `<div class="block">${b.heading ? heading(3, b.heading) : ''}${metaTable(b.meta)}` +
      b.paragraphs.map((p) => `<p>${esc(p)}</p>`).join('') +
      tables.join('') +
      `</div>`
    );
  });
  return section('attachment', L.footer.attachment, blocks.join(''));
}

function qrBlock(kind: 'kod1' | 'kod2', title: string, text: string, qr: QrInput): string {
  return (
    `<div class="qr-block ${kind}">${heading(3, title)}<div class="qr-row">` +
    `<figure class="qr"><div class="qr-img">${qr.svg}</div><figcaption class="qr-caption">${esc(qr.caption)}</figcaption></figure>` +
    `<div class="qr-text"><p>${esc(text)}</p><a href="${esc(qr.link)}">${esc(qr.link)}</a></div>` +
    `</div></div>`
  );
}

function qrSection(ctx: Ctx, qr: InvoiceHtmlOptions['qr']): string {
  const Q = ctx.L.qr;
  const blocks = [
    qr?.kodI ? qrBlock('kod1', Q.kod1Title, Q.kod1Text, qr.kodI) : '',
    qr?.kodII ? qrBlock('kod2', Q.kod2Title, Q.kod2Text, qr.kodII) : '',
  ].join('');
  return section('qr', undefined, blocks);
}

function producedBySection(ctx: Ctx): string {
  const F = ctx.L.footer;
  return section('produced-by', undefined, labelValue(F.producedBy, ctx.inv.systemInfo ?? F.defaultSystem));
}
