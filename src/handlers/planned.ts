import { notImplemented } from '../http/errors';

/** A handler for a route that is in the contract but not built yet: 501 with what is coming and where. */
export const planned = (what: string, plannedIn: string) => async (): Promise<never> => {
  throw notImplemented(what, plannedIn);
};
