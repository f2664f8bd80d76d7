import { ksef } from '../http/errors.js';
import { isBase64 } from './crypto.js';
import { parseApiDateTime } from './time.js';

interface Presence {
  required?: boolean;
}
interface StringRules extends Presence {
  min?: number;
  max?: number;
  length?: number;
  pattern?: RegExp;
}
interface NumberRules extends Presence {
  min?: number;
  max?: number;
}

/**
 * Reads a JSON request body field by field and collects every problem, each naming its field; `done()`
 * throws one 21405 with all of them. JSON null counts as absent (the spec's fields are nullable).
 */
export class BodyReader {
  private constructor(
    private readonly value: Record<string, unknown>,
    private readonly prefix: string,
    private readonly errors: string[],
  ) {}

  static of(body: unknown): BodyReader {
    const errors: string[] = [];
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      errors.push('body: a JSON object is required');
      return new BodyReader({}, '', errors);
    }
    return new BodyReader(body as Record<string, unknown>, '', errors);
  }

  private name(key: string) {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  fail(key: string, message: string): void {
    this.errors.push(`${this.name(key)}: ${message}`);
  }

  private present(key: string, rules: Presence): unknown {
    const v = this.value[key];
    if (v === undefined || v === null) {
      if (rules.required) this.fail(key, 'is required');
      return undefined;
    }
    return v;
  }

  string(key: string, rules: StringRules = {}): string | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (typeof v !== 'string') return void this.fail(key, 'must be a string');
    if (rules.length !== undefined && v.length !== rules.length) return void this.fail(key, `must be exactly ${rules.length} characters`);
    if (rules.min !== undefined && v.length < rules.min) return void this.fail(key, `must be at least ${rules.min} characters`);
    if (rules.max !== undefined && v.length > rules.max) return void this.fail(key, `must be at most ${rules.max} characters`);
    if (rules.pattern && !rules.pattern.test(v)) return void this.fail(key, `has an invalid format`);
    return v;
  }

  /** One of `values`; `caseInsensitive` also takes other spellings (the test-data docs write `nip`), answering the canonical one. */
  enumOf<T extends string>(key: string, values: readonly T[], rules: Presence & { caseInsensitive?: boolean } = {}): T | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    const found = typeof v === 'string' ? values.find((value) => value === v || (rules.caseInsensitive && value.toLowerCase() === v.toLowerCase())) : undefined;
    if (found === undefined) return void this.fail(key, `must be one of ${values.join(', ')}`);
    return found;
  }

  int(key: string, rules: NumberRules = {}): number | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) return void this.fail(key, 'must be an integer');
    if (rules.min !== undefined && v < rules.min) return void this.fail(key, `must be at least ${rules.min}`);
    if (rules.max !== undefined && v > rules.max) return void this.fail(key, `must be at most ${rules.max}`);
    return v;
  }

  number(key: string, rules: Presence = {}): number | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isFinite(v)) return void this.fail(key, 'must be a number');
    return v;
  }

  bool(key: string, rules: Presence = {}): boolean | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (typeof v !== 'boolean') return void this.fail(key, 'must be a boolean');
    return v;
  }

  /** An API date-time (without an offset: Warsaw time). */
  dateTime(key: string, rules: Presence = {}): Date | undefined {
    const v = this.string(key, rules);
    if (v === undefined) return undefined;
    const parsed = parseApiDateTime(v);
    if (!parsed) return void this.fail(key, 'must be a date-time');
    return parsed;
  }

  /** Standard Base64 with padding; `decodedLength` checks the decoded byte count. */
  base64(key: string, rules: Presence & { decodedLength?: number; length?: number } = {}): Buffer | undefined {
    const v = this.string(key, { required: rules.required, length: rules.length });
    if (v === undefined) return undefined;
    if (!isBase64(v)) return void this.fail(key, 'must be standard Base64 with padding');
    const bytes = Buffer.from(v, 'base64');
    if (rules.decodedLength !== undefined && bytes.length !== rules.decodedLength) {
      return void this.fail(key, `must encode exactly ${rules.decodedLength} bytes`);
    }
    return bytes;
  }

  object(key: string, rules: Presence = {}): BodyReader | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (typeof v !== 'object' || Array.isArray(v)) return void this.fail(key, 'must be an object');
    return new BodyReader(v as Record<string, unknown>, this.name(key), this.errors);
  }

  /** Each element as its own reader (for arrays of objects). */
  objects(key: string, rules: Presence & { min?: number; max?: number } = {}): BodyReader[] | undefined {
    const items = this.array(key, rules);
    if (!items) return undefined;
    return items.map((item, i) => {
      const path = `${this.name(key)}[${i}]`;
      if (item === null || typeof item !== 'object' || Array.isArray(item)) {
        this.errors.push(`${path}: must be an object`);
        return new BodyReader({}, path, []);
      }
      return new BodyReader(item as Record<string, unknown>, path, this.errors);
    });
  }

  array(key: string, rules: Presence & { min?: number; max?: number } = {}): unknown[] | undefined {
    const v = this.present(key, rules);
    if (v === undefined) return undefined;
    if (!Array.isArray(v)) return void this.fail(key, 'must be an array');
    if (rules.min !== undefined && v.length < rules.min) return void this.fail(key, `must have at least ${rules.min} items`);
    if (rules.max !== undefined && v.length > rules.max) return void this.fail(key, `must have at most ${rules.max} items`);
    return v;
  }

  enumArray<T extends string>(key: string, values: readonly T[], rules: Presence & { min?: number; max?: number; unique?: boolean } = {}): T[] | undefined {
    const items = this.array(key, rules);
    if (!items) return undefined;
    const bad = items.filter((i) => typeof i !== 'string' || !values.includes(i as T));
    if (bad.length) return void this.fail(key, `items must be one of ${values.join(', ')}`);
    if (rules.unique && new Set(items).size !== items.length) return void this.fail(key, 'must not repeat values');
    return items as T[];
  }

  stringArray(key: string, rules: Presence & { min?: number; max?: number; pattern?: RegExp } = {}): string[] | undefined {
    const items = this.array(key, rules);
    if (!items) return undefined;
    if (items.some((i) => typeof i !== 'string' || (rules.pattern && !rules.pattern.test(i)))) {
      return void this.fail(key, 'has an invalid item');
    }
    return items as string[];
  }

  get hasErrors(): boolean {
    return this.errors.length > 0;
  }

  done(): void {
    if (this.errors.length) throw ksef.validation([...this.errors]);
  }
}
