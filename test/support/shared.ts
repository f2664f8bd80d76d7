import fs from 'node:fs';
import path from 'node:path';

/**
 * The reference material (`../shared` beside the checkout; override with KSEF_SHARED_DIR).
 * Tests that need it call `describeWithShared`, which skips with a one-line reason when it is absent.
 */
export const sharedDir = path.resolve(process.env.KSEF_SHARED_DIR ?? path.join(import.meta.dirname, '..', '..', '..', 'shared'));

export const hasShared = fs.existsSync(path.join(sharedDir, 'ksef', 'official', 'open-api.json'));

export const sharedPath = (...parts: string[]) => path.join(sharedDir, ...parts);

export const sampleNames = ['fa3-vat.xml', 'fa3-zal.xml', 'fa3-roz.xml', 'fa3-kor.xml'] as const;

/** Exact bytes of a sample invoice from `shared/ksef/samples`. */
export const readSample = (name: (typeof sampleNames)[number]) => fs.readFileSync(sharedPath('ksef', 'samples', name));

export const describeWithShared: jest.Describe = ((name: string, fn: () => void) =>
  hasShared
    ? describe(name, fn)
    : // The body is not even collected: it may read the reference files while defining its tests.
      describe(name, () => test.skip(`skipped: ../shared (KSeF reference material) not found at ${sharedDir}`, () => {}))) as jest.Describe;
