import { beforeAll, expect, it } from 'vitest';
import type { ConnectionRef } from '../src/records/service.js';
import { describeEachDatabase, type TestServer } from './harness.js';

async function connect(ts: TestServer, key: string, connectionId: string): Promise<ConnectionRef> {
  const integration = await ts.api('POST', '/integrations', { provider: 'github', unique_key: key });
  expect([200, 201, 409]).toContain(integration.status);
  const created = await ts.api('POST', '/connections', {
    provider_config_key: key,
    connection_id: connectionId,
    credentials: { type: 'OAUTH2', access_token: 'at' },
  });
  expect(created.status).toBe(201);
  const env = ts.server.services.environments.cachedBySecretKey(ts.secretKey)!;
  return ts.server.services.records.connection(env.id, key, connectionId);
}

async function save(ts: TestServer, ref: ConnectionRef, model: string, records: Record<string, unknown>[]) {
  const svc = ts.server.services.records;
  return svc.save(await svc.feed(ref, model, true), model, records);
}

const items = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => ({ id: String(from + i), title: `item ${from + i}`, n: from + i }));

describeEachDatabase('GET /records and PATCH /records/prune', (get) => {
  const headers = { 'Connection-Id': 'c1', 'Provider-Config-Key': 'gh' };
  let ref: ConnectionRef;
  beforeAll(async () => {
    ref = await connect(get(), 'gh', 'c1');
    await save(get(), ref, 'Item', items(250));
    await connect(get(), 'gh', 'c2').then((other) => save(get(), other, 'Item', items(3)));
  });

  it('pages the feed with and without the trailing slash, in cursor order', async () => {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/records${pages % 2 ? '/' : ''}?model=Item&limit=100${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await get().api('GET', path, undefined, headers);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      ids.push(...res.body.records.map((r: { id: string }) => r.id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(ids).toEqual(items(250).map((r) => r.id));
    const first = await get().api('GET', '/records/?model=Item&limit=1', undefined, headers);
    expect(first.body.records[0]).toEqual({
      id: '0',
      title: 'item 0',
      n: 0,
      _nango_metadata: {
        first_seen_at: expect.any(String),
        last_modified_at: expect.any(String),
        last_action: 'ADDED',
        deleted_at: null,
        pruned_at: null,
        cursor: expect.any(String),
      },
    });
    const dflt = await get().api('GET', '/records?model=Item', undefined, headers);
    expect(dflt.body.records).toHaveLength(100);
  });

  it('filters by action in any case, by modified_after (and delta) and by repeated ids', async () => {
    const t = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    await save(get(), ref, 'Item', [{ id: '5', title: 'changed', n: 5 }]);
    const svc = get().server.services.records;
    await svc.delete(await svc.feed(ref, 'Item', true), 'Item', [{ id: '6' }]);
    const q = async (query: string) =>
      (
        await get().api('GET', `/records/?model=Item&limit=10000&${query}`, undefined, headers)
      ).body.records.map((r: { id: string }) => r.id);
    expect(await q(`modified_after=${encodeURIComponent(t)}`)).toEqual(['5', '6']);
    expect(await q(`delta=${encodeURIComponent(t)}`)).toEqual(['5', '6']);
    expect(await q('filter=UPDATED')).toEqual(['5']);
    expect(await q('filter=deleted,Updated')).toEqual(['5', '6']);
    expect(await q('filter=added')).toHaveLength(248);
    expect(await q('ids=7&ids=9&ids=nope')).toEqual(['7', '9']);
    expect(await q('ids=7')).toEqual(['7']);
  });

  it('answers bad input with a 4xx envelope', async () => {
    const other = (
      await get().api('GET', '/records?model=Item', undefined, { ...headers, 'Connection-Id': 'c2' })
    ).body.records[0]._nango_metadata.cursor as string;
    const cases: [string, Record<string, string>, number, string][] = [
      ['/records', headers, 400, 'invalid_query_params'],
      ['/records?model=Item&limit=0', headers, 400, 'invalid_query_params'],
      ['/records?model=Item&limit=10001', headers, 400, 'invalid_query_params'],
      ['/records?model=Item&filter=added,removed', headers, 400, 'invalid_query_params'],
      ['/records?model=Item&modified_after=yesterday', headers, 400, 'invalid_query_params'],
      ['/records?model=Item&unknown=1', headers, 400, 'invalid_query_params'],
      [`/records?model=Item&ids=${'x'.repeat(257)}`, headers, 400, 'invalid_query_params'],
      ['/records?model=Item&cursor=not-a-cursor', headers, 400, 'invalid_cursor'],
      [`/records?model=Item&cursor=${other}`, headers, 400, 'invalid_cursor'],
      ['/records?model=Item', { 'Provider-Config-Key': 'gh' }, 400, 'invalid_headers'],
      ['/records?model=Item', { ...headers, 'Connection-Id': 'nope' }, 404, 'unknown_connection'],
      ['/records?model=Item', { ...headers, 'Provider-Config-Key': 'nope' }, 404, 'unknown_provider_config'],
      ['/records?model=Ghost', headers, 404, 'unknown_model'],
      ['/records?model=Item&variant=v2', headers, 404, 'unknown_model'],
    ];
    for (const [path, h, status, code] of cases) {
      const res = await get().api('GET', path, undefined, h);
      expect({ path, status: res.status, code: res.body?.error?.code }).toEqual({ path, status, code });
      expect(typeof res.body.error.message).toBe('string');
    }
    const noAuth = await fetch(`${get().url}/records?model=Item`, { headers });
    expect(noAuth.status).toBe(401);
  });

  it('prunes payloads up to a cursor', async () => {
    const page = await get().api('GET', '/records?model=Item&limit=3', undefined, headers);
    const until = page.body.records[2]._nango_metadata.cursor as string;
    const res = await get().api(
      'PATCH',
      '/records/prune',
      { model: 'Item', until_cursor: until, limit: 2 },
      headers,
    );
    expect(res).toMatchObject({ status: 200, body: { count: 2, has_more: true } });
    const again = await get().api('PATCH', '/records/prune', { model: 'Item', until_cursor: until }, headers);
    expect(again.body).toEqual({ count: 1, has_more: false });
    const after = await get().api('GET', '/records?model=Item&limit=4', undefined, headers);
    expect(after.body.records[0]).toEqual({
      id: '0',
      _nango_metadata: expect.objectContaining({ pruned_at: expect.any(String) }),
    });
    expect(after.body.records[3].title).toBe('item 3');
    const bad = await get().api('PATCH', '/records/prune', { model: 'Item', until_cursor: 'zz' }, headers);
    expect(bad.body.error.code).toBe('invalid_cursor');
    const noModel = await get().api('PATCH', '/records/prune', { until_cursor: until }, headers);
    expect(noModel.body.error.code).toBe('invalid_body');
  });

  it('removes the records of a deleted connection and integration in the background', async () => {
    const gone = await connect(get(), 'temp', 't1');
    await save(get(), gone, 'Item', items(1200));
    await save(get(), gone, 'Other', items(10));
    const del = await get().api('DELETE', '/connections/t1?provider_config_key=temp');
    expect(del.status).toBe(200);
    await get().server.services.recordsJanitor.idle();
    const db = get().server.services.store.db;
    const left = await db
      .selectFrom('records_feeds')
      .select('id')
      .where('connection_id', '=', gone.connectionRowId)
      .execute();
    expect(left).toEqual([]);

    const again = await connect(get(), 'temp', 't2');
    await save(get(), again, 'Item', items(5));
    expect((await get().api('DELETE', '/integrations/temp')).status).toBe(200);
    await get().server.services.recordsJanitor.idle();
    const rows = await db
      .selectFrom('records as r')
      .innerJoin('records_feeds as f', 'f.id', 'r.feed_id')
      .select('r.external_id')
      .where('f.connection_id', 'in', [gone.connectionRowId, again.connectionRowId])
      .execute();
    expect(rows).toEqual([]);
    // the other connections keep theirs
    expect(
      (await get().api('GET', '/records?model=Item&limit=1', undefined, headers)).body.records,
    ).toHaveLength(1);
  });
});
