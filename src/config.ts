import path from 'node:path';

/** Everything the server reads from the environment, read once at start. The README's configuration table lists these. */
export interface AppConfig {
  port: number;
  host: string;
  /** Set → PostgreSQL through a pg Pool; unset → embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** `memory` keeps the embedded database in memory (tests). */
  embeddedStorage: 'disk' | 'memory';
  bodyLimit: string;
  authCacheTtlMs: number;
  bootstrap: {
    adminEmail: string | undefined;
    adminPassword: string | undefined;
    companyNip: string | undefined;
    companyName: string | undefined;
  };
  logRequests: boolean;
}

const int = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
};

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: int(env.PORT, 3000, 'PORT'),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    embeddedStorage: env.PGLITE_MEMORY === '1' ? 'memory' : 'disk',
    bodyLimit: env.BODY_LIMIT || '5mb',
    authCacheTtlMs: int(env.AUTH_CACHE_TTL_MS, 30_000, 'AUTH_CACHE_TTL_MS'),
    bootstrap: {
      adminEmail: env.ADMIN_EMAIL || undefined,
      adminPassword: env.ADMIN_PASSWORD || undefined,
      companyNip: env.COMPANY_NIP || undefined,
      companyName: env.COMPANY_NAME || undefined,
    },
    logRequests: env.LOG_REQUESTS === '1',
  };
}
