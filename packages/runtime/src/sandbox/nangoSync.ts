import { sandboxError } from './errors.js';
import { internalsOf, NangoAction } from './nango.js';

type RecordLike = Record<string, unknown>;
const { isArray } = Array;
const stringify = JSON.stringify;
// Primordials: the record lengths are written into typed arrays a script cannot reach.
const ArrayBufferOf = ArrayBuffer;
const U32 = Uint32Array;
const U8 = Uint8Array;

/** Nango's NangoSync: NangoAction plus records, delete tracking, lastSyncDate and variant. */
export class NangoSync extends NangoAction {
  get lastSyncDate(): Date | undefined {
    const value = internalsOf(this).env.context.lastSyncDate;
    return value ? new Date(value) : undefined;
  }
  get variant(): string {
    return internalsOf(this).env.context.variant ?? 'base';
  }
  modelFullName(model: string): string {
    return this.variant === 'base' ? model : `${model}::${this.variant}`;
  }

  /** Upserts records of `model`, in host calls of `recordsPerHostCall`. */
  async batchSave<T extends RecordLike>(records: T[], model: string): Promise<boolean> {
    return this.write('batchSave', records, model);
  }
  /** Deprecated alias of batchSave. */
  async batchSend<T extends RecordLike>(records: T[], model: string): Promise<boolean> {
    return this.write('batchSave', records, model);
  }
  async batchUpdate<T extends RecordLike>(records: T[], model: string): Promise<boolean> {
    return this.write('batchUpdate', records, model);
  }
  async batchDelete<T extends RecordLike>(records: T[], model: string): Promise<boolean> {
    return this.write('batchDelete', records, model);
  }

  /** Reads stored records by id, 100 ids per host call, into a Map keyed by id. */
  async getRecordsByIds<K = string | number, T = RecordLike>(ids: K[], model: string): Promise<Map<K, T>> {
    this.checkBatch(ids, model, 'getRecordsByIds');
    const out = new Map<K, T>();
    const wanted = new Map<string, K>();
    for (const id of ids) wanted.set(String(id), id);
    const keys = [...wanted.keys()];
    for (let i = 0; i < keys.length; i += 100) {
      const found = (await internalsOf(this).bridge.call('getRecordsByIds', [
        model,
        keys.slice(i, i + 100),
      ])) as RecordLike[];
      for (const record of found) {
        const key = wanted.get(String(record.id));
        if (key !== undefined) out.set(key, record as T);
      }
    }
    return out;
  }

  /**
   * Yields the stored records of `model` page by page, in the order they last changed, each with its
   * `_nango_metadata`; `options.cursor` (a record's `_nango_metadata.cursor`) starts after that record.
   */
  async *listRecords<T = RecordLike>(
    model: string,
    options?: { cursor?: string | null },
  ): AsyncGenerator<T[], undefined, void> {
    let cursor: string | null = typeof options?.cursor === 'string' ? options.cursor : null;
    const name = this.model(model);
    for (;;) {
      const page = (await internalsOf(this).bridge.call('listRecords', [name, cursor])) as {
        records: T[];
        nextCursor: string | null;
      };
      if (page.records.length > 0) yield page.records;
      if (!page.nextCursor) return undefined;
      cursor = page.nextCursor;
    }
  }

  async trackDeletesStart(model: string): Promise<void> {
    await internalsOf(this).bridge.call('trackDeletesStart', [this.model(model)]);
  }
  async trackDeletesEnd(model: string): Promise<{ deletedKeys: string[] }> {
    return (await internalsOf(this).bridge.call('trackDeletesEnd', [this.model(model)])) as {
      deletedKeys: string[];
    };
  }
  /**
   * Deprecated form of delete tracking for full syncs: the records of `model` this run did not save are deleted
   * when it ends successfully. The host tracks from the start of the run (Nango's `track_deletes`).
   */
  async deleteRecordsFromPreviousExecutions(model: string): Promise<{ deletedKeys: string[] }> {
    return this.trackDeletesEnd(model);
  }

  async setMergingStrategy(
    merging: { strategy: 'override' | 'ignore_if_modified_after' },
    model: string,
  ): Promise<void> {
    const strategy = merging?.strategy;
    if (strategy !== 'override' && strategy !== 'ignore_if_modified_after') {
      throw new TypeError(`setMergingStrategy: unknown strategy "${String(strategy)}"`);
    }
    await internalsOf(this).bridge.call('setMergingStrategy', [this.model(model), strategy]);
  }

  private model(model: unknown): string {
    if (typeof model !== 'string' || model === '') throw new TypeError('A model name is required');
    return model;
  }

  private checkBatch(items: unknown, model: unknown, method: string): asserts items is unknown[] {
    if (!Array.isArray(items)) throw new TypeError(`${method}: expected an array`);
    this.model(model);
    const max = internalsOf(this).bridge.limits.maxRecordsPerBatch;
    if (items.length > max)
      throw sandboxError('batch_too_large', `${method}: ${items.length} items, more than ${max}`);
  }

  /**
   * Checks and sends records. Each record is encoded to JSON once, in the isolate (getters run once and
   * what was measured is what crosses), and the batch goes in host calls of at most `recordsPerHostCall`
   * records and `maxHostCallBytes` characters, one call encoded at a time. Every record is checked for an
   * object with an id before the first call; a record that alone is larger than a host call may carry
   * throws `host_call_too_large`.
   */
  private async write(op: string, records: unknown, model: string): Promise<boolean> {
    this.checkBatch(records, model, op);
    if (records.length === 0) return true;
    for (let i = 0; i < records.length; i++) {
      const record = records[i] as RecordLike | null;
      if (typeof record !== 'object' || record === null || isArray(record)) {
        throw sandboxError('invalid_record', `${op}: record ${i} of ${model} is not an object`);
      }
      const { id } = record;
      if ((typeof id !== 'string' && typeof id !== 'number') || id === '') {
        throw sandboxError('invalid_record', `${op}: record ${i} of ${model} has no id`);
      }
    }
    const { bridge } = internalsOf(this);
    const { recordsPerHostCall, maxHostCallBytes } = bridge.limits;
    const head = '[' + stringify(model) + ',[';
    const room = maxHostCallBytes - head.length - 2;
    // Joined with `+`: no array method a script could have patched.
    let chunk = '';
    let count = 0;
    // The length of each record's JSON, beside the call: the host parses and keeps each record's text on its own.
    let buffer = new ArrayBufferOf(recordsPerHostCall * 4);
    let lengths = new U32(buffer);
    for (let i = 0; i < records.length; i++) {
      const json = bridge.json(records[i], 'invalid_record', `${op}: record ${i} of ${model}`);
      if (json.length > room) {
        throw sandboxError(
          'host_call_too_large',
          `${op}: record ${i} of ${model} is ${json.length} bytes as JSON, more than the ${room} a host call may carry`,
        );
      }
      if (count > 0 && (count >= recordsPerHostCall || chunk.length + 1 + json.length > room)) {
        await bridge.callJson(op, head + chunk + ']]', new U8(buffer, 0, count * 4));
        chunk = '';
        count = 0;
        buffer = new ArrayBufferOf(recordsPerHostCall * 4);
        lengths = new U32(buffer);
      }
      chunk = count === 0 ? json : chunk + ',' + json;
      lengths[count] = json.length;
      count++;
    }
    await bridge.callJson(op, head + chunk + ']]', new U8(buffer, 0, count * 4));
    return true;
  }
}
