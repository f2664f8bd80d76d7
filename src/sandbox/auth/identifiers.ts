import { ContextIdentifier } from '../model.js';
import { INTERNAL_ID, NIP } from '../util/ids.js';

/** The identifier and address patterns of the auth requests (open-api.json, auth XSD 2.1 with its anchors stripped). */

export const IP4 = /^((25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])\.){3}(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])$/;
export const IP4_RANGE = new RegExp(`^${IP4.source.slice(1, -1)}-${IP4.source.slice(1, -1)}$`);
export const IP4_MASK = new RegExp(`^${IP4.source.slice(1, -1)}/(0|[1-9]|[12][0-9]|3[0-2])$`);

export const CONTEXT_VALUE: Record<ContextIdentifier['type'], RegExp> = {
  Nip: NIP,
  InternalId: INTERNAL_ID,
  NipVatUe: /^[1-9]((\d[1-9])|([1-9]\d))\d{7}-[A-Z]{2}[0-9A-Z+*]{2,13}$/,
  PeppolId: /^P[A-Z]{2}[0-9]{6}$/,
};

export const CHALLENGE = /^\d{8}-CR-[A-F0-9]{10}-[A-F0-9]{10}-[A-F0-9]{2}$/;
