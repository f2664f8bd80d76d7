import { AsnConvert } from '@peculiar/asn1-schema';
import { Name } from '@peculiar/asn1-x509';
import { x509 } from '../util/x509.js';

/**
 * The subject a KSeF certificate is issued to: `GET /certificates/enrollments/data` returns it, the CSR
 * must carry exactly it (certyfikaty-KSeF.md §2–3), and the certificate repeats it.
 */

/** The X.500 attributes KSeF's enrollment data may hold, by their JSON names (certyfikaty-KSeF.md §2). */
export const SUBJECT_ATTRIBUTES = {
  commonName: '2.5.4.3',
  surname: '2.5.4.4',
  serialNumber: '2.5.4.5',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  givenName: '2.5.4.42',
  uniqueIdentifier: '2.5.4.45',
  organizationIdentifier: '2.5.4.97',
} as const;

export type SubjectField = keyof typeof SUBJECT_ATTRIBUTES;

export type EnrollmentData = { commonName: string; countryName: string } & Partial<Record<SubjectField, string>>;

export interface SubjectAttribute {
  oid: string;
  value: string;
}

/**
 * What KSeF would read from a company seal of this NIP (the sandbox knows no company names, so the names
 * are made up from the NIP). organizationIdentifier is the bare NIP, as in the official example.
 */
export function enrollmentData(nip: string): EnrollmentData {
  return {
    commonName: `Podmiot ${nip}`,
    countryName: 'PL',
    organizationName: `Podmiot testowy ${nip} (sandbox)`,
    organizationIdentifier: nip,
  };
}

const fieldOf = (oid: string) => (Object.keys(SUBJECT_ATTRIBUTES) as SubjectField[]).find((f) => SUBJECT_ATTRIBUTES[f] === oid);

/** Every way `actual` departs from `expected` (missing, different, repeated or extra attributes); empty when equal. */
export function subjectDifferences(expected: EnrollmentData, actual: readonly SubjectAttribute[]): string[] {
  const problems: string[] = [];
  const wanted = Object.entries(expected).filter((e): e is [SubjectField, string] => typeof e[1] === 'string');
  for (const [field, value] of wanted) {
    const found = actual.filter((a) => a.oid === SUBJECT_ATTRIBUTES[field]);
    if (found.length === 0) problems.push(`${field}: brak atrybutu (oczekiwano "${value}")`);
    else if (found.length > 1) problems.push(`${field}: atrybut powtórzony ${found.length} razy`);
    else if (found[0].value !== value) problems.push(`${field}: "${found[0].value}" zamiast "${value}"`);
  }
  const allowed = new Set<string>(wanted.map(([field]) => SUBJECT_ATTRIBUTES[field]));
  for (const a of actual) {
    if (!allowed.has(a.oid)) problems.push(`${fieldOf(a.oid) ?? a.oid}: nieoczekiwany atrybut ("${a.value}")`);
  }
  return problems;
}

/** The enrollment data as an X.500 Name, DER (countryName and serialNumber are PrintableString in X.520). */
export function subjectName(data: EnrollmentData): Buffer {
  const rdns = Object.entries(data)
    .filter((e): e is [SubjectField, string] => typeof e[1] === 'string')
    .map(([field, value]) => {
      const printable = field === 'countryName' || field === 'serialNumber';
      return { [SUBJECT_ATTRIBUTES[field]]: [printable ? { printableString: value } : { utf8String: value }] };
    });
  return Buffer.from(new x509.Name(rdns).toArrayBuffer());
}

/** Every attribute of an X.500 Name (DER), in order, with its string value. */
export function nameAttributes(der: Buffer): SubjectAttribute[] {
  return AsnConvert.parse(new Uint8Array(der), Name).flatMap((rdn) => rdn.map((pair) => ({ oid: pair.type, value: pair.value.toString() })));
}

/** The enrollment data in a subject Name: the attributes KSeF copies into a KSeF certificate. */
export function enrollmentDataOf(der: Buffer): Partial<Record<SubjectField, string>> {
  const data: Partial<Record<SubjectField, string>> = {};
  for (const { oid, value } of nameAttributes(der)) {
    const field = fieldOf(oid);
    if (field && data[field] === undefined) data[field] = value;
  }
  return data;
}
