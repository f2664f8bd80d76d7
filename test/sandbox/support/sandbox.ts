import { randomBytes } from 'node:crypto';
import got, { OptionsOfBufferResponseBody, Response } from 'got';
import { RunningSandbox, SandboxOptions, startSandbox } from '../../../src/sandbox/index.js';
import { readSample, sampleNames } from '../../support/shared.js';
import { signedAuthTokenRequest, signerOf, TestCertificate } from '../../support/xades.js';
import { contract } from './contract.js';
import { ContextIdentifier, IndependentKsefClient, SessionKeys, Tokens } from './independent-client.js';

/** Starting sandboxes for tests, with every KSeF exchange checked against the official contract. */

export const SELLER_NIP = '5265877635';
export const BUYER_NIP = '1234563218';
export const OTHER_NIP = '7352765225';

/** A KSeF token in the official shape (§2.2), accepted in open mode for the NIP it names. */
export function openModeToken(nip: string): string {
  const hex = randomBytes(10).toString('hex').toUpperCase();
  return `20260101-EC-${hex.slice(0, 10)}-${hex.slice(10)}-00|nip-${nip}|${randomBytes(32).toString('hex')}`;
}

export class FakeClock {
  constructor(private current: Date) {}
  now = () => new Date(this.current.getTime());
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
  set(d: Date): void {
    this.current = d;
  }
}

type RawOptions = Omit<OptionsOfBufferResponseBody, 'method' | 'responseType' | 'url' | 'prefixUrl'>;
type RawCall = (url: string, options?: RawOptions) => Promise<Response<Buffer>>;
export interface RawClient {
  get: RawCall;
  post: RawCall;
  put: RawCall;
  delete: RawCall;
}

type AdminCall = (url: string, options?: { json?: Record<string, unknown> }) => Promise<Response<any>>;
export interface AdminClient {
  get: AdminCall;
  post: AdminCall;
  put: AdminCall;
  delete: AdminCall;
}

export interface TestSandbox {
  sandbox: RunningSandbox;
  client: IndependentKsefClient;
  /** Plain requests (responses still contract-checked, request bodies not: they may be malformed on purpose). */
  raw: RawClient;
  /** The /sandbox admin API (only with faultsEnabled); bodies parsed as JSON. */
  admin: AdminClient;
  close(): Promise<void>;
}

export async function startTestSandbox(options: SandboxOptions = {}): Promise<TestSandbox> {
  const sandbox = await startSandbox({ port: 0, ...options });
  const hooks = contract().hooks();
  const client = new IndependentKsefClient(sandbox.apiUrl, hooks);
  const http = got.extend({
    prefixUrl: sandbox.apiUrl,
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: { request: 30_000 },
    hooks,
    context: { contract: 'responses-only' },
  });
  const call = (method: 'GET' | 'POST' | 'PUT' | 'DELETE') => (url: string, options: RawOptions = {}) =>
    http(url, { ...options, method, responseType: 'buffer' });
  const raw: RawClient = { get: call('GET'), post: call('POST'), put: call('PUT'), delete: call('DELETE') };
  const adminHttp = got.extend({ prefixUrl: `${sandbox.url}/sandbox`, throwHttpErrors: false, retry: { limit: 0 }, timeout: { request: 60_000 } });
  const adminCall = (method: 'GET' | 'POST' | 'PUT' | 'DELETE') => (url: string, options: { json?: Record<string, unknown> } = {}) =>
    adminHttp(url, { ...options, method, responseType: 'json' }) as Promise<Response<any>>;
  const admin: AdminClient = { get: adminCall('GET'), post: adminCall('POST'), put: adminCall('PUT'), delete: adminCall('DELETE') };
  return { sandbox, client, raw, admin, close: () => sandbox.close() };
}

export interface OpenSession {
  tokens: Tokens;
  referenceNumber: string;
  keys: SessionKeys;
}

/** A XAdES sign-in with the certificate (the §2.6 flow through to the access token). */
export function signIn(
  client: IndependentKsefClient,
  certificate: TestCertificate | { certificate: Buffer | string; privateKey: import('node:crypto').KeyObject | string },
  context: ContextIdentifier,
  subjectIdentifierType: 'certificateSubject' | 'certificateFingerprint' = 'certificateSubject',
): Promise<Tokens> {
  const signer = 'fingerprint' in certificate ? signerOf(certificate) : certificate;
  return client.authenticateWithSignature((challenge) => signedAuthTokenRequest({ challenge, context, subjectIdentifierType }, signer));
}

export async function authenticatedSession(client: IndependentKsefClient, nip = SELLER_NIP): Promise<OpenSession> {
  const tokens = await client.authenticate(openModeToken(nip), { type: 'Nip', value: nip });
  const session = await client.openOnlineSession(tokens.accessToken);
  return { tokens, referenceNumber: session.referenceNumber, keys: session.keys };
}

/** A sample invoice with some fields replaced (the samples' P_2 values and NIPs are unique in them). */
export function invoiceVariant(
  sample: (typeof sampleNames)[number],
  change: { number?: string; sellerNip?: string; buyerNip?: string; issueDate?: string } = {},
): Buffer {
  let xml = readSample(sample).toString('utf8');
  if (change.number !== undefined) xml = xml.replace(/<P_2>[^<]*<\/P_2>/, `<P_2>${change.number}</P_2>`);
  if (change.sellerNip) xml = xml.replace(/(<Podmiot1>[\s\S]*?<NIP>)\d+(<\/NIP>)/, `$1${change.sellerNip}$2`);
  if (change.buyerNip) xml = xml.replace(/(<Podmiot2>[\s\S]*?<NIP>)\d+(<\/NIP>)/, `$1${change.buyerNip}$2`);
  if (change.issueDate) xml = xml.replace(/<P_1>[^<]*<\/P_1>/, `<P_1>${change.issueDate}</P_1>`);
  return Buffer.from(xml, 'utf8');
}

let counter = 0;
/** A unique invoice number for this test run. */
export const uniqueNumber = (prefix = 'T') => `${prefix}/${process.pid}/${Date.now()}/${++counter}`;
