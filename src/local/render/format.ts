/**
 * Value formatting as the Ministry's visualisation prints it: amounts `1 234,56` (no-break space
 * between thousands, comma decimal), dates `DD.MM.YYYY`, times in Europe/Warsaw, exchange rates
 * with 6 decimals, Polish account numbers grouped `96 1020 2629 …`.
 */
import { parseDecimal, decimalToString } from './decimal.js';

export const NBSP = '\u00a0';

const AMOUNT = /^([+-]?)(\d+)(?:\.(\d+))?$/;

/** `1234.5` -> `1 234,50`; keeps extra decimals (unit prices have up to 8); non-numbers pass through. */
export function formatAmount(raw: string | undefined): string {
  if (raw === undefined) return '';
  const m = AMOUNT.exec(raw.trim());
  if (!m) return raw;
  const int = m[2].replace(/\B(?=(\d{3})+(?!\d))/g, NBSP);
  const frac = (m[3] ?? '').padEnd(2, '0');
  return `${m[1] === '-' ? '-' : ''}${int},${frac}`;
}

/** An amount followed by its currency code, kept on one line. */
export function formatMoney(raw: string | undefined, currency: string): string {
  if (raw === undefined) return '';
  return `${formatAmount(raw)}${NBSP}${currency}`;
}

/** Exchange rates: always 6 decimals, comma separator, rounded half away from zero. */
export function formatRate(raw: string | undefined): string {
  const d = parseDecimal(raw);
  if (raw === undefined) return '';
  if (!d) return raw;
  let units = d.units;
  if (d.scale > 6) {
    const div = 10n ** BigInt(d.scale - 6);
    const half = div / 2n;
    units = units < 0n ? -((-units + half) / div) : (units + half) / div;
  } else {
    units = units * 10n ** BigInt(6 - d.scale);
  }
  return decimalToString({ units, scale: 6 }).replace('.', ',');
}

/** Quantities and percentages: decimal comma, digits as written. */
export function formatNumber(raw: string | undefined): string {
  return raw === undefined ? '' : raw.replace('.', ',');
}

/** `2026-02-16` -> `16.02.2026`; anything else passes through unchanged. */
export function formatDate(raw: string | undefined): string {
  if (raw === undefined) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  return m ? `${m[3]}.${m[2]}.${m[1]}` : raw;
}

const WARSAW = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/Warsaw',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** An xsd:dateTime shown in Polish time: `16.09.2025 11:05:40`. */
export function formatDateTime(raw: string | undefined): string {
  if (raw === undefined) return '';
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) return raw;
  const p = Object.fromEntries(WARSAW.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  return `${p.day}.${p.month}.${p.year} ${p.hour}:${p.minute}:${p.second}`;
}

/** Polish NRB (26 digits) as `2 + 6×4`; IBANs and other numbers in groups of 4. */
export function formatAccount(raw: string | undefined): string {
  if (raw === undefined) return '';
  const compact = raw.replace(/\s+/g, '');
  if (/^\d{26}$/.test(compact)) return `${compact.slice(0, 2)} ${compact.slice(2).replace(/(.{4})(?=.)/g, '$1 ')}`;
  return compact.replace(/(.{4})(?=.)/g, '$1 ');
}

/** `23` -> `23%`, `0 KR` -> `0% KR`; zw/oo/np stay as codes (the official table does the same). */
export function formatTaxRate(raw: string | undefined): string {
  if (raw === undefined) return '';
  const m = /^(\d+(?:\.\d+)?)(?:\s+(.*))?$/.exec(raw);
  if (!m) return raw;
  return `${m[1].replace('.', ',')}%${m[2] ? ` ${m[2]}` : ''}`;
}
