import { loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

async function main() {
  const config = loadConfig();
  const logger = createLogger({ level: config.logLevel });
  const server = await startServer({ config, logger });
  if (server.bootstrap.generatedPassword) {
    // Shown once so a newcomer can log in; only its hash is stored.
    process.stdout.write(
      `\nCreated the first admin: ${server.bootstrap.adminEmail} / ${server.bootstrap.generatedPassword}\n` +
        'Set ADMIN_EMAIL and ADMIN_PASSWORD to choose them. This password is not shown again.\n\n',
    );
  }
  logger.info({ url: server.url, listening: server.listening, database: server.services.database.kind }, 'Fast KSeF listening');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await server.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err) => {
  process.stderr.write(`Fast KSeF failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
