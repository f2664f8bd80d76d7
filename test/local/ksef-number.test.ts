import { checkKsefNumber, formatKsefNumber, isValidKsefNumber, ksefChecksum } from '../../src/local/ksef-number.js';

describe('KSeF number checksum (CRC-8, poly 0x07, init 0x00)', () => {
  it('matches the CRC-8/SMBUS check value', () => {
    expect(ksefChecksum('123456789')).toBe('F4');
  });

  it.each([
    // PROTOCOL.md §6: the documentation's example and one from the MF repository.
    '5265877635-20250826-0100001AF629-AF',
    '5265877635-20250729-01004014E040-00',
    // The fictional numbers of our samples (correct CRC by construction).
    '5265877635-20260202-010000F1E2D3-DC',
    '5265877635-20260302-01000012A3B4-2C',
    '5265877635-20260401-0100002C5D6E-30',
  ])('%s is valid', (n) => {
    expect(checkKsefNumber(n)).toEqual({ valid: true, parts: expect.objectContaining({ nip: '5265877635', legacy: false }) });
  });

  it('is computed over the first 32 characters with hyphens (without them the docs example gives 71)', () => {
    expect(ksefChecksum('5265877635-20250826-0100001AF629')).toBe('AF');
    expect(ksefChecksum('5265877635202508260100001AF629')).toBe('71');
  });

  it('rejects a wrong checksum, naming the expected one', () => {
    // The visualiser's demo value: a placeholder with a wrong CRC (FA3.md §6).
    expect(checkKsefNumber('5555555555-20250808-9231003CA67B-BE')).toEqual({
      valid: false,
      reason: expect.stringMatching(/checksum BE .*CRC-8 gives [0-9A-F]{2}/),
    });
    expect(isValidKsefNumber('5265877635-20250826-0100001AF629-AE')).toBe(false);
  });

  it.each([
    ['5265877635-20250826-0100001af629-AF', 'lower-case hex'],
    ['5265877635-20250826-0100001AF629', 'no checksum'],
    ['0265877635-20250826-0100001AF629-AF', 'NIP with a leading zero'],
    ['5265877635-20250230-0100001AF629-AF', 'no such day'],
    [' 5265877635-20250826-0100001AF629-AF', 'leading space'],
  ])('rejects %s (%s)', (n) => {
    expect(isValidKsefNumber(n)).toBe(false);
  });

  it('accepts the 36-character KSeF 1.0 form without a checksum check', () => {
    expect(checkKsefNumber('5265877635-20230826-010000-1AF629-00')).toEqual({
      valid: true,
      parts: { nip: '5265877635', date: '2023-08-26', technical: '0100001AF629', checksum: '00', legacy: true },
    });
  });

  it('formats a number with its checksum', () => {
    expect(formatKsefNumber({ nip: '5265877635', date: '2025-08-26', technical: '0100001AF629' })).toBe(
      '5265877635-20250826-0100001AF629-AF',
    );
    expect(formatKsefNumber({ nip: '5265877635', date: '20250826', technical: '0100001AF629' })).toBe(
      '5265877635-20250826-0100001AF629-AF',
    );
    expect(() => formatKsefNumber({ nip: '5265877635', date: '2025-02-30', technical: '0100001AF629' })).toThrow(RangeError);
    expect(() => formatKsefNumber({ nip: '5265877635', date: '2025-08-26', technical: '0100001af629' })).toThrow(RangeError);
  });

  it('round-trips parts', () => {
    const n = formatKsefNumber({ nip: '1234563218', date: '2026-11-25', technical: 'ABCDEF012345' });
    expect(checkKsefNumber(n)).toEqual({
      valid: true,
      parts: { nip: '1234563218', date: '2026-11-25', technical: 'ABCDEF012345', checksum: n.slice(-2), legacy: false },
    });
  });
});
