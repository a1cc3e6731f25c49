import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { databases, tempDatabase } from '../../test/harness.js';
import { createEncryptor } from '../crypto/encryption.js';
import { nowIso } from '../store/values.js';
import { createStore, type Store } from '../store/store.js';
import { encodeCursor } from './cursor.js';
import { RecordsService, type ConnectionRef } from './service.js';

interface Page {
  records: ({ id: string; _nango_metadata: Record<string, string | null> } & Record<string, unknown>)[];
  next_cursor: string | null;
}

async function page(
  svc: RecordsService,
  ref: ConnectionRef,
  q: Partial<Parameters<RecordsService['list']>[1]> = {},
): Promise<Page> {
  return JSON.parse(await svc.list(ref, { model: 'Item', limit: 100, ...q })) as Page;
}

const items = (from: number, to: number, extra: Record<string, unknown> = {}) =>
  Array.from({ length: to - from }, (_, i) => ({ id: String(from + i), name: `item ${from + i}`, ...extra }));

for (const kind of databases) {
  describe(`records store [${kind}]`, () => {
    let store: Store;
    let drop: () => Promise<void>;
    let svc: RecordsService;
    let nextConn = 1000;
    const newRef = (): ConnectionRef => ({ environmentId: 1, connectionRowId: nextConn++ });

    beforeAll(async () => {
      const db = await tempDatabase(kind);
      drop = db.drop;
      store = await createStore(db.options);
      svc = new RecordsService({ store, encryptor: createEncryptor(randomBytes(32).toString('base64')) });
    });
    afterAll(async () => {
      await store.destroy();
      await drop();
    });

    it('adds records with strictly increasing cursors, and an unchanged re-save writes nothing', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      const first = await svc.save(feed, 'Item', items(0, 50));
      expect(first).toMatchObject({ added: 50, updated: 0, unchanged: 0, firstCursor: 1, lastCursor: 50 });
      const before = await page(svc, ref);
      expect(before.records.map((r) => r.id)).toEqual(items(0, 50).map((r) => r.id));
      expect(before.records.every((r) => r._nango_metadata.last_action === 'ADDED')).toBe(true);
      expect(before.next_cursor).toBeNull();

      const again = await svc.save(feed, 'Item', items(0, 50));
      expect(again).toMatchObject({ added: 0, updated: 0, unchanged: 50, lastCursor: undefined });
      expect(await svc.lastCursor(feed)).toBe(50);
      expect(await page(svc, ref)).toEqual(before);
    });

    it('gives a changed record a new cursor and UPDATED, keeping first_seen_at', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 3));
      const [a] = (await page(svc, ref)).records;
      await new Promise((r) => setTimeout(r, 5));
      const res = await svc.save(feed, 'Item', [{ id: '0', name: 'renamed' }, ...items(1, 3)]);
      expect(res).toMatchObject({ updated: 1, unchanged: 2 });
      const after = (await page(svc, ref)).records;
      expect(after.map((r) => r.id)).toEqual(['1', '2', '0']);
      const b = after[2]!;
      expect(b.name).toBe('renamed');
      expect(b._nango_metadata.last_action).toBe('UPDATED');
      expect(b._nango_metadata.first_seen_at).toBe(a!._nango_metadata.first_seen_at);
      expect(b._nango_metadata.last_modified_at! > a!._nango_metadata.last_modified_at!).toBe(true);
    });

    it('refuses a batch with a missing, duplicate or bad id, naming the index, and writes none of it', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      const cases: [unknown[], RegExp][] = [
        [[{ id: 'a' }, { name: 'no id' }], /Record 1 of Item has no id/],
        [[{ id: 'a' }, { id: 'b' }, { id: 'a' }], /Record 2 of Item has the same id "a" as record 0/],
        [[{ id: 'a' }, { id: true }], /Record 1 .* neither a string nor a number/],
        [[{ id: 'a' }, { id: '' }], /Record 1 of Item has an empty id/],
        [[{ id: 'a' }, 'text'], /Record 1 of Item is not an object/],
        [
          [{ id: 'a' }, { id: 'b', blob: 'x'.repeat(1024 * 1024) }],
          /Record 1 of Item is larger than 1048576 bytes/,
        ],
      ];
      const circular: Record<string, unknown> = { id: 'c' };
      circular.self = circular;
      cases.push([[{ id: 'a' }, circular], /Record 1 of Item is not JSON data/]);
      for (const [batch, message] of cases) {
        await expect(svc.save(feed, 'Item', batch)).rejects.toMatchObject({
          code: 'invalid_record',
          message,
        });
      }
      await expect(svc.delete(feed, 'Item', [{ id: 'x' }, { id: 'x' }])).rejects.toMatchObject({
        code: 'invalid_record',
      });
      expect(await svc.lastCursor(feed)).toBe(0);
      expect((await page(svc, ref)).records).toEqual([]);
    });

    it('stringifies numeric ids and strips a stored _nango_metadata', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', [{ id: 42, n: 1, _nango_metadata: { fake: true } }]);
      const [r] = (await page(svc, ref)).records;
      expect(r).toMatchObject({ id: '42', n: 1 });
      expect(r!._nango_metadata).not.toHaveProperty('fake');
      expect(await svc.getByIds(feed, ['42'])).toEqual([{ id: '42', n: 1 }]);
    });

    it('stores NUL and lone surrogates of ids as U+FFFD and keeps them in payloads exactly, on both databases', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      const odd = 'a\u0000b\ud800c';
      await svc.save(feed, 'Item', [{ id: odd, text: odd }]);
      const [r] = (await page(svc, ref)).records;
      expect(r).toMatchObject({ id: 'a\ufffdb\ufffdc', text: odd });
      expect(await svc.getByIds(feed, [odd])).toEqual([{ id: 'a\ufffdb\ufffdc', text: odd }]);
    });

    it('soft-deletes (payload kept), and a re-saved deleted record comes back as ADDED', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 3));
      const del = await svc.delete(feed, 'Item', [{ id: '1' }, { id: 'unknown' }]);
      expect(del).toMatchObject({ deleted: 1, deletedIds: ['1'], unchanged: 1 });
      expect(await svc.delete(feed, 'Item', [{ id: '1' }])).toMatchObject({ deleted: 0 });
      const deleted = (await page(svc, ref, { actions: ['DELETED'] })).records;
      expect(deleted).toHaveLength(1);
      expect(deleted[0]).toMatchObject({
        id: '1',
        name: 'item 1',
        _nango_metadata: { last_action: 'DELETED' },
      });
      expect(deleted[0]!._nango_metadata.deleted_at).toEqual(expect.any(String));
      expect(await svc.getByIds(feed, ['0', '1'])).toEqual([{ id: '0', name: 'item 0' }]);
      await svc.save(feed, 'Item', items(1, 2));
      const back = (await page(svc, ref, { ids: ['1'] })).records[0]!;
      expect(back._nango_metadata).toMatchObject({ last_action: 'ADDED', deleted_at: null });
    });

    it('deep-merges batchUpdate into stored records and skips unknown ids', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', [{ id: 'a', name: 'A', nested: { x: 1, y: 2 }, tags: [1, 2] }]);
      const res = await svc.update(feed, 'Item', [
        { id: 'a', nested: { y: 3 }, tags: [9] },
        { id: 'nope', name: 'x' },
      ]);
      expect(res).toMatchObject({ updated: 1, skipped: 1 });
      expect(await svc.getByIds(feed, ['a', 'nope'])).toEqual([
        { id: 'a', name: 'A', nested: { x: 1, y: 3 }, tags: [9] },
      ]);
      expect(await svc.update(feed, 'Item', [{ id: 'a', name: 'A' }])).toMatchObject({
        updated: 0,
        unchanged: 1,
      });
    });

    it('ignore_if_modified_after leaves records changed after the captured cursor alone', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 2));
      const captured = await svc.lastCursor(feed);
      await svc.save(feed, 'Item', [{ id: '0', name: 'changed by a webhook' }]);
      const res = await svc.save(feed, 'Item', items(0, 3, { v: 2 }), { keepModifiedAfter: captured });
      expect(res).toMatchObject({ added: 1, updated: 1, skipped: 1 });
      expect(await svc.getByIds(feed, ['0'])).toEqual([{ id: '0', name: 'changed by a webhook' }]);
    });

    it('pages in cursor order with limit, filters, modified_after, ids and opaque cursors', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 25));
      const seen: string[] = [];
      let cursor: string | undefined;
      for (;;) {
        const p = await page(svc, ref, { limit: 10, cursor });
        seen.push(...p.records.map((r) => r.id));
        if (!p.next_cursor) break;
        expect(p.next_cursor).toBe(p.records.at(-1)!._nango_metadata.cursor);
        cursor = p.next_cursor;
      }
      expect(seen).toEqual(items(0, 25).map((r) => r.id));
      const t = nowIso();
      await new Promise((r) => setTimeout(r, 5));
      await svc.save(feed, 'Item', [{ id: '3', name: 'new' }]);
      await svc.delete(feed, 'Item', [{ id: '4' }]);
      expect((await page(svc, ref, { modifiedAfter: t })).records.map((r) => r.id)).toEqual(['3', '4']);
      expect((await page(svc, ref, { actions: ['UPDATED'] })).records.map((r) => r.id)).toEqual(['3']);
      expect((await page(svc, ref, { actions: ['ADDED', 'DELETED'] })).records).toHaveLength(24);
      expect((await page(svc, ref, { ids: ['7', '9', 'zz'] })).records.map((r) => r.id)).toEqual(['7', '9']);

      const other = newRef();
      const otherFeed = await svc.feed(other, 'Item', true);
      await svc.save(otherFeed, 'Item', items(0, 1));
      const foreign = (await page(svc, other)).records[0]!._nango_metadata.cursor!;
      for (const bad of [foreign, 'garbage!', 'cjE6MTox', encodeCursor(feed, 10_000)]) {
        await expect(page(svc, ref, { cursor: bad })).rejects.toMatchObject({ code: 'invalid_cursor' });
      }
      await expect(page(svc, ref, { model: 'Nope' })).rejects.toMatchObject({ code: 'unknown_model' });
    });

    it('deleteUnseen marks only the records not seen, and keeps later writes', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 2500));
      const seen = new Set(
        items(0, 2500)
          .map((r) => r.id)
          .filter((id) => Number(id) % 2 === 0),
      );
      const gone = await svc.deleteUnseen(feed, seen);
      expect(gone).toHaveLength(1250);
      expect(new Set(gone)).toEqual(
        new Set(
          items(0, 2500)
            .map((r) => r.id)
            .filter((id) => Number(id) % 2 === 1),
        ),
      );
      expect((await page(svc, ref, { actions: ['DELETED'], limit: 10_000 })).records).toHaveLength(1250);
    });

    it('prunes payloads up to a cursor and keeps the metadata', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 5));
      const until = (await page(svc, ref)).records[2]!._nango_metadata.cursor!;
      expect(await svc.prune(ref, { model: 'Item', untilCursor: until, limit: 2 })).toEqual({
        count: 2,
        has_more: true,
      });
      expect(await svc.prune(ref, { model: 'Item', untilCursor: until, limit: 2 })).toEqual({
        count: 1,
        has_more: false,
      });
      const recs = (await page(svc, ref)).records;
      expect(recs[0]).toEqual({
        id: '0',
        _nango_metadata: expect.objectContaining({ pruned_at: expect.any(String) }),
      });
      expect(recs[3]).toMatchObject({ id: '3', name: 'item 3', _nango_metadata: { pruned_at: null } });
      expect(await svc.getByIds(feed, ['1'])).toEqual([{ id: '1' }]);
    });

    it('purges records deleted before the retention cutoff', async () => {
      const ref = newRef();
      const feed = await svc.feed(ref, 'Item', true);
      await svc.save(feed, 'Item', items(0, 4));
      await svc.delete(feed, 'Item', items(0, 2));
      expect(await svc.purgeDeleted(new Date(Date.now() - 60_000))).toBe(0);
      expect(await svc.purgeDeleted(new Date(Date.now() + 60_000))).toBeGreaterThanOrEqual(2);
      expect((await page(svc, ref)).records.map((r) => r.id)).toEqual(['2', '3']);
    });

    it('encrypts payloads at rest when asked, and reads both forms', async () => {
      const enc = new RecordsService({
        store,
        encryptor: createEncryptor(randomBytes(32).toString('base64')),
        encrypt: true,
      });
      const ref = newRef();
      const feed = await enc.feed(ref, 'Item', true);
      await enc.save(feed, 'Item', [{ id: 's', secret: 'hunter2' }]);
      const row = await store.db
        .selectFrom('records')
        .select('payload')
        .where('feed_id', '=', feed)
        .executeTakeFirstOrThrow();
      expect(row.payload).toMatch(/^v1:/);
      expect(row.payload).not.toContain('hunter2');
      expect((await page(enc, ref)).records[0]).toMatchObject({ id: 's', secret: 'hunter2' });
      expect(await enc.getByIds(feed, ['s'])).toEqual([{ id: 's', secret: 'hunter2' }]);
    });
  });
}

if (databases.includes('postgres')) {
  describe('records store [postgres] concurrent writers', () => {
    it('a reader following the feed never misses a record written by concurrent transactions', async () => {
      const db = await tempDatabase('postgres');
      const store = await createStore({
        ...(db.options as { kind: 'postgres'; url: string }),
        maxConnections: 10,
      });
      const svc = new RecordsService({
        store,
        encryptor: createEncryptor(randomBytes(32).toString('base64')),
      });
      const ref: ConnectionRef = { environmentId: 1, connectionRowId: 1 };
      const feed = await svc.feed(ref, 'Item', true);
      const writers = 6;
      const batches = 40;
      let done = false;
      const writing = Promise.all(
        Array.from({ length: writers }, async (_, w) => {
          for (let b = 0; b < batches; b++)
            await svc.save(
              feed,
              'Item',
              items(0, 7).map((r) => ({ ...r, id: `${w}-${b}-${r.id}` })),
            );
        }),
      ).finally(() => {
        done = true;
      });
      const got = new Set<string>();
      let cursor: string | undefined;
      let last = 0;
      const follow = async () => {
        const p = await page(svc, ref, { limit: 13, cursor });
        for (const r of p.records) {
          const n = Number(Buffer.from(r._nango_metadata.cursor!, 'base64url').toString().split(':')[2]);
          expect(n).toBeGreaterThan(last);
          last = n;
          got.add(r.id);
        }
        if (p.records.length > 0) cursor = p.records.at(-1)!._nango_metadata.cursor!;
        return p.records.length;
      };
      while (!done) await follow();
      await writing;
      while ((await follow()) > 0);
      expect(got.size).toBe(writers * batches * 7);
      await store.destroy();
      await db.drop();
    });
  });
}
