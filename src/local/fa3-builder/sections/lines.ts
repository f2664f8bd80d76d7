/** `FaWiersz` (invoice lines) and `Zamowienie` (the order of an advance invoice). */
import type { ComputedLine, ComputedOrderLine } from '../compute.js';
import { type Dec, amountText, dec, decimalText } from '../money.js';
import { percentOf } from '../rates.js';
import type { Pricing } from '../totals.js';
import { type XmlElement, element, flag, leaf } from '../xml-writer.js';
import { text } from './parties.js';

const price = (value: string | undefined) => (value === undefined ? undefined : decimalText(dec(value), 2));

/** Lines numbered 1..n in the draft's order; `exchangeRate` goes on each (`KursWaluty`) for a foreign currency. */
export function invoiceLines(lines: ComputedLine[], pricing: Pricing, exchangeRate: Dec | undefined): XmlElement[] {
  return lines.map(({ draft: l, quantity, value }, i) =>
    element(
      'FaWiersz',
      leaf('NrWierszaFa', i + 1),
      leaf('UU_ID', text(l.uuid)),
      leaf('P_6A', l.saleDate),
      leaf('P_7', text(l.name)),
      leaf('Indeks', text(l.index)),
      leaf('GTIN', text(l.gtin)),
      leaf('PKWiU', text(l.pkwiu)),
      leaf('CN', text(l.cn)),
      leaf('PKOB', text(l.pkob)),
      leaf('P_8A', text(l.unit)),
      leaf('P_8B', decimalText(quantity)),
      leaf('P_9A', price(l.unitNetPrice)),
      leaf('P_9B', price(l.unitGrossPrice)),
      leaf('P_10', price(l.discount)),
      leaf(pricing === 'net' ? 'P_11' : 'P_11A', amountText(value)),
      leaf('P_12', l.rate),
      flag('P_12_Zal_15', l.annex15),
      leaf('KwotaAkcyzy', l.exciseAmount === undefined ? undefined : amountText(dec(l.exciseAmount))),
      leaf('GTU', l.gtu),
      leaf('Procedura', l.procedure),
      leaf('KursWaluty', exchangeRate && decimalText(exchangeRate)),
      flag('StanPrzed', l.before),
    ),
  );
}

export const order = (lines: ComputedOrderLine[], value: Dec): XmlElement =>
  element(
    'Zamowienie',
    leaf('WartoscZamowienia', amountText(value)),
    lines.map(({ draft: l, quantity, net, vat }, i) =>
      element(
        'ZamowienieWiersz',
        leaf('NrWierszaZam', i + 1),
        leaf('P_7Z', text(l.name)),
        leaf('IndeksZ', text(l.index)),
        leaf('GTINZ', text(l.gtin)),
        leaf('PKWiUZ', text(l.pkwiu)),
        leaf('CNZ', text(l.cn)),
        leaf('P_8AZ', text(l.unit)),
        leaf('P_8BZ', decimalText(quantity)),
        leaf('P_9AZ', price(l.unitNetPrice)),
        leaf('P_11NettoZ', amountText(net)),
        leaf('P_11VatZ', percentOf(l.rate) ? amountText(vat) : undefined),
        leaf('P_12Z', l.rate),
        flag('P_12Z_Zal_15', l.annex15),
        leaf('GTUZ', l.gtu),
        leaf('ProceduraZ', l.procedure),
        flag('StanPrzedZ', l.before),
      ),
    ),
  );
