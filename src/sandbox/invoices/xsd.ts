import fs from 'node:fs';
import path from 'node:path';
import { memoryPages, validateXML, XMLFileInfo } from 'xmllint-wasm';

/**
 * Full FA(3) XSD validation with xmllint-wasm (each call runs in a worker thread, so it never blocks the
 * event loop). Documents queue up and are validated together, many per call, one call at a time.
 */

export const FA3_SCHEMA_FILE = 'schemat_FA(3)_v1-0E.xsd';
const MAX_BYTES_PER_CALL = 16_000_000;
const MAX_DOCS_PER_CALL = 500;

interface Pending {
  doc: Buffer;
  resolve: (problems: string[]) => void;
  reject: (err: unknown) => void;
}

export class Fa3SchemaValidator {
  private readonly schema: XMLFileInfo;
  private readonly preload: XMLFileInfo[];
  private readonly queue: Pending[] = [];
  private running = false;

  /** Reads the schema files now, so that a wrong directory fails at start-up. */
  constructor(dir: string) {
    const main = path.join(dir, FA3_SCHEMA_FILE);
    const base = path.join(dir, 'bazowe');
    if (!fs.existsSync(main) || !fs.existsSync(base)) {
      throw new Error(`xsdDir ${dir} must contain ${FA3_SCHEMA_FILE} and bazowe/`);
    }
    this.schema = { fileName: FA3_SCHEMA_FILE, contents: fs.readFileSync(main) };
    this.preload = fs
      .readdirSync(base)
      .filter((f) => f.endsWith('.xsd'))
      .map((f) => ({ fileName: `bazowe/${f}`, contents: fs.readFileSync(path.join(base, f)) }));
  }

  /** The schema violations of one document (empty when valid). */
  validate(doc: Buffer): Promise<string[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ doc, resolve, reject });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.length) {
        const batch: Pending[] = [];
        let bytes = 0;
        while (this.queue.length && batch.length < MAX_DOCS_PER_CALL && (bytes === 0 || bytes + this.queue[0].doc.length <= MAX_BYTES_PER_CALL)) {
          const next = this.queue.shift()!;
          bytes += next.doc.length;
          batch.push(next);
        }
        try {
          const results = await this.run(batch.map((p) => p.doc), bytes);
          batch.forEach((p, i) => p.resolve(results[i]));
        } catch (err) {
          batch.forEach((p) => p.reject(err));
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async run(docs: Buffer[], bytes: number): Promise<string[][]> {
    const names = docs.map((_, i) => `faktura-${i}.xml`);
    const pages = Math.min(memoryPages.max, memoryPages.defaultMaxMemoryPages + Math.ceil((bytes * 8) / (64 * 1024)));
    const result = await validateXML({
      xml: docs.map((contents, i) => ({ fileName: names[i], contents })),
      schema: [this.schema],
      preload: this.preload,
      maxMemoryPages: pages,
    });
    const validLines = new Set(result.rawOutput.split('\n').filter((l) => l.endsWith(' validates')).map((l) => l.slice(0, -' validates'.length)));
    return names.map((name) => {
      if (validLines.has(name)) return [];
      const problems = result.errors
        .filter((e) => e.loc?.fileName === name)
        .map((e) => `Błąd walidacji XSD (linia ${e.loc?.lineNumber}): ${e.message.replace(/^Schemas validity error : /, '')}`);
      return problems.length ? problems : ['Dokument niezgodny ze schematem XSD FA(3).'];
    });
  }
}
