import { FerryError } from '../errors.js';

const FORMAT = /^r1:(\d{1,15}):(\d{1,16})$/;

/** A position in one feed: after the record whose cursor is `position`. */
export interface FeedPosition {
  feedId: number;
  position: number;
}

/**
 * The opaque cursor of a record: its feed and its place in that feed, so a cursor stays valid across restarts and
 * a cursor of another connection or model is recognised.
 */
export function encodeCursor(feedId: number, position: number): string {
  return Buffer.from(`r1:${feedId}:${position}`).toString('base64url');
}

/**
 * Reads a cursor made by {@link encodeCursor}.
 * @throws FerryError `invalid_cursor` when it is malformed
 */
export function decodeCursor(cursor: string): FeedPosition {
  const m =
    cursor.length <= 64 && /^[A-Za-z0-9_-]+={0,2}$/.test(cursor)
      ? FORMAT.exec(Buffer.from(cursor, 'base64url').toString('latin1'))
      : null;
  const position = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(position))
    throw new FerryError('invalid_cursor', 'The cursor is not one this server gave out.');
  return { feedId: Number(m[1]), position };
}
