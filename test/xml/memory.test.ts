import { jest } from '@jest/globals';
import { withParsedXml } from '../../src/xml/parse.js';
import { fa3Schema, schemaErrors } from '../../src/xml/schemas.js';
import { describeWithShared, readSample } from '../support/shared.js';

jest.setTimeout(600_000);

describeWithShared('libxml2 memory', () => {
  it('100,000 parse + XSD validations do not grow the process (every WASM document is freed)', () => {
    const schema = fa3Schema();
    const valid = readSample('fa3-vat.xml');
    const invalid = Buffer.from(valid.toString('utf8').replace('<P_15>2385.00</P_15>', '<P_15>x</P_15>'));
    const validateBoth = (n: number) => {
      for (let i = 0; i < n; i++) {
        const doc = i % 2 === 0 ? valid : invalid;
        const errors = withParsedXml(doc, (_tree, native) => schemaErrors(schema, native));
        if (errors.length !== i % 2) throw new Error(`validation ${i}: ${errors.length} errors`);
      }
    };
    // The WASM heap grows to its working size on the first documents and never shrinks: measure after that.
    validateBoth(5_000);
    const before = process.memoryUsage().rss;
    validateBoth(100_000);
    const grown = process.memoryUsage().rss - before;
    expect(grown).toBeLessThan(32 * 1024 * 1024);
  });
});
