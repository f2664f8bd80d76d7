import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CertificateAuthority } from '../keys.js';
import { CertificateEnrollment, CertificateStatus, KsefCertificate, KsefCertificateType, StatusInfo, SubjectIdentifier, subjectKey } from '../model.js';
import { SandboxState } from '../state.js';
import { addMonths } from '../util/time.js';
import { basicConstraints, keyUsage, x509 } from '../util/x509.js';
import { enrollmentData, subjectName } from './subject.js';

/** Issuing KSeF certificates: limits, the asynchronous processing of requests, and the certificates themselves. */

/** Two years, as in the spec's list example (validFrom 2025-08-24 → validTo 2027-08-24). */
const VALIDITY_MONTHS = 24;

export const ENROLLMENT_STATUS = {
  accepted: (): StatusInfo => ({ code: 100, description: 'Wniosek przyjęty do realizacji' }),
  issued: (): StatusInfo => ({ code: 200, description: 'Wniosek obsłużony (certyfikat wygenerowany)' }),
  rejected: (detail: string): StatusInfo => ({ code: 400, description: 'Wniosek odrzucony', details: [detail] }),
  unknownError: (): StatusInfo => ({ code: 500, description: 'Nieznany błąd' }),
};

export function certificateStatus(cert: KsefCertificate, now: Date): CertificateStatus {
  if (cert.revoked) return 'Revoked';
  return cert.validTo.getTime() <= now.getTime() ? 'Expired' : 'Active';
}

export interface CertificateLimits {
  canRequest: boolean;
  enrollment: { remaining: number; limit: number };
  certificate: { remaining: number; limit: number };
}

/** KSeF's limits (limity.md): a NIP may file 300 requests and hold 100 certificates, a PESEL or a fingerprint 12 and 6. */
const DEFAULT_LIMITS: Record<SubjectIdentifier['type'], { maxEnrollments: number; maxCertificates: number }> = {
  Nip: { maxEnrollments: 300, maxCertificates: 100 },
  Pesel: { maxEnrollments: 12, maxCertificates: 6 },
  Fingerprint: { maxEnrollments: 12, maxCertificates: 6 },
};

/** The limits in force for a subject: its `/testdata/limits/subject/certificate` override, else the options, else KSeF's. */
export function subjectCertificateLimits(state: SandboxState, owner: SubjectIdentifier): { maxEnrollments: number; maxCertificates: number } {
  const override = state.subjectCertificateLimits.get(subjectKey(owner));
  const defaults = DEFAULT_LIMITS[owner.type];
  return {
    maxEnrollments: override?.maxEnrollments ?? state.options.maxCertificateEnrollments ?? defaults.maxEnrollments,
    maxCertificates: override?.maxCertificates ?? state.options.maxActiveCertificates ?? defaults.maxCertificates,
  };
}

/** Every request counts against the enrollment limit for good (revoking does not give it back); only active certificates count against theirs. */
export function certificateLimits(state: SandboxState, owner: SubjectIdentifier, now: Date): CertificateLimits {
  const key = subjectKey(owner);
  let enrollments = 0;
  for (const e of state.certificateEnrollments.values()) if (subjectKey(e.owner) === key) enrollments++;
  let active = 0;
  for (const c of state.certificates.values()) if (subjectKey(c.owner) === key && certificateStatus(c, now) === 'Active') active++;
  const limits = subjectCertificateLimits(state, owner);
  const enrollment = { remaining: Math.max(0, limits.maxEnrollments - enrollments), limit: limits.maxEnrollments };
  const certificate = { remaining: Math.max(0, limits.maxCertificates - active), limit: limits.maxCertificates };
  return { canRequest: enrollment.remaining > 0 && certificate.remaining > 0, enrollment, certificate };
}

export interface Issuance {
  owner: SubjectIdentifier;
  name: string;
  type: KsefCertificateType;
  subject: Buffer;
  commonName: string;
  spki: Buffer;
  requestDate: Date;
  validFrom?: Date;
}

const wholeSeconds = (d: Date) => new Date(Math.floor(d.getTime() / 1000) * 1000);

/**
 * Signs a certificate, not yet registered. Valid from `validFrom`, or from now when that is absent or
 * already past (a certificate does not predate its issuing), cut to whole seconds as X.509 times have no
 * fractions.
 */
async function signCertificate(state: SandboxState, authority: CertificateAuthority, issuance: Issuance): Promise<KsefCertificate> {
  const now = state.now();
  const validFrom = wholeSeconds(issuance.validFrom && issuance.validFrom.getTime() > now.getTime() ? issuance.validFrom : now);
  const validTo = addMonths(validFrom, VALIDITY_MONTHS);
  const serialNumber = state.newCertificateSerial();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber,
    issuer: authority.name,
    subject: new x509.Name(new Uint8Array(issuance.subject)),
    notBefore: validFrom,
    notAfter: validTo,
    publicKey: new Uint8Array(issuance.spki),
    signingKey: authority.signingKey,
    extensions: [
      basicConstraints(false),
      // certyfikaty-KSeF.md: Authentication → digitalSignature, Offline → nonRepudiation.
      keyUsage(issuance.type === 'Offline' ? x509.KeyUsageFlags.nonRepudiation : x509.KeyUsageFlags.digitalSignature),
      await x509.SubjectKeyIdentifierExtension.create(new Uint8Array(issuance.spki)),
      new x509.AuthorityKeyIdentifierExtension(authority.keyIdentifier),
    ],
  });
  return {
    serialNumber,
    owner: issuance.owner,
    name: issuance.name,
    type: issuance.type,
    commonName: issuance.commonName,
    der: Buffer.from(certificate.rawData),
    spki: issuance.spki,
    validFrom,
    validTo,
    requestDate: issuance.requestDate,
    revoked: false,
  };
}

/** Why a request cannot be granted now, or undefined: the status table of open-api.json (400 with a reason). */
function refusalOf(state: SandboxState, enrollment: CertificateEnrollment): string | undefined {
  for (const c of state.certificates.values()) {
    if (subjectKey(c.owner) !== subjectKey(enrollment.owner) && c.spki.equals(enrollment.spki)) return 'Klucz publiczny został już certyfikowany przez inny podmiot.';
  }
  // Checked again here: requests accepted side by side may together go over the limit.
  if (certificateLimits(state, enrollment.owner, state.now()).certificate.remaining === 0) return 'Osiągnięto dopuszczalny limit posiadanych certyfikatów.';
  return undefined;
}

/** The outcome of a request, decided after processingDelayMs: 200 with the certificate, or 400 with a reason. */
async function settleEnrollment(state: SandboxState, authority: CertificateAuthority, enrollment: CertificateEnrollment): Promise<void> {
  // Signed before the checks, so that checking and registering happen in one turn of the event loop:
  // requests settled side by side cannot each pass the checks while the other is being signed.
  const cert = await signCertificate(state, authority, enrollment);
  const refusal = refusalOf(state, enrollment);
  if (refusal) {
    enrollment.status = ENROLLMENT_STATUS.rejected(refusal);
    return;
  }
  state.certificates.set(cert.serialNumber, cert);
  enrollment.certificateSerialNumber = cert.serialNumber;
  enrollment.status = ENROLLMENT_STATUS.issued();
}

/** Registers an accepted request (status 100) and processes it in the background. */
export function submitEnrollment(state: SandboxState, authority: CertificateAuthority, enrollment: CertificateEnrollment): void {
  state.certificateEnrollments.set(enrollment.referenceNumber, enrollment);
  state.defer(state.options.processingDelayMs, async () => {
    try {
      await settleEnrollment(state, authority, enrollment);
    } catch (err) {
      console.error('[sandbox] certificate issuing failed', err);
      enrollment.status = ENROLLMENT_STATUS.unknownError();
    }
  });
}

const generate = promisify(generateKeyPair);

/**
 * A fresh key pair and a certificate for it with the NIP's enrollment data, registered as if requested
 * through the API (the admin shortcut to an Offline certificate for KOD II).
 */
export async function issueWithNewKey(
  state: SandboxState,
  authority: CertificateAuthority,
  request: { nip: string; keyType: 'RSA' | 'EC'; type: KsefCertificateType; name: string; validFrom?: Date },
): Promise<{ certificate: KsefCertificate; privateKey: KeyObject }> {
  const { publicKey, privateKey } =
    request.keyType === 'RSA' ? await generate('rsa', { modulusLength: 2048 }) : await generate('ec', { namedCurve: 'prime256v1' });
  const data = enrollmentData(request.nip);
  const certificate = await signCertificate(state, authority, {
    owner: { type: 'Nip', value: request.nip },
    name: request.name,
    type: request.type,
    subject: subjectName(data),
    commonName: data.commonName,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    requestDate: state.now(),
    validFrom: request.validFrom,
  });
  state.certificates.set(certificate.serialNumber, certificate);
  return { certificate, privateKey };
}
