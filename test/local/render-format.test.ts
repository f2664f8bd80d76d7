import { addDecimals } from '../../src/local/render/decimal.js';
import { formatAccount, formatAmount, formatDate, formatDateTime, formatMoney, formatRate, formatTaxRate } from '../../src/local/render/format.js';

const NBSP = '\u00a0';

describe('amount formatting (as the official visualisation)', () => {
  it.each([
    ['0', '0,00'],
    ['5', '5,00'],
    ['5.5', '5,50'],
    ['999.99', '999,99'],
    ['1000', `1${NBSP}000,00`],
    ['1234.56', `1${NBSP}234,56`],
    ['-369.00', '-369,00'],
    ['-1500', `-1${NBSP}500,00`],
    ['12345678901234.56', `12${NBSP}345${NBSP}678${NBSP}901${NBSP}234,56`],
    ['0.0666666', '0,0666666'],
    ['n/a', 'n/a'],
  ])('%s -> %s', (raw, shown) => {
    expect(formatAmount(raw)).toBe(shown);
  });

  it('puts the currency after the amount, unbreakably', () => {
    expect(formatMoney('2385.00', 'PLN')).toBe(`2${NBSP}385,00${NBSP}PLN`);
  });
});

describe('decimal sums use integers, never floats', () => {
  it.each([
    [['0.1', '0.2'], '0.30'],
    [['1500.00', '345.00'], '1845.00'],
    [['-300.00', '-69.00'], '-369.00'],
    [['-0.01', '0.01'], '0.00'],
    [['-0.05', '0.02'], '-0.03'],
    [['9007199254740993.00', '0.01'], '9007199254740993.01'],
    [['12345678901234.56', undefined], '12345678901234.56'],
    [[undefined, undefined], '0.00'],
    [['1.123', '1'], '2.123'],
  ] as [(string | undefined)[], string][])('%j -> %s', (values, sum) => {
    expect(addDecimals(...values)).toBe(sum);
  });
});

describe('other formats', () => {
  it('dates DD.MM.YYYY', () => {
    expect(formatDate('2026-02-16')).toBe('16.02.2026');
    expect(formatDate('garbage')).toBe('garbage');
  });

  it('date-times in Europe/Warsaw, summer and winter', () => {
    expect(formatDateTime('2025-09-16T11:05:40.841+02:00')).toBe('16.09.2025 11:05:40');
    expect(formatDateTime('2026-01-31T23:30:00Z')).toBe('01.02.2026 00:30:00');
    expect(formatDateTime('2026-07-31T22:30:00Z')).toBe('01.08.2026 00:30:00');
  });

  it('accounts in groups of four (NRB: 2 + 6x4)', () => {
    expect(formatAccount('96102026290000960200123456')).toBe('96 1020 2629 0000 9602 0012 3456');
    expect(formatAccount('PL61109010140000071219812874')).toBe('PL61 1090 1014 0000 0712 1981 2874');
    expect(formatAccount('96 1020 2629 0000 9602 0012 3456')).toBe('96 1020 2629 0000 9602 0012 3456');
  });

  it('exchange rates with 6 decimals, rounded half away from zero', () => {
    expect(formatRate('4.25')).toBe('4,250000');
    expect(formatRate('4.12345649')).toBe('4,123456');
    expect(formatRate('4.1234565')).toBe('4,123457');
  });

  it('tax rates', () => {
    expect(formatTaxRate('23')).toBe('23%');
    expect(formatTaxRate('0 WDT')).toBe('0% WDT');
    expect(formatTaxRate('zw')).toBe('zw');
    expect(formatTaxRate('np II')).toBe('np II');
  });
});
