import { Router } from 'express';
import { open, protectedBy } from '../http/endpoint.js';
import { MAX_INVOICE_BYTES, MAX_INVOICE_WITH_ATTACHMENT_BYTES, MAX_INVOICES_PER_SESSION } from '../invoices/pipeline.js';
import { RATE_LIMIT_GROUPS } from '../options.js';
import { SandboxState } from '../state.js';
import { NIP } from '../util/ids.js';
import { BodyReader } from '../util/validate.js';

/** `GET /rate-limits`, `GET /limits/context` and the TEST-only attachment switch `POST /testdata/attachment[/revoke]`. */

/** What `GET /rate-limits` reports for a window that is not limited (limits off or left out of a custom table). */
const UNLIMITED = 1_000_000;

export function limitRoutes(state: SandboxState): Router {
  const router = Router();

  router.get(
    '/rate-limits',
    protectedBy(state, 'access', { group: 'other' }, ({ res }) => {
      const table = state.rateLimiter.table();
      const effective = Object.fromEntries(
        RATE_LIMIT_GROUPS.filter((g) => g !== 'auth').map((g) => [
          g,
          {
            perSecond: table[g]?.perSecond ?? UNLIMITED,
            perMinute: table[g]?.perMinute ?? UNLIMITED,
            perHour: table[g]?.perHour ?? UNLIMITED,
          },
        ]),
      );
      res.json(effective);
    }),
  );

  router.get(
    '/limits/context',
    protectedBy(state, 'access', { group: 'other' }, ({ res }) => {
      const limits = {
        maxInvoiceSizeInMB: MAX_INVOICE_BYTES / 1_000_000,
        maxInvoiceWithAttachmentSizeInMB: MAX_INVOICE_WITH_ATTACHMENT_BYTES / 1_000_000,
        maxInvoices: MAX_INVOICES_PER_SESSION,
      };
      res.json({ onlineSession: limits, batchSession: limits });
    }),
  );

  const attachmentSwitch = (enabled: boolean) =>
    open(state, { group: 'other' }, ({ req, res }) => {
      const r = BodyReader.of(req.body);
      const nip = r.string('nip', { required: true, pattern: NIP });
      if (!enabled) r.string('expectedEndDate', { pattern: /^\d{4}-\d{2}-\d{2}$/ });
      r.done();
      if (enabled) state.attachmentNips.add(nip!);
      else state.attachmentNips.delete(nip!);
      res.status(200).end();
    });

  router.post('/testdata/attachment', attachmentSwitch(true));
  router.post('/testdata/attachment/revoke', attachmentSwitch(false));

  return router;
}
