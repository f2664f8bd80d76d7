import { constants, createCipheriv, createHash, publicEncrypt, randomBytes, X509Certificate } from 'node:crypto';
import got, { Got, Hooks, Response } from 'got';

/**
 * A small KSeF 2.0 client written from PROTOCOL.md alone (got + node:crypto), sharing no code with the
 * sandbox: if the sandbox drifts from the protocol, this client notices. Tests also use it as their
 * ordinary KSeF client.
 */

export interface ContextIdentifier {
  type: 'Nip' | 'InternalId' | 'NipVatUe' | 'PeppolId';
  value: string;
}

export interface PublicKeyCertificate {
  certificate: string;
  certificateId: string;
  publicKeyId: string;
  validFrom: string;
  validTo: string;
  usage: string[];
}

export interface Tokens {
  referenceNumber: string;
  accessToken: string;
  accessTokenValidUntil: string;
  refreshToken: string;
}

export interface StatusInfo {
  code: number;
  description: string;
  details?: string[] | null;
  extensions?: Record<string, string | null> | null;
}

export interface SessionInvoice {
  ordinalNumber: number;
  referenceNumber: string;
  invoiceHash: string;
  invoiceNumber?: string;
  ksefNumber?: string;
  invoiceFileName?: string;
  acquisitionDate?: string;
  invoicingDate: string;
  permanentStorageDate?: string;
  upoDownloadUrl?: string;
  upoDownloadUrlExpirationDate?: string;
  invoicingMode?: 'Online' | 'Offline';
  status: StatusInfo;
}

export interface SessionStatus {
  status: StatusInfo;
  dateCreated: string;
  dateUpdated: string;
  validUntil?: string;
  upo?: { pages: Array<{ referenceNumber: string; downloadUrl: string; downloadUrlExpirationDate: string }> };
  invoiceCount?: number;
  successfulInvoiceCount?: number;
  failedInvoiceCount?: number;
}

/** Session crypto material (§4.1): one AES-256 key and IV per session. */
export interface SessionKeys {
  key: Buffer;
  iv: Buffer;
}

export const sha256 = (data: Buffer) => createHash('sha256').update(data).digest();
export const sha256Base64 = (data: Buffer) => sha256(data).toString('base64');

/** AES-256-CBC, PKCS#7, no IV prefix. */
export const aesEncrypt = (keys: SessionKeys, data: Buffer) => {
  const cipher = createCipheriv('aes-256-cbc', keys.key, keys.iv);
  return Buffer.concat([cipher.update(data), cipher.final()]);
};

/** RSA-OAEP, SHA-256, MGF1-SHA-256, empty label, with the certificate's public key. */
export const rsaOaepEncrypt = (certificateBase64: string, data: Buffer) =>
  publicEncrypt(
    { key: new X509Certificate(Buffer.from(certificateBase64, 'base64')).publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' },
    data,
  );

/** §6: CRC-8 (poly 0x07, init 0) over the ASCII of everything before the last hyphen. */
export function checksumValid(number: string): boolean {
  const cut = number.lastIndexOf('-');
  let c = 0;
  for (const byte of Buffer.from(number.slice(0, cut), 'ascii')) {
    c ^= byte;
    for (let i = 0; i < 8; i++) c = c & 0x80 ? ((c << 1) ^ 0x07) & 0xff : (c << 1) & 0xff;
  }
  return c.toString(16).toUpperCase().padStart(2, '0') === number.slice(cut + 1);
}

export interface SendInvoiceRequest {
  invoiceHash: string;
  invoiceSize: number;
  encryptedInvoiceHash: string;
  encryptedInvoiceSize: number;
  encryptedInvoiceContent: string;
  offlineMode?: boolean;
  hashOfCorrectedInvoice?: string | null;
}

/** §4.3: hashes and sizes of the plain and the encrypted bytes. */
export function sendInvoiceRequest(keys: SessionKeys, xml: Buffer, extra: Partial<SendInvoiceRequest> = {}): SendInvoiceRequest {
  const encrypted = aesEncrypt(keys, xml);
  return {
    invoiceHash: sha256Base64(xml),
    invoiceSize: xml.length,
    encryptedInvoiceHash: sha256Base64(encrypted),
    encryptedInvoiceSize: encrypted.length,
    encryptedInvoiceContent: encrypted.toString('base64'),
    offlineMode: false,
    ...extra,
  };
}

export class KsefApiError extends Error {
  constructor(
    readonly response: Response<Buffer>,
    message: string,
  ) {
    super(message);
  }
}

const FA3 = { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' };

export class IndependentKsefClient {
  readonly http: Got;
  private certificates?: PublicKeyCertificate[];

  /** `apiUrl` ends in /v2; `hooks` lets tests observe every exchange (contract checks). */
  constructor(
    readonly apiUrl: string,
    hooks: Partial<Hooks> = {},
  ) {
    this.http = got.extend({
      prefixUrl: apiUrl,
      throwHttpErrors: false,
      retry: { limit: 0 },
      timeout: { request: 30_000 },
      responseType: 'buffer',
      hooks,
    });
  }

  private static json<T>(response: Response<Buffer>): T {
    return JSON.parse(response.body.toString('utf8')) as T;
  }

  /** Sends a request and insists on `expected`; the body parsed as JSON when there is one. */
  async call<T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { bearer?: string; json?: unknown; expected: number; headers?: Record<string, string> }): Promise<T> {
    const response = await this.http(path, {
      method,
      json: options.json as Record<string, unknown> | undefined,
      headers: { ...(options.bearer ? { authorization: `Bearer ${options.bearer}` } : {}), ...options.headers },
      responseType: 'buffer',
    });
    if (response.statusCode !== options.expected) {
      throw new KsefApiError(response, `${method} ${path}: expected ${options.expected}, got ${response.statusCode}: ${response.body.toString('utf8').slice(0, 500)}`);
    }
    return (response.body.length ? IndependentKsefClient.json<T>(response) : undefined) as T;
  }

  async publicKeyCertificates(): Promise<PublicKeyCertificate[]> {
    this.certificates ??= await this.call<PublicKeyCertificate[]>('GET', 'security/public-key-certificates', { expected: 200 });
    return this.certificates;
  }

  /** §3: the certificate whose usage contains the need, valid now, newest validFrom. */
  async certificateFor(usage: 'KsefTokenEncryption' | 'SymmetricKeyEncryption'): Promise<PublicKeyCertificate> {
    const now = Date.now();
    const candidates = (await this.publicKeyCertificates())
      .filter((c) => c.usage.includes(usage) && Date.parse(c.validFrom) <= now && now <= Date.parse(c.validTo))
      .sort((a, b) => Date.parse(b.validFrom) - Date.parse(a.validFrom));
    if (!candidates.length) throw new Error(`no certificate for ${usage}`);
    return candidates[0];
  }

  async challenge(): Promise<{ challenge: string; timestamp: string; timestampMs: number; clientIp: string }> {
    return this.call('POST', 'auth/challenge', { expected: 200 });
  }

  /** §2.2–2.3: encrypts `token|timestampMs` and starts the operation. */
  async startTokenAuth(ksefToken: string, context: ContextIdentifier, challenge?: { challenge: string; timestampMs: number }) {
    const ch = challenge ?? (await this.challenge());
    const cert = await this.certificateFor('KsefTokenEncryption');
    const encryptedToken = rsaOaepEncrypt(cert.certificate, Buffer.from(`${ksefToken}|${ch.timestampMs}`, 'utf8')).toString('base64');
    return this.call<{ referenceNumber: string; authenticationToken: { token: string; validUntil: string } }>('POST', 'auth/ksef-token', {
      json: { challenge: ch.challenge, contextIdentifier: context, encryptedToken, publicKeyId: cert.publicKeyId },
      expected: 202,
    });
  }

  /** §2.4: polls until the status leaves 100. */
  async waitForAuth(referenceNumber: string, authenticationToken: string): Promise<StatusInfo> {
    for (let attempt = 0; attempt < 200; attempt++) {
      const op = await this.call<{ status: StatusInfo }>('GET', `auth/${referenceNumber}`, { bearer: authenticationToken, expected: 200 });
      if (op.status.code !== 100) return op.status;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`auth ${referenceNumber} still in progress`);
  }

  /** The whole §2 flow: challenge, ksef-token, poll, redeem. */
  async authenticate(ksefToken: string, context: ContextIdentifier): Promise<Tokens> {
    return this.finishAuth(await this.startTokenAuth(ksefToken, context));
  }

  /** §2.6: posts a signed AuthTokenRequest. */
  async startXadesAuth(signedXml: string, options: { verifyCertificateChain?: boolean } = {}) {
    const query = options.verifyCertificateChain === undefined ? '' : `?verifyCertificateChain=${options.verifyCertificateChain}`;
    const response = await this.http(`auth/xades-signature${query}`, { method: 'POST', body: signedXml, headers: { 'content-type': 'application/xml' }, responseType: 'buffer' });
    if (response.statusCode !== 202) throw new KsefApiError(response, `POST auth/xades-signature: ${response.statusCode}: ${response.body.toString('utf8').slice(0, 500)}`);
    return IndependentKsefClient.json<{ referenceNumber: string; authenticationToken: { token: string; validUntil: string } }>(response);
  }

  /** The §2.6 flow: challenge, sign it (the caller's signer), xades-signature, poll, redeem. */
  async authenticateWithSignature(sign: (challenge: string) => Promise<string>, options: { verifyCertificateChain?: boolean } = {}): Promise<Tokens> {
    const started = await this.startXadesAuth(await sign((await this.challenge()).challenge), options);
    return this.finishAuth(started);
  }

  private async finishAuth(started: { referenceNumber: string; authenticationToken: { token: string } }): Promise<Tokens> {
    const status = await this.waitForAuth(started.referenceNumber, started.authenticationToken.token);
    if (status.code !== 200) throw new Error(`authentication failed: ${JSON.stringify(status)}`);
    const tokens = await this.call<{ accessToken: { token: string; validUntil: string }; refreshToken: { token: string } }>('POST', 'auth/token/redeem', {
      bearer: started.authenticationToken.token,
      expected: 200,
    });
    return {
      referenceNumber: started.referenceNumber,
      accessToken: tokens.accessToken.token,
      accessTokenValidUntil: tokens.accessToken.validUntil,
      refreshToken: tokens.refreshToken.token,
    };
  }

  /** §4.1–4.2: fresh AES key and IV, the key wrapped for the SymmetricKeyEncryption certificate. */
  async encryptionFor(keys: SessionKeys) {
    const cert = await this.certificateFor('SymmetricKeyEncryption');
    return {
      encryptedSymmetricKey: rsaOaepEncrypt(cert.certificate, keys.key).toString('base64'),
      initializationVector: keys.iv.toString('base64'),
      publicKeyId: cert.publicKeyId,
    };
  }

  async openOnlineSession(accessToken: string): Promise<{ referenceNumber: string; validUntil: string; keys: SessionKeys }> {
    const keys = { key: randomBytes(32), iv: randomBytes(16) };
    const opened = await this.call<{ referenceNumber: string; validUntil: string }>('POST', 'sessions/online', {
      bearer: accessToken,
      json: { formCode: FA3, encryption: await this.encryptionFor(keys) },
      expected: 201,
    });
    return { ...opened, keys };
  }

  async sendInvoice(accessToken: string, sessionRef: string, keys: SessionKeys, xml: Buffer, extra: Partial<SendInvoiceRequest> = {}): Promise<string> {
    const sent = await this.call<{ referenceNumber: string }>('POST', `sessions/online/${sessionRef}/invoices`, {
      bearer: accessToken,
      json: sendInvoiceRequest(keys, xml, extra),
      expected: 202,
    });
    return sent.referenceNumber;
  }

  async closeOnlineSession(accessToken: string, sessionRef: string): Promise<void> {
    await this.call('POST', `sessions/online/${sessionRef}/close`, { bearer: accessToken, expected: 204 });
  }

  async sessionStatus(accessToken: string, sessionRef: string): Promise<SessionStatus> {
    return this.call('GET', `sessions/${sessionRef}`, { bearer: accessToken, expected: 200 });
  }

  async invoiceStatus(accessToken: string, sessionRef: string, invoiceRef: string): Promise<SessionInvoice> {
    return this.call('GET', `sessions/${sessionRef}/invoices/${invoiceRef}`, { bearer: accessToken, expected: 200 });
  }

  /** Polls an invoice until its status is final (≥ 200). */
  async waitForInvoice(accessToken: string, sessionRef: string, invoiceRef: string): Promise<SessionInvoice> {
    for (let attempt = 0; attempt < 400; attempt++) {
      const inv = await this.invoiceStatus(accessToken, sessionRef, invoiceRef);
      if (inv.status.code >= 200) return inv;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`invoice ${invoiceRef} still processing`);
  }

  /** Polls a session until its status is final (≥ 200, but not the online 170 "closed, UPO pending"). */
  async waitForSession(accessToken: string, sessionRef: string): Promise<SessionStatus> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const status = await this.sessionStatus(accessToken, sessionRef);
      if (status.status.code >= 200) return status;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`session ${sessionRef} still processing`);
  }

  /** All pages of a session's invoice list (`x-continuation-token`). */
  async sessionInvoices(accessToken: string, sessionRef: string, failedOnly = false, pageSize = 100): Promise<SessionInvoice[]> {
    const all: SessionInvoice[] = [];
    let token: string | null | undefined;
    do {
      const page = await this.call<{ continuationToken?: string | null; invoices: SessionInvoice[] }>(
        'GET',
        `sessions/${sessionRef}/invoices${failedOnly ? '/failed' : ''}?pageSize=${pageSize}`,
        { bearer: accessToken, expected: 200, headers: token ? { 'x-continuation-token': token } : {} },
      );
      all.push(...page.invoices);
      token = page.continuationToken;
    } while (token);
    return all;
  }

  /** Pre-signed links (§4.5): a plain GET, no bearer. */
  async download(url: string): Promise<{ body: Buffer; hash?: string; status: number }> {
    const response = await got(url, { throwHttpErrors: false, retry: { limit: 0 }, responseType: 'buffer', timeout: { request: 30_000 } });
    return { body: response.body, hash: response.headers['x-ms-meta-hash'] as string | undefined, status: response.statusCode };
  }

  async invoice(accessToken: string, ksefNumber: string): Promise<{ body: Buffer; hash: string; contentType: string }> {
    const response = await this.http(`invoices/ksef/${ksefNumber}`, { headers: { authorization: `Bearer ${accessToken}` }, responseType: 'buffer' });
    if (response.statusCode !== 200) throw new KsefApiError(response, `GET invoice ${ksefNumber}: ${response.statusCode} ${response.body.toString('utf8')}`);
    return { body: response.body, hash: String(response.headers['x-ms-meta-hash']), contentType: String(response.headers['content-type']) };
  }

  async queryMetadata<T = { hasMore: boolean; isTruncated: boolean; permanentStorageHwmDate?: string | null; invoices: Array<Record<string, unknown>> }>(
    accessToken: string,
    filters: Record<string, unknown>,
    params: { pageOffset?: number; pageSize?: number; sortOrder?: 'Asc' | 'Desc' } = {},
  ): Promise<T> {
    const query = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)])).toString();
    return this.call('POST', `invoices/query/metadata${query ? `?${query}` : ''}`, { bearer: accessToken, json: filters, expected: 200 });
  }
}
