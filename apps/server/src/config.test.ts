import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, type Config } from './config.js';
import { defaultProxySettings } from './proxy/settings.js';

const dir = () => mkdtempSync(join(tmpdir(), 'ferry-config-'));
const key = () => randomBytes(32).toString('base64');
const KEY = key();
const OLD_KEY = key();
const providersFile = join(dir(), 'providers.yaml');
writeFileSync(providersFile, 'providers: {}\n');

/** `NAME=value …`, long values cut short: a readable test name. */
const named = <T extends { given: Record<string, string> }>(cases: T[]): (T & { name: string })[] =>
  cases.map((c) => ({
    ...c,
    name: Object.entries(c.given)
      .map(([k, v]) => `${k}=${JSON.stringify(v.length > 24 ? `${v.slice(0, 12)}…` : v)}`)
      .join(' '),
  }));

/** A deep partial of the configuration, for `toMatchObject`. */
type Want = { [K in keyof Config]?: Config[K] extends object ? Partial<Config[K]> | Config[K] : Config[K] };

describe('loadConfig', () => {
  it('defaults to SQLite in the data folder and generates a 0600 encryption key once', () => {
    const d = dir();
    const first = loadConfig({ FERRY_DATA_DIR: d });
    expect(first.database).toEqual({ kind: 'sqlite', file: join(d, 'ferry.db') });
    expect(first.encryptionKeyGenerated).toBe(true);
    expect(statSync(join(d, 'encryption.key')).mode & 0o777).toBe(0o600);
    const second = loadConfig({ FERRY_DATA_DIR: d });
    expect(second.encryptionKeyGenerated).toBe(false);
    expect(second.encryptionKey).toBe(first.encryptionKey);
    expect(readFileSync(join(d, 'encryption.key'), 'utf8').trim()).toBe(first.encryptionKey);
  });

  it('uses the documented defaults when nothing is set', () => {
    const d = dir();
    expect(loadConfig({ FERRY_DATA_DIR: d })).toMatchObject({
      nodeEnv: 'development',
      port: 3003,
      host: '0.0.0.0',
      dataDir: d,
      previousEncryptionKeys: [],
      secretKey: undefined,
      serverUrl: 'http://localhost:3003',
      providersFile: undefined,
      logLevel: 'info',
      bodyLimit: '10mb',
      proxy: {
        ...defaultProxySettings,
        allowPrivateNetworks: false,
        connectTimeoutMs: 10_000,
        timeoutMs: 120_000,
        maxRetries: 10,
        maxWaitMs: 60_000,
        baseUrlOverride: 'same-host',
      },
    } satisfies Want);
  });

  // Every variable of the README's configuration table, with the configuration it gives.
  it.each(
    named<{ given: Record<string, string>; want: Want }>([
      { given: { NODE_ENV: 'production', FERRY_ENCRYPTION_KEY: KEY }, want: { nodeEnv: 'production' } },
      { given: { NODE_ENV: 'test' }, want: { nodeEnv: 'test' } },
      { given: { PORT: '8080' }, want: { port: 8080, serverUrl: 'http://localhost:8080' } },
      { given: { PORT: '0' }, want: { port: 0 } },
      { given: { HOST: '127.0.0.1' }, want: { host: '127.0.0.1' } },
      {
        given: { FERRY_DATA_DIR: 'relative/dir', FERRY_ENCRYPTION_KEY: KEY },
        want: { dataDir: resolve('relative/dir') },
      },
      {
        given: { FERRY_DATABASE_URL: 'postgres://u:p@h:5432/db', FERRY_ENCRYPTION_KEY: KEY },
        want: { database: { kind: 'postgres', url: 'postgres://u:p@h:5432/db', maxConnections: 10 } },
      },
      {
        given: {
          FERRY_DATABASE_URL: 'postgresql://h/db',
          FERRY_DATABASE_POOL_SIZE: '25',
          FERRY_ENCRYPTION_KEY: KEY,
        },
        want: { database: { kind: 'postgres', url: 'postgresql://h/db', maxConnections: 25 } },
      },
      {
        given: { FERRY_DATABASE_URL: '/var/lib/ferry.db' },
        want: { database: { kind: 'sqlite', file: '/var/lib/ferry.db' } },
      },
      {
        given: { FERRY_DATABASE_URL: 'sqlite:///tmp/f.db' },
        want: { database: { kind: 'sqlite', file: '/tmp/f.db' } },
      },
      {
        given: { FERRY_DATABASE_URL: 'f.db' },
        want: { database: { kind: 'sqlite', file: resolve('f.db') } },
      },
      { given: { FERRY_ENCRYPTION_KEY: KEY }, want: { encryptionKey: KEY, encryptionKeyGenerated: false } },
      { given: { FERRY_ENCRYPTION_KEY: ` ${KEY}\n` }, want: { encryptionKey: KEY } },
      {
        given: { FERRY_ENCRYPTION_KEY: KEY, FERRY_PREVIOUS_ENCRYPTION_KEYS: ` ${OLD_KEY} , ${KEY},` },
        want: { previousEncryptionKeys: [OLD_KEY, KEY] },
      },
      { given: { FERRY_PREVIOUS_ENCRYPTION_KEYS: '' }, want: { previousEncryptionKeys: [] } },
      {
        given: { FERRY_SECRET_KEY: 'A4C3B5E2-1D2F-4A6B-8C9D-0E1F2A3B4C5D' },
        want: { secretKey: 'a4c3b5e2-1d2f-4a6b-8c9d-0e1f2a3b4c5d' },
      },
      {
        given: { FERRY_SERVER_URL: 'https://ferry.example.com/' },
        want: { serverUrl: 'https://ferry.example.com' },
      },
      { given: { FERRY_PROVIDERS_FILE: providersFile }, want: { providersFile } },
      { given: { FERRY_LOG_LEVEL: 'silent' }, want: { logLevel: 'silent' } },
      { given: { FERRY_BODY_LIMIT: '512kb' }, want: { bodyLimit: '512kb' } },
      { given: { FERRY_BODY_LIMIT: '1000b' }, want: { bodyLimit: '1000b' } },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: 'true' },
        want: { proxy: { allowPrivateNetworks: true } },
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: 'false' },
        want: { proxy: { allowPrivateNetworks: false } },
      },
      { given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '' }, want: { proxy: { allowPrivateNetworks: false } } },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/8, 127.0.0.1,fd00::/8,::1' },
        want: { proxy: { allowPrivateNetworks: ['10.0.0.0/8', '127.0.0.1', 'fd00::/8', '::1'] } },
      },
      { given: { FERRY_PROXY_CONNECT_TIMEOUT_MS: '2500' }, want: { proxy: { connectTimeoutMs: 2500 } } },
      { given: { FERRY_PROXY_TIMEOUT_MS: '30000' }, want: { proxy: { timeoutMs: 30_000 } } },
      { given: { FERRY_PROXY_MAX_RETRIES: '0' }, want: { proxy: { maxRetries: 0 } } },
      { given: { FERRY_PROXY_MAX_RETRIES: '3' }, want: { proxy: { maxRetries: 3 } } },
      { given: { FERRY_PROXY_MAX_WAIT_MS: '0' }, want: { proxy: { maxWaitMs: 0 } } },
      { given: { FERRY_PROXY_BASE_URL_OVERRIDE: 'any' }, want: { proxy: { baseUrlOverride: 'any' } } },
      { given: { FERRY_PROXY_BASE_URL_OVERRIDE: 'off' }, want: { proxy: { baseUrlOverride: 'off' } } },
    ]),
  )('reads $name', ({ given, want }) => {
    expect(loadConfig({ FERRY_DATA_DIR: dir(), ...given })).toMatchObject(want);
  });

  // Each bad value stops the start with an error that names the variable and says what is wrong.
  it.each(
    named<{ given: Record<string, string>; want: string }>([
      { given: { NODE_ENV: 'staging' }, want: 'NODE_ENV: Invalid option' },
      { given: { NODE_ENV: 'production' }, want: 'FERRY_ENCRYPTION_KEY: required when NODE_ENV=production' },
      { given: { PORT: 'abc' }, want: 'PORT: must be a whole number' },
      { given: { PORT: '' }, want: 'PORT: must be a whole number' },
      { given: { PORT: '80.5' }, want: 'PORT: must be a whole number' },
      { given: { PORT: '0x50' }, want: 'PORT: must be a whole number' },
      { given: { PORT: '65536' }, want: 'PORT: must be at most 65535' },
      { given: { HOST: '' }, want: 'HOST: must not be empty' },
      { given: { FERRY_DATA_DIR: '' }, want: 'FERRY_DATA_DIR: must not be empty' },
      { given: { FERRY_DATABASE_URL: '' }, want: 'FERRY_DATABASE_URL: must not be empty' },
      {
        given: { FERRY_DATABASE_URL: 'mysql://u@h/db' },
        want: 'FERRY_DATABASE_URL: must be a SQLite file path',
      },
      { given: { FERRY_DATABASE_POOL_SIZE: '0' }, want: 'FERRY_DATABASE_POOL_SIZE: must be at least 1' },
      { given: { FERRY_DATABASE_POOL_SIZE: '501' }, want: 'FERRY_DATABASE_POOL_SIZE: must be at most 500' },
      {
        given: { FERRY_DATABASE_POOL_SIZE: 'ten' },
        want: 'FERRY_DATABASE_POOL_SIZE: must be a whole number',
      },
      { given: { FERRY_ENCRYPTION_KEY: 'short' }, want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes' },
      { given: { FERRY_ENCRYPTION_KEY: '' }, want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes' },
      {
        given: { FERRY_ENCRYPTION_KEY: randomBytes(16).toString('base64') },
        want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes',
      },
      {
        given: { FERRY_ENCRYPTION_KEY: randomBytes(48).toString('base64') },
        want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes',
      },
      {
        given: { FERRY_ENCRYPTION_KEY: randomBytes(32).toString('hex') },
        want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes',
      },
      {
        given: { FERRY_PREVIOUS_ENCRYPTION_KEYS: `${OLD_KEY},not-a-key` },
        want: 'FERRY_PREVIOUS_ENCRYPTION_KEYS.1: must be 32 bytes',
      },
      { given: { FERRY_SECRET_KEY: 'not-a-uuid' }, want: 'FERRY_SECRET_KEY: must be a UUID' },
      { given: { FERRY_SERVER_URL: 'nope' }, want: 'FERRY_SERVER_URL: must be an http(s) URL' },
      {
        given: { FERRY_SERVER_URL: 'ftp://ferry.example.com' },
        want: 'FERRY_SERVER_URL: must be an http(s) URL',
      },
      {
        given: { FERRY_PROVIDERS_FILE: '/no/such/providers.yaml' },
        want: 'FERRY_PROVIDERS_FILE: no such file',
      },
      { given: { FERRY_LOG_LEVEL: 'verbose' }, want: 'FERRY_LOG_LEVEL: Invalid option' },
      { given: { FERRY_BODY_LIMIT: 'lots' }, want: 'FERRY_BODY_LIMIT: must look like 10mb' },
      { given: { FERRY_BODY_LIMIT: '0mb' }, want: 'FERRY_BODY_LIMIT: must look like 10mb' },
      { given: { FERRY_BODY_LIMIT: '1gb' }, want: 'FERRY_BODY_LIMIT: must look like 10mb' },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: 'yes' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: must be true',
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/33' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "10.0.0.0/33" is not an IP address or CIDR range',
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '127.0.0.1,300.1.2.3' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "300.1.2.3" is not an IP address or CIDR range',
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "10.0.0.0/" is not an IP address or CIDR range',
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: 'fd00::/129' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "fd00::/129" is not an IP address or CIDR range',
      },
      {
        given: { FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: '10.0.0.0/8/8' },
        want: 'FERRY_PROXY_ALLOW_PRIVATE_NETWORKS: "10.0.0.0/8/8" is not an IP address or CIDR range',
      },
      {
        given: { FERRY_PROXY_CONNECT_TIMEOUT_MS: '0' },
        want: 'FERRY_PROXY_CONNECT_TIMEOUT_MS: must be at least 1',
      },
      {
        given: { FERRY_PROXY_CONNECT_TIMEOUT_MS: '10s' },
        want: 'FERRY_PROXY_CONNECT_TIMEOUT_MS: must be a whole number',
      },
      { given: { FERRY_PROXY_TIMEOUT_MS: '-1' }, want: 'FERRY_PROXY_TIMEOUT_MS: must be a whole number' },
      { given: { FERRY_PROXY_TIMEOUT_MS: '' }, want: 'FERRY_PROXY_TIMEOUT_MS: must be a whole number' },
      {
        given: { FERRY_PROXY_TIMEOUT_MS: '2147483648' },
        want: 'FERRY_PROXY_TIMEOUT_MS: must be at most 2147483647',
      },
      {
        given: { FERRY_PROXY_MAX_WAIT_MS: '99999999999' },
        want: 'FERRY_PROXY_MAX_WAIT_MS: must be at most 2147483647',
      },
      { given: { FERRY_PROXY_MAX_RETRIES: '101' }, want: 'FERRY_PROXY_MAX_RETRIES: must be at most 100' },
      { given: { FERRY_PROXY_MAX_RETRIES: '' }, want: 'FERRY_PROXY_MAX_RETRIES: must be a whole number' },
      { given: { FERRY_PROXY_MAX_RETRIES: '2.5' }, want: 'FERRY_PROXY_MAX_RETRIES: must be a whole number' },
      {
        given: { FERRY_PROXY_MAX_WAIT_MS: 'forever' },
        want: 'FERRY_PROXY_MAX_WAIT_MS: must be a whole number',
      },
      {
        given: { FERRY_PROXY_BASE_URL_OVERRIDE: 'anywhere' },
        want: 'FERRY_PROXY_BASE_URL_OVERRIDE: Invalid option',
      },
    ]),
  )('refuses $name', ({ given, want }) => {
    const d = dir();
    let error: unknown;
    try {
      loadConfig({ FERRY_DATA_DIR: d, ...given });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toMatch(/^Invalid configuration:\n/);
    expect((error as Error).message).toContain(`  ${want}`);
  });

  it('lists every invalid variable at once', () => {
    const message = (() => {
      try {
        loadConfig({
          FERRY_DATA_DIR: dir(),
          PORT: 'abc',
          FERRY_BODY_LIMIT: 'lots',
          FERRY_PROXY_MAX_RETRIES: 'x',
        });
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(
      message
        .split('\n')
        .slice(1)
        .map((l) => l.split(':')[0]?.trim()),
    ).toEqual(['PORT', 'FERRY_BODY_LIMIT', 'FERRY_PROXY_MAX_RETRIES']);
  });
});
