/**
 * The FA(3) invoice as the visualisation needs it. Deliberately independent of src/local/fa3 (the
 * validator): rendering must work on any invoice KSeF accepted, so nothing here rejects business
 * data — only a document that is not an FA(3) invoice at all.
 */
import { RenderInputError, XNode, attr, child, children, flag, flatRow, parseXmlDocument, text, texts } from './xml.js';
import { addDecimals } from './decimal.js';

export const FA3_NAMESPACE = 'http://crd.gov.pl/wzor/2025/06/25/13775/';

export type Row = Record<string, string | undefined>;

export interface Address {
  countryCode: string | undefined;
  line1: string | undefined;
  line2: string | undefined;
  gln: string | undefined;
}

export interface Contact {
  email: string | undefined;
  phone: string | undefined;
}

/** One of the identification choices of TPodmiot1/2/3. */
export interface PartyId {
  nip?: string;
  internalId?: string;
  euVat?: string;
  otherId?: string;
  noId: boolean;
}

export interface Party {
  id: PartyId;
  name: string | undefined;
  vatPrefix?: string;
  eori?: string;
  address?: Address;
  correspondence?: Address;
  contacts: Contact[];
  status?: string;
  customerNumber?: string;
  buyerId?: string;
}

export interface Buyer extends Party {
  jst: boolean;
  gv: boolean;
}

export interface ThirdParty extends Party {
  role?: string;
  otherRole?: string;
  share?: string;
  /** Podmiot2K paired through IDNabywcy: the party's data as on the corrected invoice. */
  before?: Party;
}

export interface AuthorisedParty extends Party {
  role: string | undefined;
}

export interface CorrectedInvoice {
  issueDate: string | undefined;
  number: string | undefined;
  ksefNumber: string | undefined;
}

export interface Correction {
  reason?: string;
  type?: string;
  correctNumber?: string;
  discountPeriod?: string;
  invoices: CorrectedInvoice[];
  /** P_15ZK: advance paid (KOR_ZAL) or amount remaining (KOR_ROZ) before the correction. */
  amountBefore?: string;
  rateBefore?: string;
}

export interface VatSummaryRow {
  bucket: string;
  net: string;
  tax: string;
  gross: string;
  taxPln?: string;
}

export interface Annotations {
  cashMethod: boolean;
  selfBilling: boolean;
  reverseCharge: boolean;
  splitPayment: boolean;
  exemption?: { basisA?: string; basisB?: string; basisC?: string };
  newTransport?: { art42: boolean; vehicles: Row[] };
  triangular: boolean;
  margin?: string;
}

export interface Settlement {
  charges: Row[];
  chargesSum?: string;
  deductions: Row[];
  deductionsSum?: string;
  toPay?: string;
  toSettle?: string;
}

export interface BankAccount {
  number: string | undefined;
  swift?: string;
  ownAccount?: string;
  bankName?: string;
  description?: string;
}

export interface Payment {
  paid: boolean;
  paidDate?: string;
  partialFlag?: string;
  partials: Row[];
  dueDates: Row[];
  method?: string;
  otherMethod?: string;
  accounts: BankAccount[];
  factorAccounts: BankAccount[];
  discount?: { conditions?: string; amount?: string };
  link?: string;
  ipksef?: string;
}

export interface Transport {
  kind?: string;
  otherKind?: string;
  carrier?: Party & { address?: Address };
  orderNumber?: string;
  cargo?: string;
  otherCargo?: string;
  packaging?: string;
  start?: string;
  end?: string;
  from?: Address;
  via: Address[];
  to?: Address;
}

export interface TransactionTerms {
  contracts: Row[];
  orders: Row[];
  batches: string[];
  delivery?: string;
  agreedRate?: string;
  agreedCurrency?: string;
  transports: Transport[];
  intermediary: boolean;
}

export interface AttachmentTable {
  meta: Row[];
  description?: string;
  columns: { title: string | undefined; type: string | undefined }[];
  rows: (string | undefined)[][];
  sums?: (string | undefined)[];
}

export interface AttachmentBlock {
  heading?: string;
  meta: Row[];
  paragraphs: string[];
  tables: AttachmentTable[];
}

export interface InvoiceView {
  kind: string;
  number: string | undefined;
  currency: string;
  issueDate: string | undefined;
  issuePlace?: string;
  systemInfo?: string;
  seller: Party;
  sellerBefore?: Party;
  buyer: Buyer;
  buyerBefore?: Party;
  thirdParties: ThirdParty[];
  authorised?: AuthorisedParty;
  correction?: Correction;
  supplyDate?: string;
  supplyPeriod?: { from?: string; to?: string };
  exchangeRate?: string;
  partialAdvances: Row[];
  advanceInvoices: string[];
  lines: Row[];
  order?: { value?: string; lines: Row[] };
  /** P_15 as written (KOR*: a difference). */
  total: string | undefined;
  vatSummary: VatSummaryRow[];
  anyTaxPln: boolean;
  annotations: Annotations;
  fp: boolean;
  tp: boolean;
  exciseRefund: boolean;
  descriptions: Row[];
  settlement?: Settlement;
  payment?: Payment;
  terms?: TransactionTerms;
  wz: string[];
  registers: Row[];
  footerTexts: string[];
  attachment: AttachmentBlock[];
}

export function parseInvoice(xml: Buffer): InvoiceView {
  const doc = parseXmlDocument(xml, 'invoice');
  if (doc.rootName !== 'Faktura') throw new RenderInputError(`invoice: root element is <${doc.rootName}>, expected <Faktura>`);
  if (doc.rootNamespace !== FA3_NAMESPACE) {
    throw new RenderInputError(`invoice: namespace ${doc.rootNamespace ?? '(none)'} is not FA(3) (${FA3_NAMESPACE})`);
  }
  const root = doc.root;
  const fa = child(root, 'Fa');
  if (!fa) throw new RenderInputError('invoice: /Faktura/Fa is missing');
  const kind = text(fa, 'RodzajFaktury');
  if (!kind) throw new RenderInputError('invoice: /Faktura/Fa/RodzajFaktury is missing');
  const naglowek = child(root, 'Naglowek');
  const buyerNode = child(root, 'Podmiot2');
  const correctedBuyers = children(fa, 'Podmiot2K');
  const buyerKey = text(buyerNode, 'IDNabywcy');
  const thirdParties = children(root, 'Podmiot3').map((n) => thirdParty(n, correctedBuyers));
  // A Podmiot2K that pairs with no Podmiot3 describes the buyer (its IDNabywcy matches Podmiot2's or is absent).
  const buyerBeforeNode = correctedBuyers.find((k) => {
    const key = text(k, 'IDNabywcy');
    return key === undefined || key === buyerKey || !thirdParties.some((t) => t.buyerId === key);
  });
  const okresFa = child(fa, 'OkresFa');
  const zamowienie = child(fa, 'Zamowienie');

  return {
    kind,
    number: text(fa, 'P_2'),
    currency: text(fa, 'KodWaluty') ?? '',
    issueDate: text(fa, 'P_1'),
    issuePlace: text(fa, 'P_1M'),
    systemInfo: text(naglowek, 'SystemInfo'),
    seller: party(child(root, 'Podmiot1')),
    sellerBefore: child(fa, 'Podmiot1K') ? party(child(fa, 'Podmiot1K')) : undefined,
    buyer: { ...party(buyerNode), jst: flag(buyerNode, 'JST'), gv: flag(buyerNode, 'GV') },
    buyerBefore: buyerBeforeNode ? party(buyerBeforeNode) : undefined,
    thirdParties,
    authorised: authorisedParty(child(root, 'PodmiotUpowazniony')),
    correction: correction(fa),
    supplyDate: text(fa, 'P_6'),
    supplyPeriod: okresFa ? { from: text(okresFa, 'P_6_Od'), to: text(okresFa, 'P_6_Do') } : undefined,
    exchangeRate: text(fa, 'KursWalutyZ'),
    partialAdvances: children(fa, 'ZaliczkaCzesciowa').map(flatRow),
    advanceInvoices: children(fa, 'FakturaZaliczkowa')
      .map((n) => text(n, 'NrKSeFFaZaliczkowej') ?? text(n, 'NrFaZaliczkowej'))
      .filter((s): s is string => s !== undefined),
    lines: children(fa, 'FaWiersz').map(flatRow),
    order: zamowienie
      ? { value: text(zamowienie, 'WartoscZamowienia'), lines: children(zamowienie, 'ZamowienieWiersz').map(flatRow) }
      : undefined,
    total: text(fa, 'P_15'),
    vatSummary: vatSummary(fa),
    anyTaxPln: ['P_14_1W', 'P_14_2W', 'P_14_3W', 'P_14_4W'].some((k) => text(fa, k) !== undefined),
    annotations: annotations(child(fa, 'Adnotacje')),
    fp: flag(fa, 'FP'),
    tp: flag(fa, 'TP'),
    exciseRefund: flag(fa, 'ZwrotAkcyzy'),
    descriptions: children(fa, 'DodatkowyOpis').map(flatRow),
    settlement: settlement(child(fa, 'Rozliczenie')),
    payment: payment(child(fa, 'Platnosc')),
    terms: terms(child(fa, 'WarunkiTransakcji')),
    wz: texts(fa, 'WZ'),
    registers: children(child(root, 'Stopka'), 'Rejestry').map(flatRow),
    footerTexts: children(child(root, 'Stopka'), 'Informacje')
      .map((n) => text(n, 'StopkaFaktury'))
      .filter((s): s is string => s !== undefined),
    attachment: children(child(root, 'Zalacznik'), 'BlokDanych').map(attachmentBlock),
  };
}

function address(n: XNode | undefined): Address | undefined {
  if (!n) return undefined;
  return { countryCode: text(n, 'KodKraju'), line1: text(n, 'AdresL1'), line2: text(n, 'AdresL2'), gln: text(n, 'GLN') };
}

function partyId(n: XNode | undefined): PartyId {
  const kodUE = text(n, 'KodUE');
  const nrVatUE = text(n, 'NrVatUE');
  const nrID = text(n, 'NrID');
  return {
    nip: text(n, 'NIP'),
    internalId: text(n, 'IDWew'),
    euVat: kodUE || nrVatUE ? `${kodUE ?? ''}${nrVatUE ?? ''}` : undefined,
    otherId: nrID ? [text(n, 'KodKraju'), nrID].filter(Boolean).join(' ') : undefined,
    noId: flag(n, 'BrakID'),
  };
}

function party(n: XNode | undefined): Party {
  const ids = child(n, 'DaneIdentyfikacyjne');
  return {
    id: partyId(ids),
    name: text(ids, 'Nazwa'),
    vatPrefix: text(n, 'PrefiksPodatnika'),
    eori: text(n, 'NrEORI'),
    address: address(child(n, 'Adres')),
    correspondence: address(child(n, 'AdresKoresp')),
    contacts: children(n, 'DaneKontaktowe').map((c) => ({
      email: text(c, 'Email') ?? text(c, 'EmailPU'),
      phone: text(c, 'Telefon') ?? text(c, 'TelefonPU'),
    })),
    status: text(n, 'StatusInfoPodatnika'),
    customerNumber: text(n, 'NrKlienta'),
    buyerId: text(n, 'IDNabywcy'),
  };
}

function thirdParty(n: XNode, correctedBuyers: XNode[]): ThirdParty {
  const base = party(n);
  const before = base.buyerId ? correctedBuyers.find((k) => text(k, 'IDNabywcy') === base.buyerId) : undefined;
  return {
    ...base,
    role: text(n, 'Rola'),
    otherRole: flag(n, 'RolaInna') ? text(n, 'OpisRoli') : undefined,
    share: text(n, 'Udzial'),
    before: before ? party(before) : undefined,
  };
}

function authorisedParty(n: XNode | undefined): AuthorisedParty | undefined {
  return n ? { ...party(n), role: text(n, 'RolaPU') } : undefined;
}

function correction(fa: XNode): Correction | undefined {
  const invoices = children(fa, 'DaneFaKorygowanej').map((n) => ({
    issueDate: text(n, 'DataWystFaKorygowanej'),
    number: text(n, 'NrFaKorygowanej'),
    ksefNumber: flag(n, 'NrKSeF') ? text(n, 'NrKSeFFaKorygowanej') : undefined,
  }));
  const c: Correction = {
    reason: text(fa, 'PrzyczynaKorekty'),
    type: text(fa, 'TypKorekty'),
    correctNumber: text(fa, 'NrFaKorygowany'),
    discountPeriod: text(fa, 'OkresFaKorygowanej'),
    invoices,
    amountBefore: text(fa, 'P_15ZK'),
    rateBefore: text(fa, 'KursWalutyZK'),
  };
  const any = invoices.length > 0 || Object.entries(c).some(([k, v]) => k !== 'invoices' && v !== undefined);
  return any ? c : undefined;
}

/** FA3.md §5.2: fixed bucket order; a bucket appears when any of its fields is present, zero or not. */
const BUCKETS: { id: string; net: string; tax?: string; taxPln?: string }[] = [
  { id: '1', net: 'P_13_1', tax: 'P_14_1', taxPln: 'P_14_1W' },
  { id: '2', net: 'P_13_2', tax: 'P_14_2', taxPln: 'P_14_2W' },
  { id: '3', net: 'P_13_3', tax: 'P_14_3', taxPln: 'P_14_3W' },
  { id: '4', net: 'P_13_4', tax: 'P_14_4', taxPln: 'P_14_4W' },
  { id: '5', net: 'P_13_5', tax: 'P_14_5' },
  { id: '6_1', net: 'P_13_6_1' },
  { id: '6_2', net: 'P_13_6_2' },
  { id: '6_3', net: 'P_13_6_3' },
  { id: '7', net: 'P_13_7' },
  { id: '8', net: 'P_13_8' },
  { id: '9', net: 'P_13_9' },
  { id: '10', net: 'P_13_10' },
  { id: '11', net: 'P_13_11' },
];

function vatSummary(fa: XNode): VatSummaryRow[] {
  return BUCKETS.filter((b) => [b.net, b.tax, b.taxPln].some((f) => f !== undefined && text(fa, f) !== undefined)).map((b) => {
    const net = text(fa, b.net);
    const tax = b.tax ? text(fa, b.tax) : undefined;
    return {
      bucket: b.id,
      net: addDecimals(net),
      tax: addDecimals(tax),
      gross: addDecimals(net, tax),
      taxPln: b.taxPln ? text(fa, b.taxPln) : undefined,
    };
  });
}

function annotations(n: XNode | undefined): Annotations {
  const zw = child(n, 'Zwolnienie');
  const nst = child(n, 'NoweSrodkiTransportu');
  const marza = child(n, 'PMarzy');
  const marginKind = ['P_PMarzy_2', 'P_PMarzy_3_1', 'P_PMarzy_3_2', 'P_PMarzy_3_3'].find((k) => flag(marza, k));
  return {
    cashMethod: flag(n, 'P_16'),
    selfBilling: flag(n, 'P_17'),
    reverseCharge: flag(n, 'P_18'),
    splitPayment: flag(n, 'P_18A'),
    exemption: flag(zw, 'P_19') ? { basisA: text(zw, 'P_19A'), basisB: text(zw, 'P_19B'), basisC: text(zw, 'P_19C') } : undefined,
    newTransport: flag(nst, 'P_22')
      ? { art42: flag(nst, 'P_42_5'), vehicles: children(nst, 'NowySrodekTransportu').map(flatRow) }
      : undefined,
    triangular: flag(n, 'P_23'),
    margin: flag(marza, 'P_PMarzy') ? (marginKind ?? '') : undefined,
  };
}

function settlement(n: XNode | undefined): Settlement | undefined {
  if (!n) return undefined;
  return {
    charges: children(n, 'Obciazenia').map(flatRow),
    chargesSum: text(n, 'SumaObciazen'),
    deductions: children(n, 'Odliczenia').map(flatRow),
    deductionsSum: text(n, 'SumaOdliczen'),
    toPay: text(n, 'DoZaplaty'),
    toSettle: text(n, 'DoRozliczenia'),
  };
}

function bankAccount(n: XNode): BankAccount {
  return {
    number: text(n, 'NrRB'),
    swift: text(n, 'SWIFT'),
    ownAccount: text(n, 'RachunekWlasnyBanku'),
    bankName: text(n, 'NazwaBanku'),
    description: text(n, 'OpisRachunku'),
  };
}

function payment(n: XNode | undefined): Payment | undefined {
  if (!n) return undefined;
  const skonto = child(n, 'Skonto');
  return {
    paid: flag(n, 'Zaplacono'),
    paidDate: text(n, 'DataZaplaty'),
    partialFlag: text(n, 'ZnacznikZaplatyCzesciowej'),
    partials: children(n, 'ZaplataCzesciowa').map(flatRow),
    dueDates: children(n, 'TerminPlatnosci').map((t) => {
      const opis = child(t, 'TerminOpis');
      return {
        Termin: text(t, 'Termin'),
        TerminOpis: opis
          ? [text(opis, 'Ilosc'), text(opis, 'Jednostka'), text(opis, 'ZdarzeniePoczatkowe')].filter(Boolean).join(' ')
          : undefined,
      };
    }),
    method: text(n, 'FormaPlatnosci'),
    otherMethod: flag(n, 'PlatnoscInna') ? (text(n, 'OpisPlatnosci') ?? '') : undefined,
    accounts: children(n, 'RachunekBankowy').map(bankAccount),
    factorAccounts: children(n, 'RachunekBankowyFaktora').map(bankAccount),
    discount: skonto ? { conditions: text(skonto, 'WarunkiSkonta'), amount: text(skonto, 'WysokoscSkonta') } : undefined,
    link: text(n, 'LinkDoPlatnosci'),
    ipksef: text(n, 'IPKSeF'),
  };
}

function transport(n: XNode): Transport {
  const carrier = child(n, 'Przewoznik');
  return {
    kind: text(n, 'RodzajTransportu'),
    otherKind: flag(n, 'TransportInny') ? text(n, 'OpisInnegoTransportu') : undefined,
    carrier: carrier ? { ...party(carrier), address: address(child(carrier, 'AdresPrzewoznika')) } : undefined,
    orderNumber: text(n, 'NrZleceniaTransportu'),
    cargo: text(n, 'OpisLadunku'),
    otherCargo: flag(n, 'LadunekInny') ? text(n, 'OpisInnegoLadunku') : undefined,
    packaging: text(n, 'JednostkaOpakowania'),
    start: text(n, 'DataGodzRozpTransportu'),
    end: text(n, 'DataGodzZakTransportu'),
    from: address(child(n, 'WysylkaZ')),
    via: children(n, 'WysylkaPrzez').map((a) => address(a) as Address),
    to: address(child(n, 'WysylkaDo')),
  };
}

function terms(n: XNode | undefined): TransactionTerms | undefined {
  if (!n) return undefined;
  return {
    contracts: children(n, 'Umowy').map(flatRow),
    orders: children(n, 'Zamowienia').map(flatRow),
    batches: texts(n, 'NrPartiiTowaru'),
    delivery: text(n, 'WarunkiDostawy'),
    agreedRate: text(n, 'KursUmowny'),
    agreedCurrency: text(n, 'WalutaUmowna'),
    transports: children(n, 'Transport').map(transport),
    intermediary: flag(n, 'PodmiotPosredniczacy'),
  };
}

function keyValueRows(n: XNode | undefined, list: string, key: string, value: string): Row[] {
  return children(n, list).map((m) => ({ key: text(m, key), value: text(m, value) }));
}

function attachmentBlock(n: XNode): AttachmentBlock {
  return {
    heading: text(n, 'ZNaglowek'),
    meta: keyValueRows(n, 'MetaDane', 'ZKlucz', 'ZWartosc'),
    paragraphs: texts(child(n, 'Tekst'), 'Akapit'),
    tables: children(n, 'Tabela').map((t) => {
      const suma = child(t, 'Suma');
      return {
        meta: keyValueRows(t, 'TMetaDane', 'TKlucz', 'TWartosc'),
        description: text(t, 'Opis'),
        columns: children(child(t, 'TNaglowek'), 'Kol').map((k) => ({ title: text(k, 'NKom'), type: attr(k, 'Typ') })),
        rows: children(t, 'Wiersz').map((w) => rawTexts(w, 'WKom')),
        sums: suma ? rawTexts(suma, 'SKom') : undefined,
      };
    }),
  };
}

/** Cell texts in position order, keeping blanks so columns stay aligned. */
function rawTexts(n: XNode, name: string): (string | undefined)[] {
  const v = n[name];
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map((c) => (typeof c === 'string' ? c || undefined : text({ c }, 'c')));
}
