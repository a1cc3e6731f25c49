import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor } from './cursor.js';

describe('records cursors', () => {
  it.each([
    [1, 0],
    [42, 1],
    [7, 9_007_199_254_740_991],
  ])('round-trips feed %i position %i', (feedId, position) => {
    const cursor = encodeCursor(feedId, position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual({ feedId, position });
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c'],
    ['another format', Buffer.from('r2:1:1').toString('base64url')],
    ['no position', Buffer.from('r1:1:').toString('base64url')],
    ['a negative position', Buffer.from('r1:1:-1').toString('base64url')],
    ['past the safe integers', Buffer.from('r1:1:9999999999999999').toString('base64url')],
    ['too long', 'A'.repeat(65)],
    ['a Nango cursor', Buffer.from('2024-01-01T00:00:00.000000Z||8f3c').toString('base64')],
  ])('refuses %s with invalid_cursor', (_name, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(expect.objectContaining({ code: 'invalid_cursor' }));
  });
});
