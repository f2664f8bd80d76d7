import type { Request } from 'express';
import { Router } from 'express';
import { continuationHeader, protectedBy, query } from '../http/endpoint.js';
import { ksef } from '../http/errors.js';
import { DOWNLOAD_LINK_TTL_MS, presign } from '../http/presigned.js';
import { sendXml } from '../http/respond.js';
import { invoiceUpo } from '../invoices/upo.js';
import { InvoiceRecord, Session, StatusInfo } from '../model.js';
import { SandboxState } from '../state.js';
import { compareKeys } from '../util/continuation.js';
import { KSEF_NUMBER, REFERENCE_NUMBER } from '../util/ids.js';
import { ksefDateTime, parseApiDateTime } from '../util/time.js';
import { canSee, findSession } from './common.js';

/** Session status, invoice lists and UPO downloads (PROTOCOL.md §4.5–4.8). */

const READ_PERMISSIONS = ['InvoiceWrite', 'Introspection', 'PefInvoiceWrite', 'EnforcementOperations'] as const;
const LIST_PERMISSIONS = ['InvoiceWrite', 'Introspection', 'EnforcementOperations'] as const;

export const invoiceUpoPath = (session: Session, ksefNumber: string) => `/storage/${session.referenceNumber}/invoice-upo/${ksefNumber}.xml`;
export const sessionUpoPath = (session: Session, upoRef: string) => `/storage/${session.referenceNumber}/session-upo/${upoRef}.xml`;

type CommonStatus = 'InProgress' | 'Succeeded' | 'Failed' | 'Cancelled';
const COMMON_STATUSES: readonly CommonStatus[] = ['InProgress', 'Succeeded', 'Failed', 'Cancelled'];

function commonStatus(status: StatusInfo): CommonStatus {
  if (status.code < 200) return 'InProgress';
  if (status.code === 200) return 'Succeeded';
  if (status.code === 440) return 'Cancelled';
  return 'Failed';
}

export function invoiceJson(state: SandboxState, req: Request, inv: InvoiceRecord, now: Date) {
  const stored = inv.permanentStorageDate && inv.permanentStorageDate.getTime() <= now.getTime();
  const upo = inv.session && inv.ksefNumber && inv.status.code === 200
    ? presign(state, req, invoiceUpoPath(inv.session, inv.ksefNumber), 'r', new Date(now.getTime() + DOWNLOAD_LINK_TTL_MS))
    : undefined;
  return {
    ordinalNumber: inv.ordinalNumber,
    invoiceNumber: inv.invoiceNumber,
    ksefNumber: inv.ksefNumber,
    referenceNumber: inv.referenceNumber,
    invoiceHash: inv.invoiceHash,
    invoiceFileName: inv.invoiceFileName,
    acquisitionDate: inv.acquisitionDate && ksefDateTime(inv.acquisitionDate),
    invoicingDate: ksefDateTime(inv.invoicingDate),
    permanentStorageDate: stored ? ksefDateTime(inv.permanentStorageDate!) : undefined,
    upoDownloadUrl: upo?.url,
    upoDownloadUrlExpirationDate: upo?.expiration,
    invoicingMode: inv.invoicingMode,
    status: inv.status,
  };
}

function sessionJson(state: SandboxState, req: Request, session: Session, now: Date) {
  const expiresAt = new Date(now.getTime() + DOWNLOAD_LINK_TTL_MS);
  return {
    status: session.status,
    dateCreated: ksefDateTime(session.dateCreated),
    dateUpdated: ksefDateTime(session.dateUpdated),
    validUntil: ksefDateTime(session.validUntil),
    upo: session.upoPages.length
      ? {
          pages: session.upoPages.map((page) => {
            const link = presign(state, req, sessionUpoPath(session, page.referenceNumber), 'r', expiresAt);
            return { referenceNumber: page.referenceNumber, downloadUrl: link.url, downloadUrlExpirationDate: link.expiration };
          }),
        }
      : undefined,
    invoiceCount: session.invoices.length,
    successfulInvoiceCount: session.successCount,
    failedInvoiceCount: session.failedCount,
  };
}

function dateFilter(req: Request, name: string): Date | undefined {
  const raw = query.string(req, name);
  if (raw === undefined) return undefined;
  const parsed = parseApiDateTime(raw);
  if (!parsed) throw ksef.validation([`${name}: must be a date-time`]);
  return parsed;
}

const within = (d: Date | undefined, from?: Date, to?: Date) =>
  (!from && !to) || (d !== undefined && (!from || d.getTime() >= from.getTime()) && (!to || d.getTime() <= to.getTime()));

const pathRef = (req: Request, name: string) => {
  const value = String(req.params[name]);
  if (!REFERENCE_NUMBER.test(value)) throw ksef.validation([`${name}: must be a 36-character reference number`]);
  return value;
};

export function sessionStatusRoutes(state: SandboxState): Router {
  const router = Router();

  router.get(
    '/sessions',
    protectedBy(state, 'access', { group: 'sessionList', permissions: LIST_PERMISSIONS }, ({ req, res, caller }) => {
      const type = query.string(req, 'sessionType');
      if (type !== 'Online' && type !== 'Batch') throw ksef.validation(['sessionType: is required and must be Online or Batch']);
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 1000, fallback: 10 });
      const reference = query.string(req, 'referenceNumber');
      const statuses = query.list(req, 'statuses');
      if (statuses.some((s) => !COMMON_STATUSES.includes(s as CommonStatus))) {
        throw ksef.validation([`statuses: items must be one of ${COMMON_STATUSES.join(', ')}`]);
      }
      const created = [dateFilter(req, 'dateCreatedFrom'), dateFilter(req, 'dateCreatedTo')] as const;
      const closed = [dateFilter(req, 'dateClosedFrom'), dateFilter(req, 'dateClosedTo')] as const;
      const modified = [dateFilter(req, 'dateModifiedFrom'), dateFilter(req, 'dateModifiedTo')] as const;
      const after = state.cursors.decode('sessions', continuationHeader(req));
      const key = (s: Session) => [-s.dateCreated.getTime(), s.referenceNumber];
      const matching = [...state.sessions.values()]
        .filter((s) => s.type === type && canSee(caller, s))
        .filter((s) => reference === undefined || s.referenceNumber === reference)
        .filter((s) => !statuses.length || statuses.includes(commonStatus(s.status)))
        .filter((s) => within(s.dateCreated, ...created) && within(s.dateClosed, ...closed) && within(s.dateUpdated, ...modified))
        .sort((a, b) => compareKeys(key(a), key(b)))
        .filter((s) => !after || compareKeys(key(s), after) > 0);
      const page = matching.slice(0, pageSize);
      res.json({
        continuationToken: matching.length > pageSize ? state.cursors.encode('sessions', key(page[page.length - 1])) : null,
        sessions: page.map((s) => ({
          referenceNumber: s.referenceNumber,
          status: s.status,
          dateCreated: ksefDateTime(s.dateCreated),
          dateUpdated: ksefDateTime(s.dateUpdated),
          validUntil: ksefDateTime(s.validUntil),
          totalInvoiceCount: s.invoices.length,
          successfulInvoiceCount: s.successCount,
          failedInvoiceCount: s.failedCount,
        })),
      });
    }),
  );

  router.get(
    '/sessions/:referenceNumber',
    protectedBy(state, 'access', { group: 'sessionMisc', permissions: READ_PERMISSIONS }, ({ req, res, caller, now }) => {
      const session = findSession(state, caller, pathRef(req, 'referenceNumber'));
      res.json(sessionJson(state, req, session, now));
    }),
  );

  const listInvoices = (onlyFailed: boolean) =>
    protectedBy(state, 'access', { group: 'sessionInvoiceList', permissions: READ_PERMISSIONS }, ({ req, res, caller, now }) => {
      const session = findSession(state, caller, pathRef(req, 'referenceNumber'));
      const pageSize = query.int(req, 'pageSize', { min: 10, max: 1000, fallback: 10 });
      const kind = onlyFailed ? 'failed-invoices' : 'invoices';
      const after = state.cursors.decode(`${kind}:${session.referenceNumber}`, continuationHeader(req));
      const start = after ? Number(after[0]) : 0;
      const selected: InvoiceRecord[] = [];
      let more = false;
      for (let i = start; i < session.invoices.length; i++) {
        const inv = session.invoices[i];
        if (onlyFailed && inv.status.code < 300) continue;
        if (selected.length === pageSize) {
          more = true;
          break;
        }
        selected.push(inv);
      }
      const last = selected[selected.length - 1];
      res.json({
        continuationToken: more ? state.cursors.encode(`${kind}:${session.referenceNumber}`, [last.ordinalNumber]) : null,
        invoices: selected.map((inv) => invoiceJson(state, req, inv, now)),
      });
    });

  router.get('/sessions/:referenceNumber/invoices', listInvoices(false));
  router.get('/sessions/:referenceNumber/invoices/failed', listInvoices(true));

  router.get(
    '/sessions/:referenceNumber/invoices/ksef/:ksefNumber/upo',
    protectedBy(state, 'access', { group: 'sessionMisc', permissions: READ_PERMISSIONS }, ({ req, res, caller }) => {
      const ref = pathRef(req, 'referenceNumber');
      const ksefNumber = String(req.params.ksefNumber);
      if (!KSEF_NUMBER.test(ksefNumber)) throw ksef.validation(['ksefNumber: invalid KSeF number']);
      const session = state.sessions.get(ref);
      const inv = session && canSee(caller, session) ? session.invoices.find((i) => i.ksefNumber === ksefNumber) : undefined;
      const upo = inv && invoiceUpo(inv);
      if (!upo) throw ksef.upoNotFound(`UPO o numerze KSeF ${ksefNumber} i numerze referencyjnym sesji ${ref} nie zostało znalezione.`);
      sendXml(res, upo);
    }),
  );

  router.get(
    '/sessions/:referenceNumber/invoices/:invoiceReferenceNumber/upo',
    protectedBy(state, 'access', { group: 'sessionMisc', permissions: READ_PERMISSIONS }, ({ req, res, caller }) => {
      const ref = pathRef(req, 'referenceNumber');
      const invoiceRef = pathRef(req, 'invoiceReferenceNumber');
      const session = state.sessions.get(ref);
      const inv = session && canSee(caller, session) ? session.invoicesByReference.get(invoiceRef) : undefined;
      const upo = inv && invoiceUpo(inv);
      if (!upo) throw ksef.upoNotFound(`UPO faktury o numerze referencyjnym ${invoiceRef} w sesji ${ref} nie zostało znalezione.`);
      sendXml(res, upo);
    }),
  );

  router.get(
    '/sessions/:referenceNumber/invoices/:invoiceReferenceNumber',
    protectedBy(state, 'access', { group: 'invoiceStatus', permissions: READ_PERMISSIONS }, ({ req, res, caller, now }) => {
      const session = findSession(state, caller, pathRef(req, 'referenceNumber'));
      const invoiceRef = pathRef(req, 'invoiceReferenceNumber');
      const inv = session.invoicesByReference.get(invoiceRef);
      if (!inv) throw ksef.validation([`invoiceReferenceNumber: faktura ${invoiceRef} nie została znaleziona w sesji ${session.referenceNumber}.`]);
      res.json(invoiceJson(state, req, inv, now));
    }),
  );

  router.get(
    '/sessions/:referenceNumber/upo/:upoReferenceNumber',
    protectedBy(state, 'access', { group: 'sessionMisc', permissions: READ_PERMISSIONS }, ({ req, res, caller }) => {
      const session = findSession(state, caller, pathRef(req, 'referenceNumber'));
      const upoRef = pathRef(req, 'upoReferenceNumber');
      const page = session.upoPages.find((p) => p.referenceNumber === upoRef);
      if (!page) throw ksef.upoNotFound(`UPO o numerze referencyjnym ${upoRef} dla sesji ${session.referenceNumber} nie zostało znalezione.`);
      sendXml(res, page.content);
    }),
  );

  return router;
}
