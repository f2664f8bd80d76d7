import { Router } from 'express';
import { gzipSync, zipSync } from 'fflate';
import { protectedBy, query } from '../http/endpoint.js';
import { gone, KsefError, ksef } from '../http/errors.js';
import { presign } from '../http/presigned.js';
import { sendXml } from '../http/respond.js';
import { ContextIdentifier, contextKey, ExportJob, StatusInfo } from '../model.js';
import { readEncryption, unwrapSessionKey } from '../sessions/common.js';
import { SandboxState } from '../state.js';
import { aesEncrypt, sha256Base64 } from '../util/crypto.js';
import { KSEF_NUMBER, REFERENCE_NUMBER } from '../util/ids.js';
import { tar } from '../util/tar.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';
import { canRead, InvoiceQuery, metadataJson, readInvoiceQuery, selectInvoices } from './metadata.js';

/** Retrieval (PROTOCOL.md §8): download by KSeF number, metadata queries, exports. */

const READ = ['InvoiceRead'] as const;
const MAX_RUNNING_EXPORTS = 10;
const EXPORT_RETENTION_MS = 7 * 24 * 3_600_000;

export const exportPartPath = (job: ExportJob, partName: string) => `/storage/exports/${job.referenceNumber}/${partName}`;

const exportStatus = {
  running: (): StatusInfo => ({ code: 100, description: 'Eksport faktur w toku' }),
  done: (): StatusInfo => ({ code: 200, description: 'Eksport faktur zakończony sukcesem' }),
  expired: (): StatusInfo => ({ code: 210, description: 'Eksport faktur wygasł i nie jest już dostępny do pobrania' }),
  keyError: (): StatusInfo => ({ code: 415, description: 'Błąd odszyfrowania dostarczonego klucza' }),
  unknownError: (): StatusInfo => ({ code: 500, description: 'Nieznany błąd (500)' }),
  beyondHwm: (): StatusInfo => ({
    code: 420,
    description: 'Zakres filtrowania wykracza poza dostępny zakres danych',
    details: ['Parametr dateRange.from jest późniejszy niż PermanentStorageHwmDate przy włączonym restrictToPermanentStorageHwmDate.'],
  }),
};

interface ExportRequest {
  query: InvoiceQuery;
  onlyMetadata: boolean;
  compressionType: 'Zip' | 'TarGz';
  key?: Buffer;
  iv: Buffer;
  context: ContextIdentifier;
}

interface StoredPart {
  ordinalNumber: number;
  partName: string;
  partSize: number;
  partHash: string;
  encryptedPartSize: number;
  encryptedPartHash: string;
}

/** Ascending by the chosen date until the invoice cap; `{ksefNumber}.xml` files plus `_metadata.json`. */
function buildExport(state: SandboxState, job: ExportJob, request: ExportRequest): void {
  const now = state.now();
  if (!request.key) {
    job.status = exportStatus.keyError();
    return;
  }
  let selection;
  try {
    selection = selectInvoices(state, contextKey(request.context), request.query, now, false);
  } catch (err) {
    if (err instanceof KsefError && err.code === 21183) {
      job.status = exportStatus.beyondHwm();
      return;
    }
    throw err;
  }
  const limit = state.options.exportInvoiceLimit;
  const chosen = selection.invoices.slice(0, limit);
  const isTruncated = selection.invoices.length > limit;
  const files: Array<{ name: string; data: Uint8Array }> = request.onlyMetadata
    ? []
    : chosen.map((inv) => ({ name: `${inv.ksefNumber}.xml`, data: inv.content! }));
  files.push({ name: '_metadata.json', data: Buffer.from(JSON.stringify({ invoices: chosen.map(metadataJson) }), 'utf8') });
  const archive =
    request.compressionType === 'Zip'
      ? Buffer.from(zipSync(Object.fromEntries(files.map((f) => [f.name, f.data]))))
      : Buffer.from(gzipSync(tar(files, now)));
  const extension = request.compressionType === 'Zip' ? 'zip' : 'tar.gz';
  const parts: StoredPart[] = [];
  const partBytes = state.options.exportPartBytes;
  for (let offset = 0, n = 1; offset < archive.length; offset += partBytes, n++) {
    const plain = archive.subarray(offset, offset + partBytes);
    const encrypted = aesEncrypt(request.key, request.iv, plain);
    const partName = `${job.referenceNumber}-${String(n).padStart(3, '0')}.${extension}.aes`;
    job.parts.set(partName, encrypted);
    parts.push({
      ordinalNumber: n,
      partName,
      partSize: plain.length,
      partHash: sha256Base64(plain),
      encryptedPartSize: encrypted.length,
      encryptedPartHash: sha256Base64(encrypted),
    });
  }
  const last = chosen[chosen.length - 1];
  const dateType = request.query.dateType;
  job.package = {
    invoiceCount: chosen.length,
    size: archive.length,
    parts,
    isTruncated,
    ...(isTruncated && dateType === 'Issue' ? { lastIssueDate: last.facts!.issueDate } : {}),
    ...(isTruncated && dateType === 'Invoicing' ? { lastInvoicingDate: ksefDateTime(last.invoicingDate) } : {}),
    ...(isTruncated && dateType === 'PermanentStorage' ? { lastPermanentStorageDate: ksefDateTime(last.permanentStorageDate!) } : {}),
    ...(selection.hwm ? { permanentStorageHwmDate: ksefDateTime(selection.hwm) } : {}),
  };
  job.completedDate = now;
  job.packageExpirationDate = new Date(now.getTime() + EXPORT_RETENTION_MS);
  job.status = exportStatus.done();
}

export function invoiceRoutes(state: SandboxState): Router {
  const router = Router();

  router.get(
    '/invoices/ksef/:ksefNumber',
    protectedBy(state, 'access', { group: 'invoiceDownload', permissions: READ }, ({ req, res, caller, now }) => {
      const ksefNumber = String(req.params.ksefNumber);
      if (!KSEF_NUMBER.test(ksefNumber)) throw ksef.validation(['ksefNumber: invalid KSeF number']);
      const inv = state.invoicesByKsefNumber.get(ksefNumber);
      if (!inv || !canRead(inv, caller.contextKey)) throw ksef.invoiceNotFound(ksefNumber);
      if (inv.permanentStorageDate!.getTime() > now.getTime()) throw ksef.invoiceNotYetAvailable(ksefNumber);
      sendXml(res, inv.content!, inv.invoiceHash);
    }),
  );

  router.post(
    '/invoices/query/metadata',
    protectedBy(state, 'access', { group: 'invoiceMetadata', permissions: READ }, ({ req, res, caller, now }) => {
      const pageOffset = query.int(req, 'pageOffset', { min: 0, max: 1_000_000, fallback: 0 });
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 250, fallback: 10 });
      const sortOrder = query.string(req, 'sortOrder') ?? 'Asc';
      if (sortOrder !== 'Asc' && sortOrder !== 'Desc') throw ksef.validation(['sortOrder: must be Asc or Desc']);
      const r = BodyReader.of(req.body);
      const q = readInvoiceQuery(r);
      r.done();
      const { invoices, hwm } = selectInvoices(state, caller.contextKey, q!, now, sortOrder === 'Desc');
      // At most `limit` records per set of filters; past it the client narrows dateRange (isTruncated).
      const limit = state.options.metadataQueryLimit;
      const start = pageOffset * pageSize;
      const page = invoices.slice(Math.min(start, limit), Math.min(start + pageSize, limit));
      const end = start + page.length;
      const isTruncated = invoices.length > limit && end >= limit;
      res.json({
        hasMore: isTruncated || end < Math.min(invoices.length, limit),
        isTruncated,
        permanentStorageHwmDate: hwm ? ksefDateTime(hwm) : null,
        invoices: page.map(metadataJson),
      });
    }),
  );

  router.post(
    '/invoices/exports',
    protectedBy(state, 'access', { group: 'invoiceExport', permissions: READ }, async ({ req, res, caller, now }) => {
      const keys = await state.keysReady;
      const r = BodyReader.of(req.body);
      const encryption = readEncryption(r);
      const onlyMetadata = r.bool('onlyMetadata') ?? false;
      const compressionType = r.enumOf('compressionType', ['Zip', 'TarGz'] as const) ?? 'Zip';
      const filters = r.object('filters', { required: true });
      const q = filters && readInvoiceQuery(filters);
      r.done();
      const running = [...state.exports.values()].filter((j) => contextKey(j.context) === caller.contextKey && j.status.code === 100);
      if (running.length >= MAX_RUNNING_EXPORTS) throw ksef.tooManyExports(MAX_RUNNING_EXPORTS);
      const key = unwrapSessionKey(keys, encryption!);
      const job: ExportJob = {
        referenceNumber: state.newReference('EH', now),
        context: caller.context,
        created: now,
        status: exportStatus.running(),
        parts: new Map(),
      };
      state.exports.set(job.referenceNumber, job);
      const request: ExportRequest = { query: q!, onlyMetadata, compressionType, key, iv: encryption!.initializationVector, context: caller.context };
      state.defer(state.options.processingDelayMs, () => {
        try {
          buildExport(state, job, request);
        } catch (err) {
          console.error('[sandbox] export failed', err);
          job.status = exportStatus.unknownError();
        }
      });
      res.status(201).json({ referenceNumber: job.referenceNumber });
    }),
  );

  router.get(
    '/invoices/exports/:referenceNumber',
    protectedBy(state, 'access', { group: 'invoiceExportStatus', permissions: READ }, ({ req, res, caller, now }) => {
      const ref = String(req.params.referenceNumber);
      if (!REFERENCE_NUMBER.test(ref)) throw ksef.validation(['referenceNumber: must be a 36-character reference number']);
      const job = state.exports.get(ref);
      if (!job || contextKey(job.context) !== caller.contextKey) throw ksef.exportNotFound();
      if (now.getTime() - job.created.getTime() > EXPORT_RETENTION_MS) throw gone();
      const expired = job.packageExpirationDate && job.packageExpirationDate.getTime() <= now.getTime();
      const pkg = job.package && !expired ? job.package : undefined;
      const expiresAt = job.packageExpirationDate!;
      res.json({
        status: expired ? exportStatus.expired() : job.status,
        completedDate: job.completedDate && ksefDateTime(job.completedDate),
        packageExpirationDate: job.packageExpirationDate && ksefDateTime(job.packageExpirationDate),
        package: pkg && {
          ...pkg,
          parts: (pkg.parts as StoredPart[]).map((p) => {
            const link = presign(state, req, exportPartPath(job, p.partName), 'r', expiresAt);
            return { ...p, method: 'GET', url: link.url, expirationDate: link.expiration };
          }),
        },
      });
    }),
  );

  return router;
}
