// Benchmarks the records store against raw driver code measured in the same process and run.
// Run: pnpm bench:records   (PostgreSQL too when FERRY_BENCH_POSTGRES_URL is set, e.g. postgres://postgres@127.0.0.1:5432/test)
//
// - batchSave through the runtime's host path (a sync script in an isolate → host → store), 1,000 records of ~500 B
//   per call, three cases: insert, unchanged, 10 % changed. Raw: the same records JSON.stringify'd and sha256'd in
//   Node, upserted in transactions of 1,000 with the best plain statement of each dialect (SQLite: ON CONFLICT … WHERE
//   hash differs; PostgreSQL: unnest VALUES with an anti-join pre-filter on (id, hash)), into a table with the
//   primary key and the (feed, cursor) index a feed needs (before 2026-12-04 raw kept no cursor index).
// - GET /records over HTTP, 1,000 per page, the client parsing each page; raw: a keyset page read of the same rows
//   through the driver, the same JSON bytes built from them (payloads spliced with their metadata) and parsed.
//   (Before 2026-12-04 raw parsed each payload and built no answer: about 2 ms a page less.)
// - RSS growth of the process serving a sync that saves BENCH_RECORDS_BIG records (default 1M), and of a feed read of
//   them all in pages of 1,000.
// Ferry and raw alternate in BENCH_ROUNDS rounds (default 3); medians are printed, with the ratio of the medians.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { Pool } from 'undici';
import { createRuntime, type RuntimeHost } from '../packages/runtime/src/index.js';
import { createLogger } from '../apps/server/src/logger.js';
import { createScriptRecords } from '../apps/server/src/records/scriptRecords.js';
import type { ConnectionRef } from '../apps/server/src/records/service.js';
import { startServer, type RunningServer } from '../apps/server/src/server.js';
import type { StoreOptions } from '../apps/server/src/store/store.js';

const Database = createRequire(new URL('../apps/server/package.json', import.meta.url))(
  'better-sqlite3',
) as typeof BetterSqlite3;

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const perMeasure = Number(process.env.BENCH_RECORDS_PER_MEASURE ?? 20_000);
const big = Number(process.env.BENCH_RECORDS_BIG ?? 1_000_000);
const pgUrl = process.env.FERRY_BENCH_POSTGRES_URL;
const BATCH = 1000;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');
const rssMb = (): number => process.memoryUsage().rss / 2 ** 20;
const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// ~500 B of JSON per record, the same generator inside the isolate and in Node.
const makeRecord = `function makeRecord(id, v) {
  return { id: String(id), name: 'Record ' + id, email: 'user' + id + '@example.com', status: v % 2 ? 'open' : 'closed',
    version: v, score: id * 7 % 1000, tags: ['alpha', 'beta', 'gamma'], updatedAt: '2026-01-01T00:00:00.000Z',
    description: 'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. Ut enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip ex ea commodo consequat. Duis aute irure dolor in reprehenderit in voluptate velit esse.',
    address: { street: id + ' Main Street', city: 'Springfield', zip: '12345' } };
}`;
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const makeRecordHere = new Function(`${makeRecord}; return makeRecord;`)() as (
  id: number,
  v: number,
) => Record<string, unknown>;

/** The sync script: saves `count` records from `from` in batches of 1,000; `changeEvery` records get version `v`. */
const syncCode = `"use strict"; ${makeRecord}
exports.default = { type: 'sync', exec: async (nango) => {
  const { from, count, v, changeEvery } = await nango.getMetadata();
  for (let b = 0; b < count; b += ${BATCH}) {
    const batch = [];
    for (let i = 0; i < ${BATCH} && b + i < count; i++) {
      const id = from + b + i;
      batch.push(makeRecord(id, changeEvery && id % changeEvery === 0 ? v : 0));
    }
    await nango.batchSave(batch, 'Item');
  }
} };`;

const unused = (): Promise<never> => Promise.reject(new Error('not used'));
const runtime = createRuntime({ poolSize: 1 });
const context = { connectionId: 'c1', providerConfigKey: 'bench', provider: { name: 'github' } };

interface Target {
  name: string;
  options: StoreOptions;
  cleanup: () => Promise<void>;
}

function targets(): Target[] {
  const dir = mkdtempSync(join(tmpdir(), 'ferry-bench-records-'));
  const out: Target[] = [
    {
      name: 'SQLite',
      options: { kind: 'sqlite', file: join(dir, 'ferry.db') },
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    },
  ];
  if (pgUrl) {
    const schema = `ferry_bench_${randomBytes(4).toString('hex')}`;
    out.push({
      name: 'PostgreSQL',
      options: { kind: 'postgres', url: pgUrl, schema, maxConnections: 10 },
      cleanup: async () => {
        const c = new pg.Client({ connectionString: pgUrl });
        await c.connect();
        await c.query(`drop schema if exists "${schema}" cascade`);
        await c.end();
      },
    });
  }
  return out;
}

/** Raw upserts and reads with the driver, beside Ferry's tables. */
interface Raw {
  save(records: Record<string, unknown>[]): Promise<void>;
  /** Reads every row of Ferry's feed `feedId` in keyset pages of 1,000, parsing each payload; returns the count. */
  readAll(feedId: number): Promise<number>;
  close(): Promise<void>;
}

const rawColumns = `feed_id integer not null, external_id text not null, cursor bigint not null, hash text not null,
  payload text, first_seen_at text not null, last_modified_at text not null, primary key (feed_id, external_id)`;

// The index a change feed cannot do without ("everything after cursor X" is one range scan); raw keeps it up too.
const rawCursorIndex =
  'create unique index if not exists raw_records_cursor on raw_records (feed_id, cursor)';

function prepare(records: Record<string, unknown>[]): { id: string; text: string; hash: string }[] {
  return records.map((r) => {
    const text = JSON.stringify(r);
    return { id: r.id as string, text, hash: createHash('sha256').update(text).digest('base64url') };
  });
}

interface RawRow {
  external_id: string;
  cursor: number;
  payload: string | null;
  first_seen_at: string;
  last_modified_at: string;
  last_action: string;
  deleted_at: string | null;
  pruned_at: string | null;
}

const q = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));
const rawCursor = (feedId: number, cursor: number): string =>
  Buffer.from(`r1:${feedId}:${cursor}`).toString('base64url');

/**
 * What any server must do with a page besides carrying it: produce the same JSON bytes GET /records answers (each
 * payload with its `_nango_metadata`, the opaque cursors), and what its client does, parse them (the parse stands in
 * for the client's; HTTP and the framework are what the ratio measures).
 */
function answer(feedId: number, rows: RawRow[]): void {
  let text = '{"records":[';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i]!;
    const meta = `"_nango_metadata":{"first_seen_at":${q(r.first_seen_at)},"last_modified_at":${q(r.last_modified_at)},"last_action":"${r.last_action}","deleted_at":${q(r.deleted_at)},"pruned_at":${q(r.pruned_at)},"cursor":"${rawCursor(feedId, Number(r.cursor))}"}}`;
    text +=
      (i ? ',' : '') +
      (r.payload === null ? `{"id":${q(r.external_id)},${meta}` : `${r.payload.slice(0, -1)},${meta}`);
  }
  text += `],"next_cursor":${rows.length === 1000 ? q(rawCursor(feedId, Number(rows[rows.length - 1]!.cursor))) : 'null'}}`;
  Buffer.from(text);
  JSON.parse(text);
}

function sqliteRaw(file: string): Raw {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`create table if not exists raw_records (${rawColumns}); ${rawCursorIndex}`);
  let cursor = 0;
  const upsert = db.prepare(`insert into raw_records values (1, ?, ?, ?, ?, ?, ?)
    on conflict (feed_id, external_id) do update set cursor = excluded.cursor, hash = excluded.hash,
    payload = excluded.payload, last_modified_at = excluded.last_modified_at where raw_records.hash <> excluded.hash`);
  const tx = db.transaction((rows: { id: string; text: string; hash: string }[], now: string) => {
    for (const r of rows) upsert.run(r.id, ++cursor, r.hash, r.text, now, now);
  });
  const page = db.prepare(
    `select external_id, cursor, payload, first_seen_at, last_modified_at, last_action, deleted_at, pruned_at
     from records where feed_id = ? and cursor > ? order by cursor limit 1000`,
  );
  return {
    async save(records) {
      for (let i = 0; i < records.length; i += BATCH)
        tx.immediate(prepare(records.slice(i, i + BATCH)), new Date().toISOString());
    },
    async readAll(feedId) {
      let after = 0;
      let n = 0;
      for (;;) {
        const rows = page.all(feedId, after) as RawRow[];
        if (rows.length === 0) return n;
        answer(feedId, rows);
        n += rows.length;
        after = rows[rows.length - 1]!.cursor;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    },
    close: async () => db.close(),
  };
}

async function postgresRaw(url: string, schema: string): Promise<Raw> {
  const pool = new pg.Pool({ connectionString: url, max: 2, options: `-c search_path=${schema}` });
  await pool.query(`create table if not exists raw_records (${rawColumns}); ${rawCursorIndex}`);
  let cursor = 0;
  let sinceAnalyze = 0;
  return {
    async save(records) {
      for (let i = 0; i < records.length; i += BATCH) {
        const rows = prepare(records.slice(i, i + BATCH));
        const now = new Date().toISOString();
        await pool.query(
          `insert into raw_records select 1, v.id, v.cursor, v.hash, v.payload, $5, $5
           from unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) as v(id, cursor, hash, payload)
           left join raw_records r on r.feed_id = 1 and r.external_id = v.id and r.hash = v.hash
           where r.external_id is null
           on conflict (feed_id, external_id) do update set cursor = excluded.cursor, hash = excluded.hash,
             payload = excluded.payload, last_modified_at = excluded.last_modified_at`,
          [
            rows.map((r) => r.id),
            rows.map(() => ++cursor),
            rows.map((r) => r.hash),
            rows.map((r) => r.text),
            now,
          ],
        );
        // As the store does: fresh statistics every 20,000 rows, or the anti-join plans against an empty table.
        sinceAnalyze += rows.length;
        if (sinceAnalyze >= 20_000) {
          sinceAnalyze = 0;
          await pool.query('analyze raw_records');
        }
      }
    },
    async readAll(feedId) {
      let after = 0;
      let n = 0;
      for (;;) {
        const { rows } = await pool.query<RawRow>(
          `select external_id, cursor, payload, first_seen_at, last_modified_at, last_action, deleted_at, pruned_at
           from records where feed_id = $1 and cursor > $2 order by cursor limit 1000`,
          [feedId, after],
        );
        if (rows.length === 0) return n;
        answer(feedId, rows);
        n += rows.length;
        after = Number(rows[rows.length - 1]!.cursor);
      }
    },
    close: () => pool.end(),
  };
}

async function runSync(
  server: RunningServer,
  ref: ConnectionRef,
  meta: Record<string, number>,
): Promise<void> {
  const records = createScriptRecords(server.services.records, { connection: ref, runId: randomUUID() });
  const host: RuntimeHost = {
    proxy: unused,
    listRecords: unused,
    setMetadata: unused,
    updateMetadata: unused,
    getConnection: unused,
    getCheckpoint: unused,
    saveCheckpoint: unused,
    clearCheckpoint: unused,
    log: async () => undefined,
    getEnvironmentVariables: async () => [],
    ...records,
  };
  const result = await runtime.run({
    code: syncCode,
    kind: 'sync',
    context: { ...context, metadata: meta },
    host,
  });
  await records.finish({ success: !result.error });
  if (result.error) throw new Error(`${result.error.code}: ${result.error.message}`);
}

/** Reads the whole feed over HTTP in pages of 1,000, parsing each page; returns the count. */
async function readHttp(http: Pool, secretKey: string): Promise<number> {
  let cursor: string | null = null;
  let n = 0;
  do {
    const res = await http.request({
      method: 'GET',
      path: `/records/?model=Item&limit=1000${cursor ? `&cursor=${cursor}` : ''}`,
      headers: {
        authorization: `Bearer ${secretKey}`,
        'connection-id': 'c1',
        'provider-config-key': 'bench',
      },
    });
    const page = (await res.body.json()) as { records: unknown[]; next_cursor: string | null };
    if (res.statusCode !== 200) throw new Error(`GET /records answered ${res.statusCode}`);
    n += page.records.length;
    cursor = page.next_cursor;
  } while (cursor);
  return n;
}

/**
 * The same server as its own process over the same database (as production runs it), for the HTTP reads: the
 * client's parsing then does not share a thread with the server's answer.
 */
async function serverProcess(
  target: Target,
  secretKey: string,
  encryptionKey: string,
): Promise<{ url: string; child: ChildProcess }> {
  const port = 20000 + Math.floor(Math.random() * 30000);
  const o = target.options;
  const database =
    o.kind === 'sqlite'
      ? o.file
      : `${o.url}?options=${encodeURIComponent(`-c search_path=${o.schema ?? 'public'}`)}`;
  const main = fileURLToPath(new URL('../apps/server/src/main.ts', import.meta.url));
  const child = spawn(
    process.execPath,
    ['--no-node-snapshot', '--conditions=source', '--import', 'tsx', main],
    {
      env: {
        ...process.env,
        PORT: String(port),
        HOST: '127.0.0.1',
        FERRY_LOG_LEVEL: 'warn',
        FERRY_DATABASE_URL: database,
        FERRY_SECRET_KEY: secretKey,
        FERRY_ENCRYPTION_KEY: encryptionKey,
        FERRY_DATA_DIR: join(tmpdir(), `ferry-bench-${port}`),
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server process exited (${child.exitCode})`);
    try {
      if ((await fetch(`${url}/health`)).ok) return { url, child };
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function bench(target: Target): Promise<string[]> {
  const secretKey = randomUUID();
  const encryptionKey = randomBytes(32).toString('base64');
  const server = await startServer({
    database: target.options,
    encryptionKey,
    previousEncryptionKeys: [],
    secretKey,
    serverUrl: 'http://127.0.0.1',
    providersFile: undefined,
    bodyLimit: '10mb',
    port: 0,
    host: '127.0.0.1',
    logger: createLogger({ level: 'warn' }),
    records: { janitorIntervalMs: 0 },
  });
  const http = new Pool(server.url, { connections: 1 });
  const api = (method: 'POST', path: string, body: unknown) =>
    http.request({
      method,
      path,
      headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  await (await api('POST', '/integrations', { provider: 'github', unique_key: 'bench' })).body.dump();
  await (
    await api('POST', '/connections', {
      provider_config_key: 'bench',
      connection_id: 'c1',
      credentials: { type: 'OAUTH2', access_token: 'x' },
    })
  ).body.dump();
  const env = server.services.environments.cachedBySecretKey(secretKey)!;
  const ref = await server.services.records.connection(env.id, 'bench', 'c1');
  const reader = await serverProcess(target, secretKey, encryptionKey);
  const readerHttp = new Pool(reader.url, { connections: 1 });
  const raw =
    target.options.kind === 'sqlite'
      ? sqliteRaw(target.options.file)
      : await postgresRaw(target.options.url, target.options.schema!);

  const timed = async (fn: () => Promise<unknown>): Promise<number> => {
    const t0 = performance.now();
    await fn();
    return perMeasure / ((performance.now() - t0) / 1000);
  };
  const cases = ['insert', 'unchanged', '10% changed'] as const;
  const results: Record<string, { ferry: number[]; raw: number[] }> = {};
  for (const c of [...cases, 'read']) results[c] = { ferry: [], raw: [] };
  const rawRecords = (from: number, v: number, changeEvery: number) =>
    Array.from({ length: perMeasure }, (_, i) =>
      makeRecordHere(from + i, changeEvery && (from + i) % changeEvery === 0 ? v : 0),
    );

  // warm-up: one small run each
  await runSync(server, ref, { from: 10_000_000, count: 2000, v: 0, changeEvery: 0 });
  await raw.save(rawRecords(10_000_000, 0, 0).slice(0, 2000));

  for (let round = 0; round < rounds; round++) {
    const from = round * perMeasure;
    const sides = round % 2 ? (['raw', 'ferry'] as const) : (['ferry', 'raw'] as const);
    for (const c of cases) {
      const v = c === '10% changed' ? round + 1 : 0;
      const every = c === '10% changed' ? 10 : 0;
      for (const side of sides) {
        if (side === 'ferry')
          results[c]!.ferry.push(
            await timed(() => runSync(server, ref, { from, count: perMeasure, v, changeEvery: every })),
          );
        // the raw side builds the same records with the same code inside its timing, as the script does
        else results[c]!.raw.push(await timed(() => raw.save(rawRecords(from, v, every))));
      }
    }
    const feedId = (await server.services.records.feed(ref, 'Item'))!;
    for (const side of sides) {
      const t0 = performance.now();
      const n = side === 'ferry' ? await readHttp(readerHttp, secretKey) : await raw.readAll(feedId);
      results.read![side].push(n / ((performance.now() - t0) / 1000));
    }
  }

  const lines = [
    `${target.name}: ${rounds} rounds of ${fmt(perMeasure)} records (batches of 1,000, ~500 B each), medians`,
  ];
  lines.push('  case                         Ferry rec/s      raw rec/s   ratio   bar');
  for (const c of [...cases, 'read'] as const) {
    const f = median(results[c]!.ferry);
    const r = median(results[c]!.raw);
    const bar = c === 'read' ? 0.5 : 0.7;
    const label = c === 'read' ? 'GET /records 1k/page, parsed' : `batchSave via isolate, ${c}`;
    lines.push(
      `  ${label.padEnd(28)} ${fmt(f).padStart(11)} ${fmt(r).padStart(14)}   ${(f / r).toFixed(2)}×  ≥${bar}× ${f / r >= bar ? 'ok' : 'MISSED'}`,
    );
  }

  if (big > 0) {
    // RSS: a sync saving `big` new records, then a feed read of all of them, in this (the serving) process.
    const bigRef = await server.services.records.connection(env.id, 'bench', 'c1');
    gc();
    const base = rssMb();
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb())), 50);
    const t0 = performance.now();
    await runSync(server, bigRef, { from: 100_000_000, count: big, v: 0, changeEvery: 0 });
    const saveS = (performance.now() - t0) / 1000;
    const afterSave = peak;
    peak = rssMb();
    const readBase = peak;
    const t1 = performance.now();
    const n = await readHttp(http, secretKey);
    const t2 = performance.now();
    await readHttp(readerHttp, secretKey);
    const readOtherS = (performance.now() - t2) / 1000;
    const readS = (performance.now() - t1) / 1000;
    clearInterval(sampler);
    lines.push(
      `  sync saving ${fmt(big)} records: ${saveS.toFixed(1)} s (${fmt(big / saveS)} rec/s), RSS +${(afterSave - base).toFixed(0)} MB (bar < 150 MB) ${afterSave - base < 150 ? 'ok' : 'MISSED'}`,
      `  feed read of ${fmt(n)} records in pages of 1,000 (this process serving): ${readS.toFixed(1)} s (${fmt(n / readS)} rec/s), RSS +${(peak - readBase).toFixed(0)} MB over its start (bar < 150 MB) ${peak - readBase < 150 ? 'ok' : 'MISSED'}`,
      `  the same read from the server process: ${readOtherS.toFixed(1)} s (${fmt(n / readOtherS)} rec/s)`,
    );
  }
  await raw.close();
  await readerHttp.destroy();
  const exited = new Promise((r) => reader.child.once('exit', r));
  reader.child.kill('SIGTERM');
  await exited;
  // the client first: a keep-alive socket it still holds would make the server wait for it
  await http.destroy();
  await server.close();
  return lines;
}

const out: string[] = [`\nbench/records — ${new Date().toISOString()}, node ${process.version}`];
for (const target of targets()) {
  try {
    out.push(...(await bench(target)));
  } finally {
    await target.cleanup();
  }
}
await runtime.dispose();
console.log(out.join('\n'));
// Whatever keep-alive handle is left (the health-check fetch's pool), the bench is done.
process.exit(0);
