/**
 * Submission deadlines of invoices issued offline (PROTOCOL.md §9). Business days are Polish ones: no
 * Saturdays, Sundays or public holidays; a deadline is the end of its day in Europe/Warsaw.
 *
 * - `offline` (KSeF unavailability): the next business day after the unavailability ends;
 * - `awaryjny` (announced KSeF failure): 7 business days after the failure ends. A failure announced while
 *   other offline invoices wait moves their deadlines to that too (never earlier than they were).
 *
 * `offline24` (the taxpayer's choice) is not offered: API.md part A opens offline mode only during an outage.
 */
import dayjs from 'dayjs';
import timezone from 'dayjs/plugin/timezone';
import utc from 'dayjs/plugin/utc';
import type { OfflineMode } from '../../db/schema.js';

dayjs.extend(utc);
dayjs.extend(timezone);

const WARSAW = 'Europe/Warsaw';

const DAY_MS = 86_400_000;
const BUSINESS_DAYS_AFTER: Record<OfflineMode, number> = { offline: 1, awaryjny: 7 };

/** The deadline for an invoice of `mode` whose outage ended at `outageEnd` (or, while it lasts, would end now). */
export function submissionDeadline(mode: OfflineMode, outageEnd: Date): Date {
  return businessDaysAfterEnd(outageEnd, BUSINESS_DAYS_AFTER[mode]);
}

/** Polish public holidays (fixed ones and those that move with Easter), as YYYY-MM-DD. */
function holidays(year: number): Set<string> {
  // Anonymous Gregorian algorithm for Easter Sunday.
  const a = year % 19, b = Math.floor(year / 100), c = year % 100, d = Math.floor(b / 4), e = b % 4;
  const f = Math.floor((b + 8) / 25), g = Math.floor((b - f + 1) / 3), h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4), k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7, m = Math.floor((a + 11 * h + 22 * l) / 451);
  const month = Math.floor((h + l - 7 * m + 114) / 31), day = ((h + l - 7 * m + 114) % 31) + 1;
  const easter = Date.UTC(year, month - 1, day);
  const iso = (ms: number) => new Date(ms).toISOString().slice(0, 10);
  // 24 December is a public holiday from 2025 on.
  const fixed = ['01-01', '01-06', '05-01', '05-03', '08-15', '11-01', '11-11', '12-25', '12-26', ...(year >= 2025 ? ['12-24'] : [])];
  return new Set([...fixed.map((md) => `${year}-${md}`), iso(easter + DAY_MS), iso(easter + 60 * DAY_MS)]);
}

/** Whether the calendar day YYYY-MM-DD is a Polish business day. */
export function isBusinessDay(isoDate: string): boolean {
  const d = new Date(`${isoDate}T00:00:00Z`);
  return d.getUTCDay() !== 0 && d.getUTCDay() !== 6 && !holidays(d.getUTCFullYear()).has(isoDate);
}

/** The end (23:59:59.999 Europe/Warsaw) of the `count`-th business day after the Warsaw calendar day of `from`. */
function businessDaysAfterEnd(from: Date, count: number): Date {
  let day = dayjs(from).tz(WARSAW);
  for (let found = 0; found < count; ) {
    day = day.add(1, 'day');
    if (isBusinessDay(day.format('YYYY-MM-DD'))) found++;
  }
  return dayjs.tz(`${day.format('YYYY-MM-DD')} 23:59:59.999`, WARSAW).toDate();
}
