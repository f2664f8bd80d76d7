import type supertest from 'supertest';
import { generateFa3 } from '../../src/sandbox/invoices/seed.js';
import { adminAuth } from './server.js';

/** FA(3) invoices for sync tests and the sync benchmark: any kind, with the references FA3.md §2 describes. */

export const OUR_NIP = '5265877635';
export const OTHER_NIP = '7352765225';

export interface Fa3Spec {
  seller: string;
  buyer: string;
  kind?: 'VAT' | 'ZAL' | 'ROZ' | 'KOR' | 'KOR_ZAL' | 'KOR_ROZ' | 'UPR';
  number: string;
  issueDate: string;
  net: number;
  vat: number;
  currency?: string;
  /** DaneFaKorygowanej: by KSeF number, or outside KSeF by number. */
  corrects?: { number: string; issueDate: string; ksefNumber?: string }[];
  /** FakturaZaliczkowa: by KSeF number, or outside KSeF by number. */
  advances?: ({ ksefNumber: string } | { number: string })[];
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function fa3(spec: Fa3Spec): string {
  let xml = generateFa3({
    sellerNip: spec.seller,
    sellerName: `Firma ${spec.seller}`,
    buyerNip: spec.buyer,
    buyerName: `Firma ${spec.buyer}`,
    kind: spec.kind ?? 'VAT',
    invoiceNumber: spec.number,
    issueDate: spec.issueDate,
    currency: spec.currency ?? 'PLN',
    netAmount: spec.net,
    vatAmount: spec.vat,
    createdAt: new Date(`${spec.issueDate}T08:00:00Z`),
  });
  if (spec.corrects) {
    const block = spec.corrects
      .map((c) =>
        [
          '    <DaneFaKorygowanej>',
          `      <DataWystFaKorygowanej>${c.issueDate}</DataWystFaKorygowanej>`,
          `      <NrFaKorygowanej>${esc(c.number)}</NrFaKorygowanej>`,
          c.ksefNumber ? `      <NrKSeF>1</NrKSeF>\n      <NrKSeFFaKorygowanej>${c.ksefNumber}</NrKSeFFaKorygowanej>` : '      <NrKSeFN>1</NrKSeFN>',
          '    </DaneFaKorygowanej>',
        ].join('\n'),
      )
      .join('\n');
    xml = xml.replace(/ {4}<DaneFaKorygowanej>[\s\S]*?<\/DaneFaKorygowanej>/, block);
  }
  if (spec.advances) {
    const block = spec.advances
      .map((a) =>
        'ksefNumber' in a
          ? `    <FakturaZaliczkowa><NrKSeFFaZaliczkowej>${a.ksefNumber}</NrKSeFFaZaliczkowej></FakturaZaliczkowa>`
          : `    <FakturaZaliczkowa><NrKSeFZN>1</NrKSeFZN><NrFaZaliczkowej>${esc(a.number)}</NrFaZaliczkowej></FakturaZaliczkowa>`,
      )
      .join('\n');
    xml = xml.replace('    <FaWiersz>', `${block}\n    <FaWiersz>`);
  }
  return xml;
}

export interface SeedInvoice {
  xml: string;
  permanentStorageDate?: string;
  acquisitionDate?: string;
  invoicingDate?: string;
}

export const at = (ms: number) => new Date(ms).toISOString();

/** POST /sync (202 at once), then GET until the run is over: the POST's status and the final state. */
export async function syncToEnd(http: ReturnType<typeof supertest>, environment = 'test'): Promise<{ status: number; body: any }> {
  const res = await http.post(`/invoices/${environment}/sync`).set('Authorization', adminAuth);
  if (res.status !== 202) return { status: res.status, body: res.body };
  for (;;) {
    const st = await http.get(`/invoices/${environment}/sync`).set('Authorization', adminAuth);
    if (!st.body.running) return { status: res.status, body: st.body };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
