import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** The database as Kysely sees it. Each interface mirrors one table created in `migrations/`. */

type Timestamp = ColumnType<Date, Date | string, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | string | undefined, Date | string>;
/** numeric columns come back as strings: amounts are never floats. */
type Numeric = ColumnType<string, string, string>;

export type KsefEnvironment = 'test' | 'demo' | 'prod';
/** PROTOCOL.md §9: `offline` = KSeF unavailability, `awaryjny` = an announced KSeF failure. */
export type OfflineMode = 'offline' | 'awaryjny';

export interface CompaniesTable {
  id: Generated<string>;
  nip: string;
  name: string;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  company_id: string;
  email: string;
  /** `scrypt$N$r$p$salt$hash`, see accounts/passwords.ts */
  password_hash: string;
  role: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CompanySettingsTable {
  company_id: string;
  key: string;
  value: string;
  updated_at: UpdatedAt;
}

/** rate-limiter-flexible's PostgreSQL layout (accounts/login-throttle.ts); `expire` in epoch milliseconds. */
export interface LoginThrottleTable {
  key: string;
  points: number;
  expire: number | null;
}

export interface KsefCredentialsTable {
  company_id: string;
  environment: KsefEnvironment;
  context_nip: string;
  /** AES-256-GCM envelope (see ksef-proxy secrets); never logged, never returned. */
  ksef_token_enc: Buffer | null;
  offline_certificate_pem: string | null;
  offline_private_key_enc: Buffer | null;
  offline_certificate_serial: string | null;
  offline_certificate_subject: string | null;
  offline_certificate_valid_from: Date | null;
  offline_certificate_valid_to: Date | null;
  /** The XAdES sign-in certificate; its private key sealed like the token. */
  auth_certificate_pem: string | null;
  auth_private_key_enc: Buffer | null;
  auth_certificate_serial: string | null;
  auth_certificate_subject: string | null;
  auth_certificate_valid_from: Date | null;
  auth_certificate_valid_to: Date | null;
  auth_certificate_fingerprint: string | null;
  auth_certificate_identifier_type: 'Nip' | 'Pesel' | null;
  auth_certificate_identifier: string | null;
  auth_subject_identifier_type: 'certificateSubject' | 'certificateFingerprint' | null;
  /** Which of a stored token and certificate signs in; null: the certificate when one is stored. */
  preferred_authentication: 'ksefToken' | 'certificate' | null;
  access_token_enc: Buffer | null;
  access_token_valid_until: Date | null;
  refresh_token_enc: Buffer | null;
  refresh_token_valid_until: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface KsefEnvironmentStateTable {
  company_id: string;
  environment: KsefEnvironment;
  simulation_active: boolean;
  simulation_since: Date | null;
  /** The offline mode an active simulation stands for (PROTOCOL.md §9). */
  simulation_mode: Generated<OfflineMode>;
  available: boolean;
  unavailable_since: Date | null;
  last_probe_at: Date | null;
  updated_at: UpdatedAt;
}

export interface KsefSessionsTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  kind: 'online' | 'batch';
  reference_number: string | null;
  status: string;
  /** the session's AES key, encrypted at rest like every KSeF secret */
  symmetric_key_enc: Buffer | null;
  initialization_vector: Buffer | null;
  invoice_count: Generated<number>;
  offline_mode: Generated<boolean>;
  opened_at: Timestamp | null;
  valid_until: Timestamp | null;
  last_used_at: Timestamp | null;
  closed_at: Timestamp | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** Issued (Subject1), received (Subject2), as third party (Subject3, Podmiot3), as authorized subject (PodmiotUpowazniony). */
export type InvoiceDirection = 'issued' | 'received' | 'third-party' | 'authorized';
export type SubjectType = 'Subject1' | 'Subject2' | 'Subject3' | 'SubjectAuthorized';

export type SyncedInvoiceStatus = 'queued' | 'pending' | 'sent' | 'error' | 'synced';

export interface SyncedInvoicesTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  direction: InvoiceDirection;
  status: SyncedInvoiceStatus;
  ksef_number: string | null;
  invoice_number: string;
  invoice_type: string;
  issue_date: string;
  seller_nip: string;
  seller_name: string | null;
  buyer_nip: string | null;
  buyer_name: string | null;
  net_amount: Numeric;
  vat_amount: Numeric;
  gross_amount: Numeric;
  currency: string;
  /** Base64 SHA-256 of the exact XML bytes (= KSeF's invoiceHash); idempotency key for sending. */
  invoice_hash: string;
  xml: Buffer;
  session_reference_number: string | null;
  invoice_reference_number: string | null;
  /** The online session the latest attempt handed the invoice to, while KSeF's answer is not recorded. */
  attempt_session_reference: ColumnType<string | null, string | null | undefined, string | null>;
  acquisition_date: Date | null;
  permanent_storage_date: Date | null;
  invoicing_mode: string | null;
  error_code: number | null;
  error_message: string | null;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  /** When its references were stored and resolved (by the sync or the pass over invoices we sent). */
  relations_indexed_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Which lane delivers it: the outbox's online sessions, or KSeF batch sessions (bulk, a drained backlog). */
  transport: Generated<InvoiceTransport>;
  /** True only while every online attempt so far failed before KSeF was handed the invoice: it may change lane. */
  online_unsent: Generated<boolean>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type InvoiceTransport = 'online' | 'batch';

export interface BulkBatchesTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  total_count: number;
  accepted_count: number;
  /** The indexes refused by local validation, with why: `[{index, errors: [{path, message}]}]`. */
  rejected: ColumnType<BulkRejection[], string, string>;
  created_at: CreatedAt;
}

export interface BulkRejection {
  index: number;
  errors: { path: string; message: string }[];
}

export interface BulkBatchItemsTable {
  batch_id: string;
  item_index: number;
  invoice_id: string;
}

export type OfflineInvoiceStatus = 'pending' | 'signed' | 'error' | 'processing' | 'sent';

export interface OfflineInvoicesTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  status: OfflineInvoiceStatus;
  invoice_number: string;
  invoice_type: string;
  issue_date: string;
  seller_nip: string;
  buyer_nip: string | null;
  buyer_name: string | null;
  net_amount: Numeric;
  vat_amount: Numeric;
  gross_amount: Numeric;
  currency: string;
  invoice_hash: string;
  xml: Buffer;
  qr_link_invoice: string;
  qr_link_certificate: string;
  offline_mode: OfflineMode;
  submission_deadline: Date | null;
  certificate_serial: string | null;
  session_reference_number: string | null;
  invoice_reference_number: string | null;
  ksef_number: string | null;
  acquisition_date: Date | null;
  error_code: number | null;
  error_message: string | null;
  /** hash of the rejected file this row corrects (technical correction) */
  corrected_invoice_hash: string | null;
  /** When the `offline.deadline` webhook event announced its deadline (once per invoice). */
  deadline_warned_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AdvanceGroupsTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  settlement_invoice_id: string | null;
  settlement_ksef_number: string | null;
  seller_nip: string;
  settlement_invoice_number: string;
  currency: string;
  order_total: Numeric | null;
  settlement_gross: Numeric | null;
  advances_total: Numeric;
  remainder: Numeric;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AdvanceGroupInvoicesTable {
  id: Generated<string>;
  group_id: string;
  /** as cited by the settlement: by KSeF number, or seller NIP + number when issued outside KSeF */
  advance_ksef_number: string | null;
  advance_invoice_number: string | null;
  advance_invoice_id: string | null;
  amount: Numeric | null;
  created_at: CreatedAt;
}

export interface InvoiceCorrectionsTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  correction_invoice_id: string;
  corrected_ksef_number: string | null;
  corrected_invoice_number: string;
  corrected_issue_date: string | null;
  corrected_seller_nip: string;
  corrected_invoice_id: string | null;
  created_at: CreatedAt;
}

export interface InvoiceSyncMetaTable {
  company_id: string;
  environment: KsefEnvironment;
  subject_type: SubjectType;
  hwm: Date | null;
  last_run_at: Date | null;
  last_success_at: Date | null;
  invoice_count: Generated<number>;
  last_error: string | null;
  updated_at: UpdatedAt;
}

/** Per company and environment: which of the optional subject types the sync fetches. */
export interface InvoiceSyncSettingsTable {
  company_id: string;
  environment: KsefEnvironment;
  third_party: Generated<boolean>;
  authorized: Generated<boolean>;
  updated_at: UpdatedAt;
}

/** The latest sync run of a company and environment, as the process running it last recorded it. */
export interface InvoiceSyncRunsTable {
  company_id: string;
  environment: KsefEnvironment;
  run_id: string;
  trigger: 'requested' | 'scheduled';
  phase: string;
  started_at: Date;
  finished_at: Date | null;
  last_error: string | null;
  /** SyncProgress (sync/progress.ts). */
  progress: ColumnType<unknown, string, string>;
  updated_at: UpdatedAt;
}

export interface SyncStagedInvoicesTable {
  package_id: string;
  company_id: string;
  environment: KsefEnvironment;
  ksef_number: string;
  direction: InvoiceDirection;
  invoice_number: string;
  invoice_type: string;
  issue_date: string;
  seller_nip: string;
  seller_name: string | null;
  buyer_nip: string | null;
  buyer_name: string | null;
  net_amount: Numeric;
  vat_amount: Numeric;
  gross_amount: Numeric;
  currency: string;
  invoice_hash: string;
  xml: Buffer;
  created_at: CreatedAt;
}

export interface SyncStagedMetadataTable {
  package_id: string;
  company_id: string;
  environment: KsefEnvironment;
  ksef_number: string;
  invoice_hash: string;
  acquisition_date: Date | null;
  permanent_storage_date: Date | null;
  invoicing_mode: string | null;
  created_at: CreatedAt;
}

export interface WebhookSubscriptionsTable {
  id: Generated<string>;
  company_id: string;
  /** An http(s) URL. */
  url: string;
  /** The event types it receives (webhooks/events.ts). */
  events: string[];
  description: string | null;
  /** The signing secret, sealed like KSeF tokens (AES-256-GCM); shown once, at creation. */
  secret_enc: Buffer;
  /** After a rotation, the replaced secret (sealed), which signs beside the new one until it expires. */
  previous_secret_enc: Buffer | null;
  previous_secret_expires_at: Date | null;
  created_at: CreatedAt;
}

export interface WebhookEventsTable {
  id: Generated<string>;
  company_id: string;
  environment: KsefEnvironment;
  type: string;
  /** What makes two announcements of one change one event (unique per company). */
  dedupe_key: string;
  data: ColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
}

export type WebhookDeliveryStatus = 'pending' | 'delivered' | 'failed';

export interface WebhookDeliveriesTable {
  id: Generated<string>;
  event_id: string;
  subscription_id: string;
  status: Generated<WebhookDeliveryStatus>;
  attempts: Generated<number>;
  /** When it is due; while an attempt is under way, the end of that attempt's lease. */
  next_attempt_at: ColumnType<Date, Date | string | undefined, Date | string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface WebhookAttemptsTable {
  id: Generated<string>;
  delivery_id: string;
  attempt: number;
  /** The receiver's HTTP status; null when no answer came (timeout, refused connection). */
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  attempted_at: CreatedAt;
}

export interface Database {
  companies: CompaniesTable;
  users: UsersTable;
  company_settings: CompanySettingsTable;
  login_throttle: LoginThrottleTable;
  ksef_credentials: KsefCredentialsTable;
  ksef_environment_state: KsefEnvironmentStateTable;
  ksef_sessions: KsefSessionsTable;
  synced_invoices: SyncedInvoicesTable;
  offline_invoices: OfflineInvoicesTable;
  advance_groups: AdvanceGroupsTable;
  advance_group_invoices: AdvanceGroupInvoicesTable;
  invoice_corrections: InvoiceCorrectionsTable;
  invoice_sync_meta: InvoiceSyncMetaTable;
  invoice_sync_settings: InvoiceSyncSettingsTable;
  invoice_sync_runs: InvoiceSyncRunsTable;
  sync_staged_invoices: SyncStagedInvoicesTable;
  sync_staged_metadata: SyncStagedMetadataTable;
  bulk_batches: BulkBatchesTable;
  bulk_batch_items: BulkBatchItemsTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_events: WebhookEventsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}

export type Company = Selectable<CompaniesTable>;
export type User = Selectable<UsersTable>;
export type NewUser = Insertable<UsersTable>;
export type UserUpdate = Updateable<UsersTable>;
