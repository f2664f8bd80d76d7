import { compileDateFormatter, InvalidDatePatternError } from '../../src/settings/date-format.js';

const winter = new Date('2026-02-02T10:05:09.007Z');
const summer = new Date('2026-07-15T22:30:00.000Z');

describe('Java-style date patterns', () => {
  test.each([
    ['yyyy-MM-dd HH:mm:ss', 'Europe/Warsaw', winter, '2026-02-02 11:05:09'],
    ['yyyy-MM-dd HH:mm:ss', 'Europe/Warsaw', summer, '2026-07-16 00:30:00'],
    ["yyyy-MM-dd'T'HH:mm:ss.SSSXXX", 'Europe/Warsaw', winter, '2026-02-02T11:05:09.007+01:00'],
    ["yyyy-MM-dd'T'HH:mm:ssXXX", 'UTC', winter, '2026-02-02T10:05:09Z'],
    ['yyyy-MM-dd HH:mm Z', 'Europe/Warsaw', summer, '2026-07-16 00:30 +0200'],
    ['d.M.yy H:m:s', 'Europe/Warsaw', winter, '2.2.26 11:5:9'],
    ['dd/MM/yyyy hh:mm a', 'America/New_York', winter, '02/02/2026 05:05 AM'],
    ["'Dnia' dd.MM.yyyy', godz.' HH:mm", 'Europe/Warsaw', winter, 'Dnia 02.02.2026, godz. 11:05'],
    ["HH 'o''clock'", 'Europe/Warsaw', winter, "11 o'clock"],
    ['EEE, d MMM yyyy', 'Europe/Warsaw', winter, 'Mon, 2 Feb 2026'],
    ['yyyy-MM-dd X', 'Asia/Kolkata', winter, '2026-02-02 +0530'],
  ])('%s in %s', (pattern, zone, date, expected) => {
    expect(compileDateFormatter(pattern, zone)(date)).toBe(expected);
  });

  test.each([['yyyy-MM-dd qq'], ["yyyy-MM-dd 'unterminated"], [''], ['yyyy-MM-dd VV']])('%p is rejected', (pattern) => {
    expect(() => compileDateFormatter(pattern, 'Europe/Warsaw')).toThrow(InvalidDatePatternError);
  });

  test('an unknown time zone is rejected', () => {
    expect(() => compileDateFormatter('yyyy', 'Europe/Atlantis')).toThrow(/unknown time zone/);
  });
});
