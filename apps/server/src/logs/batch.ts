/**
 * A batch of activity-log writes in the plain form both writers take: the in-process one (PostgreSQL, or a
 * SQLite database without a file) and the SQLite writer thread, which receives it as a message. Rows are
 * arrays in column order holding times as epoch milliseconds and meta as plain objects: turning them into ISO
 * text and JSON is left to {@link statementsOf}, so on SQLite it happens on the writer thread (cloning the
 * objects costs the event loop less than serialising them).
 */
import { storableJson, storableText } from '../store/values.js';

/** `operations` columns, in the order of an {@link OperationRow}. */
export const OPERATION_COLUMNS = [
  'id',
  'environment_id',
  'kind',
  'name',
  'status',
  'integration',
  'connection_id',
  'started_at',
  'ended_at',
  'meta',
] as const;

/**
 * Meta of an operation or a message: plain data (objects, arrays, primitives), or its JSON text when it held
 * anything else (a `toJSON`, a class instance, a function) — cloning would not keep what `JSON.stringify` keeps.
 */
export type Meta = Record<string, unknown> | string | null;

function isPlain(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'undefined':
      return true;
    case 'object': {
      if (value === null) return true;
      if (depth > 16) return false;
      if (Array.isArray(value)) return value.every((v) => isPlain(v, depth + 1));
      const proto: unknown = Object.getPrototypeOf(value);
      if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) return false;
      for (const key in value) if (!isPlain((value as Record<string, unknown>)[key], depth + 1)) return false;
      return true;
    }
    case 'bigint':
    case 'function':
    case 'symbol':
      return false;
  }
}

/** Meta as a batch carries it: the object itself when cloning keeps it as JSON would, else its JSON text. */
export function metaOf(meta: Record<string, unknown> | null | undefined): Meta {
  if (meta === undefined || meta === null) return null;
  return isPlain(meta, 0) ? meta : JSON.stringify(meta);
}

/** One `operations` row: id, environment, kind, name, status, integration, connection, started, ended, meta. */
export type OperationRow = [
  string,
  number,
  string,
  string,
  string,
  string | null,
  string | null,
  number,
  number | null,
  Meta,
];

/** One `operation_messages` row: operation id, level, message, meta, created at. */
export type MessageRow = [string, string, string, Meta, number];

/** The end of an operation inserted by an earlier batch: id, status, ended at, meta (null keeps the old). */
export type EndRow = [string, string, number, Meta];

const iso = (ms: number): string => new Date(ms).toISOString();
// NUL and lone surrogates from providers and scripts become U+FFFD, as in every other column (store/values.ts).
const json = (meta: Meta): string | null =>
  meta === null ? null : storableJson(typeof meta === 'string' ? meta : JSON.stringify(meta));

/** Everything one flush writes, in one transaction. */
export interface LogBatch {
  operations: OperationRow[];
  messages: MessageRow[];
  ends: EndRow[];
}

/** Rows per multi-row `insert into operations` (10 parameters each; both databases take 1,000 easily). */
export const OPERATIONS_PER_INSERT = 100;
/** Rows per multi-row `insert into operation_messages` (5 parameters each). */
export const MESSAGES_PER_INSERT = 200;

const MESSAGE_COLUMNS = ['operation_id', 'level', 'message', 'meta', 'created_at'] as const;

function placeholders(rows: number, columns: number, postgres: boolean): string {
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const cells: string[] = [];
    for (let c = 0; c < columns; c++) cells.push(postgres ? `$${r * columns + c + 1}` : '?');
    out.push(`(${cells.join(', ')})`);
  }
  return out.join(', ');
}

/**
 * The SQL the writers run, written by hand: Kysely's builder costs tens of microseconds per row, which a busy
 * proxy (one operation per request) would pay on every request. Statements are cached by row count.
 */
export class LogStatements {
  readonly #postgres: boolean;
  readonly #operations = new Map<number, string>();
  readonly #messages = new Map<number, string>();

  constructor(dialect: 'sqlite' | 'postgres') {
    this.#postgres = dialect === 'postgres';
  }

  /** `insert into operations … values (…), (…)` for `rows` rows. */
  insertOperations(rows: number): string {
    let sql = this.#operations.get(rows);
    if (!sql) {
      sql = `insert into operations (${OPERATION_COLUMNS.join(', ')}) values ${placeholders(rows, OPERATION_COLUMNS.length, this.#postgres)}`;
      this.#operations.set(rows, sql);
    }
    return sql;
  }

  /** `insert into operation_messages … values (…), (…)` for `rows` rows. */
  insertMessages(rows: number): string {
    let sql = this.#messages.get(rows);
    if (!sql) {
      sql = `insert into operation_messages (${MESSAGE_COLUMNS.join(', ')}) values ${placeholders(rows, MESSAGE_COLUMNS.length, this.#postgres)}`;
      this.#messages.set(rows, sql);
    }
    return sql;
  }

  /** Ends an operation: status, ended at, meta (kept when null), id. */
  get endOperation(): string {
    return this.#postgres
      ? 'update operations set status = $1, ended_at = $2, meta = coalesce($3, meta) where id = $4'
      : 'update operations set status = ?, ended_at = ?, meta = coalesce(?, meta) where id = ?';
  }
}

/**
 * A batch as the statements that write it, with their parameters, in the order they must run (operations
 * before their messages), to run in one transaction.
 */
export function statementsOf(
  batch: LogBatch,
  sql: LogStatements,
): { text: string; values: (string | number | null)[] }[] {
  const out: { text: string; values: (string | number | null)[] }[] = [];
  for (let i = 0; i < batch.operations.length; i += OPERATIONS_PER_INSERT) {
    const rows = batch.operations.slice(i, i + OPERATIONS_PER_INSERT);
    const values: (string | number | null)[] = [];
    for (const [id, env, kind, name, status, integration, connection, started, ended, meta] of rows)
      values.push(
        id,
        env,
        kind,
        name,
        status,
        integration,
        connection,
        iso(started),
        ended === null ? null : iso(ended),
        json(meta),
      );
    out.push({ text: sql.insertOperations(rows.length), values });
  }
  for (let i = 0; i < batch.messages.length; i += MESSAGES_PER_INSERT) {
    const rows = batch.messages.slice(i, i + MESSAGES_PER_INSERT);
    const values: (string | number | null)[] = [];
    for (const [op, level, message, meta, at] of rows)
      values.push(op, level, storableText(message), json(meta), iso(at));
    out.push({ text: sql.insertMessages(rows.length), values });
  }
  for (const [id, status, endedAt, meta] of batch.ends)
    out.push({ text: sql.endOperation, values: [status, iso(endedAt), json(meta), id] });
  return out;
}
