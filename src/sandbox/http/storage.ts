import express, { Response, Router } from 'express';
import { invoiceUpo } from '../invoices/upo.js';
import { storePart } from '../sessions/batch.js';
import { SandboxState } from '../state.js';
import { checkPresigned, LinkCheck, Permission } from './presigned.js';
import { sendXml } from './respond.js';

/**
 * The "blob storage" behind pre-signed links: session and invoice UPO downloads, batch part uploads,
 * export parts. No bearer, no rate limits; errors look like Azure Storage's.
 */

function storageError(res: Response, status: number, code: string, message: string) {
  res
    .status(status)
    .type('application/xml')
    .send(`<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
}

function signed(state: SandboxState, permission: Permission, handler: express.RequestHandler): express.RequestHandler {
  return (req, res, next) => {
    const check: LinkCheck = checkPresigned(state, req, permission);
    if (check === 'invalid') return storageError(res, 403, 'AuthenticationFailed', 'Signature did not match or the link is not for this operation.');
    if (check === 'expired') return storageError(res, 403, 'AuthenticationFailed', 'Signed expiry time has passed.');
    return handler(req, res, next);
  };
}

const notFound = (res: Response) => storageError(res, 404, 'BlobNotFound', 'The specified blob does not exist.');

export function storageRoutes(state: SandboxState): Router {
  const router = Router();

  router.get(
    '/:sessionRef/session-upo/:file',
    signed(state, 'r', (req, res) => {
      const session = state.sessions.get(String(req.params.sessionRef));
      const page = session?.upoPages.find((p) => `${p.referenceNumber}.xml` === req.params.file);
      if (!page) return notFound(res);
      sendXml(res, page.content);
    }),
  );

  router.get(
    '/:sessionRef/invoice-upo/:file',
    signed(state, 'r', (req, res) => {
      const session = state.sessions.get(String(req.params.sessionRef));
      const inv = session?.invoices.find((i) => `${i.ksefNumber}.xml` === req.params.file);
      const upo = inv && invoiceUpo(inv);
      if (!upo) return notFound(res);
      sendXml(res, upo);
    }),
  );

  router.put(
    '/:sessionRef/batch-parts/:ordinal',
    signed(state, 'w', express.raw({ type: () => true, limit: '101mb' })),
    (req, res) => {
      if (req.get('x-ms-blob-type') !== 'BlockBlob') {
        return storageError(res, 400, 'MissingRequiredHeader', 'An HTTP header x-ms-blob-type: BlockBlob is required.');
      }
      const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
      const outcome = storePart(state, String(req.params.sessionRef), Number(req.params.ordinal), body);
      if (outcome === 'unknown') return notFound(res);
      if (outcome === 'closed') return storageError(res, 403, 'AuthorizationFailure', 'The batch session no longer accepts parts.');
      res.status(201).end();
    },
  );

  router.get(
    '/exports/:exportRef/:partName',
    signed(state, 'r', (req, res) => {
      const part = state.exports.get(String(req.params.exportRef))?.parts.get(String(req.params.partName));
      if (!part) return notFound(res);
      res.status(200).type('application/octet-stream').send(part);
    }),
  );

  return router;
}
