import { isBusinessDay, submissionDeadline } from '../../src/ksef-proxy/offline/deadlines.js';

/** Offline submission deadlines (PROTOCOL.md §9), checked against dates worked out by hand from the calendar. */
describe('offline submission deadlines', () => {
  test('Polish business days: weekends, fixed holidays (24 December from 2025), Easter Monday and Corpus Christi are not', () => {
    expect(isBusinessDay('2026-11-27')).toBe(true); // Friday
    expect(isBusinessDay('2026-11-28')).toBe(false); // Saturday
    expect(isBusinessDay('2026-11-11')).toBe(false); // Independence Day
    expect(isBusinessDay('2026-12-24')).toBe(false);
    expect(isBusinessDay('2024-12-24')).toBe(true); // before the law made it a holiday
    expect(isBusinessDay('2026-04-03')).toBe(true); // Good Friday is a working day
    expect(isBusinessDay('2026-04-06')).toBe(false); // Easter Monday 2026
    expect(isBusinessDay('2026-06-04')).toBe(false); // Corpus Christi 2026
    expect(isBusinessDay('2027-03-29')).toBe(false); // Easter Monday 2027
  });

  test('unavailability (offline): the end of the next business day in Warsaw', () => {
    // Friday afternoon → Monday; winter time (UTC+1).
    expect(submissionDeadline('offline', new Date('2026-11-27T14:00:00Z')).toISOString()).toBe('2026-11-30T22:59:59.999Z');
    // Before Christmas: 24, 25, 26 December and Sunday 27 are not business days.
    expect(submissionDeadline('offline', new Date('2026-12-23T10:00:00Z')).toISOString()).toBe('2026-12-28T22:59:59.999Z');
    // Easter: Friday 3 April → Tuesday 7 April, summer time (UTC+2).
    expect(submissionDeadline('offline', new Date('2026-04-03T10:00:00Z')).toISOString()).toBe('2026-04-07T21:59:59.999Z');
    // The week the clocks change: Friday 27 March (UTC+1) → Monday 30 March (UTC+2).
    expect(submissionDeadline('offline', new Date('2026-03-27T10:00:00Z')).toISOString()).toBe('2026-03-30T21:59:59.999Z');
  });

  test('the day counted from is the Warsaw calendar day, not the UTC one', () => {
    // Sunday 23:30 UTC is already Monday 00:30 in Warsaw → Tuesday.
    expect(submissionDeadline('offline', new Date('2026-11-29T23:30:00Z')).toISOString()).toBe('2026-12-01T22:59:59.999Z');
    // Friday 22:30 UTC is still Friday 23:30 in Warsaw → Monday.
    expect(submissionDeadline('offline', new Date('2026-11-27T22:30:00Z')).toISOString()).toBe('2026-11-30T22:59:59.999Z');
  });

  test('an announced failure (awaryjny): 7 business days after it ends', () => {
    // 23 December → 28, 29, 30, 31 December, (1 January), 4, 5, (6 January), 7 January.
    expect(submissionDeadline('awaryjny', new Date('2026-12-23T10:00:00Z')).toISOString()).toBe('2027-01-07T22:59:59.999Z');
    // Monday 2 November 2026 → 3, 4, 5, 6, 9, 10, (11 November), 12 November.
    expect(submissionDeadline('awaryjny', new Date('2026-11-02T08:00:00Z')).toISOString()).toBe('2026-11-12T22:59:59.999Z');
  });
});
