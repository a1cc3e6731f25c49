import type { Selectable } from 'kysely';
import type { OperationsTable } from '../store/schema.js';
import type { Store } from '../store/store.js';
import { fromJson, toIso } from '../store/values.js';
import { FerryError } from '../errors.js';
import type { ActivityLogWriter } from './writer.js';

/** An operation as the API returns it. */
export interface ApiOperation {
  id: string;
  kind: string;
  name: string;
  status: string;
  environment: string;
  integration: string | null;
  connection_id: string | null;
  started_at: string;
  ended_at: string | null;
  meta: Record<string, unknown> | null;
}

/** A log message as the API returns it. */
export interface ApiMessage {
  id: string;
  operation_id: string;
  level: string;
  message: string;
  meta: Record<string, unknown> | null;
  created_at: string;
}

/** Filters for listing operations. */
export interface OperationFilter {
  limit: number;
  cursor?: string | undefined;
  from?: string | undefined;
  to?: string | undefined;
  kind?: string | undefined;
  status?: string | undefined;
  connectionId?: string | undefined;
  integration?: string | undefined;
}

function toApiOperation(r: Selectable<OperationsTable>, environment: string): ApiOperation {
  return {
    id: r.id,
    kind: r.kind,
    name: r.name,
    status: r.status,
    environment,
    integration: r.integration,
    connection_id: r.connection_id,
    started_at: toIso(r.started_at),
    ended_at: toIso(r.ended_at),
    meta: fromJson<Record<string, unknown> | null>(r.meta),
  };
}

function encodeCursor(parts: (string | number)[]): string {
  return Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function decodeCursor<T extends unknown[]>(cursor: string, check: (v: unknown[]) => v is T): T {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && check(v)) return v;
  } catch {
    // fall through
  }
  throw new FerryError('invalid_query_params', 'The cursor is not valid.', {
    errors: [{ path: 'cursor', message: 'invalid cursor' }],
  });
}

const isOpCursor = (v: unknown[]): v is [string, string] =>
  v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && !Number.isNaN(Date.parse(v[0]));
const isMsgCursor = (v: unknown[]): v is [number] => v.length === 1 && Number.isSafeInteger(v[0]);

/** Reads the activity log; flushes pending writes first so readers see their own writes. */
export class ActivityLogService {
  readonly #store: Store;
  readonly #writer: ActivityLogWriter;

  constructor(store: Store, writer: ActivityLogWriter) {
    this.#store = store;
    this.#writer = writer;
  }

  /** Lists operations newest first, keyset-paged. */
  async listOperations(
    env: { id: number; name: string },
    f: OperationFilter,
  ): Promise<{ data: ApiOperation[]; next_cursor: string | null }> {
    await this.#writer.flush();
    let q = this.#store.db.selectFrom('operations').selectAll().where('environment_id', '=', env.id);
    if (f.from) q = q.where('started_at', '>=', new Date(f.from).toISOString());
    if (f.to) q = q.where('started_at', '<=', new Date(f.to).toISOString());
    if (f.kind) q = q.where('kind', '=', f.kind);
    if (f.status) q = q.where('status', '=', f.status);
    if (f.connectionId) q = q.where('connection_id', '=', f.connectionId);
    if (f.integration) q = q.where('integration', '=', f.integration);
    if (f.cursor) {
      const [startedAt, id] = decodeCursor(f.cursor, isOpCursor);
      q = q.where((eb) =>
        eb.or([
          eb('started_at', '<', startedAt),
          eb.and([eb('started_at', '=', startedAt), eb('id', '<', id)]),
        ]),
      );
    }
    const rows = await q
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(f.limit + 1)
      .execute();
    const page = rows.slice(0, f.limit);
    const last = page.at(-1);
    return {
      data: page.map((r) => toApiOperation(r, env.name)),
      next_cursor: rows.length > f.limit && last ? encodeCursor([toIso(last.started_at), last.id]) : null,
    };
  }

  /** Gets one operation. @throws not_found */
  async getOperation(env: { id: number; name: string }, id: string): Promise<ApiOperation> {
    await this.#writer.flush();
    const r = await this.#store.db
      .selectFrom('operations')
      .selectAll()
      .where('environment_id', '=', env.id)
      .where('id', '=', id)
      .executeTakeFirst();
    if (!r) throw new FerryError('not_found', `No operation with id ${id}.`);
    return toApiOperation(r, env.name);
  }

  /** Lists an operation's messages oldest first. @throws not_found */
  async listMessages(
    env: { id: number; name: string },
    operationId: string,
    f: { limit: number; cursor?: string | undefined },
  ): Promise<{ data: ApiMessage[]; next_cursor: string | null }> {
    await this.getOperation(env, operationId);
    let q = this.#store.db
      .selectFrom('operation_messages')
      .selectAll()
      .where('operation_id', '=', operationId);
    if (f.cursor) {
      const [afterId] = decodeCursor(f.cursor, isMsgCursor);
      q = q.where('id', '>', afterId);
    }
    const rows = await q
      .orderBy('id', 'asc')
      .limit(f.limit + 1)
      .execute();
    const page = rows.slice(0, f.limit);
    const last = page.at(-1);
    return {
      data: page.map((m) => ({
        id: String(m.id),
        operation_id: m.operation_id,
        level: m.level,
        message: m.message,
        meta: fromJson<Record<string, unknown> | null>(m.meta),
        created_at: toIso(m.created_at),
      })),
      next_cursor: rows.length > f.limit && last ? encodeCursor([last.id]) : null,
    };
  }
}
