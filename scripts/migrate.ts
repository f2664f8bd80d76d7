/** `npm run migrate`: bring the database (DATABASE_URL, or the embedded one in DATA_DIR) to the latest schema. */
import { loadConfig } from '../src/config.js';
import { migrateToLatest, openDatabase } from '../src/db/connect.js';
import { databaseOptions } from '../src/server.js';

async function main() {
  const config = loadConfig();
  const database = await openDatabase(databaseOptions(config));
  try {
    const applied = await migrateToLatest(database.db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'the schema is up to date');
  } finally {
    await database.close();
  }
}

main().catch((err) => {
  console.error(`migration failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
