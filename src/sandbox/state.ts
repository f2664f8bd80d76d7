import { Faults } from './admin/faults.js';
import { createKeyStore, KeyStore } from './keys.js';
import { RateLimiter } from './limits/rate-limiter.js';
import type { SessionKind, SessionLimits } from './limits/session-limits.js';
import {
  AuthOperation,
  CertificateEnrollment,
  Challenge,
  ExportJob,
  InvoiceRecord,
  IssuedJwt,
  KsefCertificate,
  KsefTokenRecord,
  PermissionGrant,
  PermissionOperation,
  Session,
  TestPerson,
  TestSubject,
} from './model.js';
import { ResolvedOptions } from './options.js';
import { Cursors } from './util/continuation.js';
import { certificateSerial, ksefNumber, referenceNumber, ReferenceType, uuidFrom } from './util/ids.js';
import { warsawCompactDay } from './util/time.js';

type Timer = { kind: 'timeout'; handle: NodeJS.Timeout } | { kind: 'immediate'; handle: NodeJS.Immediate };

/**
 * Everything the sandbox knows, in memory. Exposed to tests for read-only inspection; all changes go
 * through the API (or the /sandbox admin API).
 */
export class SandboxState {
  readonly jwtSecret: Buffer;
  readonly urlSecret: Buffer;
  readonly cursors: Cursors;
  readonly keysReady: Promise<KeyStore>;
  keys?: KeyStore;

  readonly challenges = new Map<string, Challenge>();
  readonly ksefTokens = new Map<string, KsefTokenRecord>();
  readonly authOperations = new Map<string, AuthOperation>();
  readonly jwts = new Map<string, IssuedJwt>();
  readonly sessions = new Map<string, Session>();
  /** Sessions whose status may still change on their own (expiry, processing). */
  readonly liveSessions = new Set<Session>();
  /** Accepted invoices (including seeded ones) by KSeF number. */
  readonly invoicesByKsefNumber = new Map<string, InvoiceRecord>();
  /** Accepted invoices by the duplicate key (seller NIP, RodzajFaktury, P_2). */
  readonly invoicesByBusinessKey = new Map<string, InvoiceRecord>();
  /** Every invoice received, by invoiceHash (technical corrections look the original up this way). */
  readonly invoicesByHash = new Map<string, InvoiceRecord[]>();
  /** Technical corrections by the hash of the invoice they correct. */
  readonly correctionsByHash = new Map<string, InvoiceRecord[]>();
  readonly exports = new Map<string, ExportJob>();
  readonly certificateEnrollments = new Map<string, CertificateEnrollment>();
  /** KSeF certificates by serial number. */
  readonly certificates = new Map<string, KsefCertificate>();
  /** NIPs allowed to send invoices with attachments (POST /testdata/attachment), with a revocation date once revoked ahead. */
  readonly attachmentConsents = new Map<string, { revokedDate?: Date }>();
  /** Permissions granted (by `/permissions/*` and `/testdata/permissions`), by id. */
  readonly grants = new Map<string, PermissionGrant>();
  readonly permissionOperations = new Map<string, PermissionOperation>();
  /** Test persons by the NIP they own (POST /testdata/person). */
  readonly testPersons = new Map<string, TestPerson>();
  /** Test entities with a role, by NIP (POST /testdata/subject). */
  readonly testSubjects = new Map<string, TestSubject>();
  /** Keys (contextKey) of contexts whose sign-ins end in status 480 (POST /testdata/context/block). */
  readonly blockedContexts = new Set<string>();
  /** Session limits set for a context (contextKey) by POST /testdata/limits/context/session. */
  readonly contextSessionLimits = new Map<string, Record<SessionKind, SessionLimits>>();
  /** Certificate limits set for a subject (subjectKey) by POST /testdata/limits/subject/certificate. */
  readonly subjectCertificateLimits = new Map<string, { maxEnrollments?: number; maxCertificates?: number }>();
  readonly rateLimiter: RateLimiter;
  readonly faults = new Faults();
  /** Set by startSandbox: the base of the URLs the sandbox hands out when publicBaseUrl is not configured. */
  listenUrl?: string;

  private readonly timers = new Set<Timer>();
  private readonly issuedIds = new Set<string>();
  private traceCounter = 0;
  private disposed = false;

  constructor(readonly options: ResolvedOptions) {
    this.jwtSecret = options.random(32);
    this.urlSecret = options.random(32);
    this.cursors = new Cursors(options.random(32));
    this.rateLimiter = new RateLimiter(options.rateLimits);
    this.keysReady = createKeyStore(options.now(), options.random).then((keys) => (this.keys = keys));
    // Handlers await keysReady; an unhandled rejection here would only duplicate their error.
    this.keysReady.catch(() => undefined);
  }

  now(): Date {
    return this.options.now();
  }

  random(bytes: number): Buffer {
    return this.options.random(bytes);
  }

  private unique(make: () => string): string {
    for (let attempt = 0; attempt < 100; attempt++) {
      const id = make();
      if (!this.issuedIds.has(id)) {
        this.issuedIds.add(id);
        return id;
      }
    }
    throw new Error('SandboxOptions.random keeps producing the same identifiers');
  }

  newReference(type: ReferenceType, at: Date = this.now()): string {
    const day = warsawCompactDay(at);
    return this.unique(() => referenceNumber(type, day, this.random(10)));
  }

  newKsefNumber(sellerNip: string, invoicingDate: Date): string {
    const day = warsawCompactDay(invoicingDate);
    return this.unique(() => ksefNumber(sellerNip, day, this.random(6)));
  }

  newPermissionId(): string {
    return this.unique(() => uuidFrom(this.random(16)));
  }

  newCertificateSerial(): string {
    return this.unique(() => certificateSerial(this.random(8)));
  }

  nextTraceId(): string {
    this.traceCounter++;
    return this.traceCounter.toString(16).padStart(32, '0');
  }

  /** Runs `task` after `ms` of real time (0: on the next turn of the event loop); cancelled by dispose(). */
  defer(ms: number, task: () => void | Promise<void>): void {
    if (this.disposed) return;
    const run = (timer: Timer) => {
      this.timers.delete(timer);
      if (this.disposed) return;
      Promise.resolve()
        .then(task)
        .catch((err: unknown) => console.error('[sandbox] background task failed', err));
    };
    if (ms <= 0) {
      const timer: Timer = { kind: 'immediate', handle: undefined as unknown as NodeJS.Immediate };
      timer.handle = setImmediate(() => run(timer));
      this.timers.add(timer);
    } else {
      const timer: Timer = { kind: 'timeout', handle: undefined as unknown as NodeJS.Timeout };
      timer.handle = setTimeout(() => run(timer), ms);
      this.timers.add(timer);
    }
  }

  dispose(): void {
    this.disposed = true;
    for (const t of this.timers) {
      if (t.kind === 'timeout') clearTimeout(t.handle);
      else clearImmediate(t.handle);
    }
    this.timers.clear();
  }

  /** Forgets all data (sessions, invoices, tokens, auth, certificates); keys and configuration stay. */
  clearData(): void {
    for (const t of this.timers) {
      if (t.kind === 'timeout') clearTimeout(t.handle);
      else clearImmediate(t.handle);
    }
    this.timers.clear();
    this.challenges.clear();
    this.ksefTokens.clear();
    this.authOperations.clear();
    this.jwts.clear();
    this.sessions.clear();
    this.liveSessions.clear();
    this.invoicesByKsefNumber.clear();
    this.invoicesByBusinessKey.clear();
    this.invoicesByHash.clear();
    this.correctionsByHash.clear();
    this.exports.clear();
    this.certificateEnrollments.clear();
    this.certificates.clear();
    this.attachmentConsents.clear();
    this.grants.clear();
    this.permissionOperations.clear();
    this.testPersons.clear();
    this.testSubjects.clear();
    this.blockedContexts.clear();
    this.subjectCertificateLimits.clear();
    this.contextSessionLimits.clear();
    this.rateLimiter.clearContextTables();
    this.rateLimiter.reset();
  }

  summary() {
    let online = 0;
    let batch = 0;
    let open = 0;
    for (const s of this.sessions.values()) {
      if (s.type === 'Online') online++;
      else batch++;
      if (s.status.code === 100) open++;
    }
    return {
      tokenMode: this.options.tokenMode,
      rateLimits: { mode: this.rateLimiter.mode, table: this.rateLimiter.table() },
      keys: (this.keys?.entries ?? []).map((k) => ({ usage: k.usage, publicKeyId: k.publicKeyId })),
      counts: {
        ksefTokens: this.ksefTokens.size,
        authOperations: this.authOperations.size,
        sessions: { online, batch, open },
        invoices: this.invoicesByKsefNumber.size,
        exports: this.exports.size,
        certificateEnrollments: this.certificateEnrollments.size,
        certificates: this.certificates.size,
        grants: this.grants.size,
        pendingTasks: this.timers.size,
      },
      faults: this.faults.snapshot(),
    };
  }
}
