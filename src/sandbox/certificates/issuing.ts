import { generateKeyPair, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { CertificateAuthority } from '../keys.js';
import { CertificateEnrollment, CertificateStatus, KsefCertificate, KsefCertificateType, StatusInfo } from '../model.js';
import { SandboxState } from '../state.js';
import { addMonths } from '../util/time.js';
import {
  authorityKeyIdentifier,
  basicConstraints,
  extension,
  keyIdentifier,
  keyUsage,
  rsaSignedCertificate,
  subjectKeyIdentifier,
} from '../util/x509.js';
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

/** Every request counts against the enrollment limit for good (revoking does not give it back); only active certificates count against theirs. */
export function certificateLimits(state: SandboxState, ownerNip: string, now: Date): CertificateLimits {
  let enrollments = 0;
  for (const e of state.certificateEnrollments.values()) if (e.ownerNip === ownerNip) enrollments++;
  let active = 0;
  for (const c of state.certificates.values()) if (c.ownerNip === ownerNip && certificateStatus(c, now) === 'Active') active++;
  const enrollment = { remaining: Math.max(0, state.options.maxCertificateEnrollments - enrollments), limit: state.options.maxCertificateEnrollments };
  const certificate = { remaining: Math.max(0, state.options.maxActiveCertificates - active), limit: state.options.maxActiveCertificates };
  return { canRequest: enrollment.remaining > 0 && certificate.remaining > 0, enrollment, certificate };
}

export interface Issuance {
  ownerNip: string;
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
 * Signs and registers a certificate. Valid from `validFrom`, or from now when that is absent or already
 * past (a certificate does not predate its issuing), cut to whole seconds as X.509 times have no fractions.
 */
export function issueCertificate(state: SandboxState, authority: CertificateAuthority, issuance: Issuance): KsefCertificate {
  const now = state.now();
  const validFrom = wholeSeconds(issuance.validFrom && issuance.validFrom.getTime() > now.getTime() ? issuance.validFrom : now);
  const validTo = addMonths(validFrom, VALIDITY_MONTHS);
  const serialNumber = state.newCertificateSerial();
  const der = rsaSignedCertificate(
    {
      serial: Buffer.from(serialNumber, 'hex'),
      issuer: authority.name,
      subject: issuance.subject,
      validFrom,
      validTo,
      spki: issuance.spki,
      extensions: [
        extension('2.5.29.19', true, basicConstraints(false)),
        // certyfikaty-KSeF.md: Authentication → digitalSignature (80), Offline → nonRepudiation (40).
        extension('2.5.29.15', true, keyUsage(issuance.type === 'Offline' ? 0x40 : 0x80)),
        extension('2.5.29.14', false, subjectKeyIdentifier(keyIdentifier(issuance.spki))),
        extension('2.5.29.35', false, authorityKeyIdentifier(authority.keyIdentifier)),
      ],
    },
    authority.privateKey,
  );
  const cert: KsefCertificate = {
    serialNumber,
    ownerNip: issuance.ownerNip,
    name: issuance.name,
    type: issuance.type,
    commonName: issuance.commonName,
    der,
    spki: issuance.spki,
    validFrom,
    validTo,
    requestDate: issuance.requestDate,
    revoked: false,
  };
  state.certificates.set(serialNumber, cert);
  return cert;
}

/** The outcome of a request, decided after processingDelayMs: the status table of open-api.json (200, or 400 with a reason). */
function settleEnrollment(state: SandboxState, authority: CertificateAuthority, enrollment: CertificateEnrollment): void {
  const now = state.now();
  for (const c of state.certificates.values()) {
    if (c.ownerNip !== enrollment.ownerNip && c.spki.equals(enrollment.spki)) {
      enrollment.status = ENROLLMENT_STATUS.rejected('Klucz publiczny został już certyfikowany przez inny podmiot.');
      return;
    }
  }
  // Checked again here: requests accepted side by side may together go over the limit.
  if (certificateLimits(state, enrollment.ownerNip, now).certificate.remaining === 0) {
    enrollment.status = ENROLLMENT_STATUS.rejected('Osiągnięto dopuszczalny limit posiadanych certyfikatów.');
    return;
  }
  const cert = issueCertificate(state, authority, enrollment);
  enrollment.certificateSerialNumber = cert.serialNumber;
  enrollment.status = ENROLLMENT_STATUS.issued();
}

/** Registers an accepted request (status 100) and processes it in the background. */
export function submitEnrollment(state: SandboxState, authority: CertificateAuthority, enrollment: CertificateEnrollment): void {
  state.certificateEnrollments.set(enrollment.referenceNumber, enrollment);
  state.defer(state.options.processingDelayMs, () => {
    try {
      settleEnrollment(state, authority, enrollment);
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
  const certificate = issueCertificate(state, authority, {
    ownerNip: request.nip,
    name: request.name,
    type: request.type,
    subject: subjectName(data),
    commonName: data.commonName,
    spki: publicKey.export({ type: 'spki', format: 'der' }),
    requestDate: state.now(),
    validFrom: request.validFrom,
  });
  return { certificate, privateKey };
}
