import type { KsefEnvironmentName } from '../../config.js';
import { sha256Base64 } from './crypto.js';
import { KsefRejectedError, KsefUnavailableError } from '../errors.js';
import type { KsefHttp, KsefResponse } from './http.js';

/** The KSeF 2.0 calls Fast KSeF makes (paths and shapes of the official open-api.json), one method each. */

export interface TokenInfo {
  token: string;
  validUntil: string;
}

export interface PublicKeyCertificate {
  certificate: string;
  publicKeyId: string;
  validFrom: string;
  validTo: string;
  usage: string[];
}

export interface KsefStatusInfo {
  code: number;
  description: string;
  details?: string[];
  extensions?: Record<string, string | null>;
}

export interface SessionStatusResponse {
  status: KsefStatusInfo;
  dateCreated: string;
  dateUpdated: string;
  validUntil?: string | null;
  upo?: { pages: { referenceNumber: string; downloadUrl: string; downloadUrlExpirationDate: string }[] } | null;
  invoiceCount?: number | null;
  successfulInvoiceCount?: number | null;
  failedInvoiceCount?: number | null;
}

export interface SessionInvoice {
  ordinalNumber: number;
  invoiceNumber?: string | null;
  ksefNumber?: string | null;
  referenceNumber: string;
  invoiceHash: string;
  acquisitionDate?: string | null;
  invoicingDate: string;
  permanentStorageDate?: string | null;
  upoDownloadUrl?: string | null;
  invoicingMode?: string | null;
  status: KsefStatusInfo;
}

export const FA3_FORM_CODE = { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' } as const;

export class KsefApi {
  constructor(
    readonly environment: KsefEnvironmentName,
    private readonly http: KsefHttp,
  ) {}

  get baseUrl(): string {
    return this.http.baseUrl;
  }

  /** `probe`: one attempt within `timeoutMs` (a reachability check), not the configured retries. */
  async publicKeyCertificates(scope: string, probe?: { timeoutMs: number }): Promise<PublicKeyCertificate[]> {
    const res = await this.http.request({ method: 'GET', path: '/security/public-key-certificates', group: 'auth', scope, retry: 'idempotent', probe });
    return res.json<PublicKeyCertificate[]>();
  }

  async challenge(scope: string): Promise<{ challenge: string; timestampMs: number }> {
    const res = await this.http.request({ method: 'POST', path: '/auth/challenge', group: 'auth', scope, retry: 'idempotent' });
    return res.json();
  }

  async authenticateWithKsefToken(
    scope: string,
    body: { challenge: string; contextIdentifier: { type: 'Nip'; value: string }; encryptedToken: string; publicKeyId: string },
  ): Promise<{ referenceNumber: string; authenticationToken: TokenInfo }> {
    const res = await this.http.request({ method: 'POST', path: '/auth/ksef-token', group: 'auth', scope, retry: 'once', json: body });
    return res.json();
  }

  /** POST /auth/xades-signature (PROTOCOL.md §2.6): the signed AuthTokenRequest; the chain is not forced (as the official clients). */
  async authenticateWithSignature(scope: string, signedXml: string): Promise<{ referenceNumber: string; authenticationToken: TokenInfo }> {
    const res = await this.http.request({
      method: 'POST',
      path: '/auth/xades-signature?verifyCertificateChain=false',
      group: 'auth',
      scope,
      retry: 'once',
      body: Buffer.from(signedXml, 'utf8'),
      headers: { 'Content-Type': 'application/xml' },
    });
    return res.json();
  }

  async authenticationStatus(scope: string, referenceNumber: string, authenticationToken: string): Promise<{ status: KsefStatusInfo }> {
    const res = await this.http.request({ method: 'GET', path: `/auth/${referenceNumber}`, group: 'auth', scope, retry: 'idempotent', bearer: authenticationToken });
    return res.json();
  }

  async redeem(scope: string, authenticationToken: string): Promise<{ accessToken: TokenInfo; refreshToken: TokenInfo }> {
    const res = await this.http.request({ method: 'POST', path: '/auth/token/redeem', group: 'auth', scope, retry: 'once', bearer: authenticationToken });
    return res.json();
  }

  async refresh(scope: string, refreshToken: string): Promise<{ accessToken: TokenInfo }> {
    const res = await this.http.request({ method: 'POST', path: '/auth/token/refresh', group: 'auth', scope, retry: 'idempotent', bearer: refreshToken });
    return res.json();
  }

  async openOnlineSession(
    scope: string,
    bearer: string,
    encryption: { encryptedSymmetricKey: string; initializationVector: string; publicKeyId: string },
  ): Promise<{ referenceNumber: string; validUntil: string }> {
    const res = await this.http.request({
      method: 'POST',
      path: '/sessions/online',
      group: 'onlineSession',
      scope,
      retry: 'once',
      bearer,
      json: { formCode: FA3_FORM_CODE, encryption },
    });
    return res.json();
  }

  async sendInvoice(
    scope: string,
    bearer: string,
    sessionReference: string,
    body: {
      invoiceHash: string;
      invoiceSize: number;
      encryptedInvoiceHash: string;
      encryptedInvoiceSize: number;
      encryptedInvoiceContent: string;
      offlineMode: boolean;
      hashOfCorrectedInvoice?: string | null;
    },
  ): Promise<{ referenceNumber: string }> {
    const res = await this.http.request({
      method: 'POST',
      path: `/sessions/online/${sessionReference}/invoices`,
      group: 'invoiceSend',
      scope,
      retry: 'idempotent',
      bearer,
      json: body,
    });
    return res.json();
  }

  async closeOnlineSession(scope: string, bearer: string, sessionReference: string): Promise<void> {
    await this.http.request({ method: 'POST', path: `/sessions/online/${sessionReference}/close`, group: 'onlineSession', scope, retry: 'once', bearer });
  }

  async sessionStatus(scope: string, bearer: string, sessionReference: string): Promise<SessionStatusResponse> {
    const res = await this.http.request({ method: 'GET', path: `/sessions/${sessionReference}`, group: 'sessionMisc', scope, retry: 'idempotent', bearer });
    return res.json();
  }

  private async sessionInvoicesPage(
    scope: string,
    bearer: string,
    sessionReference: string,
    continuationToken: string | null,
  ): Promise<{ continuationToken?: string | null; invoices: SessionInvoice[] }> {
    const res = await this.http.request({
      method: 'GET',
      path: `/sessions/${sessionReference}/invoices?pageSize=1000`,
      group: 'sessionInvoiceList',
      scope,
      retry: 'idempotent',
      bearer,
      headers: continuationToken ? { 'x-continuation-token': continuationToken } : undefined,
    });
    return res.json();
  }

  /** Every invoice of the session, page by page (KSeF's continuation token). */
  async sessionInvoices(scope: string, bearer: string, sessionReference: string): Promise<SessionInvoice[]> {
    const invoices: SessionInvoice[] = [];
    let continuation: string | null = null;
    do {
      const page = await this.sessionInvoicesPage(scope, bearer, sessionReference, continuation);
      invoices.push(...page.invoices);
      continuation = page.continuationToken || null;
    } while (continuation);
    return invoices;
  }

  async invoiceStatus(scope: string, bearer: string, sessionReference: string, invoiceReference: string): Promise<SessionInvoice> {
    const res = await this.http.request({
      method: 'GET',
      path: `/sessions/${sessionReference}/invoices/${invoiceReference}`,
      group: 'invoiceStatus',
      scope,
      retry: 'idempotent',
      bearer,
    });
    return res.json();
  }

  async invoiceUpo(scope: string, bearer: string, sessionReference: string, ksefNumber: string): Promise<Buffer> {
    const res = await this.http.request({
      method: 'GET',
      path: `/sessions/${sessionReference}/invoices/ksef/${ksefNumber}/upo`,
      group: 'sessionMisc',
      scope,
      retry: 'idempotent',
      bearer,
      headers: { Accept: 'application/xml' },
    });
    return res.body;
  }

  /** The invoice exactly as KSeF stores it; the body is checked against KSeF's `x-ms-meta-hash`. */
  async downloadInvoice(scope: string, bearer: string, ksefNumber: string): Promise<Buffer> {
    const res = await this.http.request({
      method: 'GET',
      path: `/invoices/ksef/${ksefNumber}`,
      group: 'invoiceDownload',
      scope,
      retry: 'idempotent',
      bearer,
      headers: { Accept: 'application/xml' },
    });
    checkHash(this.environment, res);
    return res.body;
  }

  /** Every grant the signed-in subject holds (POST /permissions/query/personal/grants, page by page). */
  async personalGrants(scope: string, bearer: string): Promise<PersonalGrant[]> {
    const grants: PersonalGrant[] = [];
    for (let page = 0; ; page++) {
      const res = await this.http.request({
        method: 'POST',
        path: `/permissions/query/personal/grants?pageOffset=${page}&pageSize=100`,
        group: 'other',
        scope,
        retry: 'idempotent',
        bearer,
        json: { permissionState: 'Active' },
      });
      const body = res.json<{ permissions: PersonalGrant[]; hasMore: boolean }>();
      grants.push(...body.permissions);
      if (!body.hasMore || body.permissions.length === 0) return grants;
    }
  }

  /** GET /tokens/{referenceNumber}: a KSeF token's status and the permissions it was made with. */
  async ksefTokenStatus(scope: string, bearer: string, referenceNumber: string): Promise<{ status: string; requestedPermissions: string[]; authorIdentifier?: { type: string; value: string } }> {
    const res = await this.http.request({ method: 'GET', path: `/tokens/${referenceNumber}`, group: 'other', scope, retry: 'idempotent', bearer });
    return res.json();
  }

  /** One page of invoice metadata (PROTOCOL.md §8.2); read-only, so retried like any read. */
  async queryMetadata(
    scope: string,
    bearer: string,
    query: { pageOffset: number; pageSize: number; sortOrder?: 'Asc' | 'Desc' },
    body: MetadataQuery,
  ): Promise<MetadataPage> {
    const params = `pageOffset=${query.pageOffset}&pageSize=${query.pageSize}&sortOrder=${query.sortOrder ?? 'Asc'}`;
    const res = await this.http.request({
      method: 'POST',
      path: `/invoices/query/metadata?${params}`,
      group: 'invoiceMetadata',
      scope,
      retry: 'idempotent',
      bearer,
      json: body,
    });
    return res.json();
  }

  /**
   * POST /invoices/exports (PROTOCOL.md §8.3): starts building a package. Retried like a read: a repeated start
   * only makes KSeF build one more package nobody fetches (one more of the 20 an hour), never duplicates data.
   */
  async startExport(
    scope: string,
    bearer: string,
    body: { encryption: { encryptedSymmetricKey: string; initializationVector: string; publicKeyId: string }; filters: MetadataQuery },
  ): Promise<{ referenceNumber: string }> {
    const res = await this.http.request({
      method: 'POST',
      path: '/invoices/exports',
      group: 'invoiceExport',
      scope,
      retry: 'idempotent',
      bearer,
      json: { encryption: body.encryption, onlyMetadata: false, compressionType: 'Zip', filters: body.filters },
    });
    return res.json();
  }

  /** ms until one more export may start inside KSeF's limits (20 an hour); 0 = now. */
  exportStartDelay(scope: string): number {
    return this.http.limitDelay(scope, 'invoiceExport');
  }

  async exportStatus(scope: string, bearer: string, referenceNumber: string): Promise<ExportStatus> {
    const res = await this.http.request({ method: 'GET', path: `/invoices/exports/${referenceNumber}`, group: 'invoiceExportStatus', scope, retry: 'idempotent', bearer });
    return res.json();
  }

  /** One encrypted part of a package, streamed from its pre-signed URL. */
  exportPart(part: ExportPart): AsyncGenerator<Buffer> {
    return this.http.download(part.url);
  }

  /** POST /sessions/batch (PROTOCOL.md §5): declares the archive and its encrypted parts; answers where to upload them. */
  async openBatchSession(
    scope: string,
    bearer: string,
    body: {
      batchFile: { fileSize: number; fileHash: string; fileParts: { ordinalNumber: number; fileSize: number; fileHash: string }[] };
      encryption: { encryptedSymmetricKey: string; initializationVector: string; publicKeyId: string };
      offlineMode: boolean;
    },
  ): Promise<{ referenceNumber: string; partUploadRequests: BatchPartUpload[] }> {
    const res = await this.http.request({
      method: 'POST',
      path: '/sessions/batch',
      group: 'batchSession',
      scope,
      retry: 'once',
      bearer,
      json: { formCode: FA3_FORM_CODE, batchFile: { ...body.batchFile, compressionType: 'Zip' }, encryption: body.encryption, offlineMode: body.offlineMode },
    });
    return res.json();
  }

  /** One encrypted part to its pre-signed URL: exactly the given method and headers, no Authorization. */
  async uploadBatchPart(scope: string, upload: BatchPartUpload, bytes: Buffer): Promise<void> {
    await this.http.request({ method: upload.method as 'PUT', path: upload.url, group: 'unlimited', scope, retry: 'idempotent', headers: upload.headers, body: bytes });
  }

  async closeBatchSession(scope: string, bearer: string, sessionReference: string): Promise<void> {
    await this.http.request({ method: 'POST', path: `/sessions/batch/${sessionReference}/close`, group: 'batchSession', scope, retry: 'once', bearer });
  }
}

export interface BatchPartUpload {
  ordinalNumber: number;
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** One item of the personal grants query (open-api.json `PersonalPermission`). */
export interface PersonalGrant {
  id: string;
  contextIdentifier?: { type: string; value: string } | null;
  authorizedIdentifier?: { type: string; value: string } | null;
  targetIdentifier?: { type: string; value?: string | null } | null;
  permissionScope: string;
  description: string;
  permissionState: string;
  startDate: string;
  canDelegate: boolean;
}

export interface MetadataQuery {
  subjectType: 'Subject1' | 'Subject2' | 'Subject3' | 'SubjectAuthorized';
  dateRange: { dateType: 'Issue' | 'Invoicing' | 'PermanentStorage'; from: string; to?: string; restrictToPermanentStorageHwmDate?: boolean };
  [filter: string]: unknown;
}

export interface InvoiceMetadata {
  ksefNumber: string;
  invoiceNumber: string;
  issueDate: string;
  invoicingDate: string;
  acquisitionDate: string;
  permanentStorageDate: string;
  invoiceType: string;
  invoiceHash: string;
  invoicingMode: string;
  currency: string;
  grossAmount: number;
  seller: { nip: string; name?: string | null };
}

export interface ExportPart {
  ordinalNumber: number;
  partName: string;
  url: string;
  partSize: number;
  encryptedPartSize: number;
  encryptedPartHash: string;
}

export interface ExportPackage {
  invoiceCount: number;
  isTruncated: boolean;
  lastPermanentStorageDate?: string | null;
  permanentStorageHwmDate?: string | null;
  parts: ExportPart[];
}

export interface ExportStatus {
  status: KsefStatusInfo;
  package?: ExportPackage | null;
}

export interface MetadataPage {
  hasMore: boolean;
  isTruncated: boolean;
  permanentStorageHwmDate?: string | null;
  invoices: InvoiceMetadata[];
}

function checkHash(environment: KsefEnvironmentName, res: KsefResponse): void {
  const expected = res.headers['x-ms-meta-hash'];
  if (typeof expected !== 'string') return;
  if (sha256Base64(res.body) !== expected) throw new KsefUnavailableError(environment, 'The invoice KSeF sent was damaged in transit (hash mismatch); try again.');
}

export const isRejected = (err: unknown, code: number): boolean => err instanceof KsefRejectedError && err.has(code);
