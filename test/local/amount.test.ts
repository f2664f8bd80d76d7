import { amount, parseAmount, toPlain } from '../../src/local/amount.js';

describe('amounts: the xsd:decimal lexical form, exact, rounded half away from zero', () => {
  it.each(['0', '-5', '+5', '5.', '.5', '007.10', ' 12.34 '])('%j is a decimal', (text) => {
    expect(parseAmount(text)?.toString()).toBe(String(Number(text)));
  });

  it.each(['', '.', '-', '1e3', '0x10', 'Infinity', 'NaN', '1,5', '1 000'])('%j is not (decimal.js alone would take some)', (text) => {
    expect(parseAmount(text)).toBeUndefined();
    expect(() => amount(text)).toThrow(RangeError);
  });

  it.each([
    ['0.005', 2, '0.01'],
    ['-0.005', 2, '-0.01'],
    ['0.0049', 2, '0.00'],
    ['-0.0049', 2, '0.00'],
    ['2.5', 0, '3'],
    ['-2.5', 0, '-3'],
    ['12345678901234567890.125', 2, '12345678901234567890.13'],
    ['7', 2, '7.00'],
  ] as const)('toPlain(%s, %i) = %s', (text, places, shown) => {
    expect(toPlain(amount(text), places)).toBe(shown);
  });

  it('products of long amounts stay exact', () => {
    expect(amount('99999999999999999.99').times(amount('4.123456')).toFixed()).toBe('412345599999999999.95876544');
  });
});
