import { Router } from 'express';
import { AuthorizedCall, Caller, protectedBy, query } from '../http/endpoint.js';
import { forbidden, gone, KsefError, ksef } from '../http/errors.js';
import {
  CERTIFICATE_NAME,
  CERTIFICATE_STATUSES,
  CertificateEnrollment,
  contextNip,
  KSEF_CERTIFICATE_TYPES,
  KsefCertificate,
  SubjectIdentifier,
  subjectKey,
} from '../model.js';
import { SandboxState } from '../state.js';
import { CERTIFICATE_SERIAL, REFERENCE_NUMBER } from '../util/ids.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';
import { readCertificateRequest } from './csr.js';
import { certificateLimits, certificateStatus, ENROLLMENT_STATUS, submitEnrollment } from './issuing.js';
import { EnrollmentData, enrollmentData, enrollmentDataOf, subjectDifferences } from './subject.js';

/**
 * KSeF certificates (`/certificates/*`, certyfikaty-KSeF.md): limits, enrollment data, requests with a
 * PKCS#10 CSR processed asynchronously, retrieval, metadata queries and revocation.
 *
 * Certificates belong to the authenticated subject, whatever the context: the NIP, PESEL or fingerprint a
 * XAdES sign-in authenticated, and the enrollment data are the attributes of the certificate it signed with.
 * A KSeF-token caller is the token's author, the NIP of its context (the only contexts a token reaches): it
 * sees that NIP's certificates, but like KSeF the sandbox refuses it enrollment data (25001), requests
 * (25002) and revocation (403 auth-method-not-allowed) — unless `certificatesWithTokenAuth` lets it act as
 * the company seal of its NIP.
 */

interface CertificateSubject {
  owner: SubjectIdentifier;
  /** What a CSR of this subject must carry; undefined when this sign-in cannot request certificates. */
  data?: EnrollmentData;
}

function certificateSubject(state: SandboxState, caller: Caller): CertificateSubject {
  const auth = caller.op.authentication;
  if (auth.kind === 'signature') {
    const data = enrollmentDataOf(auth.certificateSubject);
    const complete = data.commonName !== undefined && data.countryName !== undefined;
    return { owner: auth.subject, data: complete ? (data as EnrollmentData) : undefined };
  }
  const nip = contextNip(caller.context)!;
  return { owner: { type: 'Nip', value: nip }, data: state.options.certificatesWithTokenAuth ? enrollmentData(nip) : undefined };
}

/** The subject whose certificates (and certificate limits) a caller sees. */
export const certificateOwner = (state: SandboxState, caller: Caller) => certificateSubject(state, caller).owner;
const owns = (owner: SubjectIdentifier, item: { owner: SubjectIdentifier }) => subjectKey(item.owner) === subjectKey(owner);

const tokenRefusal = (code: 25001 | 25002, detail: string) =>
  new KsefError(
    code,
    code === 25001
      ? 'Brak możliwości pobrania danych do CSR dla wykorzystanego sposobu uwierzytelnienia.'
      : 'Brak możliwości złożenia wniosku certyfikacyjnego dla wykorzystanego sposobu uwierzytelnienia.',
    [detail],
  );

const TOKEN_REFUSAL_DETAIL = 'Wniosek o certyfikat KSeF wymaga uwierzytelnienia podpisem (XAdES), nie tokenem KSeF.';

/** Status of a request stays available for 30 days (open-api.json), then 410. */
const ENROLLMENT_RETENTION_MS = 30 * 24 * 3_600_000;

const REVOCATION_REASONS = ['Unspecified', 'Superseded', 'KeyCompromise'] as const;

function listItem(cert: KsefCertificate, now: Date) {
  return {
    certificateSerialNumber: cert.serialNumber,
    name: cert.name,
    type: cert.type,
    commonName: cert.commonName,
    status: certificateStatus(cert, now),
    subjectIdentifier: cert.owner,
    validFrom: ksefDateTime(cert.validFrom),
    validTo: ksefDateTime(cert.validTo),
    requestDate: ksefDateTime(cert.requestDate),
  };
}

export function certificateRoutes(state: SandboxState): Router {
  const router = Router();
  const authorized = (handler: (call: AuthorizedCall) => unknown) => protectedBy(state, 'access', { group: 'other' }, handler);

  router.get(
    '/certificates/limits',
    authorized(({ res, caller, now }) => {
      res.json(certificateLimits(state, certificateOwner(state, caller), now));
    }),
  );

  router.get(
    '/certificates/enrollments/data',
    authorized(({ res, caller }) => {
      const { data } = certificateSubject(state, caller);
      if (!data) {
        throw caller.op.authentication.kind === 'token'
          ? tokenRefusal(25001, TOKEN_REFUSAL_DETAIL)
          : tokenRefusal(25001, 'Certyfikat użyty do uwierzytelnienia nie zawiera atrybutów commonName i countryName.');
      }
      res.json(data);
    }),
  );

  router.post(
    '/certificates/enrollments',
    authorized(async ({ req, res, caller, now }) => {
      const keys = await state.keysReady;
      const r = BodyReader.of(req.body);
      const name = r.string('certificateName', { required: true, min: 5, max: 100, pattern: CERTIFICATE_NAME });
      const type = r.enumOf('certificateType', KSEF_CERTIFICATE_TYPES, { required: true });
      const csr = r.base64('csr', { required: true });
      const validFrom = r.dateTime('validFrom');
      r.done();

      const { owner, data } = certificateSubject(state, caller);
      if (!data) throw tokenRefusal(25002, TOKEN_REFUSAL_DETAIL);
      const limits = certificateLimits(state, owner, now);
      if (limits.enrollment.remaining === 0) throw ksef.enrollmentLimit(limits.enrollment.limit);
      if (limits.certificate.remaining === 0) throw ksef.certificateLimit(limits.certificate.limit);
      const request = readCertificateRequest(csr!);
      const differences = subjectDifferences(data, request.attributes);
      if (differences.length) throw ksef.csrSubjectMismatch(differences);

      // The spec's only example of a request reference number has type EH.
      const enrollment: CertificateEnrollment = {
        referenceNumber: state.newReference('EH', now),
        owner,
        requestDate: now,
        name: name!,
        type: type!,
        subject: request.subject,
        commonName: data.commonName,
        spki: request.spki,
        validFrom,
        status: ENROLLMENT_STATUS.accepted(),
      };
      submitEnrollment(state, keys.authority, enrollment);
      res.status(202).json({ referenceNumber: enrollment.referenceNumber, timestamp: ksefDateTime(now) });
    }),
  );

  router.get(
    '/certificates/enrollments/:referenceNumber',
    authorized(({ req, res, caller, now }) => {
      const ref = String(req.params.referenceNumber);
      if (!REFERENCE_NUMBER.test(ref)) throw ksef.validation(['referenceNumber: must be a 36-character reference number']);
      const enrollment = state.certificateEnrollments.get(ref);
      if (!enrollment || !owns(certificateOwner(state, caller), enrollment)) throw ksef.enrollmentNotFound(ref);
      if (now.getTime() - enrollment.requestDate.getTime() > ENROLLMENT_RETENTION_MS) throw gone();
      res.json({
        requestDate: ksefDateTime(enrollment.requestDate),
        status: enrollment.status,
        ...(enrollment.certificateSerialNumber ? { certificateSerialNumber: enrollment.certificateSerialNumber } : {}),
      });
    }),
  );

  router.post(
    '/certificates/retrieve',
    authorized(({ req, res, caller }) => {
      const r = BodyReader.of(req.body);
      const serials = r.stringArray('certificateSerialNumbers', { required: true, min: 1, max: 10, pattern: CERTIFICATE_SERIAL });
      r.done();
      const owner = certificateOwner(state, caller);
      // Unknown serials and other subjects' certificates are left out (the spec names no error for them).
      const found = [...new Set(serials)].flatMap((serial) => {
        const cert = state.certificates.get(serial);
        return cert && owns(owner, cert) ? [cert] : [];
      });
      res.json({
        certificates: found.map((cert) => ({
          certificate: cert.der.toString('base64'),
          certificateName: cert.name,
          certificateSerialNumber: cert.serialNumber,
          certificateType: cert.type,
        })),
      });
    }),
  );

  router.post(
    '/certificates/query',
    authorized(({ req, res, caller, now }) => {
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 50, fallback: 10 });
      const pageOffset = query.int(req, 'pageOffset', { min: 0, max: 1_000_000, fallback: 0 });
      // Every filter is optional, and so is the body.
      const r = BodyReader.of(req.body ?? {});
      const serial = r.string('certificateSerialNumber', { pattern: CERTIFICATE_SERIAL });
      const name = r.string('name');
      const type = r.enumOf('type', KSEF_CERTIFICATE_TYPES);
      const status = r.enumOf('status', CERTIFICATE_STATUSES);
      const expiresAfter = r.dateTime('expiresAfter');
      r.done();
      const owner = certificateOwner(state, caller);
      const matching = [...state.certificates.values()]
        .filter(
          (c) =>
            owns(owner, c) &&
            (serial === undefined || c.serialNumber === serial) &&
            // "contains"; case-insensitive like a database collation would be.
            (name === undefined || c.name.toLowerCase().includes(name.toLowerCase())) &&
            (type === undefined || c.type === type) &&
            (status === undefined || certificateStatus(c, now) === status) &&
            (expiresAfter === undefined || c.validTo.getTime() > expiresAfter.getTime()),
        )
        .sort((a, b) => b.requestDate.getTime() - a.requestDate.getTime() || a.serialNumber.localeCompare(b.serialNumber));
      const start = pageOffset * pageSize;
      res.json({
        certificates: matching.slice(start, start + pageSize).map((c) => listItem(c, now)),
        hasMore: matching.length > start + pageSize,
      });
    }),
  );

  router.post(
    '/certificates/:certificateSerialNumber/revoke',
    authorized(({ req, res, caller, now }) => {
      const serial = String(req.params.certificateSerialNumber);
      if (!CERTIFICATE_SERIAL.test(serial)) throw ksef.validation(['certificateSerialNumber: must be 16 upper-case hex digits']);
      const r = BodyReader.of(req.body ?? {});
      // Validated only: no KSeF answer reports the reason back.
      r.enumOf('revocationReason', REVOCATION_REASONS);
      r.done();
      if (caller.op.authentication.kind === 'token' && !state.options.certificatesWithTokenAuth) {
        throw forbidden('auth-method-not-allowed', 'Operacja nie jest dostępna dla podmiotu uwierzytelnionego tokenem KSeF.', {
          authenticationMethodCategory: 'Token',
        });
      }
      const cert = state.certificates.get(serial);
      if (!cert || !owns(certificateOwner(state, caller), cert)) throw ksef.certificateNotFound(serial);
      const status = certificateStatus(cert, now);
      if (status !== 'Active') throw ksef.certificateNotRevocable(serial, status);
      cert.revoked = true;
      res.status(204).end();
    }),
  );

  return router;
}
