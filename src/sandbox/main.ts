import { startSandbox } from './index.js';
import { SandboxOptions } from './options.js';

/**
 * `make sandbox` / `npm run sandbox`: the sandbox standalone. Configuration from the environment:
 * SANDBOX_PORT (4010), SANDBOX_HOST (127.0.0.1), SANDBOX_PUBLIC_BASE_URL, SANDBOX_TOKEN_MODE (open|strict),
 * SANDBOX_RATE_LIMITS (off|published), SANDBOX_AUTH_DELAY_MS, SANDBOX_PROCESSING_DELAY_MS,
 * SANDBOX_PERMANENT_STORAGE_DELAY_MS, SANDBOX_ACCESS_TOKEN_TTL_SECONDS, SANDBOX_REFRESH_TOKEN_TTL_SECONDS,
 * SANDBOX_FAULTS=1 (admin API under /sandbox), SANDBOX_EXPORT_PART_BYTES (export part size, default 50 MB),
 * SANDBOX_EXPORT_INVOICE_LIMIT (invoices per export package, default 10 000), SANDBOX_CERTIFICATES_WITH_TOKEN_AUTH=1
 * (KSeF-token callers may request certificates as their NIP's seal).
 */

function numberFromEnv(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number (got "${raw}")`);
  return value;
}

function oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!allowed.includes(raw as T)) throw new Error(`${name} must be one of ${allowed.join(', ')} (got "${raw}")`);
  return raw as T;
}

async function main() {
  const options: SandboxOptions & { port: number; host: string } = {
    port: numberFromEnv('SANDBOX_PORT') ?? 4010,
    host: process.env.SANDBOX_HOST || '127.0.0.1',
    publicBaseUrl: process.env.SANDBOX_PUBLIC_BASE_URL || undefined,
    tokenMode: oneOf('SANDBOX_TOKEN_MODE', ['open', 'strict'] as const),
    rateLimits: oneOf('SANDBOX_RATE_LIMITS', ['off', 'published'] as const),
    authDelayMs: numberFromEnv('SANDBOX_AUTH_DELAY_MS'),
    processingDelayMs: numberFromEnv('SANDBOX_PROCESSING_DELAY_MS'),
    permanentStorageDelayMs: numberFromEnv('SANDBOX_PERMANENT_STORAGE_DELAY_MS'),
    accessTokenTtlSeconds: numberFromEnv('SANDBOX_ACCESS_TOKEN_TTL_SECONDS'),
    refreshTokenTtlSeconds: numberFromEnv('SANDBOX_REFRESH_TOKEN_TTL_SECONDS'),
    exportPartBytes: numberFromEnv('SANDBOX_EXPORT_PART_BYTES'),
    exportInvoiceLimit: numberFromEnv('SANDBOX_EXPORT_INVOICE_LIMIT'),
    faultsEnabled: ['1', 'true', 'yes'].includes((process.env.SANDBOX_FAULTS ?? '').toLowerCase()),
    certificatesWithTokenAuth: ['1', 'true', 'yes'].includes((process.env.SANDBOX_CERTIFICATES_WITH_TOKEN_AUTH ?? '').toLowerCase()),
  };
  const sandbox = await startSandbox(options);
  console.log(
    `KSeF sandbox listening on ${sandbox.url} (API ${sandbox.apiUrl}; token mode ${sandbox.state.options.tokenMode}; ` +
      `rate limits ${sandbox.state.rateLimiter.mode}; admin API ${options.faultsEnabled ? `${sandbox.url}/sandbox` : 'off'})`,
  );
  const stop = (signal: string) => {
    console.log(`KSeF sandbox stopping (${signal})`);
    sandbox.close().then(
      () => process.exit(0),
      (err) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(`KSeF sandbox failed to start: ${(err as Error).message}`);
  process.exit(1);
});
