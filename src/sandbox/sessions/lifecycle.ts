import { decide, Examination } from '../invoices/pipeline.js';
import { sessionUpoPages } from '../invoices/upo.js';
import { InvoiceRecord, Session, StatusInfo } from '../model.js';
import { SandboxState } from '../state.js';

/** Session statuses (open-api.json SessionStatusResponse.status) and how sessions move between them. */

const status = (code: number, description: string, details?: string[]): StatusInfo => (details ? { code, description, details } : { code, description });

export const ONLINE_STATUS = {
  open: () => status(100, 'Sesja interaktywna otwarta'),
  closed: () => status(170, 'Sesja interaktywna zamknięta'),
  done: () => status(200, 'Sesja interaktywna przetworzona pomyślnie'),
  keyError: () => status(415, 'Błąd odszyfrowania dostarczonego klucza'),
  noInvoices: () => status(440, 'Sesja anulowana', ['Nie przesłano faktur']),
  noneValid: () => status(445, 'Błąd weryfikacji, brak poprawnych faktur'),
};

export const BATCH_STATUS = {
  open: () => status(100, 'Sesja wsadowa rozpoczęta'),
  processing: () => status(150, 'Trwa przetwarzanie'),
  done: () => status(200, 'Sesja wsadowa przetworzona pomyślnie'),
  packageInvalid: (details: string[]) => status(405, 'Błąd weryfikacji poprawności dostarczonych elementów paczki', details),
  keyError: () => status(415, 'Błąd odszyfrowania dostarczonego klucza'),
  tooManyInvoices: (details: string[]) => status(420, 'Przekroczony limit faktur w sesji', details),
  decompressionFailed: (details: string[]) => status(430, 'Błąd dekompresji pierwotnego archiwum', details),
  partDecryptionFailed: (details: string[]) => status(435, 'Błąd odszyfrowania zaszyfrowanych części archiwum', details),
  timedOut: () => status(440, 'Sesja anulowana', ['Przekroczono czas wysyłki']),
  noInvoices: () => status(440, 'Sesja anulowana', ['Nie przesłano faktur']),
  noneValid: () => status(445, 'Błąd weryfikacji, brak poprawnych faktur'),
  unknownError: () => status(500, 'Nieznany błąd (500)'),
};

export const isTimedOut = (s: Session) => s.status.code === 440 && s.status.details?.[0] === 'Przekroczono czas wysyłki';

export function setStatus(state: SandboxState, session: Session, next: StatusInfo, now: Date): void {
  session.status = next;
  session.dateUpdated = now;
  if (next.code >= 200) state.liveSessions.delete(session);
}

/** Records the verdict on one invoice of a session and completes the session when it was the last one. */
export function settleInvoice(state: SandboxState, inv: InvoiceRecord, exam: Examination): void {
  const now = state.now();
  decide(state, inv, exam, now);
  const session = inv.session;
  if (!session) return;
  session.pending--;
  if (inv.status.code === 200) session.successCount++;
  else session.failedCount++;
  session.dateUpdated = now;
  if (session.type === 'Online' && session.status.code === 170 && session.pending === 0) scheduleCompletion(state, session);
}

/** The last step (UPO generation) takes one processing delay, like every other step. */
export function scheduleCompletion(state: SandboxState, session: Session): void {
  state.defer(state.options.processingDelayMs, () => completeSession(state, session));
}

export function completeSession(state: SandboxState, session: Session): void {
  if (session.status.code >= 200) return;
  const now = state.now();
  const statuses = session.type === 'Online' ? ONLINE_STATUS : BATCH_STATUS;
  if (session.invoices.length === 0) return setStatus(state, session, statuses.noInvoices(), now);
  if (session.successCount === 0) return setStatus(state, session, statuses.noneValid(), now);
  session.upoPages = sessionUpoPages(state, session);
  setStatus(state, session, statuses.done(), now);
}

/** Client close or the 12-hour expiry: 170, then 200/440/445 once every invoice is judged. */
export function closeOnlineSession(state: SandboxState, session: Session, now: Date): void {
  session.dateClosed = now;
  setStatus(state, session, ONLINE_STATUS.closed(), now);
  state.liveSessions.add(session);
  if (session.pending === 0) scheduleCompletion(state, session);
}

export function timeOutBatch(state: SandboxState, session: Session, now: Date): void {
  session.dateClosed = now;
  setStatus(state, session, BATCH_STATUS.timedOut(), now);
  if (session.batch) for (const part of session.batch.parts) part.data = undefined;
}

const lastHousekeeping = new WeakMap<SandboxState, number>();

/**
 * Applies what time alone changes, lazily on each request (so an injected clock drives it): online sessions
 * past their 12 hours close, batch sessions past their upload window are cancelled; stale challenges and
 * expired tokens are forgotten now and then.
 */
export function sweep(state: SandboxState, now: Date): void {
  const t = now.getTime();
  for (const session of state.liveSessions) {
    if (session.status.code !== 100 || session.validUntil.getTime() > t) continue;
    if (session.type === 'Online') closeOnlineSession(state, session, now);
    else timeOutBatch(state, session, now);
  }
  if (Math.abs(t - (lastHousekeeping.get(state) ?? 0)) < 60_000) return;
  lastHousekeeping.set(state, t);
  for (const [key, challenge] of state.challenges) {
    // Kept an hour past their 10 minutes so that a late client still hears "expired", not "unknown".
    if (t - challenge.timestamp.getTime() > 70 * 60_000) state.challenges.delete(key);
  }
  for (const [key, jwt] of state.jwts) if (jwt.expiresAt < t - 60_000) state.jwts.delete(key);
}

/** Admin "expire sessions now": every open session reaches the end of its validity. */
export function expireSessions(state: SandboxState, now: Date): number {
  let count = 0;
  for (const session of state.liveSessions) {
    if (session.status.code !== 100) continue;
    session.validUntil = now;
    count++;
  }
  sweep(state, now);
  return count;
}
