import { CONTEXT_VALUE } from '../auth/identifiers.js';
import { AuthorizedIdentifier, ContextIdentifier, EntityDetails, PersonDetails } from '../model.js';
import { FINGERPRINT, INTERNAL_ID, internalIdChecksumValid, NIP, PESEL } from '../util/ids.js';
import { BodyReader } from '../util/validate.js';

/** Reading the bodies of `/permissions/*` grants and queries (open-api.json's shapes; each problem names its field → 21405). */

export const PERSON_PERMISSIONS = [
  'CredentialsManage',
  'CredentialsRead',
  'InvoiceWrite',
  'InvoiceRead',
  'Introspection',
  'SubunitManage',
  'EnforcementOperations',
] as const;
export const INVOICE_PERMISSIONS = ['InvoiceWrite', 'InvoiceRead'] as const;

/** `AllPartners` (an indirect grant's target) and `System` (an author) carry no value. */
type IdentifierType = AuthorizedIdentifier['type'] | ContextIdentifier['type'] | 'AllPartners' | 'System';

const VALUE_PATTERN: Record<Exclude<IdentifierType, 'AllPartners' | 'System'>, RegExp> = {
  Nip: NIP,
  Pesel: PESEL,
  Fingerprint: FINGERPRINT,
  InternalId: INTERNAL_ID,
  NipVatUe: CONTEXT_VALUE.NipVatUe,
  PeppolId: CONTEXT_VALUE.PeppolId,
};

/** `{type, value}` of one of `types`, the value checked against its type (fingerprints upper-cased). */
export function readIdentifier<T extends IdentifierType>(
  r: BodyReader,
  key: string,
  types: readonly T[],
  rules: { required?: boolean; caseInsensitive?: boolean } = {},
): { type: T; value?: string } | undefined {
  const o = r.object(key, { required: rules.required });
  if (!o) return undefined;
  const type = o.enumOf('type', types, { required: true, caseInsensitive: rules.caseInsensitive });
  if (type === 'AllPartners' || type === 'System') {
    o.string('value');
    return { type };
  }
  const value = o.string('value', { required: true });
  if (type === undefined || value === undefined) return undefined;
  if (!VALUE_PATTERN[type as keyof typeof VALUE_PATTERN].test(value)) {
    o.fail('value', `is not a valid ${type}`);
    return undefined;
  }
  return { type, value: type === 'Fingerprint' ? value.toUpperCase() : value };
}

export const readDescription = (r: BodyReader) => r.string('description', { required: true, min: 5, max: 256 });

function readPerson(r: BodyReader, key: string, type: PersonDetails['subjectDetailsType']): PersonDetails | undefined {
  const o = r.object(key, { required: true });
  if (!o) return undefined;
  const firstName = o.string('firstName', { required: true, min: 2, max: 30 });
  const lastName = o.string('lastName', { required: true, min: 2, max: 81 });
  const person: PersonDetails = { subjectDetailsType: type, firstName: firstName!, lastName: lastName! };
  if (type === 'PersonByFingerprintWithIdentifier') {
    const id = readIdentifier(o, 'identifier', ['Pesel', 'Nip'] as const, { required: true });
    if (id) person.personIdentifier = { type: id.type, value: id.value! };
  }
  if (type === 'PersonByFingerprintWithoutIdentifier') {
    const birthDate = o.string('birthDate', { required: true, pattern: /^\d{4}-\d{2}-\d{2}$/ });
    const doc = o.object('idDocument', { required: true });
    const idType = doc?.string('type', { required: true, max: 20 });
    const number = doc?.string('number', { required: true, max: 20 });
    const country = doc?.string('country', { required: true, length: 2 });
    person.birthDate = birthDate;
    if (idType && number && country) person.idDocument = { type: idType, number, country };
  }
  return person;
}

const DETAILS_KEY = {
  PersonByIdentifier: 'personById',
  PersonByFingerprintWithIdentifier: 'personByFpWithId',
  PersonByFingerprintWithoutIdentifier: 'personByFpNoId',
  EntityByFingerprint: 'entityByFp',
} as const;

/**
 * `subjectDetails` of a person (or, for EU grants, of an entity by fingerprint). The type must suit the
 * subject: a person identified by NIP/PESEL is PersonByIdentifier, a fingerprint one of the others.
 */
export function readSubjectDetails(
  r: BodyReader,
  types: ReadonlyArray<keyof typeof DETAILS_KEY>,
  subject: { type: string } | undefined,
): { person?: PersonDetails; entity?: EntityDetails } {
  const o = r.object('subjectDetails', { required: true });
  const type = o?.enumOf('subjectDetailsType', types, { required: true });
  if (!o || !type) return {};
  if (subject && (type === 'PersonByIdentifier') !== (subject.type !== 'Fingerprint')) {
    o.fail('subjectDetailsType', `${type} does not describe a subject identified by ${subject.type}`);
  }
  if (type === 'EntityByFingerprint') {
    const e = o.object('entityByFp', { required: true });
    const fullName = e?.string('fullName', { required: true, max: 100 });
    const address = e?.string('address', { required: true, max: 512 });
    return { entity: { subjectDetailsType: 'EntityByFingerprint', fullName: fullName!, address } };
  }
  return { person: readPerson(o, DETAILS_KEY[type], type) };
}

/** `subjectDetails{fullName}` of an entity (entities and authorizations grants). */
export function readEntityName(r: BodyReader): EntityDetails | undefined {
  const fullName = r.object('subjectDetails', { required: true })?.string('fullName', { required: true, min: 5, max: 90 });
  return fullName === undefined ? undefined : { subjectDetailsType: 'EntityByIdentifier', fullName };
}

/** An InternalId must carry its check digit (uprawnienia.md). */
export function checkInternalId(r: BodyReader, key: string, id: { type: string; value?: string } | undefined): void {
  if (id?.type === 'InternalId' && id.value && !internalIdChecksumValid(id.value)) r.fail(`${key}.value`, 'has a wrong check digit (the 5th digit of the suffix)');
}
