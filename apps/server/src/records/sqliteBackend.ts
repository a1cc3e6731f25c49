import type BetterSqlite3 from 'better-sqlite3';
import type { Store } from '../store/store.js';
import type {
  BatchKeys,
  ExistingRecord,
  PageQuery,
  Planner,
  RecordWrite,
  RecordsBackend,
  StoredRow,
} from './backend.js';

const UPSERT = `insert into records (feed_id, external_id, cursor, hash, payload, first_seen_at, last_modified_at,
  last_action, deleted_at, pruned_at, sync_run_id) values (?, ?, ?, ?, ?, ?, ?, ?, ?, null, ?)
  on conflict (feed_id, external_id) do update set cursor = excluded.cursor, hash = excluded.hash,
  payload = excluded.payload, first_seen_at = case when excluded.last_action = 'ADDED' then excluded.first_seen_at
      else records.first_seen_at end, last_modified_at = excluded.last_modified_at,
  last_action = excluded.last_action, deleted_at = excluded.deleted_at, pruned_at = null,
  sync_run_id = excluded.sync_run_id`;
const MARK = `update records set cursor = ?, last_modified_at = ?, last_action = ?, deleted_at = ?, sync_run_id = ?
  where feed_id = ? and external_id = ?`;
const ADD_KEY_ID = `update records_feeds set payload_key_ids = payload_key_ids || ? || ','
  where id = ? and instr(payload_key_ids, ',' || ? || ',') = 0`;
const COLUMNS = `external_id, cursor, payload, first_seen_at, last_modified_at, last_action, deleted_at, pruned_at`;

type Row = [string, string, number, number, (string | null)?];

/**
 * The records store on SQLite: every batch runs synchronously on the better-sqlite3 handle (statements cached),
 * inside Kysely's connection mutex so it never interleaves with an open Kysely transaction. `BEGIN IMMEDIATE`
 * is the feed lock: SQLite has one writer at a time.
 */
export function sqliteBackend(store: Store): RecordsBackend {
  const sqlite = store.sqlite;
  if (!sqlite) throw new TypeError('sqliteBackend: the store is not SQLite');
  const db: BetterSqlite3.Database = sqlite;
  const locked = <T>(fn: () => T): Promise<T> => store.db.connection().execute(async () => fn());

  // Compiled once: a batch runs these for every 1,000 records.
  const reads = [false, true].map((withPayload) =>
    db
      .prepare(
        `select external_id, hash, cursor, deleted_at is not null${withPayload ? ', payload' : ''}
         from records where feed_id = ? and external_id in (select value from json_each(?))`,
      )
      .raw(),
  );
  const upsert = db.prepare(UPSERT);
  const mark = db.prepare(MARK);
  const setLastCursor = db.prepare('update records_feeds set last_cursor = ? where id = ?');
  const addKeyId = db.prepare(ADD_KEY_ID);

  const readSync = (feedId: number, ids: string[], withPayload: boolean): Map<string, ExistingRecord> => {
    const out = new Map<string, ExistingRecord>();
    const rows = reads[withPayload ? 1 : 0]!.all(feedId, JSON.stringify(ids)) as Row[];
    for (const r of rows) {
      const e: ExistingRecord = { hash: r[1], cursor: r[2], deleted: r[3] === 1 };
      if (withPayload) e.payload = r[4] ?? null;
      out.set(r[0], e);
    }
    return out;
  };

  const applySync = (feedId: number, writes: RecordWrite[]): void => {
    for (const w of writes) {
      if (w.payload === undefined)
        mark.run(w.cursor, w.lastModifiedAt, w.lastAction, w.deletedAt, w.runId, feedId, w.externalId);
      else
        upsert.run(
          feedId,
          w.externalId,
          w.cursor,
          w.hash,
          w.payload,
          w.firstSeenAt,
          w.lastModifiedAt,
          w.lastAction,
          w.deletedAt,
          w.runId,
        );
    }
  };

  const lastCursorSync = (feedId: number): number => {
    const feed = db.prepare('select last_cursor from records_feeds where id = ?').get(feedId) as
      { last_cursor: number } | undefined;
    if (!feed) throw new Error(`records feed ${feedId} does not exist`);
    return feed.last_cursor;
  };

  // One IMMEDIATE transaction (SQLite's single writer lock) per batch: an unchanged batch only reads in it.
  const write = db.transaction((feedId: number, keys: BatchKeys, withPayload: boolean, plan: Planner) => {
    const found = readSync(feedId, keys.ids, withPayload);
    const existing = new Map<string, ExistingRecord | null>();
    for (const id of keys.ids) existing.set(id, found.get(id) ?? null);
    let last: number | undefined;
    const writes = plan(existing, () => (last ??= lastCursorSync(feedId)));
    if (writes.length === 0) return writes;
    applySync(feedId, writes);
    const final = writes[writes.length - 1] as RecordWrite;
    setLastCursor.run(final.cursor, feedId);
    if (keys.payloadKeyId !== undefined) addKeyId.run(keys.payloadKeyId, feedId, keys.payloadKeyId);
    return writes;
  });

  return {
    read: (feedId, ids, withPayload) => locked(() => readSync(feedId, ids, withPayload)),
    write: (feedId, keys, withPayload, plan) =>
      locked(() => write.immediate(feedId, keys, withPayload, plan)),
    page: (feedId, q: PageQuery) =>
      locked(() => {
        const where = ['feed_id = ?', 'cursor > ?'];
        const args: unknown[] = [feedId, q.after];
        if (q.modifiedAfter) {
          where.push('last_modified_at > ?');
          args.push(q.modifiedAfter);
        }
        if (q.actions) {
          where.push(`last_action in (${q.actions.map(() => '?').join(',')})`);
          args.push(...q.actions);
        }
        if (q.ids) {
          where.push(`external_id in (${q.ids.map(() => '?').join(',')})`);
          args.push(...q.ids);
        }
        args.push(q.limit);
        return db
          .prepare(`select ${COLUMNS} from records where ${where.join(' and ')} order by cursor limit ?`)
          .all(...args) as StoredRow[];
      }),
    lastCursor: (feedId) =>
      locked(() => {
        const row = db.prepare('select last_cursor from records_feeds where id = ?').get(feedId) as
          { last_cursor: number } | undefined;
        return row?.last_cursor ?? 0;
      }),
    live: (feedId, after, until, limit) =>
      locked(
        () =>
          db
            .prepare(
              `select external_id as id, cursor from records where feed_id = ? and cursor > ? and cursor <= ?
               and deleted_at is null order by cursor limit ?`,
            )
            .all(feedId, after, until, limit) as { id: string; cursor: number }[],
      ),
    prune: (feedId, untilCursor, limit, now) =>
      locked(() => {
        const { changes } = db
          .prepare(
            `update records set payload = null, pruned_at = ? where rowid in (select rowid from records
             where feed_id = ? and cursor <= ? and pruned_at is null order by cursor limit ?)`,
          )
          .run(now, feedId, untilCursor, limit);
        const more = db
          .prepare('select 1 from records where feed_id = ? and cursor <= ? and pruned_at is null limit 1')
          .get(feedId, untilCursor);
        return { count: changes, hasMore: more !== undefined };
      }),
    purgeDeleted: (cutoff, limit) =>
      locked(
        () =>
          db
            .prepare(
              `delete from records where rowid in (select rowid from records
               where deleted_at is not null and deleted_at < ? limit ?)`,
            )
            .run(cutoff, limit).changes,
      ),
    dropRecords: (feedId, limit) =>
      locked(
        () =>
          db
            .prepare(
              'delete from records where rowid in (select rowid from records where feed_id = ? limit ?)',
            )
            .run(feedId, limit).changes,
      ),
  };
}
