import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _e, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
}

describe('logger redaction', () => {
  it.each([
    { given: { secretKey: 'S1' }, leak: 'S1' },
    { given: { credentials: { access_token: 'S2' } }, leak: 'S2' },
    { given: { connection: { refresh_token: 'S3' } }, leak: 'S3' },
    { given: { req: { headers: { authorization: 'Bearer S4' } } }, leak: 'S4' },
    { given: { integration: { client_secret: 'S5' } }, leak: 'S5' },
    { given: { body: { apiKey: 'S6' } }, leak: 'S6' },
    { given: { password: 'S7' }, leak: 'S7' },
  ])('censors $leak', ({ given, leak }) => {
    const { lines, logger } = capture();
    logger.info(given, 'event');
    expect(lines.join('')).toContain('[redacted]');
    expect(lines.join('')).not.toContain(leak);
  });
});
