/**
 * The FA(3) content model (schemat_FA(3)_v1-0E.xsd with its etd base types), written out as data so the
 * structure layer works without the XSD files. Order, cardinalities and facets follow the schema exactly;
 * the agreement tests compare the verdicts with xmllint on the official XSD.
 */
import { COUNTRY_CODES, CURRENCY_CODES, EU_COUNTRY_CODES } from './codes.js';
import {
  BYTE,
  SimpleType,
  dateTimeType,
  dateType,
  decimalType,
  integerType,
  stringType,
  tokenType,
  unionType,
  xsdPattern,
} from './simple-types.js';

export const FA3_NAMESPACE = 'http://crd.gov.pl/wzor/2025/06/25/13775/';
export const FA3_SYSTEM_CODE = 'FA (3)';
export const FA3_SCHEMA_VERSION = '1-0E';

export interface ElementDecl {
  readonly kind: 'element';
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly type: SimpleType | ComplexType;
  /** FA3.md §6 rule that a failure of this element's value also violates (I2 for P_2). */
  readonly rule?: string;
}

export interface GroupDecl {
  readonly kind: 'sequence' | 'choice';
  readonly min: number;
  readonly max: number;
  readonly particles: readonly Particle[];
}

export type Particle = ElementDecl | GroupDecl;

export interface AttributeDecl {
  readonly name: string;
  readonly type: SimpleType;
  readonly required: boolean;
  readonly fixed?: string;
}

export interface ComplexType {
  readonly kind: 'complex';
  /** Element-only content; absent with simple content. */
  readonly content?: GroupDecl;
  /** Text content of an element that also has attributes. */
  readonly simpleContent?: SimpleType;
  readonly attributes: readonly AttributeDecl[];
}

export const isComplex = (t: SimpleType | ComplexType): t is ComplexType => (t as ComplexType).kind === 'complex';

// ---------------------------------------------------------------------------------------------------------
// Builders

type Type = SimpleType | ComplexType;
const el = (name: string, type: Type, min = 1, max = 1, rule?: string): ElementDecl => ({
  kind: 'element',
  name,
  min,
  max,
  type,
  rule,
});
const opt = (name: string, type: Type) => el(name, type, 0, 1);
const seq = (...particles: Particle[]): GroupDecl => ({ kind: 'sequence', min: 1, max: 1, particles });
const optSeq = (...particles: Particle[]): GroupDecl => ({ kind: 'sequence', min: 0, max: 1, particles });
const choice = (...particles: Particle[]): GroupDecl => ({ kind: 'choice', min: 1, max: 1, particles });
const optChoice = (...particles: Particle[]): GroupDecl => ({ kind: 'choice', min: 0, max: 1, particles });
const complex = (content: GroupDecl, attributes: AttributeDecl[] = []): ComplexType => ({
  kind: 'complex',
  content,
  attributes,
});

// ---------------------------------------------------------------------------------------------------------
// Simple types: etd (StrukturyDanych / ElementarneTypyDanych / KodyKrajow)

const etdTWybor1 = integerType('etd:TWybor1', { ...BYTE, enumeration: [1] });
const etdTWybor1_2 = integerType('etd:TWybor1_2', { ...BYTE, enumeration: [1, 2] });
const etdTNrNIP = stringType('etd:TNrNIP', { patterns: [xsdPattern('[1-9]((\\d[1-9])|([1-9]\\d))\\d{7}')] });
const etdTKodKraju = stringType('etd:TKodKraju', { ws: 'replace', enumeration: COUNTRY_CODES });
const etdTAdresEmail = tokenType('etd:TAdresEmail', 3, 255, { patterns: [/^(?:[^\n\r])+@(?:[^\n\r])+$/u] });
const etdTNrIdentyfikacjiPodatkowej = stringType('etd:TNrIdentyfikacjiPodatkowej', {
  ws: 'replace',
  minLength: 1,
  maxLength: 50,
});
const etdTNrKRS = stringType('etd:TNrKRS', { patterns: [xsdPattern('\\d{10}')] });
const etdTNrREGON = unionType('etd:TNrREGON', [
  stringType('REGON', { patterns: [xsdPattern('\\d{9}')] }),
  stringType('REGON', { patterns: [xsdPattern('\\d{14}')] }),
]);
const etdTTekstowy = stringType('etd:TTekstowy', { minLength: 1, maxLength: 3500 });

// ---------------------------------------------------------------------------------------------------------
// Simple types: FA(3)

const TZnakowy = tokenType('TZnakowy', 1, 256);
const TZnakowy2 = tokenType('TZnakowy2', 0, 256);
const TZnakowy20 = tokenType('TZnakowy20', 1, 20);
const TZnakowy50 = tokenType('TZnakowy50', 1, 50);
const TZnakowy512 = tokenType('TZnakowy512', 1, 512);
const TIDNabywcy = tokenType('IDNabywcy', 1, 32);
const TNumerTelefonu = tokenType('TNumerTelefonu', 1, 16);
const TGLN = tokenType('TGLN', 1, 13);
const TBDO = tokenType('BDO', 1, 9);

const TKodyKrajowUE = stringType('TKodyKrajowUE', { ws: 'replace', enumeration: EU_COUNTRY_CODES });
const TKodWaluty = stringType('TKodWaluty', { ws: 'replace', enumeration: CURRENCY_CODES });
const TKodFormularza = stringType('TKodFormularza', { enumeration: ['FA'] });

const TKwotowy = decimalType('TKwotowy', {
  totalDigits: 18,
  fractionDigits: 2,
  pattern: xsdPattern('-?([1-9]\\d{0,15}|0)(\\.\\d{1,2})?'),
});
const TKwotowy2 = decimalType('TKwotowy2', {
  totalDigits: 22,
  fractionDigits: 8,
  pattern: xsdPattern('-?([1-9]\\d{0,13}|0)(\\.\\d{1,8})?'),
});
const TIlosci = decimalType('TIlosci', {
  totalDigits: 22,
  fractionDigits: 6,
  pattern: xsdPattern('-?([1-9]\\d{0,15}|0)(\\.\\d{1,6})?'),
});
const TProcentowy = decimalType('TProcentowy', {
  totalDigits: 9,
  fractionDigits: 6,
  minInclusive: '0',
  maxInclusive: '100',
});
const TNaturalny = integerType('TNaturalny', { nonNegative: true, totalDigits: 14, min: 1n });
const xsdInteger = integerType('xsd:integer', {});

const tDate = (name: string, min: string) => dateType(name, min, '2050-01-01');
const TData = tDate('TData', '2016-07-01');
const TDataT = tDate('TDataT', '2006-01-01');
const TDataU = tDate('TDataU', '1990-01-01');
const TDataCzas = dateTimeType('TDataCzas', '2021-10-01T00:00:00Z', '2050-01-01T23:59:59Z');

const TNumerKSeF = stringType('TNumerKSeF', {
  ws: 'collapse',
  patterns: [
    xsdPattern(
      '([1-9]((\\d[1-9])|([1-9]\\d))\\d{7}|M\\d{9}|[A-Z]{3}\\d{7})-(20[2-9][0-9]|2[1-9][0-9]{2}|[3-9][0-9]{3})' +
        '(0[1-9]|1[0-2])(0[1-9]|[1-2][0-9]|3[0-1])-([0-9A-F]{6})-?([0-9A-F]{6})-([0-9A-F]{2})',
    ),
  ],
});
const TNrVatUE = stringType('TNrVatUE', { patterns: [xsdPattern('(\\d|[A-Z]|\\+|\\*){1,12}')] });
const TNIPIdWew = tokenType('TNIPIdWew', 1, 20, { patterns: [xsdPattern('[1-9]((\\d[1-9])|([1-9]\\d))\\d{7}-\\d{5}')] });
const TNrRB = stringType('TNrRB', { minLength: 10, maxLength: 34 });
const SWIFT_Type = stringType('SWIFT_Type', { patterns: [xsdPattern('[A-Z]{6}[A-Z0-9]{2}([A-Z0-9]{3}){0,1}')] });

/** An element with a fixed value: an empty element takes the fixed value, anything else must equal it. */
const fixedValue = (base: SimpleType, fixed: string): SimpleType => ({
  name: base.name,
  check: (raw) => (raw === '' ? null : (base.check(raw) ?? (raw === fixed ? null : `'${raw}' must be '${fixed}'`))),
});

const intEnum = (name: string, values: number[]) => integerType(name, { enumeration: values });
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const TFormaPlatnosci = intEnum('TFormaPlatnosci', range(1, 7));
const TLadunek = intEnum('TLadunek', range(1, 20));
const TRachunekWlasnyBanku = intEnum('TRachunekWlasnyBanku', [1, 2, 3]);
const TStatusInfoPodatnika = intEnum('TStatusInfoPodatnika', [1, 2, 3, 4]);
const TRolaPodmiotuUpowaznionego = intEnum('TRolaPodmiotuUpowaznionego', [1, 2, 3]);
const TRolaPodmiotu3 = intEnum('TRolaPodmiotu3', range(1, 11));
const TTypKorekty = intEnum('TTypKorekty', [1, 2, 3]);
const TRodzajTransportu = intEnum('TRodzajTransportu', [1, 2, 3, 4, 5, 7, 8]);
const T1or2 = intEnum('1 or 2', [1, 2]);

const tokenEnum = (name: string, values: string[]) => tokenType(name, 1, 256, { enumeration: values });
export const INVOICE_KINDS = ['VAT', 'KOR', 'ZAL', 'ROZ', 'UPR', 'KOR_ZAL', 'KOR_ROZ'] as const;
export const TAX_RATES = ['23', '22', '8', '7', '5', '4', '3', '0 KR', '0 WDT', '0 EX', 'zw', 'oo', 'np I', 'np II'] as const;
const TRodzajFaktury = tokenEnum('TRodzajFaktury', [...INVOICE_KINDS]);
const TStawkaPodatku = tokenEnum('TStawkaPodatku', [...TAX_RATES]);
const PROCEDURES_Z = ['WSTO_EE', 'IED', 'TT_D', 'B_SPV', 'B_SPV_DOSTAWA', 'B_MPV_PROWIZJA'];
const TOznaczenieProcedury = tokenEnum('TOznaczenieProcedury', [...PROCEDURES_Z.slice(0, 3), 'I_42', 'I_63', ...PROCEDURES_Z.slice(3)]);
const TOznaczenieProceduryZ = tokenEnum('TOznaczenieProceduryZ', PROCEDURES_Z);
const TGTU = tokenEnum('TGTU', range(1, 13).map((n) => `GTU_${String(n).padStart(2, '0')}`));

const LinkDoPlatnosci = tokenType('LinkDoPlatnosci', 1, 512, {
  // XSD `\s` is [ \t\n\r] and `.` excludes only \n and \r: written out rather than translated.
  patterns: [
    /^(?:(https?):\/\/([a-zA-Z0-9][a-zA-Z0-9-]*\.)+[a-zA-Z]{2,}(:[0-9]{1,5})?(\/[^ \t\n\r?#]*)?\?([^# \t\n\r]*&)?IPKSeF=[0-9]{3}[a-zA-Z0-9]{10}(&[^# \t\n\r]*)?(#[^\n\r]*)?)$/u,
  ],
});
const IPKSeF = tokenType('IPKSeF', 1, 13, { patterns: [xsdPattern('[0-9]{3}[a-zA-Z0-9]{10}')] });

// ---------------------------------------------------------------------------------------------------------
// Complex types

const TAdres = complex(
  seq(el('KodKraju', etdTKodKraju), el('AdresL1', TZnakowy512), opt('AdresL2', TZnakowy512), opt('GLN', TGLN)),
);

const TKluczWartosc = complex(seq(opt('NrWiersza', TNaturalny), el('Klucz', TZnakowy), el('Wartosc', TZnakowy)));

const TRachunekBankowy = complex(
  seq(
    seq(el('NrRB', TNrRB), opt('SWIFT', SWIFT_Type)),
    opt('RachunekWlasnyBanku', TRachunekWlasnyBanku),
    opt('NazwaBanku', TZnakowy),
    opt('OpisRachunku', TZnakowy),
  ),
);

const TPodmiot1 = complex(seq(el('NIP', etdTNrNIP), el('Nazwa', TZnakowy512)));

const foreignIds = () => [
  seq(el('KodUE', TKodyKrajowUE), el('NrVatUE', TNrVatUE)),
  seq(opt('KodKraju', etdTKodKraju), el('NrID', etdTNrIdentyfikacjiPodatkowej)),
  el('BrakID', etdTWybor1),
];
const TPodmiot2 = complex(seq(choice(el('NIP', etdTNrNIP), ...foreignIds()), optSeq(el('Nazwa', TZnakowy512))));
const TPodmiot3 = complex(
  seq(choice(el('NIP', etdTNrNIP), el('IDWew', TNIPIdWew), ...foreignIds()), optSeq(el('Nazwa', TZnakowy512))),
);

const contacts = (email: string, phone: string) =>
  el('DaneKontaktowe', complex(seq(opt(email, etdTAdresEmail), opt(phone, TNumerTelefonu))), 0, 3);

const Naglowek = complex(
  seq(
    el('KodFormularza', {
      kind: 'complex',
      simpleContent: TKodFormularza,
      attributes: [
        { name: 'kodSystemowy', type: stringType('xsd:string', {}), required: true, fixed: FA3_SYSTEM_CODE },
        { name: 'wersjaSchemy', type: stringType('xsd:string', {}), required: true, fixed: FA3_SCHEMA_VERSION },
      ],
    }),
    el('WariantFormularza', integerType('WariantFormularza', { ...BYTE, enumeration: [3] })),
    el('DataWytworzeniaFa', dateTimeType('DataWytworzeniaFa', '2025-09-01T00:00:00Z', '2050-01-01T23:59:59Z')),
    opt('SystemInfo', TZnakowy),
  ),
);

const Podmiot1 = complex(
  seq(
    opt('PrefiksPodatnika', fixedValue(TKodyKrajowUE, 'PL')),
    opt('NrEORI', TZnakowy),
    el('DaneIdentyfikacyjne', TPodmiot1),
    el('Adres', TAdres),
    opt('AdresKoresp', TAdres),
    contacts('Email', 'Telefon'),
    opt('StatusInfoPodatnika', TStatusInfoPodatnika),
  ),
);

const Podmiot2 = complex(
  seq(
    opt('NrEORI', TZnakowy),
    el('DaneIdentyfikacyjne', TPodmiot2),
    opt('Adres', TAdres),
    opt('AdresKoresp', TAdres),
    contacts('Email', 'Telefon'),
    opt('NrKlienta', TZnakowy),
    opt('IDNabywcy', TIDNabywcy),
    el('JST', T1or2),
    el('GV', T1or2),
  ),
);

const Podmiot3 = complex(
  seq(
    opt('IDNabywcy', TIDNabywcy),
    opt('NrEORI', TZnakowy),
    el('DaneIdentyfikacyjne', TPodmiot3),
    opt('Adres', TAdres),
    opt('AdresKoresp', TAdres),
    contacts('Email', 'Telefon'),
    choice(el('Rola', TRolaPodmiotu3), seq(el('RolaInna', etdTWybor1), el('OpisRoli', TZnakowy))),
    opt('Udzial', TProcentowy),
    opt('NrKlienta', TZnakowy),
  ),
);

const PodmiotUpowazniony = complex(
  seq(
    opt('NrEORI', TZnakowy),
    el('DaneIdentyfikacyjne', TPodmiot1),
    el('Adres', TAdres),
    opt('AdresKoresp', TAdres),
    contacts('EmailPU', 'TelefonPU'),
    el('RolaPU', TRolaPodmiotuUpowaznionego),
  ),
);

const NowySrodekTransportu = complex(
  seq(
    el('P_22A', TDataT),
    el('P_NrWierszaNST', TNaturalny),
    opt('P_22BMK', TZnakowy),
    opt('P_22BMD', TZnakowy),
    opt('P_22BK', TZnakowy),
    opt('P_22BNR', TZnakowy),
    opt('P_22BRP', TZnakowy),
    choice(
      seq(
        el('P_22B', TZnakowy),
        optChoice(opt('P_22B1', TZnakowy), opt('P_22B2', TZnakowy), opt('P_22B3', TZnakowy), opt('P_22B4', TZnakowy)),
        opt('P_22BT', TZnakowy),
      ),
      seq(el('P_22C', TZnakowy), opt('P_22C1', TZnakowy)),
      seq(el('P_22D', TZnakowy), opt('P_22D1', TZnakowy)),
    ),
  ),
);

const Adnotacje = complex(
  seq(
    el('P_16', etdTWybor1_2),
    el('P_17', etdTWybor1_2),
    el('P_18', etdTWybor1_2),
    el('P_18A', etdTWybor1_2),
    el(
      'Zwolnienie',
      complex(
        choice(
          seq(el('P_19', etdTWybor1), choice(el('P_19A', TZnakowy), el('P_19B', TZnakowy), el('P_19C', TZnakowy))),
          el('P_19N', etdTWybor1),
        ),
      ),
    ),
    el(
      'NoweSrodkiTransportu',
      complex(
        choice(
          seq(
            el('P_22', etdTWybor1),
            el('P_42_5', etdTWybor1_2),
            el('NowySrodekTransportu', NowySrodekTransportu, 1, 10000),
          ),
          el('P_22N', etdTWybor1),
        ),
      ),
    ),
    el('P_23', etdTWybor1_2),
    el(
      'PMarzy',
      complex(
        choice(
          seq(
            el('P_PMarzy', etdTWybor1),
            choice(
              el('P_PMarzy_2', etdTWybor1),
              el('P_PMarzy_3_1', etdTWybor1),
              el('P_PMarzy_3_2', etdTWybor1),
              el('P_PMarzy_3_3', etdTWybor1),
            ),
          ),
          el('P_PMarzyN', etdTWybor1),
        ),
      ),
    ),
  ),
);

const DaneFaKorygowanej = complex(
  seq(
    el('DataWystFaKorygowanej', TDataT),
    el('NrFaKorygowanej', TZnakowy),
    choice(seq(el('NrKSeF', etdTWybor1), el('NrKSeFFaKorygowanej', TNumerKSeF)), el('NrKSeFN', etdTWybor1)),
  ),
);

const otherPayment = () => seq(el('PlatnoscInna', etdTWybor1), el('OpisPlatnosci', TZnakowy));

const Platnosc = complex(
  seq(
    optChoice(
      seq(el('Zaplacono', etdTWybor1), el('DataZaplaty', TData)),
      seq(
        el('ZnacznikZaplatyCzesciowej', etdTWybor1_2),
        el(
          'ZaplataCzesciowa',
          complex(
            seq(
              el('KwotaZaplatyCzesciowej', TKwotowy),
              el('DataZaplatyCzesciowej', TData),
              optChoice(el('FormaPlatnosci', TFormaPlatnosci), otherPayment()),
            ),
          ),
          1,
          100,
        ),
      ),
    ),
    el(
      'TerminPlatnosci',
      complex(
        optSeq(
          opt('Termin', TData),
          opt(
            'TerminOpis',
            complex(seq(el('Ilosc', xsdInteger), el('Jednostka', TZnakowy50), el('ZdarzeniePoczatkowe', TZnakowy))),
          ),
        ),
      ),
      0,
      100,
    ),
    optChoice(el('FormaPlatnosci', TFormaPlatnosci), otherPayment()),
    el('RachunekBankowy', TRachunekBankowy, 0, 100),
    el('RachunekBankowyFaktora', TRachunekBankowy, 0, 20),
    opt('Skonto', complex(seq(el('WarunkiSkonta', TZnakowy), el('WysokoscSkonta', TZnakowy)))),
    opt('LinkDoPlatnosci', LinkDoPlatnosci),
    opt('IPKSeF', IPKSeF),
  ),
);

const Transport = complex(
  seq(
    choice(
      el('RodzajTransportu', TRodzajTransportu),
      seq(el('TransportInny', etdTWybor1), el('OpisInnegoTransportu', TZnakowy50)),
    ),
    opt('Przewoznik', complex(seq(el('DaneIdentyfikacyjne', TPodmiot2), el('AdresPrzewoznika', TAdres)))),
    opt('NrZleceniaTransportu', TZnakowy),
    seq(
      choice(el('OpisLadunku', TLadunek), seq(el('LadunekInny', etdTWybor1), el('OpisInnegoLadunku', TZnakowy50))),
      opt('JednostkaOpakowania', TZnakowy),
    ),
    optSeq(
      opt('DataGodzRozpTransportu', TDataCzas),
      opt('DataGodzZakTransportu', TDataCzas),
      opt('WysylkaZ', TAdres),
      el('WysylkaPrzez', TAdres, 0, 20),
      opt('WysylkaDo', TAdres),
    ),
  ),
);

const dateAndNumber = (date: string, number: string) =>
  complex(optSeq(opt(date, TDataU), opt(number, TZnakowy)));

const WarunkiTransakcji = complex(
  seq(
    el('Umowy', dateAndNumber('DataUmowy', 'NrUmowy'), 0, 100),
    el('Zamowienia', dateAndNumber('DataZamowienia', 'NrZamowienia'), 0, 100),
    el('NrPartiiTowaru', TZnakowy, 0, 1000),
    opt('WarunkiDostawy', TZnakowy),
    optSeq(el('KursUmowny', TIlosci), el('WalutaUmowna', TKodWaluty)),
    el('Transport', Transport, 0, 20),
    opt('PodmiotPosredniczacy', etdTWybor1),
  ),
);

const FaWiersz = complex(
  seq(
    el('NrWierszaFa', TNaturalny),
    opt('UU_ID', TZnakowy50),
    opt('P_6A', TDataT),
    opt('P_7', TZnakowy512),
    opt('Indeks', TZnakowy50),
    opt('GTIN', TZnakowy20),
    opt('PKWiU', TZnakowy50),
    opt('CN', TZnakowy50),
    opt('PKOB', TZnakowy50),
    opt('P_8A', TZnakowy),
    opt('P_8B', TIlosci),
    opt('P_9A', TKwotowy2),
    opt('P_9B', TKwotowy2),
    opt('P_10', TKwotowy2),
    opt('P_11', TKwotowy),
    opt('P_11A', TKwotowy),
    opt('P_11Vat', TKwotowy),
    opt('P_12', TStawkaPodatku),
    opt('P_12_XII', TProcentowy),
    opt('P_12_Zal_15', etdTWybor1),
    opt('KwotaAkcyzy', TKwotowy),
    opt('GTU', TGTU),
    opt('Procedura', TOznaczenieProcedury),
    opt('KursWaluty', TIlosci),
    opt('StanPrzed', etdTWybor1),
  ),
);

const kwotaPowod = () => complex(seq(el('Kwota', TKwotowy), el('Powod', TZnakowy)));
const Rozliczenie = complex(
  seq(
    el('Obciazenia', kwotaPowod(), 0, 100),
    opt('SumaObciazen', TKwotowy),
    el('Odliczenia', kwotaPowod(), 0, 100),
    opt('SumaOdliczen', TKwotowy),
    optChoice(el('DoZaplaty', TKwotowy), el('DoRozliczenia', TKwotowy)),
  ),
);

const ZamowienieWiersz = complex(
  seq(
    el('NrWierszaZam', TNaturalny),
    opt('UU_IDZ', TZnakowy50),
    opt('P_7Z', TZnakowy512),
    opt('IndeksZ', TZnakowy50),
    opt('GTINZ', TZnakowy20),
    opt('PKWiUZ', TZnakowy50),
    opt('CNZ', TZnakowy50),
    opt('PKOBZ', TZnakowy50),
    opt('P_8AZ', TZnakowy),
    opt('P_8BZ', TIlosci),
    opt('P_9AZ', TKwotowy2),
    opt('P_11NettoZ', TKwotowy),
    opt('P_11VatZ', TKwotowy),
    opt('P_12Z', TStawkaPodatku),
    opt('P_12Z_XII', TProcentowy),
    opt('P_12Z_Zal_15', etdTWybor1),
    opt('GTUZ', TGTU),
    opt('ProceduraZ', TOznaczenieProceduryZ),
    opt('KwotaAkcyzyZ', TKwotowy),
    opt('StanPrzedZ', etdTWybor1),
  ),
);

const bucket = (n: number, withW = true) =>
  optSeq(
    el(`P_13_${n}`, TKwotowy),
    n === 5 ? opt('P_14_5', TKwotowy) : el(`P_14_${n}`, TKwotowy),
    ...(withW ? [opt(`P_14_${n}W`, TKwotowy)] : []),
  );

const Fa = complex(
  seq(
    el('KodWaluty', TKodWaluty),
    el('P_1', TDataT),
    opt('P_1M', TZnakowy),
    el('P_2', TZnakowy, 1, 1, 'I2'),
    el('WZ', TZnakowy, 0, 1000),
    optChoice(el('P_6', TDataT), el('OkresFa', complex(seq(el('P_6_Od', TDataT), el('P_6_Do', TDataT))))),
    bucket(1),
    bucket(2),
    bucket(3),
    bucket(4),
    bucket(5, false),
    ...['P_13_6_1', 'P_13_6_2', 'P_13_6_3', 'P_13_7', 'P_13_8', 'P_13_9', 'P_13_10', 'P_13_11'].map((n) =>
      opt(n, TKwotowy),
    ),
    el('P_15', TKwotowy),
    opt('KursWalutyZ', TIlosci),
    el('Adnotacje', Adnotacje),
    el('RodzajFaktury', TRodzajFaktury),
    optSeq(
      opt('PrzyczynaKorekty', TZnakowy),
      opt('TypKorekty', TTypKorekty),
      el('DaneFaKorygowanej', DaneFaKorygowanej, 1, 50000),
      opt('OkresFaKorygowanej', TZnakowy),
      opt('NrFaKorygowany', TZnakowy),
      opt(
        'Podmiot1K',
        complex(
          seq(opt('PrefiksPodatnika', TKodyKrajowUE), el('DaneIdentyfikacyjne', TPodmiot1), el('Adres', TAdres)),
        ),
      ),
      el(
        'Podmiot2K',
        complex(seq(el('DaneIdentyfikacyjne', TPodmiot2), opt('Adres', TAdres), opt('IDNabywcy', TIDNabywcy))),
        0,
        101,
      ),
      optSeq(el('P_15ZK', TKwotowy), opt('KursWalutyZK', TIlosci)),
    ),
    el(
      'ZaliczkaCzesciowa',
      complex(seq(el('P_6Z', TDataT), el('P_15Z', TKwotowy), opt('KursWalutyZW', TIlosci))),
      0,
      31,
    ),
    opt('FP', etdTWybor1),
    opt('TP', etdTWybor1),
    el('DodatkowyOpis', TKluczWartosc, 0, 10000),
    el(
      'FakturaZaliczkowa',
      complex(
        choice(seq(el('NrKSeFZN', etdTWybor1), el('NrFaZaliczkowej', TZnakowy)), el('NrKSeFFaZaliczkowej', TNumerKSeF)),
      ),
      0,
      100,
    ),
    opt('ZwrotAkcyzy', etdTWybor1),
    el('FaWiersz', FaWiersz, 0, 10000),
    opt('Rozliczenie', Rozliczenie),
    opt('Platnosc', Platnosc),
    opt('WarunkiTransakcji', WarunkiTransakcji),
    opt('Zamowienie', complex(seq(el('WartoscZamowienia', TKwotowy), el('ZamowienieWiersz', ZamowienieWiersz, 1, 10000)))),
  ),
);

const Stopka = complex(
  optSeq(
    el('Informacje', complex(optSeq(opt('StopkaFaktury', etdTTekstowy))), 0, 3),
    el(
      'Rejestry',
      complex(optSeq(opt('PelnaNazwa', TZnakowy), opt('KRS', etdTNrKRS), opt('REGON', etdTNrREGON), opt('BDO', TBDO))),
      0,
      100,
    ),
  ),
);

const keyValue = (k: string, v: string) => complex(seq(el(k, TZnakowy), el(v, TZnakowy)));
const cells = (name: string) => complex(seq(el(name, TZnakowy2, 1, 20)));

const Tabela = complex(
  seq(
    el('TMetaDane', keyValue('TKlucz', 'TWartosc'), 0, 1000),
    opt('Opis', TZnakowy512),
    el(
      'TNaglowek',
      complex(
        seq(
          el(
            'Kol',
            complex(seq(el('NKom', { kind: 'complex', simpleContent: TZnakowy2, attributes: [] })), [
              {
                name: 'Typ',
                type: stringType('Typ', { enumeration: ['date', 'datetime', 'dec', 'int', 'time', 'txt'] }),
                required: true,
              },
            ]),
            1,
            20,
          ),
        ),
      ),
    ),
    el('Wiersz', cells('WKom'), 1, 1000),
    opt('Suma', cells('SKom')),
  ),
);

const Zalacznik = complex(
  seq(
    el(
      'BlokDanych',
      complex(
        seq(
          opt('ZNaglowek', TZnakowy512),
          el('MetaDane', keyValue('ZKlucz', 'ZWartosc'), 1, 1000),
          opt('Tekst', complex(seq(el('Akapit', TZnakowy512, 1, 10)))),
          optSeq(el('Tabela', Tabela, 0, 1000)),
        ),
      ),
      1,
      1000,
    ),
  ),
);

/** The root element declaration `Faktura`. */
export const FAKTURA: ElementDecl = el(
  'Faktura',
  complex(
    seq(
      el('Naglowek', Naglowek),
      el('Podmiot1', Podmiot1),
      el('Podmiot2', Podmiot2),
      el('Podmiot3', Podmiot3, 0, 100),
      opt('PodmiotUpowazniony', PodmiotUpowazniony),
      el('Fa', Fa),
      opt('Stopka', Stopka),
      opt('Zalacznik', Zalacznik),
    ),
  ),
);
