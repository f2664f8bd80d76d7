import type { Kysely } from 'kysely';
import type { Database } from '../db/schema';
import { compileDateFormatter, type DateFormatter, InvalidDatePatternError, isValidTimeZone, parseJavaPattern } from './date-format';

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

/**
 * `system_config`, cached in memory. A change made here is visible on the very next request; a
 * change made by another server process is picked up within `refreshMs`.
 */
export class SystemConfig {
  private values: Record<ConfigKey, string> | null = null;
  private loadedAt = 0;
  private formatter: { key: string; format: DateFormatter } | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly refreshMs = 5_000,
  ) {}

  async all(): Promise<Record<ConfigKey, string>> {
    if (!this.values || Date.now() - this.loadedAt > this.refreshMs) {
      try {
        const rows = await this.db.selectFrom('system_config').select(['key', 'value']).execute();
        const values = { ...configDefaults };
        for (const row of rows) if ((configKeys as readonly string[]).includes(row.key)) values[row.key as ConfigKey] = row.value;
        this.values = values;
        this.loadedAt = Date.now();
      } catch {
        // With the database away, answers (a 503 from /status among them) keep the last known format.
        if (!this.values) return { ...configDefaults };
      }
    }
    return this.values;
  }

  async get(key: ConfigKey): Promise<string> {
    return (await this.all())[key];
  }

  async set(key: ConfigKey, value: string): Promise<void> {
    // PostgreSQL text cannot hold U+0000, and no setting means anything by a control character.
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidConfigValueError('control characters (such as U+0000 or a line break) are not allowed');
    validators[key](value);
    await this.db
      .insertInto('system_config')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: new Date() }))
      .execute();
    this.values = null;
  }

  /** The one formatter every response date goes through. */
  async dateFormatter(): Promise<DateFormatter> {
    const values = await this.all();
    const key = `${values['api.date.format']}\u0000${values['api.date.timezone']}`;
    if (this.formatter?.key !== key) {
      this.formatter = { key, format: compileDateFormatter(values['api.date.format'], values['api.date.timezone']) };
    }
    return this.formatter.format;
  }
}
