/**
 * KSeF's `AuthTokenRequest` (auth/schemy/schemat_auth_v2-1.xsd, or 2.0 with the same elements), the document
 * a client signs to authenticate with a certificate. Unsigned here: signEnveloped adds the signature.
 */

export const AUTH_TOKEN_NAMESPACES = {
  '2.0': 'http://ksef.mf.gov.pl/auth/token/2.0',
  '2.1': 'http://ksef.mf.gov.pl/auth/token/2.1',
} as const;

export type AuthContextType = 'Nip' | 'InternalId' | 'NipVatUe' | 'PeppolId';
export type SubjectIdentifierType = 'certificateSubject' | 'certificateFingerprint';

export interface AuthTokenRequestFields {
  /** From `POST /auth/challenge`. */
  challenge: string;
  context: { type: AuthContextType; value: string };
  /** certificateSubject: the NIP/PESEL the certificate names; certificateFingerprint: its SHA-256. */
  subjectIdentifierType: SubjectIdentifierType;
  /** Client addresses allowed to use the access token (each list at most 10). */
  allowedIps?: { addresses?: string[]; ranges?: string[]; masks?: string[] };
  /** Default 2.0, the namespace of the official clients. */
  version?: keyof typeof AUTH_TOKEN_NAMESPACES;
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const element = (name: string, text: string) => `<${name}>${escape(text)}</${name}>`;

export function authTokenRequestXml(fields: AuthTokenRequestFields): string {
  const ips = fields.allowedIps;
  const policy = ips
    ? [
        '<AuthorizationPolicy><AllowedIps>',
        ...(ips.addresses ?? []).map((ip) => element('Ip4Address', ip)),
        ...(ips.ranges ?? []).map((ip) => element('Ip4Range', ip)),
        ...(ips.masks ?? []).map((ip) => element('Ip4Mask', ip)),
        '</AllowedIps></AuthorizationPolicy>',
      ].join('')
    : '';
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    `<AuthTokenRequest xmlns="${AUTH_TOKEN_NAMESPACES[fields.version ?? '2.0']}">`,
    element('Challenge', fields.challenge),
    `<ContextIdentifier>${element(fields.context.type, fields.context.value)}</ContextIdentifier>`,
    element('SubjectIdentifierType', fields.subjectIdentifierType),
    policy,
    '</AuthTokenRequest>',
  ].join('');
}
