/** What a batch needs to know about a stored record. */
export interface ExistingRecord {
  hash: string;
  cursor: number;
  deleted: boolean;
  /** The stored payload (JSON text or ciphertext; null once pruned); only read when asked for. */
  payload?: string | null;
}

export type RecordAction = 'ADDED' | 'UPDATED' | 'DELETED';

/** One row to write. `payload: undefined` keeps the stored payload (a delete). */
export interface RecordWrite {
  externalId: string;
  cursor: number;
  hash: string;
  payload: string | null | undefined;
  firstSeenAt: string;
  lastModifiedAt: string;
  lastAction: RecordAction;
  deletedAt: string | null;
  runId: string | null;
}

/**
 * Decides what a batch writes, given the stored rows of its ids (null: not stored; absent: left out by the backend
 * because its hash is the one given and it is not deleted, i.e. unchanged) and a function giving the feed's last
 * cursor, both read under the feed's lock. It numbers the writes from `lastCursor() + 1` in order.
 */
export type Planner = (
  existing: Map<string, ExistingRecord | null>,
  lastCursor: () => number,
) => RecordWrite[];

/** The ids a batch touches; with `hashes` (same order) the backend may leave unchanged live records out. */
export interface BatchKeys {
  ids: string[];
  hashes?: string[] | undefined;
  /**
   * The id of the key encrypting the batch's payloads: when the plan writes anything, the same transaction adds it
   * to the feed's `payload_key_ids` (read by the start-up key check) unless it is there already.
   */
  payloadKeyId?: string | undefined;
}

/** A stored record as the feed reads it. Timestamps are ISO strings. */
export interface StoredRow {
  external_id: string;
  cursor: number;
  payload: string | null;
  first_seen_at: string;
  last_modified_at: string;
  last_action: RecordAction;
  deleted_at: string | null;
  pruned_at: string | null;
}

/** A page query of one feed, in cursor order. */
export interface PageQuery {
  after: number;
  limit: number;
  modifiedAfter?: string | undefined;
  actions?: RecordAction[] | undefined;
  ids?: string[] | undefined;
}

/** The dialect-specific half of the records store. */
export interface RecordsBackend {
  /** The stored rows of `ids` (latest committed, no lock). */
  read(feedId: number, ids: string[], withPayload: boolean): Promise<Map<string, ExistingRecord>>;
  /**
   * In one transaction holding the feed's lock: reads the rows of the batch, asks `plan` what to write, writes it
   * and moves the feed's counter to the last cursor written. Writes nothing when the plan is empty.
   */
  write(feedId: number, keys: BatchKeys, withPayload: boolean, plan: Planner): Promise<RecordWrite[]>;
  /** A page of the feed after a cursor, at most `limit` rows. */
  page(feedId: number, query: PageQuery): Promise<StoredRow[]>;
  /** The feed's last cursor. */
  lastCursor(feedId: number): Promise<number>;
  /** Records that are not deleted, in cursor order within (`after`, `until`]. */
  live(
    feedId: number,
    after: number,
    until: number,
    limit: number,
  ): Promise<{ id: string; cursor: number }[]>;
  /** Empties the payloads of up to `limit` records with a cursor ≤ `untilCursor`; returns how many, and if more remain. */
  prune(
    feedId: number,
    untilCursor: number,
    limit: number,
    now: string,
  ): Promise<{ count: number; hasMore: boolean }>;
  /** Removes up to `limit` records deleted before `cutoff`; returns how many. */
  purgeDeleted(cutoff: string, limit: number): Promise<number>;
  /** Removes up to `limit` records of a feed; returns how many. */
  dropRecords(feedId: number, limit: number): Promise<number>;
}
