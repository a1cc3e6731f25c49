import type { MergingStrategy, RecordsPage, RuntimeHost, ScriptRecord } from '@ferry/runtime';
import { modelKey, type ConnectionRef, type RecordsService, type WriteResult } from './service.js';

/** Records per page of a script's `listRecords`. */
const LIST_PAGE = 1000;

/** The run a script's records belong to. */
export interface RecordsRun {
  connection: ConnectionRef;
  /** The run's id, stored on every record it changes (`sync_run_id`). */
  runId: string;
  /** The sync variant; records are stored under `Model::variant` unless it is `base`. */
  variant?: string | undefined;
  /**
   * Nango's `track_deletes` of a full sync: every model the run saves is tracked from the start, and records not
   * saved by the run are deleted when it ends successfully.
   */
  trackDeletes?: boolean | undefined;
}

/** Per-model counts of a run's changes (Nango's `latestResult`). */
export type RunRecordCounts = Record<string, { added: number; updated: number; deleted: number }>;

/** The records part of a {@link RuntimeHost}, plus the end of the run. */
export type ScriptRecords = Pick<
  RuntimeHost,
  | 'batchSave'
  | 'batchUpdate'
  | 'batchDelete'
  | 'getRecordsByIds'
  | 'listRecords'
  | 'trackDeletesStart'
  | 'trackDeletesEnd'
  | 'setMergingStrategy'
> & {
  /**
   * Ends the run's records work. Only a successful run applies deletion detection (`trackDeletesEnd`, and
   * `trackDeletes` for every model it saved); a failed, aborted or timed-out run deletes nothing.
   * @returns the ids deleted per model
   */
  finish(outcome: { success: boolean }): Promise<Record<string, string[]>>;
  /** What the run changed so far, per model. */
  counts(): RunRecordCounts;
};

interface Tracking {
  /** Records with a cursor above this one were written after tracking started: never deleted by it. */
  until: number;
  seen: Set<string>;
  /** Set by trackDeletesEnd: delete the unseen records when the run succeeds. */
  ended: boolean;
}

/**
 * Builds the records side of one script run over the records store, for the sync engine: `batchSave` & co. write
 * through {@link RecordsService} (each host call is one transaction), `getRecordsByIds` reads the same store, and
 * deletion detection is held back until {@link ScriptRecords.finish} is told the run succeeded.
 *
 * Errors thrown by the methods (e.g. `invalid_record` naming the index of a record without id, with a duplicate
 * id or over 1 MB) reach the script as `host_error` with the message, and the run's log.
 */
export function createScriptRecords(records: RecordsService, run: RecordsRun): ScriptRecords {
  const feeds = new Map<string, Promise<number>>();
  const tracking = new Map<string, Tracking>();
  const guards = new Map<string, number>();
  const counts: RunRecordCounts = {};
  let finished = false;

  const keyOf = (model: string): string => modelKey(model, run.variant);
  const feedOf = (key: string): Promise<number> => {
    let feed = feeds.get(key);
    if (!feed) {
      feed = records.feed(run.connection, key, true);
      feed.catch(() => feeds.delete(key));
      feeds.set(key, feed);
    }
    return feed;
  };
  const open = (): void => {
    if (finished) throw new Error('The run has ended: its records can no longer change.');
  };
  const track = async (key: string, feedId: number): Promise<Tracking> => {
    const known = tracking.get(key);
    if (known) return known;
    const t: Tracking = { until: await records.lastCursor(feedId), seen: new Set(), ended: false };
    const raced = tracking.get(key);
    if (raced) return raced;
    tracking.set(key, t);
    return t;
  };
  const count = (key: string, result: WriteResult): void => {
    const c = (counts[key] ??= { added: 0, updated: 0, deleted: 0 });
    c.added += result.added;
    c.updated += result.updated;
    c.deleted += result.deleted;
  };
  const afterWrite = (key: string, result: WriteResult): void => {
    count(key, result);
    // Our own writes move the merging cursor along when nobody else wrote in between.
    const guard = guards.get(key);
    if (guard !== undefined && result.firstCursor === guard + 1 && result.lastCursor !== undefined)
      guards.set(key, result.lastCursor);
  };

  return {
    async batchSave(model: string, batch: ScriptRecord[], texts?: string[]): Promise<void> {
      open();
      const key = keyOf(model);
      const feedId = await feedOf(key);
      const t = tracking.get(key) ?? (run.trackDeletes ? await track(key, feedId) : undefined);
      const result = await records.save(feedId, key, batch, {
        runId: run.runId,
        keepModifiedAfter: guards.get(key),
        texts,
      });
      afterWrite(key, result);
      if (t) for (const r of batch) t.seen.add(String(r.id));
    },
    async batchUpdate(model: string, batch: ScriptRecord[]): Promise<void> {
      open();
      const key = keyOf(model);
      const feedId = await feedOf(key);
      afterWrite(
        key,
        await records.update(feedId, key, batch, { runId: run.runId, keepModifiedAfter: guards.get(key) }),
      );
    },
    async batchDelete(model: string, batch: ScriptRecord[]): Promise<void> {
      open();
      const key = keyOf(model);
      const feedId = await feedOf(key);
      afterWrite(key, await records.delete(feedId, key, batch, { runId: run.runId }));
    },
    async getRecordsByIds(model: string, ids: string[]): Promise<ScriptRecord[]> {
      const key = keyOf(model);
      const feedId = await records.feed(run.connection, key);
      if (feedId === undefined) return [];
      return (await records.getByIds(feedId, ids)) as ScriptRecord[];
    },
    async listRecords(model: string, cursor: string | null): Promise<RecordsPage> {
      const key = keyOf(model);
      if ((await records.feed(run.connection, key)) === undefined) return { records: [], nextCursor: null };
      const page = JSON.parse(
        await records.list(run.connection, { model: key, cursor: cursor ?? undefined, limit: LIST_PAGE }),
      ) as { records: ScriptRecord[]; next_cursor: string | null };
      return { records: page.records, nextCursor: page.next_cursor };
    },
    async trackDeletesStart(model: string): Promise<void> {
      open();
      const key = keyOf(model);
      const feedId = await feedOf(key);
      tracking.delete(key);
      await track(key, feedId);
    },
    async trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }> {
      open();
      const key = keyOf(model);
      // With `trackDeletes` (a full sync's track_deletes) every model is tracked from the start of the run.
      const t = tracking.get(key) ?? (run.trackDeletes ? await track(key, await feedOf(key)) : undefined);
      if (!t)
        throw new Error(
          `trackDeletesEnd("${model}") without trackDeletesStart (deleteRecordsFromPreviousExecutions needs the sync's track_deletes)`,
        );
      t.ended = true;
      // What will be deleted if the run succeeds; nothing is deleted before that.
      const feedId = await feedOf(key);
      const deletedKeys: string[] = [];
      let after = 0;
      for (;;) {
        const page = await records.backend.live(feedId, after, t.until, 1000);
        if (page.length === 0) break;
        after = page[page.length - 1]!.cursor;
        for (const r of page) if (!t.seen.has(r.id)) deletedKeys.push(r.id);
      }
      return { deletedKeys };
    },
    async setMergingStrategy(model: string, strategy: MergingStrategy): Promise<void> {
      open();
      const key = keyOf(model);
      if (strategy === 'override') guards.delete(key);
      else guards.set(key, await records.lastCursor(await feedOf(key)));
    },
    async finish(outcome: { success: boolean }): Promise<Record<string, string[]>> {
      if (finished) return {};
      finished = true;
      const deleted: Record<string, string[]> = {};
      if (!outcome.success) return deleted;
      for (const [key, t] of tracking) {
        if (!t.ended && !run.trackDeletes) continue;
        const feedId = await feedOf(key);
        const gone = await records.deleteUnseen(feedId, t.seen, { runId: run.runId, until: t.until });
        if (gone.length > 0) {
          deleted[key] = gone;
          const c = (counts[key] ??= { added: 0, updated: 0, deleted: 0 });
          c.deleted += gone.length;
        }
      }
      return deleted;
    },
    counts: () => counts,
  };
}
