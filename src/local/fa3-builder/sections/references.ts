/** What corrections and settlements refer to: `DaneFaKorygowanej` and its block, `FakturaZaliczkowa`. */
import { type Dec, amountText } from '../money.js';
import type { DraftCorrection, DraftSettledAdvance } from '../types.js';
import { type XmlElement, element, leaf } from '../xml-writer.js';
import { text } from './parties.js';

const EFFECT = { originalDate: 1, correctionDate: 2, otherDate: 3 } as const;

/** The correction block of `Fa`, in the schema's order; `NrKSeF` is a flag, the number goes beside it. */
export const correctionBlock = (c: DraftCorrection, totalDueBefore: Dec | undefined): (XmlElement | undefined)[] => [
  leaf('PrzyczynaKorekty', text(c.reason)),
  leaf('TypKorekty', c.effect && EFFECT[c.effect]),
  ...c.invoices.map((inv) =>
    element(
      'DaneFaKorygowanej',
      leaf('DataWystFaKorygowanej', inv.issueDate),
      leaf('NrFaKorygowanej', text(inv.number)),
      inv.ksefNumber ? [leaf('NrKSeF', 1), leaf('NrKSeFFaKorygowanej', inv.ksefNumber)] : leaf('NrKSeFN', 1),
    ),
  ),
  leaf('NrFaKorygowany', text(c.correctNumber)),
  leaf('P_15ZK', totalDueBefore && amountText(totalDueBefore)),
];

/** A settled advance: by KSeF number, or `NrKSeFZN` + its number when issued outside KSeF (never both). */
export const settledAdvance = (a: DraftSettledAdvance): XmlElement =>
  element(
    'FakturaZaliczkowa',
    a.ksefNumber ? leaf('NrKSeFFaZaliczkowej', a.ksefNumber) : [leaf('NrKSeFZN', 1), leaf('NrFaZaliczkowej', text(a.number))],
  );
