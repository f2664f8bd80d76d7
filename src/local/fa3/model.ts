/**
 * The typed FA(3) invoice model and its builder from the element tree.
 *
 * Values are strings exactly as in the XML after the schema's whitespace collapsing (amounts stay decimal
 * strings: `-369.00`, never numbers). Flags (`TWybor1`) become booleans. Optional elements that are absent
 * are `undefined`; repeating ones are arrays (possibly empty). The builder is lenient: it reads whatever is
 * there and leaves validation to the validator (a missing mandatory text comes out as '').
 */
import type { XmlElement } from '../../xml/tree.js';
import { FA3_NAMESPACE } from './constants.js';

export type InvoiceKind = 'VAT' | 'KOR' | 'ZAL' | 'ROZ' | 'UPR' | 'KOR_ZAL' | 'KOR_ROZ';

export interface Address {
  countryCode: string;
  line1: string;
  line2?: string;
  gln?: string;
}

export interface Contact {
  email?: string;
  phone?: string;
}

/**
 * How a buyer or third party is identified (`DaneIdentyfikacyjne`): exactly one of `nip`, `internalId`
 * (Podmiot3 only), `eu`, `other`, or `noId`.
 */
export interface PartyIdentity {
  nip?: string;
  /** `IDWew`: NIP + '-' + 5 digits (Podmiot3 only). */
  internalId?: string;
  /** `KodUE` + `NrVatUE`. */
  eu?: { countryCode: string; vatNumber: string };
  /** `KodKraju`? + `NrID`: a tax id of another country. */
  other?: { countryCode?: string; id: string };
  /** `BrakID` = 1. */
  noId: boolean;
  name?: string;
}

export interface Seller {
  /** `PrefiksPodatnika` ('PL'). */
  vatPrefix?: string;
  eori?: string;
  nip: string;
  name: string;
  address: Address;
  correspondenceAddress?: Address;
  contacts: Contact[];
  /** `StatusInfoPodatnika` code 1–4. */
  taxpayerStatus?: string;
}

export interface Buyer extends PartyIdentity {
  eori?: string;
  address?: Address;
  correspondenceAddress?: Address;
  contacts: Contact[];
  customerNumber?: string;
  /** `IDNabywcy`: key pairing this buyer with `Podmiot2K`. */
  buyerId?: string;
  /** `JST` = 1: the invoice concerns a subordinate unit of a local government. */
  jst: boolean;
  /** `GV` = 1: the invoice concerns a member of a VAT group. */
  gv: boolean;
}

export interface ThirdParty extends PartyIdentity {
  buyerId?: string;
  eori?: string;
  address?: Address;
  correspondenceAddress?: Address;
  contacts: Contact[];
  /** `Rola` code 1–11 (absent when `RolaInna`). */
  role?: string;
  /** `OpisRoli` when `RolaInna` = 1. */
  otherRole?: string;
  /** `Udzial`: share in percent. */
  share?: string;
  customerNumber?: string;
}

export interface AuthorizedParty {
  eori?: string;
  nip: string;
  name: string;
  address: Address;
  correspondenceAddress?: Address;
  contacts: Contact[];
  /** `RolaPU` code 1–3. */
  role: string;
}

export type TaxBucketId =
  | 'basic'
  | 'reduced1'
  | 'reduced2'
  | 'taxi'
  | 'oss'
  | 'zeroDomestic'
  | 'zeroWdt'
  | 'zeroExport'
  | 'exempt'
  | 'outsideCountry'
  | 'art100'
  | 'reverseCharge'
  | 'margin';

export interface TaxBucketInfo {
  id: TaxBucketId;
  netField: string;
  vatField?: string;
  vatPlnField?: string;
  /** `P_12` values whose lines fall into this bucket (FA3.md §1.4; OSS lines use `P_12_XII`, margin any). */
  rates: readonly string[];
}

/** The header's rate buckets in the order of the schema and of the visualisation's VAT summary (§5.2). */
export const TAX_BUCKETS: readonly TaxBucketInfo[] = [
  { id: 'basic', netField: 'P_13_1', vatField: 'P_14_1', vatPlnField: 'P_14_1W', rates: ['23', '22'] },
  { id: 'reduced1', netField: 'P_13_2', vatField: 'P_14_2', vatPlnField: 'P_14_2W', rates: ['8', '7'] },
  { id: 'reduced2', netField: 'P_13_3', vatField: 'P_14_3', vatPlnField: 'P_14_3W', rates: ['5'] },
  { id: 'taxi', netField: 'P_13_4', vatField: 'P_14_4', vatPlnField: 'P_14_4W', rates: ['4', '3'] },
  { id: 'oss', netField: 'P_13_5', vatField: 'P_14_5', rates: [] },
  { id: 'zeroDomestic', netField: 'P_13_6_1', rates: ['0 KR'] },
  { id: 'zeroWdt', netField: 'P_13_6_2', rates: ['0 WDT'] },
  { id: 'zeroExport', netField: 'P_13_6_3', rates: ['0 EX'] },
  { id: 'exempt', netField: 'P_13_7', rates: ['zw'] },
  { id: 'outsideCountry', netField: 'P_13_8', rates: ['np I'] },
  { id: 'art100', netField: 'P_13_9', rates: ['np II'] },
  { id: 'reverseCharge', netField: 'P_13_10', rates: ['oo'] },
  { id: 'margin', netField: 'P_13_11', rates: [] },
];

/** One present rate bucket of the header (`P_13_x` / `P_14_x` / `P_14_xW`). */
export interface TaxTotal {
  bucket: TaxBucketId;
  net: string;
  vat?: string;
  /** VAT converted to PLN (foreign-currency invoices). */
  vatPln?: string;
}

export interface NewVehicle {
  /** `P_22A`: date of first use. */
  date: string;
  /** `P_NrWierszaNST`: the invoice line it belongs to. */
  lineNo: string;
  make?: string;
  model?: string;
  colour?: string;
  registration?: string;
  productionYear?: string;
  land?: { mileage: string; vin?: string; bodyNumber?: string; chassisNumber?: string; frameNumber?: string; type?: string };
  water?: { hours: string; hullNumber?: string };
  air?: { hours: string; serialNumber?: string };
}

export interface Annotations {
  /** P_16 = 1 "metoda kasowa". */
  cashAccounting: boolean;
  /** P_17 = 1 "samofakturowanie". */
  selfBilling: boolean;
  /** P_18 = 1 "odwrotne obciążenie". */
  reverseCharge: boolean;
  /** P_18A = 1 "mechanizm podzielonej płatności". */
  splitPayment: boolean;
  /** P_19 = 1 with its legal basis (P_19A Polish law, P_19B the directive, P_19C other); absent with P_19N. */
  exemption?: { basis: 'P_19A' | 'P_19B' | 'P_19C'; text: string };
  /** P_22 = 1: intra-EU supply of new means of transport; absent with P_22N. */
  newTransport?: { p42_5: boolean; vehicles: NewVehicle[] };
  /** P_23 = 1: simplified triangular procedure. */
  simplifiedTriangular: boolean;
  /** P_PMarzy = 1 with its kind; absent with P_PMarzyN. */
  margin?: 'travel' | 'usedGoods' | 'worksOfArt' | 'antiques';
}

export interface CorrectedInvoice {
  /** `DataWystFaKorygowanej`. */
  issueDate: string;
  /** `NrFaKorygowanej`. */
  number: string;
  /** `NrKSeFFaKorygowanej` when the corrected invoice is in KSeF (`NrKSeF` = 1). */
  ksefNumber?: string;
  /** `NrKSeFN` = 1: issued outside KSeF. */
  outsideKsef: boolean;
}

export interface CorrectedSeller {
  vatPrefix?: string;
  nip: string;
  name: string;
  address: Address;
}

export interface CorrectedBuyer extends PartyIdentity {
  address?: Address;
  buyerId?: string;
}

/** `FakturaZaliczkowa`: an advance invoice settled by a ROZ (or by the final ZAL). */
export interface AdvanceInvoiceRef {
  ksefNumber?: string;
  /** `NrFaZaliczkowej` when the advance was issued outside KSeF (`NrKSeFZN` = 1). */
  number?: string;
  outsideKsef: boolean;
}

/** `ZaliczkaCzesciowa`: one of several payments documented by the invoice. */
export interface PartialAdvancePayment {
  /** `P_6Z`. */
  paymentDate: string;
  /** `P_15Z`. */
  amount: string;
  /** `KursWalutyZW`. */
  exchangeRate?: string;
}

export interface KeyValue {
  lineNo?: string;
  key: string;
  value: string;
}

export interface InvoiceLine {
  /** `NrWierszaFa`. */
  lineNo: string;
  uuid?: string;
  /** `P_6A`: supply date of this line. */
  date?: string;
  /** `P_7`. */
  name?: string;
  index?: string;
  gtin?: string;
  pkwiu?: string;
  cn?: string;
  pkob?: string;
  /** `P_8A`. */
  unit?: string;
  /** `P_8B`. */
  quantity?: string;
  /** `P_9A`. */
  unitNetPrice?: string;
  /** `P_9B`. */
  unitGrossPrice?: string;
  /** `P_10`. */
  discount?: string;
  /** `P_11`. */
  netValue?: string;
  /** `P_11A`. */
  grossValue?: string;
  /** `P_11Vat`. */
  vatValue?: string;
  /** `P_12`. */
  rate?: string;
  /** `P_12_XII`: OSS rate in percent. */
  ossRate?: string;
  /** `P_12_Zal_15` = 1: goods of Annex 15 (split payment). */
  annex15: boolean;
  exciseAmount?: string;
  gtu?: string;
  procedure?: string;
  exchangeRate?: string;
  /** `StanPrzed` = 1: the row shows the state before the correction. */
  before: boolean;
}

export interface Settlement {
  charges: { amount: string; reason: string }[];
  chargesTotal?: string;
  deductions: { amount: string; reason: string }[];
  deductionsTotal?: string;
  /** `DoZaplaty`. */
  toPay?: string;
  /** `DoRozliczenia`. */
  toSettle?: string;
}

export interface BankAccount {
  number: string;
  swift?: string;
  /** `RachunekWlasnyBanku` code 1–3. */
  ownBankAccount?: string;
  bankName?: string;
  description?: string;
}

export interface Payment {
  /** `Zaplacono` = 1. */
  paid: boolean;
  /** `DataZaplaty`. */
  paymentDate?: string;
  /** `ZnacznikZaplatyCzesciowej`: '1' partly paid, '2' paid in full in parts. */
  partialPaymentMarker?: string;
  partialPayments: { amount: string; date: string; form?: string; otherForm?: string }[];
  terms: { date?: string; description?: { quantity: string; unit: string; startEvent: string } }[];
  /** `FormaPlatnosci` code 1–7. */
  form?: string;
  /** `OpisPlatnosci` when `PlatnoscInna` = 1. */
  otherForm?: string;
  bankAccounts: BankAccount[];
  factorBankAccounts: BankAccount[];
  discount?: { conditions: string; amount: string };
  link?: string;
  ipksef?: string;
}

export interface Transport {
  /** `RodzajTransportu` code. */
  kind?: string;
  /** `OpisInnegoTransportu` when `TransportInny` = 1. */
  otherKind?: string;
  carrier?: PartyIdentity & { address: Address };
  orderNumber?: string;
  /** `OpisLadunku` code. */
  cargo?: string;
  /** `OpisInnegoLadunku` when `LadunekInny` = 1. */
  otherCargo?: string;
  packaging?: string;
  start?: string;
  end?: string;
  from?: Address;
  via: Address[];
  to?: Address;
}

export interface TransactionTerms {
  contracts: { date?: string; number?: string }[];
  orders: { date?: string; number?: string }[];
  batchNumbers: string[];
  deliveryTerms?: string;
  agreedRate?: { rate: string; currency: string };
  transport: Transport[];
  /** `PodmiotPosredniczacy` = 1. */
  intermediary: boolean;
}

export interface OrderLine {
  lineNo: string;
  uuid?: string;
  name?: string;
  index?: string;
  gtin?: string;
  pkwiu?: string;
  cn?: string;
  pkob?: string;
  unit?: string;
  quantity?: string;
  unitNetPrice?: string;
  netValue?: string;
  vatValue?: string;
  rate?: string;
  ossRate?: string;
  annex15: boolean;
  gtu?: string;
  procedure?: string;
  exciseAmount?: string;
  before: boolean;
}

/** `Zamowienie`: the order an advance invoice refers to. */
export interface Order {
  /** `WartoscZamowienia`: gross value of the order. */
  value: string;
  lines: OrderLine[];
}

export interface Footer {
  /** `Informacje/StopkaFaktury` texts (line breaks kept). */
  information: string[];
  registers: { fullName?: string; krs?: string; regon?: string; bdo?: string }[];
}

export interface AttachmentTable {
  metadata: { key: string; value: string }[];
  description?: string;
  columns: { type: string; name: string }[];
  rows: string[][];
  sums?: string[];
}

export interface Attachment {
  blocks: {
    header?: string;
    metadata: { key: string; value: string }[];
    paragraphs: string[];
    tables: AttachmentTable[];
  }[];
}

export interface Fa3Invoice {
  formCode: { systemCode: string; schemaVersion: string; value: string };
  formVariant: string;
  /** `DataWytworzeniaFa`. */
  createdAt: string;
  systemInfo?: string;

  kind: InvoiceKind;
  /** `P_2`. */
  number: string;
  /** `P_1`, YYYY-MM-DD. */
  issueDate: string;
  /** `P_1M`. */
  place?: string;
  /** `WZ`. */
  warehouseDocuments: string[];
  /** `P_6`: supply date (ZAL: payment date) shared by all lines. */
  saleDate?: string;
  /** `OkresFa`. */
  period?: { from: string; to: string };
  /** `KodWaluty`. */
  currency: string;

  seller: Seller;
  buyer: Buyer;
  thirdParties: ThirdParty[];
  authorizedParty?: AuthorizedParty;

  /** Present rate buckets in schema order. */
  totals: TaxTotal[];
  /** `P_15`. */
  totalDue: string;
  /** `KursWalutyZ`. */
  advanceExchangeRate?: string;
  annotations: Annotations;

  correctionReason?: string;
  /** `TypKorekty` '1' | '2' | '3'. */
  correctionType?: string;
  correctedInvoices: CorrectedInvoice[];
  /** `OkresFaKorygowanej`: the discount period of a collective correction. */
  correctedPeriod?: string;
  /** `NrFaKorygowany`: the correct number when the reason is a wrong number. */
  correctNumber?: string;
  correctedSeller?: CorrectedSeller;
  correctedBuyers: CorrectedBuyer[];
  /** `P_15ZK`. */
  totalDueBeforeCorrection?: string;
  /** `KursWalutyZK`. */
  exchangeRateBeforeCorrection?: string;

  partialPayments: PartialAdvancePayment[];
  /** `FP` = 1. */
  fp: boolean;
  /** `TP` = 1: related parties. */
  tp: boolean;
  additionalDescriptions: KeyValue[];
  advances: AdvanceInvoiceRef[];
  /** `ZwrotAkcyzy` = 1. */
  exciseRefund: boolean;
  lines: InvoiceLine[];
  settlement?: Settlement;
  payment?: Payment;
  transactionTerms?: TransactionTerms;
  order?: Order;
  footer?: Footer;
  attachment?: Attachment;
}

// ---------------------------------------------------------------------------------------------------------
// Builder

const collapse = (s: string) => s.replace(/[\t\n\r ]+/g, ' ').trim();

const NO_ELEMENT: XmlElement = {
  local: '',
  ns: null,
  attributes: [],
  children: [],
  text: '',
  line: 0,
  parent: null,
};

/** Navigation over FA(3) elements (other namespaces are ignored). */
class Node {
  constructor(readonly el: XmlElement) {}

  all(name: string): Node[] {
    return this.el.children.filter((c) => c.local === name && c.ns === FA3_NAMESPACE).map((c) => new Node(c));
  }

  one(name: string): Node | undefined {
    const c = this.el.children.find((x) => x.local === name && x.ns === FA3_NAMESPACE);
    return c && new Node(c);
  }

  /** Collapsed text of a child, or undefined when absent. */
  opt(name: string): string | undefined {
    const c = this.one(name);
    return c && collapse(c.el.text);
  }

  /** Collapsed text of a child, '' when absent. */
  req(name: string): string {
    return this.opt(name) ?? '';
  }

  /** A `TWybor1`-style flag: true when the element is present with the value 1. */
  flag(name: string): boolean {
    const value = this.opt(name);
    return value !== undefined && /^\+?0*1$/.test(value);
  }

  texts(name: string): string[] {
    return this.all(name).map((n) => collapse(n.el.text));
  }
}

const address = (n: Node | undefined): Address | undefined =>
  n && { countryCode: n.req('KodKraju'), line1: n.req('AdresL1'), line2: n.opt('AdresL2'), gln: n.opt('GLN') };

const contacts = (n: Node, email = 'Email', phone = 'Telefon'): Contact[] =>
  n.all('DaneKontaktowe').map((c) => ({ email: c.opt(email), phone: c.opt(phone) }));

function identity(n: Node | undefined): PartyIdentity {
  if (!n) return { noId: false };
  const kodUE = n.opt('KodUE');
  const nrId = n.opt('NrID');
  return {
    nip: n.opt('NIP'),
    internalId: n.opt('IDWew'),
    eu: kodUE !== undefined ? { countryCode: kodUE, vatNumber: n.req('NrVatUE') } : undefined,
    other: nrId !== undefined ? { countryCode: n.opt('KodKraju'), id: nrId } : undefined,
    noId: n.flag('BrakID'),
    name: n.opt('Nazwa'),
  };
}

function seller(n: Node): Seller {
  const id = n.one('DaneIdentyfikacyjne');
  return {
    vatPrefix: n.opt('PrefiksPodatnika'),
    eori: n.opt('NrEORI'),
    nip: id?.req('NIP') ?? '',
    name: id?.req('Nazwa') ?? '',
    address: address(n.one('Adres')) ?? { countryCode: '', line1: '' },
    correspondenceAddress: address(n.one('AdresKoresp')),
    contacts: contacts(n),
    taxpayerStatus: n.opt('StatusInfoPodatnika'),
  };
}

function buyer(n: Node | undefined): Buyer {
  if (!n) return { noId: false, contacts: [], jst: false, gv: false };
  return {
    ...identity(n.one('DaneIdentyfikacyjne')),
    eori: n.opt('NrEORI'),
    address: address(n.one('Adres')),
    correspondenceAddress: address(n.one('AdresKoresp')),
    contacts: contacts(n),
    customerNumber: n.opt('NrKlienta'),
    buyerId: n.opt('IDNabywcy'),
    jst: n.flag('JST'),
    gv: n.flag('GV'),
  };
}

const thirdParty = (n: Node): ThirdParty => ({
  ...identity(n.one('DaneIdentyfikacyjne')),
  buyerId: n.opt('IDNabywcy'),
  eori: n.opt('NrEORI'),
  address: address(n.one('Adres')),
  correspondenceAddress: address(n.one('AdresKoresp')),
  contacts: contacts(n),
  role: n.opt('Rola'),
  otherRole: n.flag('RolaInna') ? n.opt('OpisRoli') : undefined,
  share: n.opt('Udzial'),
  customerNumber: n.opt('NrKlienta'),
});

function authorizedParty(n: Node | undefined): AuthorizedParty | undefined {
  if (!n) return undefined;
  const id = n.one('DaneIdentyfikacyjne');
  return {
    eori: n.opt('NrEORI'),
    nip: id?.req('NIP') ?? '',
    name: id?.req('Nazwa') ?? '',
    address: address(n.one('Adres')) ?? { countryCode: '', line1: '' },
    correspondenceAddress: address(n.one('AdresKoresp')),
    contacts: contacts(n, 'EmailPU', 'TelefonPU'),
    role: n.req('RolaPU'),
  };
}

function totals(fa: Node): TaxTotal[] {
  const out: TaxTotal[] = [];
  for (const b of TAX_BUCKETS) {
    const net = fa.opt(b.netField);
    if (net === undefined) continue;
    out.push({
      bucket: b.id,
      net,
      vat: b.vatField ? fa.opt(b.vatField) : undefined,
      vatPln: b.vatPlnField ? fa.opt(b.vatPlnField) : undefined,
    });
  }
  return out;
}

function vehicle(n: Node): NewVehicle {
  const v: NewVehicle = {
    date: n.req('P_22A'),
    lineNo: n.req('P_NrWierszaNST'),
    make: n.opt('P_22BMK'),
    model: n.opt('P_22BMD'),
    colour: n.opt('P_22BK'),
    registration: n.opt('P_22BNR'),
    productionYear: n.opt('P_22BRP'),
  };
  if (n.one('P_22B')) {
    v.land = {
      mileage: n.req('P_22B'),
      vin: n.opt('P_22B1'),
      bodyNumber: n.opt('P_22B2'),
      chassisNumber: n.opt('P_22B3'),
      frameNumber: n.opt('P_22B4'),
      type: n.opt('P_22BT'),
    };
  } else if (n.one('P_22C')) {
    v.water = { hours: n.req('P_22C'), hullNumber: n.opt('P_22C1') };
  } else if (n.one('P_22D')) {
    v.air = { hours: n.req('P_22D'), serialNumber: n.opt('P_22D1') };
  }
  return v;
}

const MARGIN_KINDS = {
  P_PMarzy_2: 'travel',
  P_PMarzy_3_1: 'usedGoods',
  P_PMarzy_3_2: 'worksOfArt',
  P_PMarzy_3_3: 'antiques',
} as const;

function annotations(n: Node | undefined): Annotations {
  const a = n ?? new Node(NO_ELEMENT);
  const exemption = a.one('Zwolnienie');
  const transport = a.one('NoweSrodkiTransportu');
  const margin = a.one('PMarzy');
  const basis = (['P_19A', 'P_19B', 'P_19C'] as const).find((b) => exemption?.one(b));
  const marginKind = (Object.keys(MARGIN_KINDS) as (keyof typeof MARGIN_KINDS)[]).find((k) => margin?.flag(k));
  return {
    cashAccounting: a.flag('P_16'),
    selfBilling: a.flag('P_17'),
    reverseCharge: a.flag('P_18'),
    splitPayment: a.flag('P_18A'),
    exemption: exemption?.flag('P_19') && basis ? { basis, text: exemption.req(basis) } : undefined,
    newTransport: transport?.flag('P_22')
      ? { p42_5: transport.flag('P_42_5'), vehicles: transport.all('NowySrodekTransportu').map(vehicle) }
      : undefined,
    simplifiedTriangular: a.flag('P_23'),
    margin: margin?.flag('P_PMarzy') && marginKind ? MARGIN_KINDS[marginKind] : undefined,
  };
}

const line = (n: Node): InvoiceLine => ({
  lineNo: n.req('NrWierszaFa'),
  uuid: n.opt('UU_ID'),
  date: n.opt('P_6A'),
  name: n.opt('P_7'),
  index: n.opt('Indeks'),
  gtin: n.opt('GTIN'),
  pkwiu: n.opt('PKWiU'),
  cn: n.opt('CN'),
  pkob: n.opt('PKOB'),
  unit: n.opt('P_8A'),
  quantity: n.opt('P_8B'),
  unitNetPrice: n.opt('P_9A'),
  unitGrossPrice: n.opt('P_9B'),
  discount: n.opt('P_10'),
  netValue: n.opt('P_11'),
  grossValue: n.opt('P_11A'),
  vatValue: n.opt('P_11Vat'),
  rate: n.opt('P_12'),
  ossRate: n.opt('P_12_XII'),
  annex15: n.flag('P_12_Zal_15'),
  exciseAmount: n.opt('KwotaAkcyzy'),
  gtu: n.opt('GTU'),
  procedure: n.opt('Procedura'),
  exchangeRate: n.opt('KursWaluty'),
  before: n.flag('StanPrzed'),
});

const orderLine = (n: Node): OrderLine => ({
  lineNo: n.req('NrWierszaZam'),
  uuid: n.opt('UU_IDZ'),
  name: n.opt('P_7Z'),
  index: n.opt('IndeksZ'),
  gtin: n.opt('GTINZ'),
  pkwiu: n.opt('PKWiUZ'),
  cn: n.opt('CNZ'),
  pkob: n.opt('PKOBZ'),
  unit: n.opt('P_8AZ'),
  quantity: n.opt('P_8BZ'),
  unitNetPrice: n.opt('P_9AZ'),
  netValue: n.opt('P_11NettoZ'),
  vatValue: n.opt('P_11VatZ'),
  rate: n.opt('P_12Z'),
  ossRate: n.opt('P_12Z_XII'),
  annex15: n.flag('P_12Z_Zal_15'),
  gtu: n.opt('GTUZ'),
  procedure: n.opt('ProceduraZ'),
  exciseAmount: n.opt('KwotaAkcyzyZ'),
  before: n.flag('StanPrzedZ'),
});

const amountReason = (n: Node) => ({ amount: n.req('Kwota'), reason: n.req('Powod') });

function settlement(n: Node | undefined): Settlement | undefined {
  return (
    n && {
      charges: n.all('Obciazenia').map(amountReason),
      chargesTotal: n.opt('SumaObciazen'),
      deductions: n.all('Odliczenia').map(amountReason),
      deductionsTotal: n.opt('SumaOdliczen'),
      toPay: n.opt('DoZaplaty'),
      toSettle: n.opt('DoRozliczenia'),
    }
  );
}

const bankAccount = (n: Node): BankAccount => ({
  number: n.req('NrRB'),
  swift: n.opt('SWIFT'),
  ownBankAccount: n.opt('RachunekWlasnyBanku'),
  bankName: n.opt('NazwaBanku'),
  description: n.opt('OpisRachunku'),
});

function payment(n: Node | undefined): Payment | undefined {
  if (!n) return undefined;
  const discount = n.one('Skonto');
  return {
    paid: n.flag('Zaplacono'),
    paymentDate: n.opt('DataZaplaty'),
    partialPaymentMarker: n.opt('ZnacznikZaplatyCzesciowej'),
    partialPayments: n.all('ZaplataCzesciowa').map((p) => ({
      amount: p.req('KwotaZaplatyCzesciowej'),
      date: p.req('DataZaplatyCzesciowej'),
      form: p.opt('FormaPlatnosci'),
      otherForm: p.flag('PlatnoscInna') ? p.opt('OpisPlatnosci') : undefined,
    })),
    terms: n.all('TerminPlatnosci').map((t) => {
      const d = t.one('TerminOpis');
      return {
        date: t.opt('Termin'),
        description: d && { quantity: d.req('Ilosc'), unit: d.req('Jednostka'), startEvent: d.req('ZdarzeniePoczatkowe') },
      };
    }),
    form: n.opt('FormaPlatnosci'),
    otherForm: n.flag('PlatnoscInna') ? n.opt('OpisPlatnosci') : undefined,
    bankAccounts: n.all('RachunekBankowy').map(bankAccount),
    factorBankAccounts: n.all('RachunekBankowyFaktora').map(bankAccount),
    discount: discount && { conditions: discount.req('WarunkiSkonta'), amount: discount.req('WysokoscSkonta') },
    link: n.opt('LinkDoPlatnosci'),
    ipksef: n.opt('IPKSeF'),
  };
}

function transport(n: Node): Transport {
  const carrier = n.one('Przewoznik');
  return {
    kind: n.opt('RodzajTransportu'),
    otherKind: n.flag('TransportInny') ? n.opt('OpisInnegoTransportu') : undefined,
    carrier: carrier && {
      ...identity(carrier.one('DaneIdentyfikacyjne')),
      address: address(carrier.one('AdresPrzewoznika')) ?? { countryCode: '', line1: '' },
    },
    orderNumber: n.opt('NrZleceniaTransportu'),
    cargo: n.opt('OpisLadunku'),
    otherCargo: n.flag('LadunekInny') ? n.opt('OpisInnegoLadunku') : undefined,
    packaging: n.opt('JednostkaOpakowania'),
    start: n.opt('DataGodzRozpTransportu'),
    end: n.opt('DataGodzZakTransportu'),
    from: address(n.one('WysylkaZ')),
    via: n.all('WysylkaPrzez').map((a) => address(a)!),
    to: address(n.one('WysylkaDo')),
  };
}

function transactionTerms(n: Node | undefined): TransactionTerms | undefined {
  if (!n) return undefined;
  const rate = n.opt('KursUmowny');
  return {
    contracts: n.all('Umowy').map((u) => ({ date: u.opt('DataUmowy'), number: u.opt('NrUmowy') })),
    orders: n.all('Zamowienia').map((z) => ({ date: z.opt('DataZamowienia'), number: z.opt('NrZamowienia') })),
    batchNumbers: n.texts('NrPartiiTowaru'),
    deliveryTerms: n.opt('WarunkiDostawy'),
    agreedRate: rate !== undefined ? { rate, currency: n.req('WalutaUmowna') } : undefined,
    transport: n.all('Transport').map(transport),
    intermediary: n.flag('PodmiotPosredniczacy'),
  };
}

function footer(n: Node | undefined): Footer | undefined {
  if (!n) return undefined;
  return {
    information: n
      .all('Informacje')
      .map((i) => i.one('StopkaFaktury')?.el.text)
      .filter((t): t is string => t !== undefined),
    registers: n.all('Rejestry').map((r) => ({
      fullName: r.opt('PelnaNazwa'),
      krs: r.opt('KRS'),
      regon: r.opt('REGON'),
      bdo: r.opt('BDO'),
    })),
  };
}

const pairs = (n: Node, name: string, k: string, v: string) =>
  n.all(name).map((p) => ({ key: p.req(k), value: p.req(v) }));

function attachment(n: Node | undefined): Attachment | undefined {
  if (!n) return undefined;
  return {
    blocks: n.all('BlokDanych').map((b) => ({
      header: b.opt('ZNaglowek'),
      metadata: pairs(b, 'MetaDane', 'ZKlucz', 'ZWartosc'),
      paragraphs: b.one('Tekst')?.texts('Akapit') ?? [],
      tables: b.all('Tabela').map((t) => ({
        metadata: pairs(t, 'TMetaDane', 'TKlucz', 'TWartosc'),
        description: t.opt('Opis'),
        columns: (t.one('TNaglowek')?.all('Kol') ?? []).map((k) => ({
          type: k.el.attributes.find((a) => a.local === 'Typ' && a.ns === null)?.value ?? '',
          name: k.req('NKom'),
        })),
        rows: t.all('Wiersz').map((w) => w.texts('WKom')),
        sums: t.one('Suma')?.texts('SKom'),
      })),
    })),
  };
}

/** Builds the model from the root `Faktura` element (namespace and form code already checked). */
export function buildInvoice(root: XmlElement): Fa3Invoice {
  const r = new Node(root);
  const header = r.one('Naglowek');
  const formCode = header?.one('KodFormularza');
  const attr = (name: string) => formCode?.el.attributes.find((a) => a.local === name && a.ns === null)?.value ?? '';
  const fa = r.one('Fa') ?? new Node(NO_ELEMENT);
  const okres = fa.one('OkresFa');
  const p1k = fa.one('Podmiot1K');
  const p1kId = p1k?.one('DaneIdentyfikacyjne');
  const order = fa.one('Zamowienie');
  return {
    formCode: { systemCode: attr('kodSystemowy'), schemaVersion: attr('wersjaSchemy'), value: formCode ? collapse(formCode.el.text) : '' },
    formVariant: header?.req('WariantFormularza') ?? '',
    createdAt: header?.req('DataWytworzeniaFa') ?? '',
    systemInfo: header?.opt('SystemInfo'),

    kind: fa.req('RodzajFaktury') as InvoiceKind,
    number: fa.req('P_2'),
    issueDate: fa.req('P_1'),
    place: fa.opt('P_1M'),
    warehouseDocuments: fa.texts('WZ'),
    saleDate: fa.opt('P_6'),
    period: okres && { from: okres.req('P_6_Od'), to: okres.req('P_6_Do') },
    currency: fa.req('KodWaluty'),

    seller: seller(r.one('Podmiot1') ?? new Node(NO_ELEMENT)),
    buyer: buyer(r.one('Podmiot2')),
    thirdParties: r.all('Podmiot3').map(thirdParty),
    authorizedParty: authorizedParty(r.one('PodmiotUpowazniony')),

    totals: totals(fa),
    totalDue: fa.req('P_15'),
    advanceExchangeRate: fa.opt('KursWalutyZ'),
    annotations: annotations(fa.one('Adnotacje')),

    correctionReason: fa.opt('PrzyczynaKorekty'),
    correctionType: fa.opt('TypKorekty'),
    correctedInvoices: fa.all('DaneFaKorygowanej').map((d) => ({
      issueDate: d.req('DataWystFaKorygowanej'),
      number: d.req('NrFaKorygowanej'),
      ksefNumber: d.opt('NrKSeFFaKorygowanej'),
      outsideKsef: d.flag('NrKSeFN'),
    })),
    correctedPeriod: fa.opt('OkresFaKorygowanej'),
    correctNumber: fa.opt('NrFaKorygowany'),
    correctedSeller: p1k && {
      vatPrefix: p1k.opt('PrefiksPodatnika'),
      nip: p1kId?.req('NIP') ?? '',
      name: p1kId?.req('Nazwa') ?? '',
      address: address(p1k.one('Adres')) ?? { countryCode: '', line1: '' },
    },
    correctedBuyers: fa.all('Podmiot2K').map((p) => ({
      ...identity(p.one('DaneIdentyfikacyjne')),
      address: address(p.one('Adres')),
      buyerId: p.opt('IDNabywcy'),
    })),
    totalDueBeforeCorrection: fa.opt('P_15ZK'),
    exchangeRateBeforeCorrection: fa.opt('KursWalutyZK'),

    partialPayments: fa.all('ZaliczkaCzesciowa').map((z) => ({
      paymentDate: z.req('P_6Z'),
      amount: z.req('P_15Z'),
      exchangeRate: z.opt('KursWalutyZW'),
    })),
    fp: fa.flag('FP'),
    tp: fa.flag('TP'),
    additionalDescriptions: fa
      .all('DodatkowyOpis')
      .map((d) => ({ lineNo: d.opt('NrWiersza'), key: d.req('Klucz'), value: d.req('Wartosc') })),
    advances: fa.all('FakturaZaliczkowa').map((z) => ({
      ksefNumber: z.opt('NrKSeFFaZaliczkowej'),
      number: z.opt('NrFaZaliczkowej'),
      outsideKsef: z.flag('NrKSeFZN'),
    })),
    exciseRefund: fa.flag('ZwrotAkcyzy'),
    lines: fa.all('FaWiersz').map(line),
    settlement: settlement(fa.one('Rozliczenie')),
    payment: payment(fa.one('Platnosc')),
    transactionTerms: transactionTerms(fa.one('WarunkiTransakcji')),
    order: order && { value: order.req('WartoscZamowienia'), lines: order.all('ZamowienieWiersz').map(orderLine) },
    footer: footer(r.one('Stopka')),
    attachment: attachment(r.one('Zalacznik')),
  };
}
