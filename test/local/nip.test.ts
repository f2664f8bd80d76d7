import { NIP_PATTERN, isNipChecksumValid, isValidNip, nipCheckDigit } from '../../src/local/nip.js';

describe('NIP checksum', () => {
  it.each(['5265877635', '1234563218', '1111111111', '7740001454'])('%s is valid', (nip) => {
    expect(isValidNip(nip)).toBe(true);
  });

  it.each([
    ['5265877636', 'last digit off by one'],
    ['1234563219', 'last digit off by one'],
    ['1234563281', 'two digits swapped'],
    ['526587763', 'nine digits'],
    ['52658776350', 'eleven digits'],
    ['526-587-76-35', 'with hyphens'],
    ['５２６５８７７６３５', 'full-width digits'],
    ['', 'empty'],
  ])('%s is invalid (%s)', (nip) => {
    expect(isValidNip(nip)).toBe(false);
  });

  it('computes the check digit of the first nine digits', () => {
    expect(nipCheckDigit('526587763')).toBe(5);
    expect(nipCheckDigit('123456321')).toBe(8);
  });

  it('reports when no check digit exists (weighted sum mod 11 = 10)', () => {
    // 6·1 + 4·1 = 10: the weighted sum mod 11 is 10.
    expect(nipCheckDigit('100001000')).toBeNull();
    expect(isNipChecksumValid('1000010000')).toBe(false);
  });

  it('separates the checksum from the schema shape', () => {
    // 0000000000 has a valid checksum (0) but no NIP starts with 0 or has 00 in digits 2–3.
    expect(isNipChecksumValid('0000000000')).toBe(true);
    expect(NIP_PATTERN.test('0000000000')).toBe(false);
    expect(isValidNip('0000000000')).toBe(false);
    expect(NIP_PATTERN.test('1001111111')).toBe(false);
  });

  it('refuses a malformed prefix', () => {
    expect(() => nipCheckDigit('12345')).toThrow(RangeError);
  });
});
