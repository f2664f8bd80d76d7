import type { Principal } from '../accounts/users.js';
import { ApiError, forbidden } from '../http/errors.js';
import type { HandlerContext } from '../http/app.js';

/** The authenticated caller of a protected operation (the auth middleware guarantees one). */
export function caller(ctx: HandlerContext): Principal {
  if (!ctx.principal) throw new ApiError(401, 'unauthorized', 'Send HTTP Basic credentials of an API user.');
  return ctx.principal;
}

export function requireAdmin(ctx: HandlerContext): Principal {
  const principal = caller(ctx);
  if (principal.role !== 'admin') throw forbidden('Only an admin may do this.');
  return principal;
}
