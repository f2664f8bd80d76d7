import { jest } from '@jest/globals';
import { withParsedXml } from '../../src/xml/parse.js';
import { fa3Schema, schemaErrors } from '../../src/xml/schemas.js';
import { hasShared, readSample } from '../support/shared.js';

jest.setTimeout(900_000);

/** No database is involved: CI runs the suite twice (PGlite, PostgreSQL) and this needs only one of them. */
const runs = hasShared && !process.env.DATABASE_URL;
const maybe = runs ? it : it.skip;

describe('libxml2 memory', () => {
  maybe('100,000 parse + XSD validations do not grow the process (every WASM document is freed)', () => {
    const schema = fa3Schema();
    const valid = readSample('fa3-vat.xml');
    const invalid = Buffer.from(valid.toString('utf8').replace('<P_15>2385.00</P_15>', '<P_15>x</P_15>'));
    const validate = (n: number) => {
      for (let i = 0; i < n; i++) {
        const errors = withParsedXml(i % 2 === 0 ? valid : invalid, (_tree, native) => schemaErrors(schema, native));
        if (errors.length !== i % 2) throw new Error(`validation ${i}: ${errors.length} errors`);
      }
    };
    // The WASM heap and V8's grow to their working size first and never shrink; a leak goes on growing, by the
    // size of a document's DOM (tens of kB) per call: over 45,000 calls at least a gigabyte.
    validate(10_000);
    const afterWarmUp = process.memoryUsage().rss;
    validate(45_000);
    const afterFirst = process.memoryUsage().rss;
    validate(45_000);
    const afterSecond = process.memoryUsage().rss;
    expect(afterSecond - afterFirst).toBeLessThan(16 * 1024 * 1024);
    expect(afterSecond - afterWarmUp).toBeLessThan(96 * 1024 * 1024);
  });
});
