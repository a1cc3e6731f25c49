import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { createAddressPolicy } from './outbound/addressPolicy.js';
import { z } from 'zod';
import { defaultProxySettings, parseAllowPrivateNetworks, type ProxySettings } from './proxy/settings.js';

const base64Key = z
  .string()
  .trim()
  .refine((v) => Buffer.from(v, 'base64').length === 32 && /^[A-Za-z0-9+/]+={0,2}$/.test(v), {
    message: 'must be 32 bytes encoded as base64 (generate one with `openssl rand -base64 32`)',
  });

/** A whole number written in decimal digits (not `''`, `1e3`, `0x50` or `1.5`), from `min` to `max`. */
const wholeNumber = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  z
    .string()
    .regex(/^\s*\d+\s*$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`));

/** The longest delay Node's timers take (a longer one fires after 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

const nonEmpty = z.string().min(1, 'must not be empty');

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: wholeNumber(0, 65535).default(3003),
  HOST: nonEmpty.default('0.0.0.0'),
  FERRY_DATA_DIR: nonEmpty.default('.ferry'),
  FERRY_DATABASE_URL: nonEmpty
    .refine((v) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^(postgres(ql)?|sqlite):\/\//i.test(v), {
      message: 'must be a SQLite file path, sqlite://<path> or postgres://user:pass@host:5432/db',
    })
    .optional(),
  FERRY_DATABASE_POOL_SIZE: wholeNumber(1, 500).default(10),
  FERRY_ENCRYPTION_KEY: base64Key.optional(),
  FERRY_PREVIOUS_ENCRYPTION_KEYS: z
    .string()
    .optional()
    .transform((v) =>
      v
        ? v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [],
    )
    .pipe(z.array(base64Key)),
  FERRY_SECRET_KEY: z.uuid({ message: 'must be a UUID (v4), like Nango secret keys' }).optional(),
  FERRY_SERVER_URL: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
  FERRY_PROVIDERS_FILE: nonEmpty.refine((f) => existsSync(f), { message: 'no such file' }).optional(),
  FERRY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  FERRY_BODY_LIMIT: z
    .string()
    .regex(/^[1-9]\d*(b|kb|mb)$/i, 'must look like 10mb, 512kb or 1000b')
    .default('10mb'),
  FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: z
    .string()
    .regex(
      /^(true|false|[0-9a-fA-F.:/, ]*)$/,
      'must be true, false or a comma-separated list of addresses/CIDRs',
    )
    .superRefine((v, ctx) => {
      // The same parser the outbound guard uses, so what starts is what is enforced.
      const entries = parseAllowPrivateNetworks(v);
      for (const entry of Array.isArray(entries) ? entries : []) {
        try {
          createAddressPolicy([entry]);
        } catch {
          ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR range` });
        }
      }
    })
    .optional(),
  FERRY_PROXY_CONNECT_TIMEOUT_MS: wholeNumber(1, MAX_TIMER_MS).optional(),
  FERRY_PROXY_TIMEOUT_MS: wholeNumber(1, MAX_TIMER_MS).optional(),
  FERRY_PROXY_MAX_RETRIES: wholeNumber(0, 100).optional(),
  FERRY_PROXY_MAX_WAIT_MS: wholeNumber(0, MAX_TIMER_MS).optional(),
  FERRY_PROXY_BASE_URL_OVERRIDE: z.enum(['same-host', 'any', 'off']).optional(),
  FERRY_RECORDS_ENCRYPTION: z.enum(['true', 'false']).default('false'),
  FERRY_RECORDS_DELETED_RETENTION_DAYS: z.coerce.number().min(0).max(36_500).default(30),
});

/** Validated server configuration. */
export interface Config {
  nodeEnv: 'development' | 'production' | 'test';
  port: number;
  host: string;
  dataDir: string;
  database: { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string; maxConnections: number };
  encryptionKey: string;
  previousEncryptionKeys: string[];
  /** Set when the key was generated into the data folder (embedded mode); the caller warns. */
  encryptionKeyGenerated: boolean;
  secretKey: string | undefined;
  serverUrl: string;
  providersFile: string | undefined;
  logLevel: string;
  bodyLimit: string;
  /** Proxy settings (`FERRY_PROXY_*`). */
  proxy: ProxySettings;
  /** Records settings (`FERRY_RECORDS_*`). */
  records: { encryption: boolean; deletedRetentionDays: number };
}

/** A configuration problem, printed readably at start-up. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

function readOrCreateKey(dataDir: string): { key: string; generated: boolean } {
  const file = join(dataDir, 'encryption.key');
  if (existsSync(file)) {
    const key = readFileSync(file, 'utf8').trim();
    const parsed = base64Key.safeParse(key);
    if (!parsed.success)
      throw new ConfigError(`${file}: ${parsed.error.issues[0]?.message ?? 'invalid key'}`);
    return { key, generated: false };
  }
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(32).toString('base64');
  writeFileSync(file, key + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return { key, generated: true };
}

/**
 * Reads and validates the configuration from environment variables.
 * In embedded mode (SQLite, no FERRY_ENCRYPTION_KEY outside production) an encryption key is generated once into
 * the data folder with 0600 permissions; with PostgreSQL or NODE_ENV=production the key must be given.
 * @throws ConfigError listing every invalid variable.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.FERRY_DATA_DIR);
  const dbUrl = e.FERRY_DATABASE_URL;
  const database: Config['database'] =
    dbUrl && /^postgres(ql)?:\/\//.test(dbUrl)
      ? { kind: 'postgres', url: dbUrl, maxConnections: e.FERRY_DATABASE_POOL_SIZE }
      : {
          kind: 'sqlite',
          file: dbUrl ? resolve(dbUrl.replace(/^sqlite:(\/\/)?/, '')) : join(dataDir, 'ferry.db'),
        };

  let encryptionKey = e.FERRY_ENCRYPTION_KEY;
  let encryptionKeyGenerated = false;
  if (!encryptionKey) {
    if (e.NODE_ENV === 'production') {
      throw new ConfigError(
        'Invalid configuration:\n  FERRY_ENCRYPTION_KEY: required when NODE_ENV=production',
      );
    }
    // A generated key belongs to one process's data folder: processes sharing a PostgreSQL database would each
    // generate their own and fail to read each other's writes. Never generate (or read a generated) one there.
    if (database.kind === 'postgres') {
      throw new ConfigError(
        'Invalid configuration:\n  FERRY_ENCRYPTION_KEY: required with PostgreSQL — every process sharing the database must use the same key (generate one with `openssl rand -base64 32`); a key is only generated for the embedded SQLite database',
      );
    }
    const created = readOrCreateKey(dataDir);
    encryptionKey = created.key;
    encryptionKeyGenerated = created.generated;
  }
  return {
    nodeEnv: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    dataDir,
    database,
    encryptionKey,
    previousEncryptionKeys: e.FERRY_PREVIOUS_ENCRYPTION_KEYS,
    encryptionKeyGenerated,
    secretKey: e.FERRY_SECRET_KEY?.toLowerCase(),
    serverUrl: (e.FERRY_SERVER_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, ''),
    providersFile: e.FERRY_PROVIDERS_FILE,
    logLevel: e.FERRY_LOG_LEVEL,
    bodyLimit: e.FERRY_BODY_LIMIT,
    proxy: {
      ...defaultProxySettings,
      allowPrivateNetworks: parseAllowPrivateNetworks(e.FERRY_PROXY_ALLOW_PRIVATE_NETWORKS),
      connectTimeoutMs: e.FERRY_PROXY_CONNECT_TIMEOUT_MS ?? defaultProxySettings.connectTimeoutMs,
      timeoutMs: e.FERRY_PROXY_TIMEOUT_MS ?? defaultProxySettings.timeoutMs,
      maxRetries: e.FERRY_PROXY_MAX_RETRIES ?? defaultProxySettings.maxRetries,
      maxWaitMs: e.FERRY_PROXY_MAX_WAIT_MS ?? defaultProxySettings.maxWaitMs,
      baseUrlOverride: e.FERRY_PROXY_BASE_URL_OVERRIDE ?? defaultProxySettings.baseUrlOverride,
    },
    records: {
      encryption: e.FERRY_RECORDS_ENCRYPTION === 'true',
      deletedRetentionDays: e.FERRY_RECORDS_DELETED_RETENTION_DAYS,
    },
  };
}
