import { Router } from 'express';
import { gunzipSync, unzipSync } from 'fflate';
import { protectedBy } from '../http/endpoint.js';
import { ksef } from '../http/errors.js';
import { presign } from '../http/presigned.js';
import { examineInvoice, indexByHash, INVOICE_STATUS } from '../invoices/pipeline.js';
import { mayAttach } from '../limits/attachments.js';
import { sessionLimits } from '../limits/session-limits.js';
import { BatchPart, InvoiceRecord, Session } from '../model.js';
import { SandboxState } from '../state.js';
import { aesDecrypt, sha256Base64 } from '../util/crypto.js';
import { ArchiveEntry, untar } from '../util/tar.js';
import { BodyReader } from '../util/validate.js';
import { findSession, newSession, readEncryption, readFormCode, unwrapSessionKey } from './common.js';
import { BATCH_STATUS, isTimedOut, scheduleCompletion, setStatus, settleInvoice, timeOutBatch } from './lifecycle.js';

/** Batch sessions (PROTOCOL.md §5): declared parts, raw uploads to pre-signed URLs, close, unpack, judge. */

const MAX_PARTS = 50;
/** 100 MB before encryption, plus at most one block of PKCS#7 padding. */
const MAX_ENCRYPTED_PART_BYTES = 100_000_000 + 16;
const MAX_PACKAGE_BYTES = 5_000_000_000;
const UPLOAD_WINDOW_PER_PART_MS = 20 * 60_000;
const BATCH_PERMISSIONS = ['InvoiceWrite', 'EnforcementOperations'] as const;

export const partPath = (session: Session, ordinal: number) => `/storage/${session.referenceNumber}/batch-parts/${ordinal}`;

function readParts(r: BodyReader): { fileSize?: number; fileHash?: string; compressionType: 'Zip' | 'TarGz'; parts: BatchPart[] } {
  const file = r.object('batchFile', { required: true });
  const fileSize = file?.int('fileSize', { required: true, min: 1, max: MAX_PACKAGE_BYTES });
  const fileHash = file?.base64('fileHash', { required: true, decodedLength: 32 })?.toString('base64');
  const compressionType = file?.enumOf('compressionType', ['Zip', 'TarGz'] as const) ?? 'Zip';
  const declared = file?.array('fileParts', { required: true, min: 1 });
  if (declared && declared.length > MAX_PARTS) {
    throw ksef.tooManyParts(`Zadeklarowano ${declared.length} części; dozwolone maksymalnie ${MAX_PARTS}.`);
  }
  const parts: BatchPart[] = (file?.objects('fileParts') ?? []).map((p) => ({
    ordinalNumber: p.int('ordinalNumber', { required: true, min: 1 }) ?? 0,
    fileSize: p.int('fileSize', { required: true, min: 1 }) ?? 0,
    fileHash: p.base64('fileHash', { required: true, decodedLength: 32 })?.toString('base64') ?? '',
  }));
  const ordinals = parts.map((p) => p.ordinalNumber).sort((a, b) => a - b);
  if (parts.length && ordinals.some((n, i) => n !== i + 1)) {
    file?.fail('fileParts', 'ordinalNumber values must be 1..n, each exactly once');
  }
  return { fileSize, fileHash, compressionType, parts: parts.sort((a, b) => a.ordinalNumber - b.ordinalNumber) };
}

function checkPartSizes(parts: BatchPart[], fileSize: number): void {
  for (const part of parts) {
    if (part.fileSize > MAX_ENCRYPTED_PART_BYTES) {
      throw ksef.partSize(`Rozmiar części '${part.ordinalNumber}' (${part.fileSize} B) przekracza dopuszczalne 100 MB przed zaszyfrowaniem.`);
    }
  }
  // Each part is the encryption of a plain slice: 1..16 bytes of padding per part.
  const total = parts.reduce((sum, p) => sum + p.fileSize, 0);
  if (total < fileSize + parts.length || total > fileSize + 16 * parts.length) {
    throw ksef.partSize(`Suma rozmiarów części (${total} B) nie odpowiada zaszyfrowanej paczce o rozmiarze ${fileSize} B.`);
  }
}

async function unpack(archive: Uint8Array, type: 'Zip' | 'TarGz'): Promise<ArchiveEntry[]> {
  if (type === 'TarGz') return untar(gunzipSync(archive));
  return Object.entries(unzipSync(archive))
    .filter(([name]) => !name.endsWith('/'))
    .map(([name, data]) => ({ name, data }));
}

async function processPackage(state: SandboxState, session: Session): Promise<void> {
  const batch = session.batch!;
  const fail = (status: Session['status']) => setStatus(state, session, status, state.now());
  const release = () => batch.parts.forEach((p) => (p.data = undefined));

  const wrongHash = batch.parts.find((p) => sha256Base64(p.data!) !== p.fileHash);
  if (wrongHash) {
    release();
    return fail(BATCH_STATUS.packageInvalid([`Skrót części '${wrongHash.ordinalNumber}' nie zgadza się z zadeklarowanym.`]));
  }
  let archive: Buffer;
  try {
    archive = Buffer.concat(batch.parts.map((p) => aesDecrypt(session.key!, session.iv, p.data!)));
  } catch {
    release();
    return fail(BATCH_STATUS.partDecryptionFailed(['Nie udało się odszyfrować części paczki.']));
  }
  release();
  if (archive.length !== batch.fileSize || sha256Base64(archive) !== batch.fileHash) {
    return fail(BATCH_STATUS.packageInvalid(['Rozmiar lub skrót odszyfrowanej paczki nie zgadza się z batchFile.fileSize/fileHash.']));
  }
  let entries: ArchiveEntry[];
  try {
    entries = await unpack(archive, batch.compressionType);
  } catch (err) {
    return fail(BATCH_STATUS.decompressionFailed([`Nie udało się rozpakować archiwum ${batch.compressionType}: ${(err as Error).message}`]));
  }
  const { maxInvoices } = sessionLimits(state, session.context, 'batchSession');
  if (entries.length > maxInvoices) {
    return fail(BATCH_STATUS.tooManyInvoices([`Paczka zawiera ${entries.length} faktur; limit to ${maxInvoices}.`]));
  }

  const now = state.now();
  const invoices = entries.map((entry, i): InvoiceRecord => {
    const content = Buffer.from(entry.data.buffer, entry.data.byteOffset, entry.data.byteLength);
    const inv: InvoiceRecord = {
      referenceNumber: state.newReference('EE', now),
      ordinalNumber: i + 1,
      session,
      issuerContext: session.context,
      formCode: session.formCode,
      invoiceHash: sha256Base64(content),
      invoiceSize: content.length,
      invoiceFileName: entry.name.slice(0, 128),
      // §9: a batch invoice's invoicing date is the session's opening.
      invoicingDate: session.dateCreated,
      offlineMode: batch.offlineMode,
      status: INVOICE_STATUS.processing(),
      content,
    };
    session.invoices.push(inv);
    session.invoicesByReference.set(inv.referenceNumber!, inv);
    indexByHash(state, inv);
    return inv;
  });
  session.pending = invoices.length;
  session.dateUpdated = now;
  const attachmentsAllowed = mayAttach(state, session.context.value.split('-')[0], state.now());
  const limits = sessionLimits(state, session.context, 'batchSession');
  const exams = await Promise.all(
    invoices.map((inv) => examineInvoice(state, inv, inv.content!, { issuer: session.context, attachmentsAllowed, limits })),
  );
  // Judged in package order, so of two equal invoices in one package the first is accepted.
  invoices.forEach((inv, i) => settleInvoice(state, inv, exams[i]));
  scheduleCompletion(state, session);
}

export function batchSessionRoutes(state: SandboxState): Router {
  const router = Router();

  router.post(
    '/sessions/batch',
    protectedBy(state, 'access', { group: 'batchSession', permissions: BATCH_PERMISSIONS }, async ({ req, res, caller, now }) => {
      const keys = await state.keysReady;
      const r = BodyReader.of(req.body);
      const form = readFormCode(r);
      const declared = readParts(r);
      const encryption = readEncryption(r);
      const offlineMode = r.bool('offlineMode') ?? false;
      r.done();
      checkPartSizes(declared.parts, declared.fileSize!);
      const key = unwrapSessionKey(keys, encryption!);
      const deadline = new Date(now.getTime() + UPLOAD_WINDOW_PER_PART_MS * declared.parts.length);
      const session = newSession(state, caller, 'Batch', form!, key, encryption!.initializationVector, deadline, now);
      session.status = key ? BATCH_STATUS.open() : BATCH_STATUS.keyError();
      session.batch = {
        fileSize: declared.fileSize!,
        fileHash: declared.fileHash!,
        compressionType: declared.compressionType,
        parts: declared.parts,
        offlineMode,
      };
      state.sessions.set(session.referenceNumber, session);
      if (key) state.liveSessions.add(session);
      res.status(201).json({
        referenceNumber: session.referenceNumber,
        partUploadRequests: declared.parts.map((p) => ({
          ordinalNumber: p.ordinalNumber,
          method: 'PUT',
          url: presign(state, req, partPath(session, p.ordinalNumber), 'w', deadline).url,
          headers: { 'x-ms-blob-type': 'BlockBlob' },
        })),
      });
    }),
  );

  router.post(
    '/sessions/batch/:referenceNumber/close',
    protectedBy(state, 'access', { group: 'batchSession', permissions: BATCH_PERMISSIONS }, ({ req, res, caller, now }) => {
      const session = findSession(state, caller, String(req.params.referenceNumber), 'Batch');
      if (session.status.code === 100 && now.getTime() >= session.validUntil.getTime()) timeOutBatch(state, session, now);
      if (isTimedOut(session)) throw ksef.uploadTimeout();
      if (session.status.code !== 100) throw ksef.sessionStatus(session.status.code, 'jej zamknięcie');
      const parts = session.batch!.parts;
      const missing = parts.find((p) => !p.data);
      if (missing) throw ksef.partMissing(missing.ordinalNumber);
      const wrongSize = parts.find((p) => p.data!.length !== p.fileSize);
      if (wrongSize) throw ksef.partSize(`Zadeklarowany rozmiar części '${wrongSize.ordinalNumber}' nie zgadza się z rzeczywistym.`);
      session.dateClosed = now;
      setStatus(state, session, BATCH_STATUS.processing(), now);
      state.liveSessions.add(session);
      state.defer(state.options.processingDelayMs, () =>
        processPackage(state, session).catch((err: unknown) => {
          console.error('[sandbox] batch processing failed', err);
          setStatus(state, session, BATCH_STATUS.unknownError(), state.now());
        }),
      );
      res.status(204).end();
    }),
  );

  return router;
}

export type PartUpload = 'stored' | 'unknown' | 'closed';

/** A raw part upload to its pre-signed URL (no bearer, not rate-limited). */
export function storePart(state: SandboxState, sessionRef: string, ordinal: number, body: Buffer): PartUpload {
  const session = state.sessions.get(sessionRef);
  const part = session?.batch?.parts.find((p) => p.ordinalNumber === ordinal);
  if (!session || !part) return 'unknown';
  if (session.status.code !== 100) return 'closed';
  part.data = Buffer.from(body);
  return 'stored';
}
