import { jest } from '@jest/globals';
import { adminAuth } from '../support/server.js';
import { startKsefStack, type KsefStack } from '../support/ksef.js';
import { fa3, OTHER_NIP, OUR_NIP } from '../support/sync-fixtures.js';

/** Invoices we send link to each other (advance groups, corrections) without waiting for a sync. */

jest.setTimeout(120_000);

const DAY = new Date().toISOString().slice(0, 10);

/** Our validator wants an advance invoice to describe its order (FA3.md §6, K5): the order replaces the lines. */
const advance = (number: string, net: number, vat: number) =>
  fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'ZAL', number, issueDate: DAY, net, vat }).replace(
    / {4}<FaWiersz>[\s\S]*<\/FaWiersz>/,
    `    <Zamowienie>
      <WartoscZamowienia>${(2 * (net + vat)).toFixed(2)}</WartoscZamowienia>
      <ZamowienieWiersz><NrWierszaZam>1</NrWierszaZam><P_7Z>Zamówienie</P_7Z><P_11NettoZ>${(2 * net).toFixed(2)}</P_11NettoZ><P_11VatZ>${(2 * vat).toFixed(2)}</P_11VatZ><P_12Z>23</P_12Z></ZamowienieWiersz>
    </Zamowienie>`,
  );

describe('relations of the invoices we send', () => {
  let k: KsefStack;
  const http = () => k.api.http;
  const send = async (xml: string): Promise<string> => {
    const res = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: Buffer.from(xml).toString('base64'), mode: 'online' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('sent');
    return res.body.ksefNumber;
  };
  const links = (ksefNumber: string) => http().get(`/invoices/test/${ksefNumber}/links`).set('Authorization', adminAuth);
  const eventually = async <T>(what: string, probe: () => Promise<T | false>): Promise<T> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const value = await probe();
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };

  beforeAll(async () => {
    k = await startKsefStack();
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
  });

  it('a settlement and its advances, and a correction, link once sent - in any order, with no sync', async () => {
    const zal1 = await send(advance('ZAL/S/1', 1000, 230));
    // The settlement cites one advance by KSeF number and one issued outside KSeF (by number), sent after it.
    const roz = await send(
      fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'ROZ', number: 'ROZ/S/1', issueDate: DAY, net: 2000, vat: 460, advances: [{ ksefNumber: zal1 }, { number: 'ZAL/S/2' }] }),
    );
    const zal2 = await send(advance('ZAL/S/2', 500, 115));
    const original = await send(fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'VAT', number: 'FV/S/0', issueDate: DAY, net: 100, vat: 23 }));
    const correction = await send(
      fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: 'KOR/S/1', issueDate: DAY, net: -10, vat: -2.3, corrects: [{ number: 'FV/S/0', issueDate: DAY, ksefNumber: original }] }),
    );

    const group = await eventually('the advance group to resolve', async () => {
      const res = await links(roz);
      const g = res.body.advanceGroup;
      return g?.advances?.length === 2 && g.advances.every((a: { resolved: boolean }) => a.resolved) && g;
    });
    expect(group.advances.map((a: { ksefNumber: string; invoiceNumber: string }) => [a.ksefNumber, a.invoiceNumber])).toEqual([
      [zal1, 'ZAL/S/1'],
      [zal2, 'ZAL/S/2'],
    ]);
    // Advances 1,230 + 615; the remainder is what the settlement itself still charges.
    expect(group).toMatchObject({ advancesTotal: '1845.00', remainder: '2460.00' });
    expect((await links(zal2)).body.advanceGroup.settlement.ksefNumber).toBe(roz);

    const chain = await eventually('the correction to link', async () => {
      const res = await links(original);
      return res.body.correctedBy?.length === 1 && res.body;
    });
    expect(chain.correctedBy[0]).toMatchObject({ ksefNumber: correction, invoiceNumber: 'KOR/S/1', type: 'KOR' });
    expect((await links(correction)).body.corrects).toEqual([expect.objectContaining({ ksefNumber: original, resolved: true })]);

    // No sync ran: the links come from what we sent.
    const sync = await http().get('/invoices/test/sync').set('Authorization', adminAuth);
    expect(sync.body.subjects.map((s: { lastRunAt: unknown }) => s.lastRunAt)).toEqual([null, null, null, null]);
    expect(sync.body.runId).toBeNull();
  });
});
