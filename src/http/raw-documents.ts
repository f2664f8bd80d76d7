import crypto from 'node:crypto';
import type { Request, Response } from 'express';
import { ApiError } from './errors.js';

/**
 * Document routes answer JSON with the bytes in Base64 (part A of the contract), or the bytes themselves
 * when the client asks for them with `Accept`. An operation opts in with `x-raw-documents` in the spec:
 * content type → the `docType` that produces it (used when the request names no `docType`).
 */
export type RawDocuments = Record<string, string>;

interface DocumentBody {
  contentType: string;
  content: string;
  fileName: string;
}

const isDocumentBody = (body: unknown): body is DocumentBody =>
  typeof body === 'object' && body !== null && typeof (body as DocumentBody).contentType === 'string' && typeof (body as DocumentBody).content === 'string';

/** The docType an `Accept` naming one of the raw types asks for, when the query names none. */
export function docTypeFromAccept(req: Request, raw: RawDocuments): string | undefined {
  const accept = req.headers.accept;
  if (!accept) return undefined;
  const preferred = req.accepts(['application/json', ...Object.keys(raw)]);
  return preferred && preferred !== 'application/json' ? raw[preferred] : undefined;
}

/**
 * Sends the document's bytes when `Accept` prefers its type to JSON: Content-Type, a download file name,
 * and - a KSeF document never changes - a strong ETag, `immutable` caching and 304 for `If-None-Match`.
 * False when JSON is what the client takes (no Accept, `*\/*`, `application/json`).
 */
export function sendRawDocument(req: Request, res: Response, body: unknown): boolean {
  if (!isDocumentBody(body)) return false;
  const choice = req.accepts(['application/json', body.contentType]);
  if (choice === 'application/json') return false;
  if (choice === false) {
    throw new ApiError(
      406,
      'not_acceptable',
      `This document is ${body.contentType}, but Accept asks for ${req.headers.accept}: accept ${body.contentType} (the bytes) or application/json (Base64 inside JSON), or choose another docType.`,
    );
  }
  const bytes = Buffer.from(body.content, 'base64');
  res.setHeader('ETag', `"${crypto.createHash('sha256').update(bytes).digest('base64url')}"`);
  // Private: the document is behind Basic auth, so only the caller's own cache may keep it.
  res.setHeader('Cache-Control', 'private, max-age=31536000, immutable');
  res.vary('Accept');
  if (req.fresh) {
    res.status(304).end();
    return true;
  }
  res.attachment(body.fileName);
  res.type(body.contentType);
  res.status(200).send(bytes);
  return true;
}
