import { Router } from 'express';
import { open } from '../http/endpoint.js';
import { SandboxState } from '../state.js';
import { ksefDateTimeSeconds } from '../util/time.js';

/** `GET /security/public-key-certificates` (PROTOCOL.md §3): DER certificates in Base64, no PEM armour. */
export function publicKeyRoutes(state: SandboxState): Router {
  const router = Router();
  router.get(
    '/security/public-key-certificates',
    open(state, { group: 'auth' }, async ({ res }) => {
      const keys = await state.keysReady;
      res.json(
        keys.entries.map((k) => ({
          certificate: k.certificateDer.toString('base64'),
          certificateId: k.certificateId,
          publicKeyId: k.publicKeyId,
          validFrom: ksefDateTimeSeconds(k.validFrom),
          validTo: ksefDateTimeSeconds(k.validTo),
          usage: [k.usage],
        })),
      );
    }),
  );
  return router;
}
