import { Router } from 'express';
import { certificateOwner } from '../certificates/routes.js';
import { subjectCertificateLimits } from '../certificates/issuing.js';
import { protectedBy } from '../http/endpoint.js';
import { RATE_LIMIT_GROUPS } from '../options.js';
import { SandboxState } from '../state.js';
import { sessionLimits } from './session-limits.js';

/** `GET /rate-limits`, `GET /limits/context` and `GET /limits/subject`: what applies to the caller's context and subject. */

/** What `GET /rate-limits` reports for a window that is not limited (limits off or left out of a custom table). */
const UNLIMITED = 1_000_000;

export function limitRoutes(state: SandboxState): Router {
  const router = Router();

  router.get(
    '/rate-limits',
    protectedBy(state, 'access', { group: 'other' }, ({ res, caller }) => {
      const table = state.rateLimiter.table(caller.contextKey);
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
    protectedBy(state, 'access', { group: 'other' }, ({ res, caller }) => {
      res.json({ onlineSession: sessionLimits(state, caller.context, 'onlineSession'), batchSession: sessionLimits(state, caller.context, 'batchSession') });
    }),
  );

  router.get(
    '/limits/subject',
    protectedBy(state, 'access', { group: 'other' }, ({ res, caller }) => {
      const limits = subjectCertificateLimits(state, certificateOwner(state, caller));
      res.json({ enrollment: { maxEnrollments: limits.maxEnrollments }, certificate: { maxCertificates: limits.maxCertificates } });
    }),
  );

  return router;
}
