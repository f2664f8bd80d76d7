import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone.js';
import utc from 'dayjs/plugin/utc.js';

dayjs.extend(utc);
dayjs.extend(timezone);

/**
 * Java-style date patterns (as in `java.time.format.DateTimeFormatter`) translated once into a
 * list of parts, then applied with dayjs in the configured time zone.
 */

type Part = { literal: string } | { token: string } | { offset: 'X' | 'XX' | 'XXX' | 'Z' | 'ZZZZZ' };

/** Java letter runs → dayjs tokens. Offsets are handled apart: Java prints `Z` for UTC in the X forms. */
const tokenMap: Record<string, string> = {
  yyyy: 'YYYY',
  uuuu: 'YYYY',
  yy: 'YY',
  uu: 'YY',
  MMMM: 'MMMM',
  MMM: 'MMM',
  MM: 'MM',
  M: 'M',
  dd: 'DD',
  d: 'D',
  EEEE: 'dddd',
  EEE: 'ddd',
  E: 'ddd',
  HH: 'HH',
  H: 'H',
  hh: 'hh',
  h: 'h',
  mm: 'mm',
  m: 'm',
  ss: 'ss',
  s: 's',
  SSS: 'SSS',
  a: 'A',
};
const offsetRuns = new Set(['X', 'XX', 'XXX', 'Z', 'ZZ', 'ZZZ', 'ZZZZZ']);

export class InvalidDatePatternError extends Error {}

export function parseJavaPattern(pattern: string): Part[] {
  if (pattern.length === 0) throw new InvalidDatePatternError('the pattern is empty');
  const parts: Part[] = [];
  let i = 0;
  while (i < pattern.length) {
    const ch = pattern[i];
    if (ch === "'") {
      if (pattern[i + 1] === "'") {
        parts.push({ literal: "'" });
        i += 2;
        continue;
      }
      // Quoted text runs to the next lone quote; a doubled quote inside it stands for one quote.
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= pattern.length) throw new InvalidDatePatternError(`unterminated quoted text at position ${i + 1}`);
        if (pattern[j] === "'" && pattern[j + 1] === "'") (text += "'"), (j += 2);
        else if (pattern[j] === "'") break;
        else text += pattern[j++];
      }
      parts.push({ literal: text });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z]/.test(ch)) {
      let j = i;
      while (pattern[j] === ch) j++;
      const run = pattern.slice(i, j);
      if (offsetRuns.has(run)) {
        parts.push({ offset: run === 'ZZ' || run === 'ZZZ' ? 'Z' : (run as 'X' | 'XX' | 'XXX' | 'Z' | 'ZZZZZ') });
      } else if (tokenMap[run]) {
        parts.push({ token: tokenMap[run] });
      } else {
        throw new InvalidDatePatternError(`unsupported pattern letters "${run}" at position ${i + 1}`);
      }
      i = j;
      continue;
    }
    parts.push({ literal: ch });
    i++;
  }
  return parts;
}

function formatOffset(minutes: number, style: 'X' | 'XX' | 'XXX' | 'Z' | 'ZZZZZ'): string {
  if (minutes === 0 && style.startsWith('X')) return 'Z';
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  if (style === 'X') return mm === '00' ? `${sign}${hh}` : `${sign}${hh}${mm}`;
  if (style === 'XXX' || style === 'ZZZZZ') return `${sign}${hh}:${mm}`;
  return `${sign}${hh}${mm}`;
}

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export type DateFormatter = (date: Date) => string;

/** Compiles a pattern + zone into a formatter; throws InvalidDatePatternError for a bad pattern or zone. */
export function compileDateFormatter(pattern: string, zone: string): DateFormatter {
  const parts = parseJavaPattern(pattern);
  if (!isValidTimeZone(zone)) throw new InvalidDatePatternError(`unknown time zone "${zone}"`);
  return (date) => {
    const d = dayjs(date).tz(zone);
    let out = '';
    for (const part of parts) {
      if ('literal' in part) out += part.literal;
      else if ('token' in part) out += d.format(part.token);
      else out += formatOffset(d.utcOffset(), part.offset);
    }
    return out;
  };
}
