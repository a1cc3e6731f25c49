import type { Encryptor } from '../crypto/encryption.js';
import { FerryError } from '../errors.js';
import type { Store } from '../store/store.js';
import { nowIso, storableText } from '../store/values.js';
import type { RecordAction, RecordWrite, RecordsBackend, StoredRow } from './backend.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { postgresBackend } from './postgresBackend.js';
import { batchIds, deepMerge, prepareRecords, serializeRecord } from './prepare.js';
import { sqliteBackend } from './sqliteBackend.js';

/** The model key a variant is stored under (Nango's `Model::variant`; `base` is the model itself). */
export function modelKey(model: string, variant?: string | null): string {
  return storableText(variant && variant !== 'base' ? `${model}::${variant}` : model);
}

/** Who writes a batch, and how. */
export interface WriteOptions {
  /** The sync run that writes (stored as `sync_run_id`). */
  runId?: string | null | undefined;
  /**
   * `ignore_if_modified_after`: records whose cursor is above this one (changed by someone else since the run
   * captured it) are left as they are.
   */
  keepModifiedAfter?: number | undefined;
  /**
   * `save` only: each record's JSON text as the runtime received it (same order, each checked to be exactly the
   * JSON object of its record); stored and hashed as it is when the record needs no change (see `prepareRecords`).
   */
  texts?: readonly string[] | undefined;
}

/** What a batch did. `lastCursor` is the feed's cursor after the batch when it wrote. */
export interface WriteResult {
  added: number;
  updated: number;
  deleted: number;
  unchanged: number;
  /** Left alone: unknown ids (update, delete) or records changed since the merging cursor. */
  skipped: number;
  /** The cursors written, first and last (undefined when nothing was written). */
  firstCursor: number | undefined;
  lastCursor: number | undefined;
  /** External ids deleted by this batch. */
  deletedIds: string[];
}

/** `GET /records` parameters, validated. */
export interface ListQuery {
  model: string;
  variant?: string | undefined;
  cursor?: string | undefined;
  limit: number;
  modifiedAfter?: string | undefined;
  actions?: RecordAction[] | undefined;
  ids?: string[] | undefined;
}

/** Where a connection's records live. */
export interface ConnectionRef {
  environmentId: number;
  /** `connections.id`. */
  connectionRowId: number;
}

/** Options of {@link RecordsService}. */
export interface RecordsServiceOptions {
  store: Store;
  encryptor: Encryptor;
  /** Encrypt payloads at rest (`FERRY_RECORDS_ENCRYPTION`). */
  encrypt?: boolean | undefined;
}

const emptyResult = (): WriteResult => ({
  added: 0,
  updated: 0,
  deleted: 0,
  unchanged: 0,
  skipped: 0,
  firstCursor: undefined,
  lastCursor: undefined,
  deletedIds: [],
});

function tally(result: WriteResult, writes: RecordWrite[]): WriteResult {
  for (const w of writes) {
    if (w.lastAction === 'ADDED') result.added++;
    else if (w.lastAction === 'UPDATED') result.updated++;
    else {
      result.deleted++;
      result.deletedIds.push(w.externalId);
    }
  }
  if (writes.length > 0) {
    result.firstCursor = writes[0]?.cursor;
    result.lastCursor = writes[writes.length - 1]?.cursor;
  }
  return result;
}

const quote = (value: string | null): string => (value === null ? 'null' : JSON.stringify(value));

/**
 * The records store: records of (connection, model) with a content hash, soft deletes and a change feed ordered by
 * a per-feed cursor. An unchanged record costs a hash comparison and writes nothing; a batch is one transaction
 * that writes all of it or none; a feed's cursors commit in order.
 */
export class RecordsService {
  readonly backend: RecordsBackend;
  readonly #store: Store;
  readonly #encryptor: Encryptor;
  readonly #encrypt: boolean;
  readonly #feeds = new Map<string, number>();
  /** Feeds whose `payload_key_ids` already lists the current key id: their writes skip the update. */
  readonly #keyedFeeds = new Set<number>();
  #sinceAnalyze = 0;
  #analyzing: Promise<void> | undefined;

  constructor(opts: RecordsServiceOptions) {
    this.#store = opts.store;
    this.#encryptor = opts.encryptor;
    this.#encrypt = opts.encrypt === true;
    this.backend =
      opts.store.dialect === 'postgres' ? postgresBackend(opts.store) : sqliteBackend(opts.store);
  }

  /**
   * Finds a connection by its public keys.
   * @throws FerryError `unknown_provider_config` (no such integration), `unknown_connection`
   */
  async connection(
    environmentId: number,
    providerConfigKey: string,
    connectionId: string,
  ): Promise<ConnectionRef> {
    const row = await this.#store.db
      .selectFrom('integrations as i')
      .leftJoin('connections as c', (j) =>
        j.onRef('c.integration_id', '=', 'i.id').on('c.connection_id', '=', connectionId),
      )
      .select(['i.id as integration', 'c.id as connection'])
      .where('i.environment_id', '=', environmentId)
      .where('i.unique_key', '=', providerConfigKey)
      .executeTakeFirst();
    if (!row)
      throw new FerryError('unknown_provider_config', `Integration "${providerConfigKey}" does not exist.`);
    if (row.connection === null)
      throw new FerryError(
        'unknown_connection',
        `Connection "${connectionId}" for integration "${providerConfigKey}" does not exist.`,
      );
    return { environmentId, connectionRowId: row.connection };
  }

  /** The feed of (connection, model key), created when `create` is set; undefined when it does not exist. */
  async feed(ref: ConnectionRef, model: string, create: true): Promise<number>;
  async feed(ref: ConnectionRef, model: string, create?: boolean): Promise<number | undefined>;
  async feed(ref: ConnectionRef, model: string, create = false): Promise<number | undefined> {
    const key = `${ref.connectionRowId}\u0000${model}`;
    const cached = this.#feeds.get(key);
    if (cached !== undefined) return cached;
    const find = () =>
      this.#store.db
        .selectFrom('records_feeds')
        .select('id')
        .where('connection_id', '=', ref.connectionRowId)
        .where('model', '=', model)
        .executeTakeFirst();
    let row = await find();
    if (!row && create) {
      await this.#store.db
        .insertInto('records_feeds')
        .values({
          environment_id: ref.environmentId,
          connection_id: ref.connectionRowId,
          model,
          last_cursor: 0,
          created_at: nowIso(),
        })
        .onConflict((oc) => oc.columns(['connection_id', 'model']).doNothing())
        .execute();
      row = await find();
    }
    if (!row) return undefined;
    if (this.#feeds.size >= 10_000) this.#feeds.delete(this.#feeds.keys().next().value as string);
    this.#feeds.set(key, row.id);
    return row.id;
  }

  /**
   * Counts written rows; on PostgreSQL, refreshes the records' statistics every 20,000 rows (in the background). A
   * feed that grows fast otherwise runs on statistics of a near-empty table until autovacuum catches up, and the
   * planner sorts a bitmap scan of the whole feed for every page instead of walking the cursor index.
   */
  #wrote(writes: RecordWrite[]): RecordWrite[] {
    if (this.#store.dialect !== 'postgres' || writes.length === 0) return writes;
    this.#sinceAnalyze += writes.length;
    if (this.#sinceAnalyze >= 20_000 && !this.#analyzing) {
      this.#sinceAnalyze = 0;
      this.#analyzing = this.#store.pgPool
        ?.query('analyze records')
        .then(
          () => undefined,
          () => undefined,
        )
        .finally(() => (this.#analyzing = undefined));
    }
    return writes;
  }

  /** The key id a write of payloads to `feedId` must record on the feed, or undefined when it is recorded (or none). */
  #payloadKeyId(feedId: number): string | undefined {
    return this.#encrypt && !this.#keyedFeeds.has(feedId) ? this.#encryptor.keyId : undefined;
  }

  /** After a committed write that recorded the key id (`payloadKeyId` given and something written). */
  #keyed(feedId: number, keyId: string | undefined, writes: RecordWrite[]): void {
    if (keyId === undefined || writes.length === 0) return;
    if (this.#keyedFeeds.size >= 100_000) this.#keyedFeeds.clear();
    this.#keyedFeeds.add(feedId);
  }

  #encode(text: string): string {
    return this.#encrypt ? this.#encryptor.encrypt(text) : text;
  }

  #decode(payload: string): string {
    return payload.charCodeAt(0) === 123 /* { */ ? payload : this.#encryptor.decrypt(payload);
  }

  /**
   * Upserts records (`batchSave`): new or changed records get a new cursor, a deleted one comes back as ADDED,
   * unchanged ones are not written.
   * @throws FerryError `invalid_record` naming the index of a record without id, with a duplicate id, not JSON or
   * over the size limit — nothing of the batch is written then
   */
  async save(
    feedId: number,
    model: string,
    records: readonly unknown[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    const prepared = prepareRecords(model, records, opts.texts);
    const result = emptyResult();
    if (prepared.length === 0) return result;
    const now = nowIso();
    const runId = opts.runId ?? null;
    const guard = opts.keepModifiedAfter;
    let unchanged = 0;
    const payloadKeyId = this.#payloadKeyId(feedId);
    const writes = await this.backend.write(
      feedId,
      { ids: prepared.map((r) => r.externalId), hashes: prepared.map((r) => r.hash), payloadKeyId },
      false,
      (existing, lastCursor) => {
        const out: RecordWrite[] = [];
        unchanged = 0;
        let cursor: number | undefined;
        for (const r of prepared) {
          if (!existing.has(r.externalId)) {
            unchanged++;
            continue;
          }
          const e = existing.get(r.externalId);
          if (e && !e.deleted && e.hash === r.hash) {
            unchanged++;
            continue;
          }
          if (e && !e.deleted && guard !== undefined && e.cursor > guard) continue;
          cursor = (cursor ?? lastCursor()) + 1;
          out.push({
            externalId: r.externalId,
            cursor,
            hash: r.hash,
            payload: this.#encode(r.text),
            firstSeenAt: now,
            lastModifiedAt: now,
            lastAction: !e || e.deleted ? 'ADDED' : 'UPDATED',
            deletedAt: null,
            runId,
          });
        }
        return out;
      },
    );
    this.#keyed(feedId, payloadKeyId, writes);
    tally(result, this.#wrote(writes));
    result.unchanged = unchanged;
    result.skipped = prepared.length - writes.length - unchanged;
    return result;
  }

  /**
   * Deep-merges partial records into stored ones (`batchUpdate`); unknown and deleted ids are skipped.
   * @throws FerryError `invalid_record` (as {@link save})
   */
  async update(
    feedId: number,
    model: string,
    records: readonly unknown[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    const ids = batchIds(model, records);
    const result = emptyResult();
    if (ids.length === 0) return result;
    const now = nowIso();
    const guard = opts.keepModifiedAfter;
    let unchanged = 0;
    const payloadKeyId = this.#payloadKeyId(feedId);
    const writes = await this.backend.write(feedId, { ids, payloadKeyId }, true, (existing, lastCursor) => {
      const out: RecordWrite[] = [];
      unchanged = 0;
      let cursor: number | undefined;
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]!;
        const e = existing.get(id);
        if (!e || e.deleted || (guard !== undefined && e.cursor > guard)) continue;
        const stored = e.payload ? (JSON.parse(this.#decode(e.payload)) as Record<string, unknown>) : { id };
        const merged = deepMerge(stored, records[i] as Record<string, unknown>);
        const next = serializeRecord(model, merged, id, i);
        if (next.hash === e.hash) {
          unchanged++;
          continue;
        }
        cursor = (cursor ?? lastCursor()) + 1;
        out.push({
          externalId: id,
          cursor,
          hash: next.hash,
          payload: this.#encode(next.text),
          firstSeenAt: now,
          lastModifiedAt: now,
          lastAction: 'UPDATED',
          deletedAt: null,
          runId: opts.runId ?? null,
        });
      }
      return out;
    });
    this.#keyed(feedId, payloadKeyId, writes);
    tally(result, this.#wrote(writes));
    result.unchanged = unchanged;
    result.skipped = ids.length - writes.length - unchanged;
    return result;
  }

  /**
   * Soft-deletes records (`batchDelete`): they keep their payload, get `deleted_at` and a new cursor. Unknown or
   * already deleted ids change nothing.
   * @throws FerryError `invalid_record` for a record without id or a duplicate id
   */
  async delete(
    feedId: number,
    model: string,
    records: readonly unknown[],
    opts: WriteOptions = {},
  ): Promise<WriteResult> {
    return this.deleteIds(feedId, batchIds(model, records), opts);
  }

  /** Soft-deletes records by external id (see {@link delete}). */
  async deleteIds(feedId: number, ids: string[], opts: WriteOptions = {}): Promise<WriteResult> {
    const result = emptyResult();
    if (ids.length === 0) return result;
    const now = nowIso();
    const writes = await this.backend.write(feedId, { ids }, false, (existing, lastCursor) => {
      const out: RecordWrite[] = [];
      let cursor: number | undefined;
      for (const id of ids) {
        const e = existing.get(id);
        if (!e || e.deleted) continue;
        cursor = (cursor ?? lastCursor()) + 1;
        out.push({
          externalId: id,
          cursor,
          hash: e.hash,
          payload: undefined,
          firstSeenAt: now,
          lastModifiedAt: now,
          lastAction: 'DELETED',
          deletedAt: now,
          runId: opts.runId ?? null,
        });
      }
      return out;
    });
    tally(result, this.#wrote(writes));
    result.unchanged = ids.length - writes.length;
    return result;
  }

  /**
   * Deletion detection: soft-deletes every live record of the feed whose id is not in `seen`, among the records
   * whose cursor is at most `until` (default: the feed's last cursor now), so records written after tracking began
   * are never deleted by it. Call it only when a run ended successfully.
   * @returns the deleted external ids
   */
  async deleteUnseen(
    feedId: number,
    seen: ReadonlySet<string>,
    opts: WriteOptions & { until?: number | undefined } = {},
  ): Promise<string[]> {
    const until = opts.until ?? (await this.backend.lastCursor(feedId));
    const deleted: string[] = [];
    let after = 0;
    for (;;) {
      const page = await this.backend.live(feedId, after, until, 1000);
      if (page.length === 0) break;
      after = page[page.length - 1]!.cursor;
      const gone = page.filter((r) => !seen.has(r.id)).map((r) => r.id);
      if (gone.length > 0) deleted.push(...(await this.deleteIds(feedId, gone, opts)).deletedIds);
    }
    return deleted;
  }

  /** The feed's last cursor (0 for an empty feed). */
  lastCursor(feedId: number): Promise<number> {
    return this.backend.lastCursor(feedId);
  }

  /** Stored records among `ids` (deleted ones left out), parsed; pruned ones are `{id}`. */
  async getByIds(feedId: number, given: string[]): Promise<Record<string, unknown>[]> {
    const ids = given.map(storableText);
    const rows = await this.backend.read(feedId, ids, true);
    const out: Record<string, unknown>[] = [];
    for (const id of ids) {
      const e = rows.get(id);
      if (!e || e.deleted) continue;
      out.push(e.payload ? (JSON.parse(this.#decode(e.payload)) as Record<string, unknown>) : { id });
    }
    return out;
  }

  #position(feedId: number, cursor: string, lastCursor: number): number {
    const at = decodeCursor(cursor);
    if (at.feedId !== feedId)
      throw new FerryError('invalid_cursor', 'The cursor belongs to another connection or model.');
    if (at.position > lastCursor)
      throw new FerryError('invalid_cursor', 'The cursor is not one this server gave out.');
    return at.position;
  }

  /**
   * One page of the change feed, as the JSON text of `{records, next_cursor}` (payloads are spliced, not parsed).
   * @throws FerryError `unknown_model` (no record of that model was ever stored for the connection), `invalid_cursor`
   */
  async list(ref: ConnectionRef, q: ListQuery): Promise<string> {
    const model = modelKey(q.model, q.variant);
    const feedId = await this.feed(ref, model);
    if (feedId === undefined)
      throw new FerryError(
        'unknown_model',
        `No records of model "${model}" were ever stored for this connection.`,
      );
    const after = q.cursor ? this.#position(feedId, q.cursor, Number.MAX_SAFE_INTEGER) : 0;
    const rows = await this.backend.page(feedId, {
      after,
      limit: q.limit + 1,
      modifiedAfter: q.modifiedAfter,
      actions: q.actions,
      ids: q.ids,
    });
    // A record after the cursor proves it was given out (cursors only grow); an empty page asks the feed's counter.
    if (rows.length === 0 && after > 0)
      this.#position(feedId, q.cursor!, await this.backend.lastCursor(feedId));
    const more = rows.length > q.limit;
    const n = more ? q.limit : rows.length;
    const parts = new Array<string>(n);
    for (let i = 0; i < n; i++) parts[i] = this.#recordJson(feedId, rows[i]!);
    const next = more ? quote(encodeCursor(feedId, rows[n - 1]!.cursor)) : 'null';
    return `{"records":[${parts.join(',')}],"next_cursor":${next}}`;
  }

  #recordJson(feedId: number, r: StoredRow): string {
    const meta =
      `{"first_seen_at":${quote(r.first_seen_at)},"last_modified_at":${quote(r.last_modified_at)},` +
      `"last_action":"${r.last_action}","deleted_at":${quote(r.deleted_at)},"pruned_at":${quote(r.pruned_at)},` +
      `"cursor":"${encodeCursor(feedId, r.cursor)}"}`;
    if (r.payload === null) return `{"id":${quote(r.external_id)},"_nango_metadata":${meta}}`;
    const text = this.#decode(r.payload);
    return `${text.slice(0, -1)},"_nango_metadata":${meta}}`;
  }

  /**
   * Empties payloads up to a cursor (`PATCH /records/prune`); the records keep their metadata with `pruned_at`.
   * @throws FerryError `unknown_model`, `invalid_cursor`
   */
  async prune(
    ref: ConnectionRef,
    q: { model: string; variant?: string | undefined; untilCursor: string; limit: number },
  ): Promise<{ count: number; has_more: boolean }> {
    const model = modelKey(q.model, q.variant);
    const feedId = await this.feed(ref, model);
    if (feedId === undefined)
      throw new FerryError(
        'unknown_model',
        `No records of model "${model}" were ever stored for this connection.`,
      );
    const until = this.#position(feedId, q.untilCursor, await this.backend.lastCursor(feedId));
    const { count, hasMore } = await this.backend.prune(feedId, until, q.limit, nowIso());
    return { count, has_more: hasMore };
  }

  /** Removes records deleted before `cutoff`, in chunks; returns how many. */
  async purgeDeleted(cutoff: Date, chunk = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.backend.purgeDeleted(cutoff.toISOString(), chunk);
      total += n;
      if (n < chunk) return total;
    }
  }

  /**
   * Removes the records of connections that no longer exist, feed by feed in chunks (a connection or integration
   * delete only removes the connection row, so the request never waits for its records).
   * @returns how many records were removed
   */
  async dropOrphans(chunk = 5000): Promise<number> {
    let total = 0;
    for (;;) {
      const feeds = await this.#store.db
        .selectFrom('records_feeds as f')
        .leftJoin('connections as c', 'c.id', 'f.connection_id')
        .select(['f.id', 'f.connection_id', 'f.model'])
        .where('c.id', 'is', null)
        .limit(100)
        .execute();
      if (feeds.length === 0) return total;
      for (const f of feeds) {
        for (;;) {
          const n = await this.backend.dropRecords(f.id, chunk);
          total += n;
          if (n < chunk) break;
        }
        await this.#store.db.deleteFrom('records_feeds').where('id', '=', f.id).execute();
        this.#keyedFeeds.delete(f.id);
        this.#feeds.delete(`${f.connection_id}\u0000${f.model}`);
      }
    }
  }
}
