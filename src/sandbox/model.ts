/** The sandbox's domain records. Dates are Date objects; the HTTP layer formats them. */

export const CONTEXT_TYPES = ['Nip', 'InternalId', 'NipVatUe', 'PeppolId'] as const;
export type ContextType = (typeof CONTEXT_TYPES)[number];

export interface ContextIdentifier {
  type: ContextType;
  value: string;
}

export const contextKey = (c: ContextIdentifier) => `${c.type}:${c.value}`;

/** The NIP an InternalId (`NIP-12345`) or Nip context acts for; NipVatUe is `NIP-<EU VAT>`. */
export const contextNip = (c: ContextIdentifier): string | undefined =>
  c.type === 'Nip' ? c.value : c.type === 'InternalId' || c.type === 'NipVatUe' ? c.value.split('-')[0] : undefined;

export const TOKEN_PERMISSIONS = [
  'InvoiceRead',
  'InvoiceWrite',
  'CredentialsRead',
  'CredentialsManage',
  'SubunitManage',
  'EnforcementOperations',
  'Introspection',
] as const;
export type TokenPermission = (typeof TOKEN_PERMISSIONS)[number];
/** Route permissions also include ones a token cannot carry. */
export type Permission = TokenPermission | 'PefInvoiceWrite' | 'VatUeManage';

export const SUBJECT_IDENTIFIER_TYPES = ['Nip', 'Pesel', 'Fingerprint'] as const;
export type SubjectIdentifierType = (typeof SUBJECT_IDENTIFIER_TYPES)[number];

/** Who acts: a NIP, a PESEL, or the SHA-256 of a certificate (64 upper-case hex digits). */
export interface SubjectIdentifier {
  type: SubjectIdentifierType;
  value: string;
}

export const subjectKey = (s: SubjectIdentifier) => `${s.type}:${s.value}`;

/** open-api.json's AuthenticationMethod values for a XAdES sign-in. */
export type SignatureMethod = 'QualifiedSeal' | 'QualifiedSignature' | 'InternalCertificate';

/** How an auth operation was authenticated. */
export type Authentication =
  | {
      kind: 'token';
      /** The KSeF token used (UPO `NumerReferencyjnyTokenaKSeF`); empty when the token was not recognised. */
      tokenReference: string;
    }
  | {
      kind: 'signature';
      method: SignatureMethod;
      /** NIP/PESEL named by the certificate, or its fingerprint (SubjectIdentifierType). */
      subject: SubjectIdentifier;
      /** The signing certificate's subject Name, DER (the enrollment data of KSeF certificates). */
      certificateSubject: Buffer;
      /** Base64 SHA-256 of the signed document as received (UPO `SkrotDokumentuUwierzytelniajacego`). */
      documentHash: string;
    };

/** Who opened a session, for `GET /sessions` with only InvoiceWrite (the caller sees its own). */
export const openerKey = (a: Authentication) => (a.kind === 'token' ? `token:${a.tokenReference}` : `subject:${subjectKey(a.subject)}`);

/** What an open-mode token (not registered anywhere) may do: everything a context owner's token can. */
export const OPEN_MODE_PERMISSIONS: readonly TokenPermission[] = [
  'InvoiceRead',
  'InvoiceWrite',
  'CredentialsRead',
  'CredentialsManage',
  'SubunitManage',
  'Introspection',
];

export interface StatusInfo {
  code: number;
  description: string;
  details?: string[];
}

export interface InvoiceStatus extends StatusInfo {
  extensions?: Record<string, string | null>;
}

export type TokenStatus = 'Pending' | 'Active' | 'Revoking' | 'Revoked' | 'Failed';

export interface KsefTokenRecord {
  referenceNumber: string;
  /** The whole token string `<reference>|<context>|<secret>`. */
  token: string;
  context: ContextIdentifier;
  permissions: TokenPermission[];
  description: string;
  author: { type: 'Nip' | 'Pesel' | 'Fingerprint'; value: string };
  dateCreated: Date;
  /** Pending until then. */
  activeFrom: Date;
  lastUseDate?: Date;
  revoked: boolean;
}

export const KSEF_CERTIFICATE_TYPES = ['Authentication', 'Offline'] as const;
export type KsefCertificateType = (typeof KSEF_CERTIFICATE_TYPES)[number];

/** A certificate's own name (`certificateName`, 5–100 characters of these). */
export const CERTIFICATE_NAME = /^[a-zA-Z0-9_\- ąćęłńóśźżĄĆĘŁŃÓŚŹŻ]{5,100}$/;

/** `Blocked` (a revocation in progress) never occurs here: revocation takes effect at once. */
export const CERTIFICATE_STATUSES = ['Active', 'Blocked', 'Revoked', 'Expired'] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/**
 * A KSeF certificate. It belongs to the authenticated subject, not to a context: the same subject sees the
 * same certificates in every context it signs in to, and signing in with it authenticates as that subject.
 */
export interface KsefCertificate {
  /** 16 upper-case hex digits, equal to the X.509 serial number. */
  serialNumber: string;
  owner: SubjectIdentifier;
  name: string;
  type: KsefCertificateType;
  commonName: string;
  der: Buffer;
  /** SubjectPublicKeyInfo DER of the certified key. */
  spki: Buffer;
  validFrom: Date;
  validTo: Date;
  requestDate: Date;
  revoked: boolean;
}

/** A certificate request (`POST /certificates/enrollments`) whose CSR passed every check. */
export interface CertificateEnrollment {
  referenceNumber: string;
  owner: SubjectIdentifier;
  requestDate: Date;
  name: string;
  type: KsefCertificateType;
  /** The CSR's subject Name, DER as sent (the certificate carries exactly it). */
  subject: Buffer;
  commonName: string;
  spki: Buffer;
  validFrom?: Date;
  status: StatusInfo;
  certificateSerialNumber?: string;
}

export interface Challenge {
  value: string;
  timestamp: Date;
  clientIp: string;
  used: boolean;
}

export interface AllowedIps {
  addresses: string[];
  ranges: Array<[number, number]>;
  masks: Array<[number, number]>;
}

export interface AuthOperation {
  referenceNumber: string;
  startDate: Date;
  context: ContextIdentifier;
  authentication: Authentication;
  /** The final status, reported once `readyAt` has passed (status 100 before). */
  outcome: StatusInfo;
  readyAt: number;
  /** What the operation may do in its context; a XAdES operation's set is worked out again for each access token. */
  permissions: ReadonlySet<Permission>;
  allowedIps?: AllowedIps;
  redeemed: boolean;
  revoked: boolean;
  lastTokenRefreshDate?: Date;
  refreshTokenValidUntil?: Date;
}

export type JwtKind = 'authentication' | 'access' | 'refresh';

export interface IssuedJwt {
  jti: string;
  kind: JwtKind;
  authReference: string;
  expiresAt: number;
  /** An access token keeps the permissions it was issued with until it expires. */
  permissions?: ReadonlySet<Permission>;
}

export interface FormCode {
  systemCode: string;
  schemaVersion: string;
  value: string;
}

export const FA3_FORM: FormCode = { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' };

export type InvoiceType = 'Vat' | 'Zal' | 'Kor' | 'Roz' | 'Upr' | 'KorZal' | 'KorRoz';

export interface PartyIdentifier {
  type: 'Nip' | 'InternalId' | 'VatUe' | 'Other' | 'None';
  value?: string;
}

/** What KSeF reads out of an accepted FA(3) document. */
export interface InvoiceFacts {
  sellerNip: string;
  sellerName?: string;
  buyer: { identifier: PartyIdentifier; name?: string };
  thirdSubjects: Array<{ identifier: PartyIdentifier; name?: string; role: number }>;
  authorizedSubject?: { nip: string; name?: string; role: number };
  /** P_2 (whitespace collapsed). */
  invoiceNumber: string;
  /** P_1, `YYYY-MM-DD`. */
  issueDate: string;
  /** RodzajFaktury as written (`VAT`, `KOR`, …). */
  kind: string;
  invoiceType: InvoiceType;
  currency: string;
  netAmount: number;
  grossAmount: number;
  vatAmount: number;
  isSelfInvoicing: boolean;
  hasAttachment: boolean;
}

export type InvoicingMode = 'Online' | 'Offline';

export interface InvoiceRecord {
  /** `EE` reference; absent for invoices seeded through the admin API. */
  referenceNumber?: string;
  ordinalNumber: number;
  session?: Session;
  /** Context the invoice was sent in (UPO, Subject1 of subunits). */
  issuerContext?: ContextIdentifier;
  formCode: FormCode;
  invoiceHash: string;
  invoiceSize: number;
  invoiceFileName?: string;
  invoicingDate: Date;
  offlineMode: boolean;
  hashOfCorrectedInvoice?: string;
  status: InvoiceStatus;
  /** Ciphertext of an online invoice until processed. */
  encrypted?: Buffer;
  /** The exact XML bytes (kept for accepted invoices). */
  content?: Buffer;
  facts?: InvoiceFacts;
  invoiceNumber?: string;
  ksefNumber?: string;
  acquisitionDate?: Date;
  permanentStorageDate?: Date;
  invoicingMode?: InvoicingMode;
  upo?: Buffer;
}

export type SessionType = 'Online' | 'Batch';

export interface BatchPart {
  ordinalNumber: number;
  fileSize: number;
  fileHash: string;
  data?: Buffer;
}

export interface UpoPage {
  referenceNumber: string;
  content: Buffer;
}

export interface Session {
  type: SessionType;
  referenceNumber: string;
  context: ContextIdentifier;
  authReference: string;
  authentication: Authentication;
  formCode: FormCode;
  dateCreated: Date;
  dateUpdated: Date;
  dateClosed?: Date;
  validUntil: Date;
  status: StatusInfo;
  /** Session AES key; absent when unwrapping it failed (status 415). */
  key?: Buffer;
  iv: Buffer;
  invoices: InvoiceRecord[];
  invoicesByReference: Map<string, InvoiceRecord>;
  /** Invoices not yet in a final status. */
  pending: number;
  successCount: number;
  failedCount: number;
  upoPages: UpoPage[];
  batch?: {
    fileSize: number;
    fileHash: string;
    compressionType: 'Zip' | 'TarGz';
    parts: BatchPart[];
    offlineMode: boolean;
  };
}

export interface ExportJob {
  referenceNumber: string;
  context: ContextIdentifier;
  created: Date;
  status: StatusInfo;
  completedDate?: Date;
  packageExpirationDate?: Date;
  package?: Record<string, unknown>;
  parts: Map<string, Buffer>;
}

/** `POST /testdata/person`: the PESEL of a person who is the Owner of a NIP (the NIP–PESEL binding). */
export interface TestPerson {
  nip: string;
  pesel: string;
  isBailiff: boolean;
  isDeceased: boolean;
  description: string;
  createdDate: Date;
}

export const TEST_SUBJECT_TYPES = ['EnforcementAuthority', 'VatGroup', 'JST'] as const;
export type TestSubjectType = (typeof TEST_SUBJECT_TYPES)[number];

/** `POST /testdata/subject`: an entity with a role, and the members (subunits) it was created with. */
export interface TestSubject {
  nip: string;
  type: TestSubjectType;
  description: string;
  createdDate: Date;
  subunits: Array<{ nip: string; description: string }>;
}

/** Who a grant gives permissions to: a subject, or for entity authorizations a Peppol provider. */
export interface AuthorizedIdentifier {
  type: SubjectIdentifierType | 'PeppolId';
  value: string;
}

/** The target of an indirect grant: one client of the intermediary, or all of them. */
export interface TargetIdentifier {
  type: 'Nip' | 'AllPartners' | 'InternalId';
  value?: string;
}

/** `subjectPersonDetails` of the queries, as the grant described the person. */
export interface PersonDetails {
  subjectDetailsType: 'PersonByIdentifier' | 'PersonByFingerprintWithIdentifier' | 'PersonByFingerprintWithoutIdentifier';
  firstName: string;
  lastName: string;
  personIdentifier?: { type: 'Pesel' | 'Nip'; value: string };
  birthDate?: string;
  idDocument?: { type: string; number: string; country: string };
}

export interface EntityDetails {
  subjectDetailsType: 'EntityByIdentifier' | 'EntityByFingerprint';
  fullName: string;
  address?: string;
}

/**
 * How a permission came to be (uprawnienia.md): granted to a person, to an entity (possibly delegable),
 * indirectly by an intermediary, to a subunit's administrator, to an EU entity's administrator or
 * representative, as an entity authorization (self-invoicing and the like), or by `/testdata/permissions`
 * (a ZAW-FA filing, author System).
 */
export type GrantKind = 'person' | 'entity' | 'indirect' | 'subunit' | 'euAdministrator' | 'euRepresentative' | 'authorization' | 'testdata';

export const AUTHORIZATION_SCOPES = ['SelfInvoicing', 'RRInvoicing', 'TaxRepresentative', 'PefInvoicing'] as const;
export type AuthorizationScope = (typeof AUTHORIZATION_SCOPES)[number];

/** One permission (one scope) held by one identifier; a grant of several permissions makes several. */
export interface PermissionGrant {
  /** UUID (`permissionId`). */
  id: string;
  kind: GrantKind;
  /** Where the permission is exercised: the grantor's context; a subunit's; an EU entity's `NipVatUe`. */
  context: ContextIdentifier;
  /** The context that granted it (the caller's context at the time), or undefined for System grants. */
  grantor?: ContextIdentifier;
  authorized: AuthorizedIdentifier;
  scope: Permission | AuthorizationScope;
  canDelegate: boolean;
  target?: TargetIdentifier;
  author: { type: SubjectIdentifierType | 'System'; value?: string };
  description: string;
  person?: PersonDetails;
  entity?: EntityDetails;
  subunitName?: string;
  euEntityName?: string;
  euEntityDetails?: { fullName: string; address: string };
  startDate: Date;
}

/** A grant or revocation, processed asynchronously (`GET /permissions/operations/{ref}`). */
export interface PermissionOperation {
  referenceNumber: string;
  context: ContextIdentifier;
  created: Date;
  status: StatusInfo;
}
