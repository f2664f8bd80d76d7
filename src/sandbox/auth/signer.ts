import { createHash, X509Certificate } from 'node:crypto';
import { certificateStatus } from '../certificates/issuing.js';
import { SUBJECT_ATTRIBUTES } from '../certificates/subject.js';
import { CertificateAuthority } from '../keys.js';
import { KsefCertificate, SignatureMethod, SubjectIdentifier } from '../model.js';
import { SandboxState } from '../state.js';
import { NIP } from '../util/ids.js';
import { x509 } from '../util/x509.js';

/**
 * Who signed an `AuthTokenRequest` (auth/podpis-xades.md, "Wymagane atrybuty certyfikatów"): a KSeF
 * certificate the sandbox issued names the subject it was issued to; any other certificate (TEST takes
 * self-signed ones) names a NIP in a seal's organizationIdentifier (`VATPL-…`) or a PESEL or NIP in a
 * person's serialNumber (`PNOPL-…`/`PESEL…`, `TINPL-…`/`NIP…`). Every certificate has its fingerprint.
 */

export interface Signer {
  /** SHA-256 of the certificate DER, 64 upper-case hex digits. */
  fingerprint: string;
  method: SignatureMethod;
  /** The NIP or PESEL the certificate names (a KSeF certificate: its owner). */
  identifier?: SubjectIdentifier;
  /** Why the certificate cannot authenticate as `certificateSubject` (KSeF 21115), when it cannot. */
  subjectProblem?: string;
  /** The certificate's subject Name, DER. */
  subjectName: Buffer;
  ksefCertificate?: KsefCertificate;
  certificate: X509Certificate;
  parsed: x509.X509Certificate;
}

const OID = SUBJECT_ATTRIBUTES;

const PESEL_SERIAL = /(PNOPL|PESEL).*?(\d{11})/;
const NIP_SERIAL = /(TINPL|NIP).*?(\d{10})/;
const NIP_ORGANIZATION = /(VATPL).*?(\d{10})/;

const missing = (present: Record<string, string | undefined>, names: Array<keyof typeof OID>) => names.filter((n) => present[n] === undefined);

/** The sandbox's own KSeF certificate, when the sandbox CA signed this one. */
function issuedBySandbox(state: SandboxState, authority: CertificateAuthority, certificate: X509Certificate, der: Buffer): KsefCertificate | undefined {
  if (!certificate.checkIssued(new X509Certificate(authority.certificateDer)) || !certificate.verify(authority.publicKey)) return undefined;
  const registered = state.certificates.get(certificate.serialNumber.toUpperCase());
  return registered && registered.der.equals(der) ? registered : undefined;
}

export function identifySigner(state: SandboxState, authority: CertificateAuthority, der: Buffer, certificate: X509Certificate): Signer {
  const parsed = new x509.X509Certificate(new Uint8Array(der));
  const subjectName = Buffer.from(parsed.subjectName.toArrayBuffer());
  const fingerprint = createHash('sha256').update(der).digest('hex').toUpperCase();
  const common = { fingerprint, subjectName, certificate, parsed };

  const ksefCertificate = issuedBySandbox(state, authority, certificate, der);
  if (ksefCertificate) return { ...common, method: 'InternalCertificate', identifier: ksefCertificate.owner, ksefCertificate };

  const fields = Object.fromEntries(Object.entries(OID).map(([name, oid]) => [name, parsed.subjectName.getField(oid)[0]])) as Record<
    keyof typeof OID,
    string | undefined
  >;
  if (fields.organizationIdentifier !== undefined) {
    const nip = NIP_ORGANIZATION.exec(fields.organizationIdentifier)?.[2];
    const absent = missing(fields, ['organizationName', 'commonName', 'countryName']);
    const subjectProblem =
      fields.givenName !== undefined || fields.surname !== undefined
        ? 'Certyfikat pieczęci (z organizationIdentifier) nie może zawierać atrybutów givenName ani surname.'
        : absent.length
          ? `Certyfikat pieczęci nie zawiera atrybutów: ${absent.join(', ')}.`
          : !nip || !NIP.test(nip)
            ? `organizationIdentifier "${fields.organizationIdentifier}" nie zawiera numeru NIP (VATPL-…).`
            : undefined;
    return { ...common, method: 'QualifiedSeal', identifier: subjectProblem ? undefined : { type: 'Nip', value: nip! }, subjectProblem };
  }
  const serial = fields.serialNumber ?? '';
  const pesel = PESEL_SERIAL.exec(serial)?.[2];
  const nip = NIP_SERIAL.exec(serial)?.[2];
  const absent = missing(fields, ['givenName', 'surname', 'serialNumber', 'commonName', 'countryName']);
  const subjectProblem = absent.length
    ? `Certyfikat osoby fizycznej nie zawiera atrybutów: ${absent.join(', ')}.`
    : !pesel && !(nip && NIP.test(nip))
      ? `serialNumber "${serial}" nie zawiera numeru PESEL (PNOPL-…) ani NIP (TINPL-…).`
      : undefined;
  const identifier: SubjectIdentifier | undefined = subjectProblem ? undefined : pesel ? { type: 'Pesel', value: pesel } : { type: 'Nip', value: nip! };
  return { ...common, method: 'QualifiedSignature', identifier, subjectProblem };
}

/**
 * What makes KSeF end the operation with status 460 (details as in open-api.json's examples): outside its
 * validity, a revoked or Offline KSeF certificate, no key usage for signing, a broken self-signature, or,
 * with `verifyCertificateChain=true`, any chain but the sandbox's own.
 */
export function certificateFault(signer: Signer, now: Date, verifyChain: boolean): string | undefined {
  const { parsed, certificate, ksefCertificate } = signer;
  if (now.getTime() < parsed.notBefore.getTime() || now.getTime() > parsed.notAfter.getTime()) return 'Nieważny certyfikat.';
  if (ksefCertificate) {
    if (certificateStatus(ksefCertificate, now) === 'Revoked') return 'Certyfikat odwołany.';
    // certyfikaty-KSeF.md: an Offline certificate "nie umożliwia uwierzytelnienia".
    if (ksefCertificate.type !== 'Authentication') return 'Niepoprawny certyfikat.';
    return undefined;
  }
  const usage = parsed.getExtension(x509.KeyUsagesExtension);
  if (usage && !(usage.usages & (x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation))) return 'Niepoprawny certyfikat.';
  if (certificate.checkIssued(certificate) && !certificate.verify(certificate.publicKey)) return 'Niepoprawny certyfikat.';
  if (verifyChain) return 'Niezaufany łańcuch certyfikatów.';
  return undefined;
}
