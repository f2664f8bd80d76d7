/** `Podmiot1` (seller), `Podmiot2` (buyer), `Podmiot3` (third parties) in the schema's order. */
import { collapse } from '../text.js';
import type { DraftAddress, DraftBuyer, DraftSeller, DraftThirdParty } from '../types.js';
import { type XmlElement, element, group, leaf } from '../xml-writer.js';

export const text = (value: string | undefined): string | undefined => (value === undefined ? undefined : collapse(value));

export const address = (name: string, a: DraftAddress | undefined): XmlElement | undefined =>
  a && element(name, leaf('KodKraju', a.countryCode ?? 'PL'), leaf('AdresL1', text(a.line1)), leaf('AdresL2', text(a.line2)));

const contact = (p: { email?: string; phone?: string }) => group('DaneKontaktowe', leaf('Email', p.email), leaf('Telefon', p.phone));

/** `TWybor1_2`: 1 yes, 2 no. */
export const yesNo = (on: boolean | undefined): number => (on ? 1 : 2);

type Identified = Pick<DraftThirdParty, 'nip' | 'internalId' | 'euVatNumber' | 'foreignId' | 'name'>;

/** `DaneIdentyfikacyjne` of a buyer or third party: the one identification given, or `BrakID`. */
function identification(p: Identified): XmlElement {
  const id = p.nip
    ? leaf('NIP', p.nip)
    : p.internalId
      ? leaf('IDWew', p.internalId)
      : p.euVatNumber
        ? [leaf('KodUE', p.euVatNumber.countryCode), leaf('NrVatUE', p.euVatNumber.number)]
        : p.foreignId
          ? [leaf('KodKraju', p.foreignId.countryCode), leaf('NrID', text(p.foreignId.id))]
          : leaf('BrakID', 1);
  return element('DaneIdentyfikacyjne', id, leaf('Nazwa', text(p.name)));
}

export const seller = (s: DraftSeller): XmlElement =>
  element(
    'Podmiot1',
    s.vatPrefix && leaf('PrefiksPodatnika', 'PL'),
    leaf('NrEORI', text(s.eori)),
    element('DaneIdentyfikacyjne', leaf('NIP', s.nip), leaf('Nazwa', text(s.name))),
    address('Adres', s.address),
    contact(s),
  );

export const buyer = (b: DraftBuyer): XmlElement =>
  element(
    'Podmiot2',
    identification(b),
    address('Adres', b.address),
    contact(b),
    leaf('NrKlienta', text(b.customerNumber)),
    leaf('JST', yesNo(b.jst)),
    leaf('GV', yesNo(b.gv)),
  );

export const thirdParty = (p: DraftThirdParty): XmlElement =>
  element(
    'Podmiot3',
    identification(p),
    address('Adres', p.address),
    contact(p),
    p.role !== undefined ? leaf('Rola', p.role) : [leaf('RolaInna', 1), leaf('OpisRoli', text(p.otherRole))],
    leaf('Udzial', p.share),
    leaf('NrKlienta', text(p.customerNumber)),
  );
