import type pg from 'pg';
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

const COLUMNS = `external_id, cursor, payload, first_seen_at, last_modified_at, last_action, deleted_at, pruned_at`;
const UPSERT = `insert into records (feed_id, external_id, cursor, hash, payload, first_seen_at, last_modified_at,
    last_action, deleted_at, sync_run_id)
  select $1, * from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[],
    $8::text[], $9::text[], $10::text[])
  on conflict (feed_id, external_id) do update set cursor = excluded.cursor, hash = excluded.hash,
    payload = excluded.payload, first_seen_at = case when excluded.last_action = 'ADDED' then excluded.first_seen_at
      else records.first_seen_at end, last_modified_at = excluded.last_modified_at,
    last_action = excluded.last_action, deleted_at = excluded.deleted_at, pruned_at = null,
    sync_run_id = excluded.sync_run_id`;
const MARK = `update records r set cursor = u.cursor, last_modified_at = u.at, last_action = u.action,
    deleted_at = u.deleted_at, sync_run_id = u.run_id
  from unnest($2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[])
    as u(external_id, cursor, at, action, deleted_at, run_id)
  where r.feed_id = $1 and r.external_id = u.external_id`;

type Row = { external_id: string; hash: string; cursor: number; deleted: boolean; payload?: string | null };

/** Safe to inline: a positive integer id. */
function int(value: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new TypeError(`not an id: ${value}`);
  return String(value);
}

/** The class id of the feeds' advisory locks ('FRRY'); the feed id is the object id. */
const LOCK_CLASS = 0x46525259;

async function readWith(
  client: pg.Pool | pg.PoolClient,
  feedId: number,
  ids: string[],
  withPayload: boolean,
): Promise<Map<string, ExistingRecord>> {
  const out = new Map<string, ExistingRecord>();
  if (ids.length === 0) return out;
  // A lateral primary-key lookup per id (`limit 1` keeps the planner from flattening it into a join): the plan
  // stays right whatever the statistics say — a growing table with stale statistics made a join scan the feed.
  const { rows } = await client.query<Row>(
    `select r.* from unnest($2::text[]) as v(id) cross join lateral (
       select external_id, hash, cursor, deleted_at is not null as deleted${withPayload ? ', payload' : ''}
       from records where feed_id = $1 and external_id = v.id limit 1) r`,
    [feedId, ids],
  );
  for (const r of rows) {
    const e: ExistingRecord = { hash: r.hash, cursor: r.cursor, deleted: r.deleted };
    if (withPayload) e.payload = r.payload ?? null;
    out.set(r.external_id, e);
  }
  return out;
}

/** The rows of a batch that may change: stored ones that are deleted or have another hash, and unknown ones. */
async function changedWith(
  client: pg.PoolClient,
  feedId: number,
  keys: BatchKeys,
): Promise<Map<string, ExistingRecord | null>> {
  const { rows } = await client.query<{
    id: string;
    hash: string | null;
    cursor: number | null;
    deleted: boolean;
  }>(
    `select v.id, r.hash, r.cursor, r.deleted from unnest($2::text[], $3::text[]) as v(id, hash)
     left join lateral (select hash, cursor, deleted_at is not null as deleted from records
       where feed_id = $1 and external_id = v.id limit 1) r on true
     where r.hash is null or r.deleted or r.hash <> v.hash`,
    [feedId, keys.ids, keys.hashes],
  );
  const out = new Map<string, ExistingRecord | null>();
  for (const r of rows)
    out.set(r.id, r.hash === null ? null : { hash: r.hash, cursor: r.cursor as number, deleted: r.deleted });
  return out;
}

async function apply(client: pg.PoolClient, feedId: number, writes: RecordWrite[]): Promise<void> {
  const full = writes.filter((w) => w.payload !== undefined);
  const marks = writes.filter((w) => w.payload === undefined);
  if (full.length > 0) {
    await client.query(UPSERT, [
      feedId,
      full.map((w) => w.externalId),
      full.map((w) => w.cursor),
      full.map((w) => w.hash),
      full.map((w) => w.payload),
      full.map((w) => w.firstSeenAt),
      full.map((w) => w.lastModifiedAt),
      full.map((w) => w.lastAction),
      full.map((w) => w.deletedAt),
      full.map((w) => w.runId),
    ]);
  }
  if (marks.length > 0) {
    await client.query(MARK, [
      feedId,
      marks.map((w) => w.externalId),
      marks.map((w) => w.cursor),
      marks.map((w) => w.lastModifiedAt),
      marks.map((w) => w.lastAction),
      marks.map((w) => w.deletedAt),
      marks.map((w) => w.runId),
    ]);
  }
}

/**
 * The records store on PostgreSQL, over the pg pool with unnamed statements (a named plan made on an empty table
 * stays slow). A batch locks its feed's row (`select … for update`) before it reads the counter, so batches of
 * one feed commit in cursor order: a reader following the feed never sees a cursor before a smaller one commits.
 */
export function postgresBackend(store: Store): RecordsBackend {
  const pool = store.pgPool;
  if (!pool) throw new TypeError('postgresBackend: the store is not PostgreSQL');
  return {
    read: (feedId, ids, withPayload) => readWith(pool, feedId, ids, withPayload),
    async write(feedId, keys, withPayload, plan: Planner) {
      const client = await pool.connect();
      try {
        // The feed's lock, held to the commit: batches of one feed take their cursors and commit one after the
        // other. An advisory lock writes nothing, so an unchanged batch writes nothing at all.
        const locked = (await client.query(
          `begin; select pg_advisory_xact_lock(${LOCK_CLASS}, ${int(feedId)});
           select last_cursor from records_feeds where id = ${int(feedId)}`,
        )) as unknown as pg.QueryResult<{ last_cursor: number }>[];
        const feed = locked[2]?.rows[0];
        if (!feed) throw new Error(`records feed ${feedId} does not exist`);
        let existing: Map<string, ExistingRecord | null>;
        if (keys.hashes && !withPayload) existing = await changedWith(client, feedId, keys);
        else {
          const found = await readWith(client, feedId, keys.ids, withPayload);
          existing = new Map();
          for (const id of keys.ids) existing.set(id, found.get(id) ?? null);
        }
        const writes = plan(existing, () => feed.last_cursor);
        if (writes.length > 0) {
          await apply(client, feedId, writes);
          const final = writes[writes.length - 1] as RecordWrite;
          if (keys.payloadKeyId !== undefined)
            await client.query(
              `update records_feeds set payload_key_ids = payload_key_ids || $1 || ','
               where id = $2 and strpos(payload_key_ids, ',' || $1 || ',') = 0`,
              [keys.payloadKeyId, feedId],
            );
          await client.query(
            `update records_feeds set last_cursor = ${int(final.cursor)} where id = ${int(feedId)}; commit`,
          );
        } else await client.query('commit');
        return writes;
      } catch (err) {
        await client.query('rollback').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async page(feedId, q: PageQuery) {
      const where = ['feed_id = $1', 'cursor > $2'];
      const args: unknown[] = [feedId, q.after];
      if (q.modifiedAfter) {
        args.push(q.modifiedAfter);
        where.push(`last_modified_at > $${args.length}`);
      }
      if (q.actions) {
        args.push(q.actions);
        where.push(`last_action = any($${args.length}::text[])`);
      }
      if (q.ids) {
        args.push(q.ids);
        where.push(`external_id = any($${args.length}::text[])`);
      }
      args.push(q.limit);
      const { rows } = await pool.query<StoredRow>(
        `select ${COLUMNS} from records where ${where.join(' and ')} order by cursor limit $${args.length}`,
        args,
      );
      return rows;
    },
    async lastCursor(feedId) {
      const { rows } = await pool.query<{ last_cursor: number }>(
        'select last_cursor from records_feeds where id = $1',
        [feedId],
      );
      return rows[0]?.last_cursor ?? 0;
    },
    async live(feedId, after, until, limit) {
      const { rows } = await pool.query<{ id: string; cursor: number }>(
        `select external_id as id, cursor from records where feed_id = $1 and cursor > $2 and cursor <= $3
         and deleted_at is null order by cursor limit $4`,
        [feedId, after, until, limit],
      );
      return rows;
    },
    async prune(feedId, untilCursor, limit, now) {
      const { rowCount } = await pool.query(
        `update records set payload = null, pruned_at = $4 where feed_id = $1 and external_id in (
           select external_id from records where feed_id = $1 and cursor <= $2 and pruned_at is null
           order by cursor limit $3)`,
        [feedId, untilCursor, limit, now],
      );
      const more = await pool.query(
        'select 1 from records where feed_id = $1 and cursor <= $2 and pruned_at is null limit 1',
        [feedId, untilCursor],
      );
      return { count: rowCount ?? 0, hasMore: (more.rowCount ?? 0) > 0 };
    },
    async purgeDeleted(cutoff, limit) {
      const { rowCount } = await pool.query(
        `delete from records where ctid = any(array(select ctid from records
           where deleted_at is not null and deleted_at < $1 limit $2))`,
        [cutoff, limit],
      );
      return rowCount ?? 0;
    },
    async dropRecords(feedId, limit) {
      const { rowCount } = await pool.query(
        `delete from records where ctid = any(array(select ctid from records where feed_id = $1 limit $2))`,
        [feedId, limit],
      );
      return rowCount ?? 0;
    },
  };
}
