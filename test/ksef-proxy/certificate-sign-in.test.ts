import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { adminAuth, basic, COMPANY_NIP } from '../support/server.js';
import { openModeToken, startKsefStack, withNumber, type KsefStack } from '../support/ksef.js';
import { describeWithShared, readSample } from '../support/shared.js';
import { fa3, OTHER_NIP, syncToEnd } from '../support/sync-fixtures.js';
import { waitFor } from '../support/wait.js';
import { selfSignedCertificate, type TestCertificate } from '../support/xades.js';
import { IndependentKsefClient, type Tokens } from '../sandbox/support/independent-client.js';
import { signIn } from '../sandbox/support/sandbox.js';

/**
 * ksef-proxy signing in with a certificate (XAdES) instead of a KSeF token, and acting in a context it was
 * granted, through our API against the sandbox: real signatures, real permission checks.
 */

jest.setTimeout(180_000);

const CLIENT_NIP = OTHER_NIP;
const SEND = ['InvoiceWrite', 'PefInvoiceWrite', 'EnforcementOperations'];
const pem = (c: TestCertificate) => ({ certificatePem: c.certificatePem, privateKeyPem: c.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() });
let numbers = 0;
const invoice = () => withNumber(readSample('fa3-vat.xml'), `CERT/${process.pid}/${Date.now()}/${++numbers}`);

/** The pair as a PKCS#12 file made by openssl (`-legacy`: RC2/3DES, as older tools export; else PBES2/AES-256). */
function pkcs12(c: TestCertificate, password: string, legacy = false): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'p12-'));
  try {
    const { certificatePem, privateKeyPem } = pem(c);
    fs.writeFileSync(path.join(dir, 'cert.pem'), certificatePem);
    fs.writeFileSync(path.join(dir, 'key.pem'), privateKeyPem);
    const out = path.join(dir, 'bundle.p12');
    const args = ['pkcs12', '-export', '-in', path.join(dir, 'cert.pem'), '-inkey', path.join(dir, 'key.pem'), '-out', out, '-passout', `pass:${password}`];
    execFileSync('openssl', legacy ? [...args, '-legacy'] : args, { stdio: 'pipe' });
    return fs.readFileSync(out).toString('base64');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describeWithShared('ksef-proxy: certificate sign-in (XAdES) and working in a granted context', () => {
  let k: KsefStack;
  let client: IndependentKsefClient;
  let ourSeal: TestCertificate;
  const http = () => k.api.http;
  const db = () => k.api.server.services.database.db;
  const put = (body: Record<string, unknown>) => http().put('/ksef/test/credentials').set('Authorization', adminAuth).send(body);
  const credentials = () => http().get('/ksef/test/credentials').set('Authorization', adminAuth);
  const connection = () => http().get('/ksef/test/connection').set('Authorization', adminAuth);
  const permissions = () => http().get('/ksef/test/permissions').set('Authorization', adminAuth);
  const send = (xml: Buffer) => http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: xml.toString('base64') });
  /** The subjects of the sandbox's XAdES sign-ins, oldest first. */
  const signatureSignIns = () =>
    [...k.sandbox.state.authOperations.values()].flatMap((op) => (op.authentication.kind === 'signature' ? [{ ...op.authentication.subject, context: op.context.value, method: op.authentication.method }] : []));
  beforeAll(async () => {
    k = await startKsefStack({ storeToken: false });
    client = new IndependentKsefClient(k.sandbox.apiUrl);
    ourSeal = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } });
  });
  afterAll(() => k?.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  it('signs in with a sandbox-issued Authentication certificate (PEM) and sends; the key is sealed, never shown or logged', async () => {
    const issued = (await k.sandboxAdmin('POST', '/sandbox/certificates', { nip: COMPANY_NIP, keyType: 'RSA', certificateType: 'Authentication' })) as {
      certificatePem: string;
      privateKeyPem: string;
      serialNumber: string;
    };
    const stored = await put({ authenticationCertificate: { certificatePem: issued.certificatePem, privateKeyPem: issued.privateKeyPem } });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({
      ksefTokenConfigured: false,
      authenticationMethod: 'certificate',
      preferredAuthentication: null,
      authenticationCertificate: { serialNumber: issued.serialNumber, identifier: { type: 'Nip', value: COMPANY_NIP }, subjectIdentifierType: 'certificateSubject' },
    });
    expect(stored.body.authenticationCertificate.fingerprint).toMatch(/^[0-9A-F]{64}$/);
    const keyLine = issued.privateKeyPem.split('\n')[1];
    expect(JSON.stringify(stored.body)).not.toContain(keyLine);
    expect(JSON.stringify((await credentials()).body)).not.toContain(keyLine);

    const sent = await send(invoice());
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ status: 'sent' });
    expect(sent.body.ksefNumber.startsWith(`${COMPANY_NIP}-`)).toBe(true);
    expect(signatureSignIns()).toEqual([{ type: 'Nip', value: COMPANY_NIP, context: COMPANY_NIP, method: 'InternalCertificate' }]);

    const row = await db().selectFrom('ksef_credentials').selectAll().executeTakeFirstOrThrow();
    expect(row.auth_private_key_enc!.toString('latin1')).not.toContain('PRIVATE KEY');
    expect(row.auth_private_key_enc!.toString('latin1')).not.toContain(keyLine.slice(0, 20));
    expect(k.log.text).not.toContain(keyLine.slice(0, 20));
  });

  it('takes a self-signed seal as PKCS#12 (AES and legacy), refusing a wrong password by name and storing nothing', async () => {
    const before = (await credentials()).body;
    const wrong = await put({ authenticationCertificate: { pkcs12Base64: pkcs12(ourSeal, 'tajne-haslo'), password: 'inne' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.details).toEqual([{ path: 'body.authenticationCertificate.password', message: expect.stringContaining('does not open the PKCS#12') }]);
    expect((await credentials()).body).toEqual(before);
    const mixed = await put({ authenticationCertificate: { pkcs12Base64: 'AAAA', password: 'x', certificatePem: 'x' } });
    expect(mixed.status).toBe(400);
    const half = await put({ authenticationCertificate: { pkcs12Base64: pkcs12(ourSeal, 'x') } });
    expect(half.status).toBe(400);
    expect(half.body.error.details).toEqual([{ path: 'body.authenticationCertificate.password', message: 'required' }]);

    for (const legacy of [false, true]) {
      const stored = await put({ authenticationCertificate: { pkcs12Base64: pkcs12(ourSeal, 'tajne-haslo', legacy), password: 'tajne-haslo' } });
      expect(stored.status).toBe(200);
      expect(stored.body.authenticationCertificate).toMatchObject({ fingerprint: ourSeal.fingerprint, identifier: { type: 'Nip', value: COMPANY_NIP } });
      const signIns = signatureSignIns().length;
      const check = await connection();
      expect(check.body).toMatchObject({ available: true, authenticated: true, authenticationMethod: 'certificate' });
      expect(signatureSignIns()).toHaveLength(signIns + 1);
      expect(signatureSignIns().at(-1)).toEqual({ type: 'Nip', value: COMPANY_NIP, context: COMPANY_NIP, method: 'QualifiedSeal' });
    }
  });

  it('signs in with an EC key, as the context’s Owner: the permissions route says what it may do', async () => {
    const ec = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } }, { keyType: 'EC' });
    expect((await put({ authenticationCertificate: pem(ec) })).status).toBe(200);
    const res = await permissions();
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      environment: 'test',
      contextNip: COMPANY_NIP,
      authenticationMethod: 'certificate',
      subject: { type: 'Nip', value: COMPANY_NIP },
      owner: true,
      permissions: ['CredentialsManage', 'CredentialsRead', 'Introspection', 'InvoiceRead', 'InvoiceWrite', 'SubunitManage'],
      canSendInvoices: true,
      canReadInvoices: true,
      grants: [],
      ksefToken: null,
    });
    expect(signatureSignIns().at(-1)).toMatchObject({ value: COMPANY_NIP });
    // During an outage simulation KSeF is not called: 503, as for every online call.
    expect((await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: true })).status).toBe(200);
    const simulated = await permissions();
    expect(simulated.status).toBe(503);
    expect(simulated.body.error.code).toBe('ksef_unavailable');
    expect((await http().put('/ksef/test/simulation').set('Authorization', adminAuth).send({ active: false })).status).toBe(200);
    // Any API user may read it (nothing secret); only admins change credentials.
    expect((await http().get('/ksef/test/permissions').set('Authorization', basic('nobody@example.com', 'x'))).status).toBe(401);
  });

  it('refuses an expired certificate when it is stored (400), and one that expires afterwards ends in KSeF’s 460, said plainly', async () => {
    const expired = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } }, { notBefore: new Date(Date.now() - 86_400_000), notAfter: new Date(Date.now() - 60_000) });
    const refused = await put({ authenticationCertificate: pem(expired) });
    expect(refused.status).toBe(400);
    expect(refused.body.error.details[0]).toMatchObject({ path: 'body.authenticationCertificate.certificatePem', message: expect.stringContaining('expired') });

    const shortLived = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } }, { notAfter: new Date(Date.now() + 3_000) });
    expect((await put({ authenticationCertificate: pem(shortLived) })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 3_500));
    const res = await permissions();
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ksef_authentication_failed');
    expect(res.body.error.message).toContain('KSeF refused the authentication certificate: 460');
    expect(res.body.error.message).toContain('PUT /ksef/test/credentials');
    expect(res.body.error.ksef).toMatchObject({ code: 460, details: ['Nieważny certyfikat.'] });
  });

  it('refuses a key that is not the certificate’s, a weak key, and certificateSubject for a certificate naming no one', async () => {
    const other = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } });
    const mismatched = await put({ authenticationCertificate: { certificatePem: ourSeal.certificatePem, privateKeyPem: pem(other).privateKeyPem } });
    expect(mismatched.body.error.details[0]).toMatchObject({ path: 'body.authenticationCertificate.privateKeyPem', message: expect.stringContaining('does not belong') });
    const weak = await selfSignedCertificate({ seal: { nip: COMPANY_NIP } }, { rsaBits: 1024 });
    expect((await put({ authenticationCertificate: pem(weak) })).body.error.details[0].path).toBe('body.authenticationCertificate.privateKeyPem');
    const anonymous = await selfSignedCertificate({ anonymous: { commonName: 'Serwer ERP' } });
    const unnamed = await put({ authenticationCertificate: pem(anonymous) });
    expect(unnamed.status).toBe(400);
    expect(unnamed.body.error.details[0]).toMatchObject({ path: 'body.authenticationCertificate.subjectIdentifierType', message: expect.stringContaining('certificateFingerprint') });
    const byFingerprint = await put({ authenticationCertificate: { ...pem(anonymous), subjectIdentifierType: 'certificateFingerprint' } });
    expect(byFingerprint.status).toBe(200);
    expect(byFingerprint.body.authenticationCertificate).toMatchObject({ identifier: null, subjectIdentifierType: 'certificateFingerprint', fingerprint: anonymous.fingerprint });
  });

  it('refuses a certificate of another NIP in our context: 415 becomes a 422 naming the context and what to grant', async () => {
    const foreign = await selfSignedCertificate({ seal: { nip: CLIENT_NIP } });
    expect((await put({ authenticationCertificate: pem(foreign) })).status).toBe(200);
    const res = await permissions();
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('ksef_authentication_failed');
    expect(res.body.error.message).toContain(`the stored authentication certificate (NIP ${CLIENT_NIP})`);
    expect(res.body.error.message).toContain(`holds no permission in the context of NIP ${COMPANY_NIP}`);
    expect(res.body.error.message).toContain('InvoiceWrite to send');
    expect(res.body.error.ksef).toMatchObject({ code: 415 });
    const check = await connection();
    expect(check.body).toMatchObject({ available: true, authenticated: false });
    expect(check.body.message).toContain('holds no permission');
    expect(signatureSignIns().at(-1)).toMatchObject({ value: CLIENT_NIP, context: COMPANY_NIP });
  });

  it('a KSeF token made without InvoiceWrite cannot send: 403 naming InvoiceWrite; the invoice waits queued and goes once a token with it is stored', async () => {
    const owner: Tokens = await signIn(client, ourSeal, { type: 'Nip', value: COMPANY_NIP });
    const { token } = await client.call<{ token: string }>('POST', 'tokens', { bearer: owner.accessToken, json: { permissions: ['InvoiceRead'], description: 'Tylko odczyt' }, expected: 202 });
    // Both stored; the token is preferred. Then the certificate goes, and the token alone signs in.
    const both = await put({ ksefToken: token, preferredAuthentication: 'ksefToken' });
    expect(both.body).toMatchObject({ ksefTokenConfigured: true, preferredAuthentication: 'ksefToken', authenticationMethod: 'ksefToken' });
    const tokenOnly = await put({ authenticationCertificate: null, preferredAuthentication: null });
    expect(tokenOnly.body).toMatchObject({ authenticationCertificate: null, authenticationMethod: 'ksefToken' });
    expect((await put({ preferredAuthentication: 'certificate' })).body.error.details[0].path).toBe('body.preferredAuthentication');

    const view = await permissions();
    expect(view.body).toMatchObject({
      authenticationMethod: 'ksefToken',
      subject: { type: 'Nip', value: COMPANY_NIP },
      permissions: ['InvoiceRead'],
      canSendInvoices: false,
      canReadInvoices: true,
      ksefToken: { referenceNumber: token.split('|')[0], status: 'Active' },
    });

    const xml = invoice();
    const res = await send(xml);
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('ksef_permission_missing');
    expect(res.body.error.message).toContain(`the stored KSeF token lacks the permission InvoiceWrite or PefInvoiceWrite or EnforcementOperations in the context of NIP ${COMPANY_NIP}`);
    expect(res.body.error.message).toContain('held: InvoiceRead');
    expect(res.body.error.ksefPermissions).toEqual({ requiredAnyOf: SEND, present: ['InvoiceRead'], contextNip: COMPANY_NIP });
    const number = /<P_2>([^<]*)<\/P_2>/.exec(xml.toString())![1];
    const [row] = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', number).execute();
    expect(row.status).toBe('queued');

    // With a token that may send, the queued invoice is sent by the worker, once.
    const writer = openModeToken(COMPANY_NIP);
    expect((await put({ ksefToken: writer })).status).toBe(200);
    // The sandbox's open mode takes it as a token of the context with every permission but EnforcementOperations.
    expect((await permissions()).body).toMatchObject({
      authenticationMethod: 'ksefToken',
      permissions: ['CredentialsManage', 'CredentialsRead', 'Introspection', 'InvoiceRead', 'InvoiceWrite', 'SubunitManage'],
      canSendInvoices: true,
      ksefToken: { referenceNumber: writer.split('|')[0], status: 'Active' },
    });
    const sent = await waitFor('the queued invoice sent', async () => {
      const r = await db().selectFrom('synced_invoices').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
      return r.status === 'sent' && r;
    }, 30_000);
    expect([...k.sandbox.state.invoicesByKsefNumber.values()].filter((i) => i.invoiceNumber === number)).toHaveLength(1);
    expect(sent.ksef_number).toMatch(new RegExp(`^${COMPANY_NIP}-`));
  });

  it('an accounting office: granted InvoiceRead by a client NIP, it signs in to the client’s context with its seal and syncs the client’s invoices', async () => {
    expect((await put({ contextNip: CLIENT_NIP, ksefToken: null, authenticationCertificate: pem(ourSeal) })).status).toBe(200);
    const before = await permissions();
    expect(before.status).toBe(422);
    expect(before.body.error.message).toContain(`holds no permission in the context of NIP ${CLIENT_NIP}`);

    const clientSeal = await selfSignedCertificate({ seal: { nip: CLIENT_NIP } }, { keyType: 'EC' });
    const clientOwner = await signIn(client, clientSeal, { type: 'Nip', value: CLIENT_NIP });
    const { referenceNumber } = await client.call<{ referenceNumber: string }>('POST', 'permissions/entities/grants', {
      bearer: clientOwner.accessToken,
      json: { subjectIdentifier: { type: 'Nip', value: COMPANY_NIP }, permissions: [{ type: 'InvoiceRead' }], description: 'Biuro rachunkowe', subjectDetails: { fullName: 'Biuro Rachunkowe sp. z o.o.' } },
      expected: 202,
    });
    await waitFor('the grant in force', async () => {
      const op = await client.call<{ status: { code: number } }>('GET', `permissions/operations/${referenceNumber}`, { bearer: clientOwner.accessToken, expected: 200 });
      return op.status.code === 200;
    }, 20_000);

    const view = await permissions();
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({
      contextNip: CLIENT_NIP,
      authenticationMethod: 'certificate',
      subject: { type: 'Nip', value: COMPANY_NIP },
      owner: false,
      permissions: ['InvoiceRead'],
      canSendInvoices: false,
      canReadInvoices: true,
      grants: [{ permission: 'InvoiceRead', description: 'Biuro rachunkowe', canDelegate: false, grantedBy: { type: 'Nip', value: CLIENT_NIP }, target: null }],
    });

    const day = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const seeded = (await k.sandboxAdmin('POST', '/sandbox/invoices', {
      invoices: [0, 1, 2].map((i) => ({ xml: fa3({ seller: CLIENT_NIP, buyer: '1234563218', number: `KLIENT/${i}`, issueDate: day, net: 100 + i, vat: 23 }) })) as any,
    })) as { invoices: { ksefNumber: string }[] };
    const run = await syncToEnd(http());
    expect(run.body).toMatchObject({ lastError: null });
    const rows = await db().selectFrom('synced_invoices').select(['ksef_number', 'seller_nip', 'invoice_number']).where('invoice_number', 'like', 'KLIENT/%').orderBy('invoice_number').execute();
    expect(rows.map((r) => [r.invoice_number, r.seller_nip, r.ksef_number])).toEqual(seeded.invoices.map((s, i) => [`KLIENT/${i}`, CLIENT_NIP, s.ksefNumber]));
    expect(signatureSignIns().at(-1)).toMatchObject({ value: COMPANY_NIP, context: CLIENT_NIP });

    // Sending in the client's context needs InvoiceWrite, which the office was not given.
    const clientInvoice = Buffer.from(fa3({ seller: CLIENT_NIP, buyer: '1234563218', number: `KLIENT/S/${Date.now()}`, issueDate: new Date().toISOString().slice(0, 10), net: 10, vat: 2.3 }));
    const refused = await send(clientInvoice);
    expect(refused.status).toBe(403);
    expect(refused.body.error.message).toContain(`the stored authentication certificate (NIP ${COMPANY_NIP}) lacks the permission InvoiceWrite`);
    expect(refused.body.error.message).toContain(`The owner of NIP ${CLIENT_NIP} must grant InvoiceWrite`);
    expect(refused.body.error.ksefPermissions).toEqual({ requiredAnyOf: SEND, present: ['InvoiceRead'], contextNip: CLIENT_NIP });
  });
});
