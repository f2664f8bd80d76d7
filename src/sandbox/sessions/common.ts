import { Caller } from '../http/endpoint.js';
import { ksef } from '../http/errors.js';
import { KeyStore } from '../keys.js';
import { FA3_FORM, FormCode, openerKey, Session, SessionType } from '../model.js';
import { SandboxState } from '../state.js';
import { rsaOaepDecrypt } from '../util/crypto.js';
import { BodyReader } from '../util/validate.js';

/** Request pieces shared by online and batch sessions. */

export function readFormCode(r: BodyReader): FormCode | undefined {
  const form = r.object('formCode', { required: true });
  const systemCode = form?.string('systemCode', { required: true });
  const schemaVersion = form?.string('schemaVersion', { required: true });
  const value = form?.string('value', { required: true });
  if (systemCode === undefined || schemaVersion === undefined || value === undefined) return undefined;
  if (systemCode !== FA3_FORM.systemCode || schemaVersion !== FA3_FORM.schemaVersion || value !== FA3_FORM.value) {
    form?.fail('systemCode', `the sandbox accepts only {systemCode: "FA (3)", schemaVersion: "1-0E", value: "FA"} (got ${systemCode} ${schemaVersion} ${value})`);
    return undefined;
  }
  return { systemCode, schemaVersion, value };
}

export interface EncryptionRequest {
  encryptedSymmetricKey: Buffer;
  initializationVector: Buffer;
  publicKeyId?: string;
}

export function readEncryption(r: BodyReader): EncryptionRequest | undefined {
  const enc = r.object('encryption', { required: true });
  const encryptedSymmetricKey = enc?.base64('encryptedSymmetricKey', { required: true });
  const initializationVector = enc?.base64('initializationVector', { required: true, decodedLength: 16 });
  const publicKeyId = enc?.string('publicKeyId', { length: 44 });
  if (!encryptedSymmetricKey || !initializationVector) return undefined;
  return { encryptedSymmetricKey, initializationVector, publicKeyId };
}

/** The session AES key, or undefined when it cannot be unwrapped (the session then gets status 415). */
export function unwrapSessionKey(keys: KeyStore, enc: EncryptionRequest): Buffer | undefined {
  const entry = enc.publicKeyId === undefined ? keys.forUsage('SymmetricKeyEncryption') : keys.find(enc.publicKeyId, 'SymmetricKeyEncryption');
  if (!entry) throw ksef.unknownKey(enc.publicKeyId!);
  try {
    const key = rsaOaepDecrypt(entry.privateKey, enc.encryptedSymmetricKey);
    return key.length === 32 ? key : undefined;
  } catch {
    return undefined;
  }
}

/** Sessions of the caller's context; with only InvoiceWrite, just the ones it opened (its KSeF token, or its signing subject). */
export function canSee(caller: Caller, session: Session): boolean {
  if (session.context.type !== caller.context.type || session.context.value !== caller.context.value) return false;
  if (caller.permissions.has('Introspection') || caller.permissions.has('EnforcementOperations')) return true;
  return openerKey(session.authentication) === openerKey(caller.op.authentication);
}

export function findSession(state: SandboxState, caller: Caller, ref: string, type?: SessionType): Session {
  const session = state.sessions.get(ref);
  if (!session || !canSee(caller, session) || (type && session.type !== type)) throw ksef.sessionNotFound(ref);
  return session;
}

export function newSession(
  state: SandboxState,
  caller: Caller,
  type: SessionType,
  form: FormCode,
  key: Buffer | undefined,
  iv: Buffer,
  validUntil: Date,
  now: Date,
): Session {
  return {
    type,
    referenceNumber: state.newReference(type === 'Online' ? 'SO' : 'SB', now),
    context: caller.context,
    authReference: caller.op.referenceNumber,
    authentication: caller.op.authentication,
    formCode: form,
    dateCreated: now,
    dateUpdated: now,
    validUntil,
    status: { code: 100, description: '' },
    key,
    iv,
    invoices: [],
    invoicesByReference: new Map(),
    pending: 0,
    successCount: 0,
    failedCount: 0,
    upoPages: [],
  };
}

export const SESSION_PERMISSIONS = ['InvoiceWrite', 'PefInvoiceWrite', 'EnforcementOperations'] as const;
