import {
  createRuntime,
  type LogLine,
  type RunLimits,
  type RunResult,
  type RuntimeHost,
} from '@ferry/runtime';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createScriptRecords, type ScriptRecords } from '../src/records/scriptRecords.js';
import type { ConnectionRef } from '../src/records/service.js';
import { describeEachDatabase, type TestServer } from './harness.js';
import { hostWith } from './proxyClient.js';

const runtime = createRuntime({ poolSize: 1 });
afterAll(() => runtime.dispose());

const context = { connectionId: 'c1', providerConfigKey: 'gh', provider: { name: 'github' } };

/** A zero-yaml sync: `exec` gets `nango`; the body is the script's code. */
const sync = (body: string): string =>
  `"use strict"; exports.default = { type: 'sync', exec: async (nango) => { ${body} } };`;

let runs = 0;
async function runSync(
  ts: TestServer,
  ref: ConnectionRef,
  body: string,
  opts: {
    trackDeletes?: boolean;
    variant?: string;
    limits?: Partial<RunLimits>;
    proxy?: RuntimeHost['proxy'];
  } = {},
): Promise<{ result: RunResult; logs: string[]; records: ScriptRecords; deleted: Record<string, string[]> }> {
  const records = createScriptRecords(ts.server.services.records, {
    connection: ref,
    runId: `run-${++runs}`,
    trackDeletes: opts.trackDeletes,
    variant: opts.variant,
  });
  const logs: string[] = [];
  const host = {
    ...hostWith(opts.proxy ?? (() => Promise.reject(new Error('no proxy here')))),
    ...records,
    log: async (lines: LogLine[]) => {
      logs.push(...lines.map((l) => l.message));
    },
  };
  const result = await runtime.run({ code: sync(body), kind: 'sync', context, host, limits: opts.limits });
  // What the sync engine does at the end of a run: deletion detection only when it succeeded.
  const deleted = await records.finish({ success: result.error === undefined });
  return { result, logs, records, deleted };
}

async function feed(
  ts: TestServer,
  query = '',
): Promise<{ id: string; _nango_metadata: { last_action: string } }[]> {
  const res = await ts.api('GET', `/records?model=User&limit=10000${query}`, undefined, {
    'Connection-Id': 'c1',
    'Provider-Config-Key': 'gh',
  });
  expect(res.status).toBe(200);
  return res.body.records;
}
const live = async (ts: TestServer) =>
  (await feed(ts)).filter((r) => r._nango_metadata.last_action !== 'DELETED').map((r) => r.id);

describeEachDatabase('records from scripts in a real isolate', (get) => {
  let ref: ConnectionRef;
  beforeAll(async () => {
    const ts = get();
    await ts.api('POST', '/integrations', { provider: 'github', unique_key: 'gh' });
    await ts.api('POST', '/connections', {
      provider_config_key: 'gh',
      connection_id: 'c1',
      credentials: { type: 'OAUTH2', access_token: 'at' },
    });
    const env = ts.server.services.environments.cachedBySecretKey(ts.secretKey)!;
    ref = await ts.server.services.records.connection(env.id, 'gh', 'c1');
  });

  it('batchSave, getRecordsByIds and batchDelete go through the host into the store', async () => {
    const { result, logs, records } = await runSync(
      get(),
      ref,
      `
      const users = [];
      for (let i = 0; i < 2500; i++) users.push({ id: i, name: 'u' + i, joined: new Date(0), skip: undefined });
      await nango.batchSave(users, 'User');
      await nango.batchSave(users.slice(0, 10), 'User');
      const found = await nango.getRecordsByIds([1, '2', 'missing'], 'User');
      await nango.log(JSON.stringify([...found.entries()]));
      await nango.batchDelete([{ id: 3 }], 'User');
      await nango.batchUpdate([{ id: 4, name: 'four' }], 'User');
      let listed = 0, pages = 0, last;
      for await (const page of nango.listRecords('User')) { pages++; listed += page.length; last = page[page.length - 1]; }
      await nango.log(JSON.stringify({ listed, pages, last }));
      const after = [];
      for await (const page of nango.listRecords('User', { cursor: last._nango_metadata.cursor })) after.push(...page);
      for await (const page of nango.listRecords('Nothing')) after.push(...page);
      await nango.log(String(after.length));
      `,
    );
    expect(result.error).toBeUndefined();
    expect(JSON.parse(logs[0]!)).toEqual([
      [1, { id: '1', name: 'u1', joined: '1970-01-01T00:00:00.000Z' }],
      ['2', { id: '2', name: 'u2', joined: '1970-01-01T00:00:00.000Z' }],
    ]);
    expect(JSON.parse(logs[1]!)).toMatchObject({
      listed: 2500,
      pages: 3,
      last: { id: '4', name: 'four', _nango_metadata: { last_action: 'UPDATED' } },
    });
    expect(logs[2]).toBe('0');
    expect(records.counts()).toEqual({ User: { added: 2500, updated: 1, deleted: 1 } });
    const all = await feed(get());
    expect(all).toHaveLength(2500);
    expect(all.at(-2)).toMatchObject({ id: '3', _nango_metadata: { last_action: 'DELETED' } });
    expect(all.at(-1)).toMatchObject({ id: '4', name: 'four', _nango_metadata: { last_action: 'UPDATED' } });
  });

  it('a failed run deletes nothing; the same run succeeding deletes what it did not see', async () => {
    const before = await live(get());
    expect(before).toHaveLength(2499);
    const body = (fail: boolean) => `
      await nango.trackDeletesStart('User');
      const users = [];
      for (let i = 0; i < 1000; i++) users.push({ id: i, name: 'u' + i, joined: new Date(0) });
      await nango.batchSave(users, 'User');
      const { deletedKeys } = await nango.trackDeletesEnd('User');
      await nango.log(String(deletedKeys.length));
      ${fail ? "throw new Error('the provider went away');" : ''}
    `;
    const failed = await runSync(get(), ref, body(true));
    expect(failed.result.error).toMatchObject({ message: expect.stringContaining('the provider went away') });
    // 1000..2499 would go; record 3 (deleted earlier) came back with the save, which is no deletion
    expect(failed.logs).toEqual(['1500']);
    expect(failed.deleted).toEqual({});
    const afterFailure = await live(get());
    expect(afterFailure).toHaveLength(2500);
    expect(afterFailure).toEqual(expect.arrayContaining(before));

    // a run that times out after trackDeletesEnd deletes nothing either
    const timedOut = await runSync(
      get(),
      ref,
      `await nango.trackDeletesStart('User'); await nango.batchSave([{ id: 0, name: 'u0', joined: new Date(0) }], 'User');
       await nango.trackDeletesEnd('User'); await new Promise((resolve) => setTimeout(resolve, 60_000));`,
      { limits: { wallTimeMs: 300 } },
    );
    expect(timedOut.result.error?.code).toBe('wall_time_exceeded');
    expect(timedOut.deleted).toEqual({});
    expect(await live(get())).toHaveLength(2500);

    const ok = await runSync(get(), ref, body(false));
    expect(ok.result.error).toBeUndefined();
    expect(ok.deleted.User).toHaveLength(1500);
    expect((await live(get())).sort()).toEqual(Array.from({ length: 1000 }, (_, i) => String(i)).sort());
  }, 60_000);

  it('track_deletes syncs delete unseen records of every saved model only on success', async () => {
    const body = `await nango.batchSave([{ id: 1, name: 'only one' }], 'User');`;
    const failed = await runSync(get(), ref, `${body} throw new Error('nope');`, { trackDeletes: true });
    expect(failed.result.error).toBeDefined();
    expect((await live(get())).length).toBeGreaterThan(1);
    const ok = await runSync(
      get(),
      ref,
      `${body} const { deletedKeys } = await nango.deleteRecordsFromPreviousExecutions('User');
       await nango.log(String(deletedKeys.length));`,
      { trackDeletes: true },
    );
    expect(ok.result.error).toBeUndefined();
    expect(Number(ok.logs[0])).toBeGreaterThan(0);
    expect(await live(get())).toEqual(['1']);
    const untracked = await runSync(get(), ref, `await nango.deleteRecordsFromPreviousExecutions('User');`);
    expect(untracked.result.error?.message).toMatch(/track_deletes/);
  });

  it('a bad batch fails the run with an error naming the index, and writes none of it', async () => {
    const cursorBefore = (await feed(get())).length;
    const { result } = await runSync(
      get(),
      ref,
      `await nango.batchSave([{ id: 'new-1' }, { id: 'new-2' }, { id: 'new-1' }], 'User');`,
    );
    expect(result.error?.message).toMatch(/Record 2 of User has the same id "new-1" as record 0/);
    expect(await feed(get())).toHaveLength(cursorBefore);
    const big = await runSync(
      get(),
      ref,
      `await nango.batchSave([{ id: 'big-1' }, { id: 'big-2', blob: 'x'.repeat(1100000) }], 'User');`,
    );
    expect(big.result.error?.message).toMatch(/big|larger|bytes|limit/i);
    expect((await feed(get(), '&ids=big-1')).length).toBe(0);
  });

  it('ignore_if_modified_after keeps records changed by someone else during the run; variants are separate', async () => {
    const svc = get().server.services.records;
    const ticketFeed = await svc.feed(ref, 'Ticket', true);
    await svc.save(ticketFeed, 'Ticket', [{ id: 't1', v: 0 }]);
    const { result } = await runSync(
      get(),
      ref,
      `
      await nango.setMergingStrategy({ strategy: 'ignore_if_modified_after' }, 'Ticket');
      await nango.batchSave([{ id: 't1', v: 1 }], 'Ticket');
      await nango.batchSave([{ id: 't1', v: 2 }], 'Ticket');
      await nango.get({ endpoint: '/meanwhile' });
      await nango.batchSave([{ id: 't1', v: 3 }, { id: 't2', v: 3 }], 'Ticket');
      `,
      {
        // While the script waits on this request, a webhook changes t1.
        proxy: async () => {
          await svc.save(ticketFeed, 'Ticket', [{ id: 't1', v: 'webhook' }]);
          return { status: 200, headers: {}, data: {} };
        },
      },
    );
    expect(result.error).toBeUndefined();
    expect(await svc.getByIds(ticketFeed, ['t1', 't2'])).toEqual([
      { id: 't1', v: 'webhook' },
      { id: 't2', v: 3 },
    ]);
    const v2 = await runSync(get(), ref, `await nango.batchSave([{ id: 'x' }], 'Ticket');`, {
      variant: 'v2',
    });
    expect(v2.result.error).toBeUndefined();
    expect(await svc.feed(ref, 'Ticket::v2')).toBeDefined();
    expect(await svc.getByIds(ticketFeed, ['x'])).toEqual([]);
  });
});
