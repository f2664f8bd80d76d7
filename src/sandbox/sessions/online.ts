import { Router } from 'express';
import { protectedBy } from '../http/endpoint.js';
import { ksef } from '../http/errors.js';
import { examineInvoice, Examination, indexByHash, INVOICE_STATUS } from '../invoices/pipeline.js';
import { mayAttach } from '../limits/attachments.js';
import { sessionLimits } from '../limits/session-limits.js';
import { InvoiceRecord, Session } from '../model.js';
import { SandboxState } from '../state.js';
import { aesDecrypt, sha256Base64 } from '../util/crypto.js';
import { ksefDateTime } from '../util/time.js';
import { BodyReader } from '../util/validate.js';
import { findSession, newSession, readEncryption, readFormCode, SESSION_PERMISSIONS, unwrapSessionKey } from './common.js';
import { closeOnlineSession, ONLINE_STATUS, settleInvoice } from './lifecycle.js';

/** Interactive sessions (PROTOCOL.md §4): open, send, close; invoices are judged asynchronously. */

const SESSION_LIFETIME_MS = 12 * 3_600_000;

/** Technical correction (§9): only offline re-sends of a rejected invoice, and only one valid correction. */
function checkTechnicalCorrection(state: SandboxState, hash: string): void {
  if ((state.invoicesByHash.get(hash) ?? []).some((i) => i.status.code === 200)) throw ksef.technicalCorrectionRefused();
  // An accepted correction, or one still being processed, takes the single slot.
  if ((state.correctionsByHash.get(hash) ?? []).some((i) => i.status.code <= 200)) {
    throw ksef.technicalCorrectionTaken();
  }
}

async function examineOnline(state: SandboxState, session: Session, inv: InvoiceRecord): Promise<Examination> {
  let content: Buffer;
  try {
    content = aesDecrypt(session.key!, session.iv, inv.encrypted!);
  } catch {
    return { ok: false, status: INVOICE_STATUS.decryptionFailed() };
  } finally {
    inv.encrypted = undefined;
  }
  inv.content = content;
  return examineInvoice(state, inv, content, {
    issuer: session.context,
    attachmentsAllowed: inv.hashOfCorrectedInvoice !== undefined && mayAttach(state, session.context.value.split('-')[0], state.now()),
    limits: sessionLimits(state, session.context, 'onlineSession'),
  });
}

/** 100 -> 150 -> final, one processing delay per step. */
function process(state: SandboxState, session: Session, inv: InvoiceRecord): void {
  const delay = state.options.processingDelayMs;
  state.defer(delay, async () => {
    inv.status = INVOICE_STATUS.processing();
    session.dateUpdated = state.now();
    const exam = await examineOnline(state, session, inv).catch((err: unknown): Examination => {
      console.error('[sandbox] invoice processing failed', err);
      return { ok: false, status: INVOICE_STATUS.unknownError() };
    });
    state.defer(delay, () => settleInvoice(state, inv, exam));
  });
}

export function onlineSessionRoutes(state: SandboxState): Router {
  const router = Router();

  router.post(
    '/sessions/online',
    protectedBy(state, 'access', { group: 'onlineSession', permissions: SESSION_PERMISSIONS }, async ({ req, res, caller, now }) => {
      const keys = await state.keysReady;
      const r = BodyReader.of(req.body);
      const form = readFormCode(r);
      const encryption = readEncryption(r);
      r.done();
      const key = unwrapSessionKey(keys, encryption!);
      const session = newSession(state, caller, 'Online', form!, key, encryption!.initializationVector, new Date(now.getTime() + SESSION_LIFETIME_MS), now);
      session.status = key ? ONLINE_STATUS.open() : ONLINE_STATUS.keyError();
      state.sessions.set(session.referenceNumber, session);
      if (key) state.liveSessions.add(session);
      res.status(201).json({ referenceNumber: session.referenceNumber, validUntil: ksefDateTime(session.validUntil) });
    }),
  );

  router.post(
    '/sessions/online/:referenceNumber/invoices',
    protectedBy(state, 'access', { group: 'invoiceSend', permissions: SESSION_PERMISSIONS }, ({ req, res, caller, now }) => {
      const r = BodyReader.of(req.body);
      const invoiceHash = r.base64('invoiceHash', { required: true, decodedLength: 32 });
      const invoiceSize = r.int('invoiceSize', { required: true, min: 1 });
      const encryptedHash = r.base64('encryptedInvoiceHash', { required: true, decodedLength: 32 });
      const encryptedSize = r.int('encryptedInvoiceSize', { required: true, min: 1 });
      const content = r.base64('encryptedInvoiceContent', { required: true });
      const offlineMode = r.bool('offlineMode') ?? false;
      const corrected = r.base64('hashOfCorrectedInvoice', { decodedLength: 32 });
      if (corrected && !offlineMode) r.fail('hashOfCorrectedInvoice', 'a technical correction must be sent with offlineMode: true');
      r.done();

      const session = findSession(state, caller, String(req.params.referenceNumber), 'Online');
      if (session.status.code !== 100) throw ksef.sessionStatus(session.status.code, 'wysyłkę faktur');
      const { maxInvoices } = sessionLimits(state, session.context, 'onlineSession');
      if (session.invoices.length >= maxInvoices) throw ksef.invoiceLimit(session.referenceNumber, maxInvoices);
      if (content!.length !== encryptedSize) throw ksef.fileSize();
      if (sha256Base64(content!) !== encryptedHash!.toString('base64')) throw ksef.fileHash();
      const correctedHash = corrected?.toString('base64');
      if (correctedHash) checkTechnicalCorrection(state, correctedHash);

      const inv: InvoiceRecord = {
        referenceNumber: state.newReference('EE', now),
        ordinalNumber: session.invoices.length + 1,
        session,
        issuerContext: session.context,
        formCode: session.formCode,
        invoiceHash: invoiceHash!.toString('base64'),
        invoiceSize: invoiceSize!,
        invoicingDate: now,
        offlineMode,
        hashOfCorrectedInvoice: correctedHash,
        status: INVOICE_STATUS.received(),
        encrypted: content,
      };
      session.invoices.push(inv);
      session.invoicesByReference.set(inv.referenceNumber!, inv);
      session.pending++;
      session.dateUpdated = now;
      indexByHash(state, inv);
      if (correctedHash) state.correctionsByHash.set(correctedHash, [...(state.correctionsByHash.get(correctedHash) ?? []), inv]);
      process(state, session, inv);
      res.status(202).json({ referenceNumber: inv.referenceNumber });
    }),
  );

  router.post(
    '/sessions/online/:referenceNumber/close',
    protectedBy(state, 'access', { group: 'onlineSession', permissions: SESSION_PERMISSIONS }, ({ req, res, caller, now }) => {
      const session = findSession(state, caller, String(req.params.referenceNumber), 'Online');
      if (session.status.code !== 100) throw ksef.sessionStatus(session.status.code, 'jej zamknięcie');
      closeOnlineSession(state, session, now);
      res.status(204).end();
    }),
  );

  return router;
}
