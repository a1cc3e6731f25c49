import { pino, type Logger } from 'pino';

/** Paths pino censors in every log line; secrets never reach a log. */
export const redactPaths = [
  'secretKey',
  'secret_key',
  'encryptionKey',
  'password',
  'token',
  'access_token',
  'refresh_token',
  'client_secret',
  'apiKey',
  'api_key',
  'credentials',
  '*.secretKey',
  '*.password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.client_secret',
  '*.apiKey',
  '*.credentials',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
];

/** Creates the server logger with redaction of secrets. */
export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    {
      level: options.level,
      redact: { paths: redactPaths, censor: '[redacted]' },
      base: { service: 'ferry' },
    },
    options.destination,
  );
}

export type { Logger };
