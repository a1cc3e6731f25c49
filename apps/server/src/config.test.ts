import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';

const dir = () => mkdtempSync(join(tmpdir(), 'ferry-config-'));

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

  it('reads PostgreSQL URLs, ports and the server URL', () => {
    const c = loadConfig({
      FERRY_DATA_DIR: dir(),
      FERRY_DATABASE_URL: 'postgres://u@h/db',
      PORT: '8080',
      FERRY_SERVER_URL: 'https://ferry.example.com/',
      FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    });
    expect(c.database).toEqual({ kind: 'postgres', url: 'postgres://u@h/db', maxConnections: 10 });
    expect(c.port).toBe(8080);
    expect(c.serverUrl).toBe('https://ferry.example.com');
  });

  it.each([
    { given: { PORT: 'abc' }, want: 'PORT' },
    { given: { FERRY_ENCRYPTION_KEY: 'short' }, want: 'FERRY_ENCRYPTION_KEY: must be 32 bytes' },
    { given: { FERRY_SECRET_KEY: 'not-a-uuid' }, want: 'FERRY_SECRET_KEY' },
    { given: { FERRY_SERVER_URL: 'nope' }, want: 'FERRY_SERVER_URL' },
    { given: { NODE_ENV: 'production' }, want: 'FERRY_ENCRYPTION_KEY: required when NODE_ENV=production' },
  ])('explains a bad $want', ({ given, want }) => {
    expect(() => loadConfig({ FERRY_DATA_DIR: dir(), ...given })).toThrow(ConfigError);
    expect(() => loadConfig({ FERRY_DATA_DIR: dir(), ...given })).toThrow(want);
  });
});
