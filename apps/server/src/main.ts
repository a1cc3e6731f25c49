import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`ferry: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });
  if (config.encryptionKeyGenerated) {
    logger.warn(
      `Generated an encryption key into ${config.dataDir}/encryption.key (0600). Back it up: without it stored credentials cannot be read. Set FERRY_ENCRYPTION_KEY in production.`,
    );
  }
  const server = await startServer({ ...config, logger, refreshSweepMs: 60_000 });
  const where = config.database.kind === 'sqlite' ? `SQLite ${config.database.file}` : 'PostgreSQL';
  logger.info(
    { url: config.serverUrl, port: server.port, database: where },
    `Ferry is listening on ${config.serverUrl}`,
  );
  for (const key of server.services.generatedKeys) {
    // Shown once, deliberately outside pino's redaction: this is the operator's only chance to see it.
    process.stdout.write(
      `\n  Secret key of the "${key.environment}" environment (shown once, stored hashed): ${key.secretKey}\n\n`,
    );
  }
  if (server.services.generatedKeys.length === 0 && !config.secretKey) {
    logger.info('The dev secret key was printed on first start; set FERRY_SECRET_KEY to choose one.');
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`ferry: failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
