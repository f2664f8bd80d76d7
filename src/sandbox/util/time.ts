/**
 * Date formats KSeF uses. Server timestamps are UTC with 7 fractional digits and an explicit offset
 * (`2025-07-11T12:23:56.0154302+00:00`); calendar days (KSeF numbers, automatic offline, UPO) are
 * Europe/Warsaw days; request date-times without an offset mean Warsaw local time.
 */

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

export function ksefDateTime(d: Date): string {
  return `${d.toISOString().slice(0, 23)}0000+00:00`;
}

export function ksefDateTimeSeconds(d: Date): string {
  return `${d.toISOString().slice(0, 19)}+00:00`;
}

const warsawFormatter = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Warsaw',
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

// Warsaw changes offset only on whole UTC hours, so the offset of an hour bucket is exact.
const offsetByHour = new Map<number, number>();

export function warsawOffsetMinutes(epochMs: number): number {
  const hour = Math.floor(epochMs / HOUR_MS);
  const cached = offsetByHour.get(hour);
  if (cached !== undefined) return cached;
  const parts = warsawFormatter.formatToParts(new Date(hour * HOUR_MS));
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  const localAsUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  const offset = Math.round((localAsUtc - hour * HOUR_MS) / MINUTE_MS);
  if (offsetByHour.size > 50_000) offsetByHour.clear();
  offsetByHour.set(hour, offset);
  return offset;
}

const shifted = (d: Date) => new Date(d.getTime() + warsawOffsetMinutes(d.getTime()) * MINUTE_MS);

/** `YYYY-MM-DD` of the Warsaw calendar day. */
export function warsawDay(d: Date): string {
  return shifted(d).toISOString().slice(0, 10);
}

/** `YYYYMMDD` of the Warsaw calendar day (KSeF and reference numbers). */
export function warsawCompactDay(d: Date): string {
  return warsawDay(d).replace(/-/g, '');
}

/** Warsaw local time with its offset, millisecond precision, as in UPO documents: `2025-09-16T11:02:41.584+02:00`. */
export function warsawDateTime(d: Date): string {
  const offset = warsawOffsetMinutes(d.getTime());
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${shifted(d).toISOString().slice(0, 23)}${sign}${hh}:${mm}`;
}

const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Parses an API date-time; without an offset it is Warsaw local time. Undefined when malformed. */
export function parseApiDateTime(value: string): Date | undefined {
  const m = DATE_TIME.exec(value);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = '0', zone] = m;
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), ms] as const;
  const localAsUtc = Date.UTC(...fields);
  const check = new Date(localAsUtc);
  if (check.getUTCMonth() !== fields[1] || check.getUTCDate() !== fields[2] || fields[3] > 23 || fields[4] > 59 || fields[5] > 59) {
    return undefined;
  }
  if (zone) {
    if (zone.toUpperCase() === 'Z') return new Date(localAsUtc);
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2)));
    return new Date(localAsUtc - offset * MINUTE_MS);
  }
  let utc = localAsUtc - warsawOffsetMinutes(localAsUtc) * MINUTE_MS;
  utc = localAsUtc - warsawOffsetMinutes(utc) * MINUTE_MS;
  return new Date(utc);
}

/** `YYYY-MM-DD` validity (a real calendar date). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]);
}

export function addMonths(d: Date, months: number): Date {
  const r = new Date(d.getTime());
  r.setUTCMonth(r.getUTCMonth() + months);
  return r;
}
