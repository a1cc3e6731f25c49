/**
 * The activity-log writer thread for SQLite. It owns a second connection to the database file and writes
 * each batch it is sent in one `BEGIN IMMEDIATE` transaction, so the SQLite work of logging (a proxied
 * request costs one row) never runs on the server's event loop. Messages:
 *   in:  { type: 'write', seq, batch } | { type: 'close' }
 *   out: { type: 'ready' } | { type: 'written', seq, error? } | { type: 'closed' }
 * Imports nothing from the server but the batch helpers: it runs as plain JavaScript after the build and
 * through tsx's require hook from source.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { LogStatements, statementsOf, type LogBatch } from './batch.js';

/** What the writer thread is started with. */
export interface WorkerData {
  file: string;
}

/** A message to the writer thread. */
export type ToWorker = { type: 'write'; seq: number; batch: LogBatch } | { type: 'close' };
/** A message from the writer thread. */
export type FromWorker =
  { type: 'ready' } | { type: 'written'; seq: number; error?: string } | { type: 'closed' };

const port = parentPort;
if (!port) throw new Error('sqliteWorker runs as a worker thread');
const { file } = workerData as WorkerData;
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('foreign_keys = ON');
db.pragma('busy_timeout = 5000');
db.pragma('synchronous = NORMAL');

const sql = new LogStatements('sqlite');
const prepared = new Map<string, Database.Statement>();
const statement = (text: string): Database.Statement => {
  let stmt = prepared.get(text);
  if (!stmt) {
    stmt = db.prepare(text);
    prepared.set(text, stmt);
  }
  return stmt;
};
const write = db.transaction((batch: LogBatch) => {
  for (const { text, values } of statementsOf(batch, sql)) statement(text).run(values);
});

const post = (message: FromWorker): void => port.postMessage(message);
port.on('message', (message: ToWorker) => {
  if (message.type === 'close') {
    db.close();
    post({ type: 'closed' });
    port.close();
    return;
  }
  try {
    write.immediate(message.batch);
    post({ type: 'written', seq: message.seq });
  } catch (err) {
    post({ type: 'written', seq: message.seq, error: err instanceof Error ? err.message : String(err) });
  }
});
post({ type: 'ready' });
