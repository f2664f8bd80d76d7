import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import { compileDateFormatter, type DateFormatter, InvalidDatePatternError, isValidTimeZone, parseJavaPattern } from './date-format.js';

export const configKeys = ['api.date.format', 'api.date.timezone'] as const;
export type ConfigKey = (typeof configKeys)[number];

export const configDefaults: Record<ConfigKey, string> = {
  'api.date.format': 'yyyy-MM-dd HH:mm:ss',
  'api.date.timezone': 'Europe/Warsaw',
};

export class InvalidConfigValueError extends Error {}

const validators: Record<ConfigKey, (value: string) => void> = {
  'api.date.format': (value) => {
    try {
      parseJavaPattern(value);
    } catch (err) {
      if (err instanceof InvalidDatePatternError) throw new InvalidConfigValueError(`invalid date pattern: ${err.message}`);
      throw err;
    }
  },
  'api.date.timezone': (value) => {
    if (!isValidTimeZone(value)) throw new InvalidConfigValueError(`unknown time zone "${value}" (use an IANA name such as Europe/Warsaw)`);
  },
};

interface Loaded {
  values: Record<ConfigKey, string>;
  loadedAt: number;
  formatter?: { key: string; format: DateFormatter };
}

/**
 * Each company's settings (`company_settings`; a key not set is the default), cached in memory. A change
 * made here is visible on the very next request; one made by another server process within `refreshMs`.
 * Responses to unauthenticated requests (`/status`) use the installation's own company: the first one.
 */
export class CompanySettings {
  private readonly loaded = new Map<string, Loaded>();
  private firstCompany: Promise<string | null> | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly refreshMs = 5_000,
  ) {}

  /** `companyId` null: the installation's company (defaults before any company exists). */
  async all(companyId: string | null): Promise<Record<ConfigKey, string>> {
    return (await this.load(companyId)).values;
  }

  async get(companyId: string, key: ConfigKey): Promise<string> {
    return (await this.all(companyId))[key];
  }

  async set(companyId: string, key: ConfigKey, value: string): Promise<void> {
    // PostgreSQL text cannot hold U+0000, and no setting means anything by a control character.
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidConfigValueError('control characters (such as U+0000 or a line break) are not allowed');
    validators[key](value);
    await this.db
      .insertInto('company_settings')
      .values({ company_id: companyId, key, value })
      .onConflict((oc) => oc.columns(['company_id', 'key']).doUpdateSet({ value, updated_at: new Date() }))
      .execute();
    this.loaded.delete(companyId);
  }

  /** The one formatter every response date goes through. */
  async dateFormatter(companyId: string | null): Promise<DateFormatter> {
    const loaded = await this.load(companyId);
    const key = `${loaded.values['api.date.format']}\u0000${loaded.values['api.date.timezone']}`;
    if (loaded.formatter?.key !== key) loaded.formatter = { key, format: compileDateFormatter(loaded.values['api.date.format'], loaded.values['api.date.timezone']) };
    return loaded.formatter.format;
  }

  private async load(companyId: string | null): Promise<Loaded> {
    const id = companyId ?? (await this.installationCompany());
    if (!id) return { values: { ...configDefaults }, loadedAt: 0 };
    const cached = this.loaded.get(id);
    if (cached && Date.now() - cached.loadedAt <= this.refreshMs) return cached;
    try {
      const rows = await this.db.selectFrom('company_settings').select(['key', 'value']).where('company_id', '=', id).execute();
      const values = { ...configDefaults };
      for (const row of rows) if ((configKeys as readonly string[]).includes(row.key)) values[row.key as ConfigKey] = row.value;
      const fresh: Loaded = { values, loadedAt: Date.now(), formatter: cached?.formatter };
      this.loaded.set(id, fresh);
      return fresh;
    } catch {
      // With the database away, answers (a 503 from /status among them) keep the last known format.
      return cached ?? { values: { ...configDefaults }, loadedAt: 0 };
    }
  }

  private installationCompany(): Promise<string | null> {
    this.firstCompany ??= this.db
      .selectFrom('companies')
      .select('id')
      .orderBy('created_at')
      .limit(1)
      .executeTakeFirst()
      .then((row) => {
        if (!row) this.firstCompany = null; // none yet: ask again next time
        return row?.id ?? null;
      })
      .catch(() => {
        this.firstCompany = null;
        return null;
      });
    return this.firstCompany;
  }
}
