import fs from 'node:fs';
import path from 'node:path';

const fixturesDir = path.join(import.meta.dirname, '..', 'fixtures');

/** FA(3) invoices written for the tests (`test/fixtures`); render-invoice.test.ts checks that each is valid. */
export const fixtureNames = fs.readdirSync(fixturesDir).filter((f) => f.endsWith('.xml')).sort();

export const readFixture = (name: string) => fs.readFileSync(path.join(fixturesDir, name));
