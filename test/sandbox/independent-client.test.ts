import fs from 'node:fs';
import { validateXML } from 'xmllint-wasm';
import { describeWithShared, readSample, sampleNames, sharedPath } from '../support/shared.js';
import { checksumValid, sha256Base64 } from './support/independent-client.js';
import { BUYER_NIP, openModeToken, SELLER_NIP, startTestSandbox, TestSandbox } from './support/sandbox.js';

/**
 * The proof that an unmodified client works: a client written from PROTOCOL.md (no sandbox code) runs the
 * whole flow against the sandbox over real HTTP with real crypto.
 */

async function validUpo(xml: Buffer): Promise<{ valid: boolean; errors: string[] }> {
  const result = await validateXML({
    xml: [{ fileName: 'upo.xml', contents: xml }],
    schema: [{ fileName: 'upo-v4-3.xsd', contents: fs.readFileSync(sharedPath('ksef', 'xsd', 'upo-v4-3.xsd')) }],
  });
  return { valid: result.valid, errors: result.errors.map((e) => e.message) };
}

describeWithShared('sandbox: independent KSeF client, end to end', () => {
  let t: TestSandbox;

  beforeAll(async () => {
    t = await startTestSandbox();
  });
  afterAll(() => t.close());

  it('authenticates, sends the four samples, and gets numbers, UPOs, bytes and metadata back', async () => {
    const { client } = t;
    const tokens = await client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
    const session = await client.openOnlineSession(tokens.accessToken);
    expect(session.referenceNumber).toMatch(/^\d{8}-SO-[0-9A-F]{10}-[0-9A-F]{10}-[0-9A-F]{2}$/);
    expect(checksumValid(session.referenceNumber)).toBe(true);

    const sent = new Map<string, Buffer>();
    for (const name of sampleNames) {
      const xml = readSample(name);
      sent.set(await client.sendInvoice(tokens.accessToken, session.referenceNumber, session.keys, xml), xml);
    }

    const accepted = [];
    for (const [ref, xml] of sent) {
      const inv = await client.waitForInvoice(tokens.accessToken, session.referenceNumber, ref);
      expect(inv.status).toEqual({ code: 200, description: 'Sukces' });
      expect(inv.invoiceHash).toBe(sha256Base64(xml));
      expect(inv.ksefNumber).toMatch(new RegExp(`^${SELLER_NIP}-\\d{8}-[0-9A-F]{12}-[0-9A-F]{2}$`));
      expect(checksumValid(inv.ksefNumber!)).toBe(true);
      accepted.push({ inv, xml });
    }

    for (const { inv, xml } of accepted) {
      const upo = await client.download(inv.upoDownloadUrl!);
      expect(upo.status).toBe(200);
      expect(upo.hash).toBe(sha256Base64(upo.body));
      expect(await validUpo(upo.body)).toEqual({ valid: true, errors: [] });
      const text = upo.body.toString('utf8');
      expect(text).toContain(`<NumerKSeFDokumentu>${inv.ksefNumber}</NumerKSeFDokumentu>`);
      expect(text).toContain(`<SkrotDokumentu>${sha256Base64(xml)}</SkrotDokumentu>`);

      const downloaded = await client.invoice(tokens.accessToken, inv.ksefNumber!);
      expect(downloaded.body.equals(xml)).toBe(true);
      expect(downloaded.hash).toBe(sha256Base64(xml));
      expect(downloaded.contentType).toMatch(/^application\/xml/);
    }

    await client.closeOnlineSession(tokens.accessToken, session.referenceNumber);
    const closed = await client.waitForSession(tokens.accessToken, session.referenceNumber);
    expect(closed.status.code).toBe(200);
    expect(closed).toMatchObject({ invoiceCount: 4, successfulInvoiceCount: 4, failedInvoiceCount: 0 });
    const page = await client.download(closed.upo!.pages[0].downloadUrl);
    expect(await validUpo(page.body)).toEqual({ valid: true, errors: [] });
    for (const { inv } of accepted) expect(page.body.toString('utf8')).toContain(inv.ksefNumber);

    const from = new Date(Date.now() - 24 * 3600_000).toISOString();
    const asSeller = await client.queryMetadata(tokens.accessToken, {
      subjectType: 'Subject1',
      dateRange: { dateType: 'PermanentStorage', from },
    });
    expect(asSeller.invoices.map((i) => i.ksefNumber).sort()).toEqual(accepted.map((a) => a.inv.ksefNumber).sort());
    expect(asSeller).toMatchObject({ hasMore: false, isTruncated: false });

    // The buyer (Podmiot2) sees the same invoices from its own context.
    const buyer = await client.authenticate(openModeToken(BUYER_NIP), { type: 'Nip', value: BUYER_NIP });
    const asBuyer = await client.queryMetadata(buyer.accessToken, { subjectType: 'Subject2', dateRange: { dateType: 'Invoicing', from } });
    expect(asBuyer.invoices).toHaveLength(4);
    const bytes = await client.invoice(buyer.accessToken, accepted[0].inv.ksefNumber!);
    expect(bytes.body.equals(accepted[0].xml)).toBe(true);
  });
});
