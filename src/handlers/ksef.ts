import type { OperationHandlers } from '../../generated/operations.js';
import type { HandlerContext } from '../http/app.js';
import { badRequest } from '../http/errors.js';
import { AuthCertificateError, CredentialsInputError, KsefTokenContextError, OfflineCertificateError } from '../ksef-proxy/index.js';
import { caller, requireAdmin } from './caller.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getConnection' | 'getOutageSimulation' | 'setOutageSimulation' | 'getCredentials' | 'putCredentials' | 'getKsefPermissions'>;

export const ksefHandlers: Handlers = {
  async getConnection({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.connection(principal.companyId, params.environment, principal.companyNip) };
  },

  async getOutageSimulation({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.simulation(principal.companyId, params.environment) };
  },

  async setOutageSimulation({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: await ctx.services.ksef.setSimulation(admin.companyId, params.environment, body.active, body.offlineMode) };
  },

  async getCredentials({ params }, ctx) {
    const admin = requireAdmin(ctx);
    return { status: 200, body: await ctx.services.ksef.credentials.summary(admin.companyId, params.environment, admin.companyNip) };
  },

  async putCredentials({ params, body }, ctx) {
    const admin = requireAdmin(ctx);
    const certificate = body.authenticationCertificate;
    if (certificate) checkCertificateFields(certificate);
    try {
      const summary = await ctx.services.ksef.putCredentials(admin.companyId, admin.companyNip, params.environment, {
        ksefToken: body.ksefToken,
        contextNip: body.contextNip,
        offlineCertificate: body.offlineCertificate,
        authenticationCertificate: certificate ? { ...pairOf(certificate), subjectIdentifierType: certificate.subjectIdentifierType } : certificate,
        preferredAuthentication: body.preferredAuthentication,
      });
      return { status: 200, body: summary };
    } catch (err) {
      throw refusedCredentials(err);
    }
  },

  async getKsefPermissions({ params }, ctx) {
    const principal = caller(ctx);
    return { status: 200, body: await ctx.services.ksef.permissions(principal.companyId, params.environment) };
  },
};

type CertificateBody = NonNullable<NonNullable<Parameters<OperationHandlers<HandlerContext>['putCredentials']>[0]['body']>['authenticationCertificate']>;

const PEM_FIELDS = ['certificatePem', 'privateKeyPem'] as const;
const PKCS12_FIELDS = ['pkcs12Base64', 'password'] as const;

/** Exactly one form: the PEM pair or the PKCS#12 file with its password, each complete. */
function checkCertificateFields(certificate: CertificateBody): void {
  const given = (fields: readonly (keyof CertificateBody)[]) => fields.filter((f) => certificate[f] !== undefined);
  const pem = given(PEM_FIELDS);
  const pkcs12 = given(PKCS12_FIELDS);
  const base = 'body.authenticationCertificate';
  if (pem.length && pkcs12.length) {
    throw badRequest(`${base}: give either certificatePem with privateKeyPem, or pkcs12Base64 with password, not both. Nothing was stored.`, [
      { path: base, message: 'PEM and PKCS#12 fields together' },
    ]);
  }
  const form = pkcs12.length ? PKCS12_FIELDS : PEM_FIELDS;
  const missing = form.filter((f) => certificate[f] === undefined);
  if (missing.length) {
    throw badRequest(`${base}.${missing[0]} is required with ${form.filter((f) => !missing.includes(f)).join(', ') || 'a certificate'}. Nothing was stored.`, [
      ...missing.map((f) => ({ path: `${base}.${f}`, message: 'required' })),
    ]);
  }
}

function pairOf(certificate: CertificateBody) {
  return certificate.pkcs12Base64 !== undefined
    ? { pkcs12Base64: certificate.pkcs12Base64, password: certificate.password! }
    : { certificatePem: certificate.certificatePem!, privateKeyPem: certificate.privateKeyPem! };
}

/** A credentials error as a 400 naming its field; anything else as it is. */
function refusedCredentials(err: unknown): unknown {
  const named = (path: string, message: string) => badRequest(`${path} ${message}. Nothing was stored.`, [{ path, message }]);
  if (err instanceof KsefTokenContextError) return badRequest(`body.${err.field}: ${err.message}. Nothing was stored.`, [{ path: `body.${err.field}`, message: err.message }]);
  if (err instanceof OfflineCertificateError) return named(`body.offlineCertificate.${err.field}`, err.message);
  if (err instanceof AuthCertificateError) return named(`body.authenticationCertificate.${err.field}`, err.message);
  if (err instanceof CredentialsInputError) return named(`body.${err.field}`, err.message);
  return err;
}
