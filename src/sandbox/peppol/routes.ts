import { Router } from 'express';
import { open, query } from '../http/endpoint.js';
import { SandboxState } from '../state.js';

/**
 * `GET /peppol/query`: the Peppol service providers KSeF knows, which register at their first sign-in. The
 * sandbox has no Peppol provider sign-in (PeppolId contexts answer 21117), so the list is always empty.
 */
export function peppolRoutes(state: SandboxState): Router {
  const router = Router();
  router.get(
    '/peppol/query',
    open(state, { group: 'auth' }, ({ req, res }) => {
      query.int(req, 'pageOffset', { min: 0, max: 1_000_000, fallback: 0 });
      query.int(req, 'pageSize', { min: 10, max: 100, fallback: 10 });
      res.json({ peppolProviders: [], hasMore: false });
    }),
  );
  return router;
}
