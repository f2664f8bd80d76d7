/**
 * The errors the simulated API raises. A KsefError is KSeF's 400 "exception" (an exceptionCode with a
 * description and details); a ProblemError is one of the always-problem+json answers (401, 403, 410, 5xx).
 * Rendering lives in respond.ts.
 */

export class KsefError extends Error {
  constructor(
    readonly code: number,
    readonly description: string,
    readonly details: string[] = [],
    readonly referenceNumber?: string,
  ) {
    super(`${code} ${description}${details.length ? `: ${details.join('; ')}` : ''}`);
  }
}

export type ForbiddenReason =
  | 'missing-permissions'
  | 'ip-not-allowed'
  | 'insufficient-resource-access'
  | 'auth-method-not-allowed'
  | 'security-service-blocked'
  | 'context-type-not-allowed';

export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(`${status} ${title}: ${detail}`);
  }
}

export const unauthorized = (detail: string) => new ProblemError(401, 'Unauthorized', detail);

export const forbidden = (reasonCode: ForbiddenReason, detail: string, security?: Record<string, unknown>) =>
  new ProblemError(403, 'Forbidden', detail, security ? { reasonCode, security } : { reasonCode });

export const gone = () => new ProblemError(410, 'Gone', 'Operacja wygasła i nie jest już dostępna.');

/** Builders for the codes of PROTOCOL.md / open-api.json, with KSeF's own wording. */
export const ksef = {
  validation: (details: string[]) => new KsefError(21405, 'Błąd walidacji danych wejściowych.', details),
  badChallenge: (detail?: string) => new KsefError(21111, 'Nieprawidłowe wyzwanie autoryzacyjne.', detail ? [detail] : []),
  unknownKey: (keyId: string) =>
    new KsefError(21470, 'Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz.', [
      `Klucz o identyfikatorze ${keyId} nie jest wspierany.`,
    ]),
  authNotFound: (ref: string) =>
    new KsefError(21304, 'Brak uwierzytelnienia.', [
      `Operacja uwierzytelniania o numerze referencyjnym ${ref} nie została znaleziona.`,
    ]),
  noAuthorization: (detail: string) => new KsefError(21301, 'Brak autoryzacji.', [detail]),
  sessionNotFound: (ref: string) =>
    new KsefError(21173, 'Brak sesji o wskazanym numerze referencyjnym.', [
      `Sesja o numerze referencyjnym ${ref} nie została znaleziona.`,
    ]),
  sessionStatus: (code: number, action: 'wysyłkę faktur' | 'jej zamknięcie' | 'przesłanie części pakietu') =>
    new KsefError(21180, 'Status sesji nie pozwala na wykonanie operacji.', [`Status sesji ${code} uniemożliwia ${action}.`]),
  invoiceLimit: (ref: string, limit: number) =>
    new KsefError(21155, 'Przekroczono dozwoloną liczbę faktur w sesji.', [
      `Sesja o numerze referencyjnym ${ref} osiągnęła dozwolony limit liczby faktur ${limit}.`,
    ]),
  technicalCorrectionTaken: () =>
    new KsefError(21166, 'Korekta techniczna niedostępna.', ['Faktura posiada już przetworzoną prawidłowo korektę techniczną.']),
  technicalCorrectionRefused: () =>
    new KsefError(21167, 'Status faktury nie pozwala na korektę techniczną.', [
      'Nie można wysłać korekty technicznej do prawidłowo przetworzonej faktury.',
    ]),
  fileSize: () => new KsefError(21402, 'Nieprawidłowy rozmiar pliku.', ['Długość treści nie zgadza się z rozmiarem pliku.']),
  fileHash: () => new KsefError(21403, 'Nieprawidłowy skrót pliku.', ['Skrót treści nie zgadza się ze skrótem pliku.']),
  partSize: (detail: string) => new KsefError(21157, 'Nieprawidłowy rozmiar części pakietu.', [detail]),
  tooManyParts: (detail: string) => new KsefError(21161, 'Przekroczono dozwoloną liczbę części pakietu.', [detail]),
  partMissing: (ordinal: number) =>
    new KsefError(21205, 'Pakiet nie może być pusty.', [`Nie przesłano zadeklarowanej '${ordinal}' części pliku.`]),
  uploadTimeout: () =>
    new KsefError(21208, 'Czas oczekiwania na requesty upload lub finish został przekroczony.', [
      'Sesja anulowana, przekroczony czas wysyłki.',
    ]),
  badContinuationToken: () => new KsefError(21418, 'Przekazany token kontynuacji ma nieprawidłowy format.'),
  upoNotFound: (detail: string) => new KsefError(21178, 'Nie znaleziono UPO dla podanych kryteriów.', [detail]),
  invoiceNotFound: (ksefNumber: string) =>
    new KsefError(21164, 'Faktura o podanym identyfikatorze nie istnieje.', [
      `Faktura o numerze KSeF ${ksefNumber} nie została znaleziona.`,
    ]),
  invoiceNotYetAvailable: (ksefNumber: string) =>
    new KsefError(21165, 'Faktura o podanym numerze KSeF nie jest jeszcze dostępna.', [
      `Faktura o numerze KSeF ${ksefNumber} została przetworzona, ale nie jest jeszcze dostępna do pobrania. Spróbuj ponownie później.`,
    ]),
  beyondHwm: () =>
    new KsefError(21183, 'Zakres filtrowania wykracza poza dostępny zakres danych.', [
      'Parametr dateRange.from jest późniejszy niż PermanentStorageHwmDate przy włączonym restrictToPermanentStorageHwmDate.',
    ]),
  exportNotFound: () => new KsefError(21175, 'Wynik zapytania o podanym identyfikatorze nie istnieje.'),
  tooManyExports: (limit: number) =>
    new KsefError(21182, 'Osiągnięto limit trwających eksportów.', [
      `Dla uwierzytelnionego podmiotu w bieżącym kontekście osiągnięto maksymalny limit ${limit} równoczesnych eksportów faktur. Spróbuj ponownie później.`,
    ]),
  csrSubjectMismatch: (details: string[]) =>
    new KsefError(25003, 'Dane w CSR nie zgadzają się z danymi w użytym wektorze uwierzytelniającym.', details),
  csrInvalid: (detail: string) => new KsefError(25004, 'Niepoprawny format CSR lub niepoprawny podpis CSR.', [detail]),
  enrollmentNotFound: (ref: string) =>
    new KsefError(25005, 'Wniosek certyfikacyjny o podanym numerze referencyjnym nie istnieje.', [
      `Wniosek certyfikacyjny o numerze referencyjnym ${ref} nie został znaleziony.`,
    ]),
  enrollmentLimit: (limit: number) =>
    new KsefError(25006, 'Osiągnięto limit możliwych do złożenia wniosków certyfikacyjnych.', [`Limit wniosków: ${limit}.`]),
  certificateLimit: (limit: number) =>
    new KsefError(25007, 'Osiągnięto limit dopuszczalnej liczby posiadanych certyfikatów.', [`Limit aktywnych certyfikatów: ${limit}.`]),
  certificateNotFound: (serial: string) =>
    new KsefError(25008, 'Certyfikat o podanym numerze seryjnym nie istnieje.', [`Certyfikat o numerze seryjnym ${serial} nie został znaleziony.`]),
  certificateNotRevocable: (serial: string, status: string) =>
    new KsefError(25009, 'Nie można odwołać wskazanego certyfikatu, ponieważ jest już odwołany, zablokowany lub nieważny.', [
      `Certyfikat ${serial} ma status ${status}.`,
    ]),
  csrKey: (detail: string) => new KsefError(25010, 'Nieprawidłowy typ lub długość klucza.', [detail]),
  csrSignatureAlgorithm: (detail: string) => new KsefError(25011, 'Nieprawidłowy algorytm podpisu CSR.', [detail]),
  tokenPermissions: (missing: string[]) =>
    new KsefError(26001, 'Nie można nadać tokenowi uprawnień których nie posiadasz.', [`Brakujące uprawnienia: ${missing.join(', ')}.`]),
  tokenContextType: (type: string) =>
    new KsefError(26002, 'Nie można wygenerować tokena dla obecnego typu kontekstu.', [
      `Aktualny typ kontekstu: ${type}. Dozwolone typy kontekstu: Nip, InternalId.`,
    ]),
};
