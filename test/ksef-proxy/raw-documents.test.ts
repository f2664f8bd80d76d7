import { adminAuth } from '../support/server.js';
import { startKsefStack, type KsefStack } from '../support/ksef.js';
import { decodePngQr, pdfText } from '../support/pdf.js';
import { describeWithShared, readSample } from '../support/shared.js';

/** Document routes answer the bytes themselves when `Accept` asks for them (curl -o works), JSON otherwise. */
describeWithShared('raw documents by Accept', () => {
  let k: KsefStack;
  const xml = () => readSample('fa3-vat.xml');
  let ksefNumber = '';
  let referenceNumber = '';
  const binary = (res: { on: Function; setEncoding?: Function }, done: (err: Error | null, body: Buffer) => void) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => done(null, Buffer.concat(chunks)));
  };
  const get = (path: string, headers: Record<string, string> = {}) => {
    let req = k.api.http.get(path).set('Authorization', adminAuth).buffer(true).parse(binary);
    for (const [name, value] of Object.entries(headers)) req = req.set(name, value);
    return req;
  };

  beforeAll(async () => {
    k = await startKsefStack();
    const sent = await k.api.http.post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: xml().toString('base64'), mode: 'online' });
    expect(sent.status).toBe(200);
    ({ ksefNumber, referenceNumber } = sent.body);
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
  });

  it('PDF: the bytes with their type, a file name, a strong ETag, immutable caching, and 304 for If-None-Match', async () => {
    const res = await get(`/invoices/test/${ksefNumber}?docType=pdf`, { Accept: 'application/pdf' });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/pdf');
    expect(res.headers['content-disposition']).toBe(`attachment; filename=${ksefNumber}.pdf`);
    expect(res.headers['cache-control']).toBe('private, max-age=31536000, immutable');
    expect(res.headers.etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    const pdf = res.body as Buffer;
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(await pdfText(pdf)).toContain(ksefNumber);

    const again = await get(`/invoices/test/${ksefNumber}?docType=pdf`, { Accept: 'application/pdf', 'If-None-Match': res.headers.etag });
    expect(again.status).toBe(304);
    expect((again.body as Buffer).length).toBe(0);
    const changed = await get(`/invoices/test/${ksefNumber}?docType=pdf`, { Accept: 'application/pdf', 'If-None-Match': '"something-else"' });
    expect(changed.status).toBe(200);
  });

  it('Accept alone chooses the document: XML is the exact bytes, PNG is the KOD I code', async () => {
    const xmlRes = await get(`/invoices/test/${ksefNumber}`, { Accept: 'application/xml' });
    expect(xmlRes.status).toBe(200);
    expect(xmlRes.headers['content-type']).toMatch(/^application\/xml/);
    expect(Buffer.compare(xmlRes.body as Buffer, xml())).toBe(0);
    const png = await get(`/invoices/test/${ksefNumber}`, { Accept: 'image/png' });
    expect(png.headers['content-type']).toBe('image/png');
    expect(decodePngQr(png.body as Buffer)).toMatch(/^https:\/\/qr-test\.ksef\.mf\.gov\.pl\/invoice\/5265877635\//);
    const pdf = await get(`/invoices/test/${ksefNumber}`, { Accept: 'application/pdf' });
    expect((pdf.body as Buffer).subarray(0, 5).toString()).toBe('%PDF-');
  });

  it('JSON stays the default; an Accept the chosen docType cannot meet is a 406', async () => {
    const json = await k.api.http.get(`/invoices/test/${ksefNumber}?docType=xml`).set('Authorization', adminAuth);
    expect(json.status).toBe(200);
    expect(Buffer.from(json.body.content, 'base64').equals(xml())).toBe(true);
    const any = await k.api.http.get(`/invoices/test/${ksefNumber}`).set('Authorization', adminAuth).set('Accept', '*/*');
    expect(any.body).toMatchObject({ docType: 'xml', contentType: 'application/xml' });
    const refused = await k.api.http.get(`/invoices/test/${ksefNumber}?docType=xml`).set('Authorization', adminAuth).set('Accept', 'application/pdf');
    expect(refused.status).toBe(406);
    expect(refused.body.error).toMatchObject({ code: 'not_acceptable', message: expect.stringContaining('application/xml') });
  });

  it('the UPO as raw XML and PDF', async () => {
    const path = `/invoices/test/status/${referenceNumber}/${ksefNumber}/upo`;
    let upo = await get(path, { Accept: 'application/xml' });
    for (let i = 0; upo.status !== 200 && i < 50; i++) {
      await new Promise((r) => setTimeout(r, 200)); // the UPO exists once the session is closed
      upo = await get(path, { Accept: 'application/xml' });
    }
    expect(upo.status).toBe(200);
    expect((upo.body as Buffer).toString()).toContain('Potwierdzenie');
    expect(upo.headers['content-disposition']).toBe(`attachment; filename=UPO-${ksefNumber}.xml`);
    const pdf = await get(path, { Accept: 'application/pdf' });
    expect(pdf.headers['content-type']).toBe('application/pdf');
  });
});
