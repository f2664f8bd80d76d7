import type { Kysely } from 'kysely';

/**
 * Certificate sign-in (XAdES): the authentication certificate with its private key (sealed), what it names,
 * how it is identified to KSeF, and which of a stored token and certificate signs in when both are stored.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ksef_credentials')
    .addColumn('auth_certificate_pem', 'text')
    .addColumn('auth_private_key_enc', 'bytea')
    .addColumn('auth_certificate_serial', 'text')
    .addColumn('auth_certificate_subject', 'text')
    .addColumn('auth_certificate_valid_from', 'timestamptz')
    .addColumn('auth_certificate_valid_to', 'timestamptz')
    .addColumn('auth_certificate_fingerprint', 'varchar(64)')
    .addColumn('auth_certificate_identifier_type', 'varchar(8)')
    .addColumn('auth_certificate_identifier', 'varchar(16)')
    .addColumn('auth_subject_identifier_type', 'varchar(32)')
    .addColumn('preferred_authentication', 'varchar(16)')
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ksef_credentials')
    .dropColumn('auth_certificate_pem')
    .dropColumn('auth_private_key_enc')
    .dropColumn('auth_certificate_serial')
    .dropColumn('auth_certificate_subject')
    .dropColumn('auth_certificate_valid_from')
    .dropColumn('auth_certificate_valid_to')
    .dropColumn('auth_certificate_fingerprint')
    .dropColumn('auth_certificate_identifier_type')
    .dropColumn('auth_certificate_identifier')
    .dropColumn('auth_subject_identifier_type')
    .dropColumn('preferred_authentication')
    .execute();
}
