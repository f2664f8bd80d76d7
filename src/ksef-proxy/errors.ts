import type { KsefEnvironmentName } from '../config.js';

/**
 * What can go wrong when talking to KSeF. ksef-proxy throws only these; src/http/errors.ts maps them to
 * HTTP in one place (unreachable → 503, timeout → 504, KSeF 5xx → 502, KSeF's business errors → 422).
 */
export abstract class KsefError extends Error {
  /**
   * Set by the transport when no attempt of the failed call can have reached KSeF's processing: every
   * attempt was refused before a connection was made, or answered 503 or 429.
   */
  neverReceived = false;

  constructor(
    readonly environment: KsefEnvironmentName,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** Connection refused, DNS failure, reset, or KSeF answered 503. */
export class KsefUnavailableError extends KsefError {}

/** KSeF did not answer within KSEF_TIMEOUT_MS. */
export class KsefTimeoutError extends KsefError {}

/** KSeF answered 5xx (other than 503) even after the retries. */
export class KsefServerError extends KsefError {
  constructor(environment: KsefEnvironmentName, readonly status: number, message: string) {
    super(environment, message);
  }
}

/** KSeF kept answering 429; `retryAfterSeconds` is its last Retry-After. */
export class KsefRateLimitedError extends KsefError {
  constructor(environment: KsefEnvironmentName, readonly retryAfterSeconds: number) {
    super(environment, `KSeF's rate limit was reached; retry after ${retryAfterSeconds} s.`);
  }
}

/** One entry of KSeF's ExceptionResponse / problem+json `errors`. */
export interface KsefErrorEntry {
  code: number;
  description: string;
  details?: string[];
}

/** KSeF refused the request (HTTP 400 with exception codes, 401/403 problem+json, or a failed status). */
export class KsefRejectedError extends KsefError {
  constructor(
    environment: KsefEnvironmentName,
    readonly httpStatus: number,
    readonly entries: KsefErrorEntry[],
    message?: string,
  ) {
    super(environment, message ?? describe(entries, httpStatus));
  }

  has(code: number): boolean {
    return this.entries.some((e) => e.code === code);
  }
}

/** KSeF rejected an invoice we sent (asynchronous invoice status ≥ 400 other than a duplicate). */
export class KsefInvoiceRejectedError extends KsefError {
  constructor(environment: KsefEnvironmentName, readonly status: KsefErrorEntry) {
    super(environment, `KSeF rejected the invoice: ${status.code} ${status.description}${status.details?.length ? ` (${status.details.join('; ')})` : ''}.`);
  }
}

/** KSeF says the invoice is a duplicate of one we already hold under another file (same seller, kind and number). */
export class KsefDuplicateInvoiceError extends KsefError {
  constructor(environment: KsefEnvironmentName, readonly originalKsefNumber: string, readonly status: KsefErrorEntry) {
    super(environment, `KSeF already holds this invoice (same seller, kind and number) as ${originalKsefNumber}; a corrected invoice needs a new number.`);
  }
}

/** The company has not stored what this call needs (e.g. a KSeF token). */
export class KsefNotConfiguredError extends KsefError {}

/** How ksef-proxy signs in to KSeF, and with which context (for the messages). */
export interface SignIn {
  method: 'ksefToken' | 'certificate';
  contextNip: string;
  /** The certificate's NIP/PESEL or fingerprint, when a certificate signs in. */
  subject?: string;
}

const credentialName = (signIn: SignIn) => (signIn.method === 'ksefToken' ? 'the stored KSeF token' : `the stored authentication certificate (${signIn.subject})`);

/** KSeF refused to authenticate (auth status ≥ 400): 415 no permission in the context, 460 the certificate, 450 the token. */
export class KsefAuthenticationError extends KsefError {
  constructor(
    environment: KsefEnvironmentName,
    readonly status: KsefErrorEntry,
    readonly signIn: SignIn,
  ) {
    super(environment, authenticationMessage(environment, status, signIn));
  }
}

function authenticationMessage(environment: KsefEnvironmentName, status: KsefErrorEntry, signIn: SignIn): string {
  const said = `${status.code} ${status.description}${status.details?.length ? ` (${status.details.join('; ')})` : ''}`;
  const who = credentialName(signIn);
  const fix = `PUT /ksef/${environment}/credentials`;
  if (status.code === 415) {
    return (
      `KSeF refused to sign in with ${who}: it holds no permission in the context of NIP ${signIn.contextNip} (${said}). ` +
      `The owner of NIP ${signIn.contextNip} must grant it one (InvoiceWrite to send, InvoiceRead to read and sync), or set contextNip to the NIP it may act for (${fix}).`
    );
  }
  if (status.code === 460) return `KSeF refused the authentication certificate: ${said}. Store a valid one with ${fix}.`;
  return `KSeF refused to authenticate with ${who} in the context of NIP ${signIn.contextNip}: ${said}. Check it with ${fix}.`;
}

/**
 * KSeF answered 403 `missing-permissions`: the signed-in credentials hold none of the permissions the call
 * accepts (`requiredAnyOf`); `present` is what they hold. Nothing was done.
 */
export class KsefPermissionDeniedError extends KsefRejectedError {
  /** Who was refused, in which context (see refused). */
  signIn?: SignIn;

  constructor(
    environment: KsefEnvironmentName,
    entries: KsefErrorEntry[],
    readonly requiredAnyOf: string[],
    readonly present: string[],
  ) {
    super(environment, 403, entries);
    this.message = this.describe();
  }

  /** Names who was refused where; the client calls it, as the transport knows only the call. */
  refused(signIn: SignIn): void {
    this.signIn = signIn;
    this.message = this.describe();
  }

  private describe(): string {
    const signIn = this.signIn;
    const who = signIn ? `${credentialName(signIn)} lacks` : 'the signed-in credentials lack';
    const where = signIn ? ` in the context of NIP ${signIn.contextNip}` : ' in their context';
    const held = this.present.length ? this.present.join(', ') : 'none that counts here';
    const grantor = signIn ? `The owner of NIP ${signIn.contextNip}` : "The context's owner";
    return (
      `KSeF refused: ${who} the permission ${this.requiredAnyOf.join(' or ')}${where} (held: ${held}). ` +
      `${grantor} must grant ${this.requiredAnyOf[0] ?? 'it'}, or store credentials that hold it with PUT /ksef/${this.environment}/credentials; ` +
      `GET /ksef/${this.environment}/permissions shows what the stored ones hold.`
    );
  }
}

function describe(entries: KsefErrorEntry[], status: number): string {
  if (entries.length === 0) return `KSeF answered HTTP ${status}.`;
  return `KSeF answered ${entries.map((e) => `${e.code} ${e.description}${e.details?.length ? ` (${e.details.join('; ')})` : ''}`).join('; ')}.`;
}

/** Exception codes that mean "no such thing" (KSeF says 400 where others say 404). */
export const NOT_FOUND_CODES = new Set([21164, 21173, 21175, 21178, 21304]);

/** An outage simulation is on for the environment: ksef-proxy does not call KSeF online (offline mode is open). */
export class KsefOutageSimulatedError extends KsefUnavailableError {}

export const outageSimulated = (environment: KsefEnvironmentName) =>
  new KsefOutageSimulatedError(
    environment,
    `An outage simulation is active for KSeF ${environment}, so ksef-proxy treats KSeF as unavailable and sends nothing online. ` +
      `Offline mode is open: send the invoice with mode "offline" (signed with your offline certificate, queued for POST /invoices/${environment}/offline/send-batch), ` +
      `or switch the simulation off with PUT /ksef/${environment}/simulation.`,
  );

/** Offline mode is not possible now (KSeF available and no simulation; or sending the queue while KSeF is down). */
export class KsefOfflineModeError extends KsefError {}
