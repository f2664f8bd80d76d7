/** `Adnotacje`: mandatory, with every flag written (FA3.md §1.5); a plain domestic invoice has all "no". */
import type { Computed } from '../compute.js';
import type { InvoiceDraft } from '../types.js';
import { type XmlElement, element, leaf } from '../xml-writer.js';
import { text, yesNo } from './parties.js';

const EXEMPTION_BASIS = { polishLaw: 'P_19A', directive: 'P_19B', other: 'P_19C' } as const;

export function annotations(d: InvoiceDraft, c: Computed): XmlElement {
  const exemption = d.exemption;
  return element(
    'Adnotacje',
    leaf('P_16', yesNo(d.cashAccounting)),
    leaf('P_17', yesNo(d.selfBilling)),
    leaf('P_18', yesNo(c.reverseCharge)),
    leaf('P_18A', yesNo(c.splitPayment)),
    element('Zwolnienie', exemption ? [leaf('P_19', 1), leaf(EXEMPTION_BASIS[exemption.basis], text(exemption.text))] : leaf('P_19N', 1)),
    // New means of transport (P_22) are not offered by the builder.
    element('NoweSrodkiTransportu', leaf('P_22N', 1)),
    leaf('P_23', yesNo(d.simplifiedTriangular)),
    // Nor is the margin scheme (P_PMarzy).
    element('PMarzy', leaf('P_PMarzyN', 1)),
  );
}
