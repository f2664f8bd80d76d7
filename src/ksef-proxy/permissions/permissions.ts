import type { KsefEnvironmentName } from '../../config.js';
import type { CredentialsStore, AuthenticationMethod } from '../credentials/credentials.js';
import { KsefNotConfiguredError } from '../errors.js';
import type { PersonalGrant } from '../transport/api.js';
import type { KsefClient } from '../transport/client.js';

/**
 * What the stored credentials may do in their context (uprawnienia.md), read from KSeF after signing in:
 * a KSeF token carries the permissions it was made with (GET /tokens/{ref}); a certificate's holder has the
 * Owner's set when it names the context's NIP, plus what was granted to it there (POST
 * /permissions/query/personal/grants). A sign-in without any permission in the context fails with 415 first.
 */

/** The Owner holds every permission in its NIP's context but VatUeManage; EnforcementOperations needs a role. */
const OWNER_PERMISSIONS = ['CredentialsManage', 'CredentialsRead', 'Introspection', 'InvoiceRead', 'InvoiceWrite', 'SubunitManage'];

export interface PermissionGrantView {
  id: string;
  permission: string;
  description: string;
  startDate: Date;
  canDelegate: boolean;
  /** The context that granted it: the context itself, or for an indirect grant the intermediary. */
  grantedBy: { type: string; value: string } | null;
  /** An indirect grant's target: the context's NIP, or AllPartners (every client of the intermediary). */
  target: { type: string; value: string | null } | null;
}

export interface KsefPermissionsView {
  environment: KsefEnvironmentName;
  contextNip: string;
  authenticationMethod: AuthenticationMethod;
  /** Who signed in: the certificate's NIP/PESEL or fingerprint; for a token, the subject that made it. */
  subject: { type: string; value: string } | null;
  owner: boolean;
  /** Everything the credentials may do in the context, sorted. */
  permissions: string[];
  canSendInvoices: boolean;
  canReadInvoices: boolean;
  /** Grants to the certificate's holder that reach the context (empty for a token: its set is fixed). */
  grants: PermissionGrantView[];
  ksefToken: { referenceNumber: string; status: string } | null;
}

const SEND = ['InvoiceWrite', 'PefInvoiceWrite', 'EnforcementOperations'];

/** Whether a personal grant serves the context: given in it, or an indirect grant aimed at it or at all partners. */
function reaches(grant: PersonalGrant, contextNip: string): boolean {
  const target = grant.targetIdentifier;
  if (target) return target.type === 'AllPartners' || (target.type === 'Nip' && target.value === contextNip);
  return grant.contextIdentifier?.type === 'Nip' && grant.contextIdentifier.value === contextNip;
}

export async function credentialPermissions(
  client: KsefClient,
  credentials: CredentialsStore,
  companyId: string,
  environment: KsefEnvironmentName,
): Promise<KsefPermissionsView> {
  const stored = await credentials.get(companyId, environment);
  const method = stored?.authenticationMethod;
  if (!stored || !method) {
    throw new KsefNotConfiguredError(environment, `Neither a KSeF token nor an authentication certificate is stored: PUT /ksef/${environment}/credentials first.`);
  }
  const { contextNip } = stored;
  if (method === 'ksefToken') {
    const referenceNumber = stored.ksefToken!.split('|')[0];
    const token = await client.call(companyId, environment, (api, bearer) => api.ksefTokenStatus(companyId, bearer, referenceNumber));
    const author = token.authorIdentifier ?? null;
    const permissions = [...new Set(token.requestedPermissions)].sort();
    return {
      environment,
      contextNip,
      authenticationMethod: method,
      subject: author,
      owner: author?.type === 'Nip' && author.value === contextNip,
      permissions,
      canSendInvoices: permissions.some((p) => SEND.includes(p)),
      canReadInvoices: permissions.includes('InvoiceRead'),
      grants: [],
      ksefToken: { referenceNumber, status: token.status },
    };
  }
  const certificate = stored.authCertificate!;
  const bySubject = certificate.subjectIdentifierType === 'certificateSubject' && certificate.identifier;
  const subject = bySubject ? certificate.identifier : { type: 'Fingerprint', value: certificate.fingerprint };
  const owner = Boolean(bySubject && subject?.type === 'Nip' && subject.value === contextNip);
  const personal = await client.call(companyId, environment, (api, bearer) => api.personalGrants(companyId, bearer));
  const grants = personal
    .filter((g) => g.permissionState === 'Active' && reaches(g, contextNip))
    .map(
      (g): PermissionGrantView => ({
        id: g.id,
        permission: g.permissionScope,
        description: g.description,
        startDate: new Date(g.startDate),
        canDelegate: g.canDelegate,
        grantedBy: g.contextIdentifier ?? null,
        target: g.targetIdentifier ? { type: g.targetIdentifier.type, value: g.targetIdentifier.value ?? null } : null,
      }),
    );
  const permissions = [...new Set([...(owner ? OWNER_PERMISSIONS : []), ...grants.map((g) => g.permission)])].sort();
  return {
    environment,
    contextNip,
    authenticationMethod: method,
    subject,
    owner,
    permissions,
    canSendInvoices: permissions.some((p) => SEND.includes(p)),
    canReadInvoices: permissions.includes('InvoiceRead'),
    grants,
    ksefToken: null,
  };
}
