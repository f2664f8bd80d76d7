import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001_initial';
import * as offlineModes from './0002_offline_modes';
import * as relationsIndexed from './0003_relations_indexed';
import * as bulkBatches from './0005_bulk_batches';

/** Every migration, in order. Imported statically so they run the same under tsx, jest and a bundle. */
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_offline_modes': offlineModes,
  '0003_relations_indexed': relationsIndexed,
  '0005_bulk_batches': bulkBatches,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
