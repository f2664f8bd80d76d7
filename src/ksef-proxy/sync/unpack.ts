import { createHash } from 'node:crypto';
import { Unzip, UnzipInflate, type UnzipFile } from 'fflate';
import type { Insertable, Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database, InvoiceDirection, SyncStagedInvoicesTable, SyncStagedMetadataTable } from '../../db/schema.js';
import type { ExportPackage, ExportPart, InvoiceMetadata } from '../transport/api.js';
import { aesDecipher, type SessionKey } from '../transport/crypto.js';
import { KsefUnavailableError } from '../errors.js';
import { syncedInvoiceRow } from '../retrieval/retrieval.js';

/**
 * One export package (PROTOCOL.md §8.3) into the staging tables, streaming: each part is downloaded,
 * decrypted (AES-256-CBC, each part padded on its own) and fed to one ZIP stream; every entry is handled as it
 * completes - `{ksefNumber}.xml` parsed into a staged register row, `_metadata.json` (first or last) into staged
 * metadata - and written in small batches between network chunks, so memory holds one batch, not the package.
 * Only `_metadata.json` is read whole before it is parsed: about 1 kB per invoice, ~10 MB for a full package.
 */

/** Rows (or bytes of XML) gathered before they are written: small, short statements the API can interleave with. */
const BATCH_ROWS = 200;
const BATCH_BYTES = 4_000_000;

export interface UnpackTarget {
  packageId: string;
  companyId: string;
  environment: KsefEnvironmentName;
  contextNip: string;
  direction: InvoiceDirection;
}

export interface Unpacked {
  /** `{ksefNumber}.xml` entries read. */
  invoices: number;
  /** Records of `_metadata.json`. */
  metadata: number;
}

export async function unpackPackage(
  db: Kysely<Database>,
  target: UnpackTarget,
  pkg: ExportPackage,
  key: SessionKey,
  download: (part: ExportPart) => AsyncIterable<Buffer>,
): Promise<Unpacked> {
  const { environment } = target;
  const staged = new StagingWriter(db, target);
  let failure: Error | null = null;
  let metadataSeen = false;
  const unzip = new Unzip((file: UnzipFile) => {
    const chunks: Uint8Array[] = [];
    file.ondata = (err, data, final) => {
      if (err) return void (failure ??= err);
      chunks.push(data);
      if (!final) return;
      const bytes = Buffer.concat(chunks);
      try {
        if (file.name === '_metadata.json') {
          metadataSeen = true;
          staged.metadata(JSON.parse(bytes.toString('utf8')).invoices as InvoiceMetadata[]);
        } else if (file.name.endsWith('.xml')) staged.invoice(file.name.slice(0, -'.xml'.length), bytes);
      } catch (e) {
        failure ??= e as Error;
      }
    };
    file.start();
  });
  unzip.register(UnzipInflate);

  const parts = [...pkg.parts].sort((a, b) => a.ordinalNumber - b.ordinalNumber);
  for (const [i, part] of parts.entries()) {
    const decipher = aesDecipher(key);
    const hash = createHash('sha256');
    for await (const chunk of download(part)) {
      hash.update(chunk);
      unzip.push(decipher.update(chunk));
      if (failure) throw failure;
      await staged.flushIfFull();
    }
    if (hash.digest('base64') !== part.encryptedPartHash) {
      throw new KsefUnavailableError(environment, `Export part ${part.partName} arrived damaged (hash mismatch); the next run fetches the package again.`);
    }
    unzip.push(decipher.final(), i === parts.length - 1);
    if (failure) throw failure;
    await staged.flushIfFull();
  }
  if (parts.length === 0) unzip.push(new Uint8Array(0), true);
  if (failure) throw failure;
  await staged.flush();
  if (!metadataSeen && pkg.invoiceCount > 0) throw new KsefUnavailableError(environment, 'The export package has no _metadata.json; the next run fetches it again.');
  return { invoices: staged.invoiceCount, metadata: staged.metadataCount };
}

/** Collects staged rows and writes them in batches (each one short insert). */
class StagingWriter {
  invoiceCount = 0;
  metadataCount = 0;
  private invoices: Insertable<SyncStagedInvoicesTable>[] = [];
  private records: Insertable<SyncStagedMetadataTable>[] = [];
  private bytes = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly target: UnpackTarget,
  ) {}

  invoice(ksefNumber: string, xml: Buffer): void {
    this.invoiceCount++;
    const { packageId, companyId, environment, contextNip, direction } = this.target;
    const parsed = syncedInvoiceRow(companyId, environment, ksefNumber, contextNip, xml);
    if (!parsed) return; // not FA(3): nothing to keep in an FA(3) register
    const r = parsed.row;
    this.invoices.push({
      package_id: packageId,
      company_id: companyId,
      environment,
      ksef_number: ksefNumber,
      direction,
      invoice_number: r.invoice_number,
      invoice_type: r.invoice_type,
      issue_date: r.issue_date,
      seller_nip: r.seller_nip,
      seller_name: r.seller_name ?? null,
      buyer_nip: r.buyer_nip ?? null,
      buyer_name: r.buyer_name ?? null,
      net_amount: r.net_amount,
      vat_amount: r.vat_amount,
      gross_amount: r.gross_amount,
      currency: r.currency,
      invoice_hash: r.invoice_hash,
      xml,
    });
    this.bytes += xml.length;
  }

  metadata(records: InvoiceMetadata[]): void {
    const { packageId, companyId, environment } = this.target;
    for (const m of records) {
      this.metadataCount++;
      this.records.push({
        package_id: packageId,
        company_id: companyId,
        environment,
        ksef_number: m.ksefNumber,
        invoice_hash: m.invoiceHash,
        acquisition_date: m.acquisitionDate ? new Date(m.acquisitionDate) : null,
        permanent_storage_date: m.permanentStorageDate ? new Date(m.permanentStorageDate) : null,
        invoicing_mode: m.invoicingMode ?? null,
      });
    }
  }

  async flushIfFull(): Promise<void> {
    if (this.invoices.length >= BATCH_ROWS || this.bytes >= BATCH_BYTES || this.records.length >= BATCH_ROWS) await this.flush();
  }

  async flush(): Promise<void> {
    while (this.invoices.length > 0) {
      const batch = this.invoices.splice(0, BATCH_ROWS);
      // A KSeF number twice in one package (never expected) is kept once.
      await this.db.insertInto('sync_staged_invoices').values(batch).onConflict((oc) => oc.doNothing()).execute();
    }
    this.bytes = 0;
    while (this.records.length > 0) {
      const batch = this.records.splice(0, 500);
      await this.db.insertInto('sync_staged_metadata').values(batch).onConflict((oc) => oc.doNothing()).execute();
    }
  }
}
