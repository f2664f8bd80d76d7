/**
 * XSD simple types as used by FA(3): whitespace handling, lexical spaces and facets, with the value-space
 * semantics libxml2 applies (so our structure layer and the official XSD agree).
 */
import { cmp, dec } from './decimal.js';

export interface SimpleType {
  /** Schema type name, for messages (`TKwotowy`, `etd:TNrNIP`, …). */
  readonly name: string;
  /** Null when valid, else why not (without the element name). */
  check(raw: string): string | null;
}

type Whitespace = 'preserve' | 'replace' | 'collapse';

const NEEDS_COLLAPSE = /[\t\n\r]|^ | $| {2}/;

function normalise(raw: string, ws: Whitespace): string {
  if (ws === 'preserve') return raw;
  if (ws === 'replace') return raw.replace(/[\t\n\r]/g, ' ');
  return NEEDS_COLLAPSE.test(raw) ? raw.replace(/[\t\n\r ]+/g, ' ').replace(/^ | $/g, '') : raw;
}

const quote = (v: string) => `'${v.length > 80 ? v.slice(0, 77) + '…' : v}'`;

/** Length in characters (code points), as XSD counts it. */
function charLength(v: string): number {
  let n = v.length;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

/**
 * An XSD regular expression as a JS one: implicitly anchored, `\d` is any Unicode decimal digit (as in XSD).
 * Patterns using `.` or `\s` are written out by hand where they occur.
 */
export const xsdPattern = (source: string) => new RegExp(`^(?:${source.replace(/\\d/g, '\\p{Nd}')})$`, 'u');

interface StringFacets {
  ws?: Whitespace;
  minLength?: number;
  maxLength?: number;
  /** Each entry is one derivation step; all must match (patterns of one step are alternatives: join with |). */
  patterns?: RegExp[];
  enumeration?: readonly string[];
}

/** `xsd:string` (preserve), `xsd:normalizedString` (replace) or `xsd:token` (collapse) restrictions. */
export function stringType(name: string, f: StringFacets): SimpleType {
  const allowed = f.enumeration ? new Set(f.enumeration) : null;
  return {
    name,
    check(raw) {
      const v = normalise(raw, f.ws ?? 'preserve');
      const len = charLength(v);
      if (f.minLength !== undefined && len < f.minLength) {
        return len === 0 ? 'must not be empty' : `${quote(v)} is shorter than ${f.minLength} characters`;
      }
      if (f.maxLength !== undefined && len > f.maxLength) {
        return `value of ${len} characters is longer than ${f.maxLength}`;
      }
      if (allowed && !allowed.has(v)) {
        const list = f.enumeration!.length <= 16 ? `: one of ${f.enumeration!.join(', ')}` : '';
        return `${quote(v)} is not an allowed ${name} value${list}`;
      }
      for (const p of f.patterns ?? []) if (!p.test(v)) return `${quote(v)} does not match the ${name} pattern`;
      return null;
    },
  };
}

/** `xsd:token` with length bounds: the common `TZnakowy*` shape. */
export const tokenType = (name: string, minLength: number, maxLength: number, extra: Omit<StringFacets, 'ws'> = {}) =>
  stringType(name, { ws: 'collapse', minLength, maxLength, ...extra });

interface DecimalFacets {
  totalDigits?: number;
  fractionDigits?: number;
  pattern?: RegExp;
  minInclusive?: string;
  maxInclusive?: string;
}

const DECIMAL_LEXICAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/;

/**
 * Significant digits and fraction digits of a decimal's value (XSD counts the value, so leading integer
 * zeros and trailing fraction zeros do not count: `050.000000` has 2 and 0).
 */
function digitCounts(lexical: string): { total: number; fraction: number } {
  const [intPart, fracPart = ''] = lexical.replace(/^[+-]/, '').split('.');
  const integer = intPart.replace(/^0+/, '');
  const fraction = fracPart.replace(/0+$/, '');
  return { total: Math.max(1, integer.length + fraction.length), fraction: fraction.length };
}

export function decimalType(name: string, f: DecimalFacets): SimpleType {
  return {
    name,
    check(raw) {
      const v = normalise(raw, 'collapse');
      if (!DECIMAL_LEXICAL.test(v)) return `${quote(v)} is not a decimal number`;
      const digits = digitCounts(v);
      if (f.totalDigits !== undefined && digits.total > f.totalDigits) {
        return `${quote(v)} has more than ${f.totalDigits} digits`;
      }
      if (f.fractionDigits !== undefined && digits.fraction > f.fractionDigits) {
        return `${quote(v)} has more than ${f.fractionDigits} decimal places`;
      }
      if (f.minInclusive !== undefined && cmp(dec(v), dec(f.minInclusive)) < 0) {
        return `${quote(v)} is less than ${f.minInclusive}`;
      }
      if (f.maxInclusive !== undefined && cmp(dec(v), dec(f.maxInclusive)) > 0) {
        return `${quote(v)} is greater than ${f.maxInclusive}`;
      }
      if (f.pattern && !f.pattern.test(v)) {
        return (
          `${quote(v)} is not written as ${name} requires (optional '-', no leading zeros, no '+'` +
          `${f.fractionDigits !== undefined ? `, at most ${f.fractionDigits} decimal places` : ''})`
        );
      }
      return null;
    },
  };
}

interface IntegerFacets {
  min?: bigint;
  max?: bigint;
  totalDigits?: number;
  enumeration?: readonly number[];
  /** nonNegativeInteger forbids '-' except on zero. */
  nonNegative?: boolean;
}

const INTEGER_LEXICAL = /^[+-]?[0-9]+$/;

export const BYTE = { min: -128n, max: 127n } as const;

/** `xsd:integer` and its restrictions (`xsd:byte`, `xsd:nonNegativeInteger`); enumerations compare values. */
export function integerType(name: string, f: IntegerFacets): SimpleType {
  const allowed = f.enumeration ? new Set(f.enumeration.map((n) => BigInt(n))) : null;
  return {
    name,
    check(raw) {
      const v = normalise(raw, 'collapse');
      if (!INTEGER_LEXICAL.test(v)) return `${quote(v)} is not an integer`;
      const n = BigInt(v);
      if (f.nonNegative && n < 0n) return `${quote(v)} is negative`;
      if (f.min !== undefined && n < f.min) return `${quote(v)} is less than ${f.min === 1n ? 1 : f.min}`;
      if (f.max !== undefined && n > f.max) return `${quote(v)} is greater than ${f.max}`;
      if (f.totalDigits !== undefined && (n < 0n ? -n : n).toString().length > f.totalDigits) {
        return `${quote(v)} has more than ${f.totalDigits} digits`;
      }
      if (allowed && !allowed.has(n)) return `${quote(v)} is not one of ${f.enumeration!.join(', ')}`;
      return null;
    },
  };
}

const DATE_LEXICAL = /^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$/;

function isCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
  return day <= days;
}

/** `xsd:date` restricted to `YYYY-MM-DD` (no time zone, by the pattern of `etd:TData`) within bounds. */
export function dateType(name: string, min: string, max: string): SimpleType {
  return {
    name,
    check(raw) {
      const v = normalise(raw, 'collapse');
      const m = DATE_LEXICAL.exec(v);
      if (!m || m[1].length !== 4 || m[1].startsWith('-') || m[4] !== undefined) {
        return `${quote(v)} is not a date in the form YYYY-MM-DD`;
      }
      if (!isCalendarDate(+m[1], +m[2], +m[3])) return `${quote(v)} is not a calendar date`;
      if (v < min || v > max) return `${quote(v)} is outside ${min} … ${max}`;
      return null;
    },
  };
}

const DATETIME_LEXICAL = /^(-?\d{4,})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|([+-])(\d{2}):(\d{2}))?$/;

interface Instant {
  seconds: number;
  fraction: string;
  zoned: boolean;
}

function parseDateTime(v: string): Instant | null {
  const m = DATETIME_LEXICAL.exec(v);
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac = '', zone, sign, zh, zm] = m;
  if ((y.length > 4 && y.startsWith('0')) || y.startsWith('-')) return null;
  if (!isCalendarDate(+y, +mo, +d)) return null;
  const fraction = frac.slice(1).replace(/0+$/, '');
  if (+h === 24 ? +mi !== 0 || +s !== 0 || fraction !== '' : +h > 23) return null;
  if (+mi > 59 || +s > 59) return null;
  let offset = 0;
  if (zone && zone !== 'Z') {
    if (+zh > 14 || +zm > 59 || (+zh === 14 && +zm !== 0)) return null;
    offset = (sign === '-' ? -1 : 1) * (+zh * 60 + +zm) * 60;
  }
  const seconds = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) / 1000 - offset;
  return { seconds, fraction, zoned: zone !== undefined };
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  return a.fraction === b.fraction ? 0 : a.fraction < b.fraction ? -1 : 1;
}

/**
 * `xsd:dateTime` within bounds given with a time zone. A value without a time zone is read as UTC, except
 * that libxml2 treats equality with a bound as indeterminate and rejects it; we do the same.
 */
export function dateTimeType(name: string, min: string, max: string): SimpleType {
  const lo = parseDateTime(min)!;
  const hi = parseDateTime(max)!;
  return {
    name,
    check(raw) {
      const v = normalise(raw, 'collapse');
      const t = parseDateTime(v);
      if (!t) return `${quote(v)} is not a date-time (YYYY-MM-DDThh:mm:ss with an optional zone such as Z)`;
      const c1 = compareInstants(t, lo);
      const c2 = compareInstants(t, hi);
      if (c1 < 0 || c2 > 0 || (!t.zoned && (c1 === 0 || c2 === 0))) return `${quote(v)} is outside ${min} … ${max}`;
      return null;
    },
  };
}

export function unionType(name: string, members: SimpleType[]): SimpleType {
  return {
    name,
    check(raw) {
      return members.some((m) => m.check(raw) === null) ? null : `${quote(raw.trim())} is not a valid ${name}`;
    },
  };
}
