import { sql } from 'kysely';
import type { Store } from '../store/store.js';
import { nowIso } from '../store/values.js';
import { keyIdOfCiphertext, type Encryptor } from './encryption.js';

/**
 * Every column that holds ciphertexts (`v1:<keyId>:…`); a new encrypted column must be added here. Record payloads
 * (`records.payload`, ciphertext with `FERRY_RECORDS_ENCRYPTION=true`) are not scanned: their key ids are listed per
 * feed in `records_feeds.payload_key_ids`.
 */
export const ENCRYPTED_COLUMNS: readonly (readonly [table: string, column: string])[] = [
  ['environments', 'webhook_signing_key_enc'],
  ['integrations', 'credentials_enc'],
  ['connections', 'credentials_enc'],
  ['oauth_sessions', 'secrets_enc'],
  ['encryption_key_check', 'value_enc'],
];

const CHECK_PLAINTEXT = 'ferry-encryption-key-check';

/** The server's encryption keys cannot read what the database holds; the server must not start. */
export class EncryptionKeyError extends Error {
  override readonly name = 'EncryptionKeyError';
}

/**
 * The distinct key ids of every stored ciphertext: one pass over each encrypted column, and the key ids each records
 * feed lists for its payloads (`records_feeds.payload_key_ids`), at start only.
 */
async function keyIdsInUse(store: Store): Promise<string[]> {
  const parts = ENCRYPTED_COLUMNS.map(
    ([table, column]) =>
      sql<{
        key_id: string;
      }>`select distinct substr(${sql.ref(column)}, 4, 8) as key_id from ${sql.table(table)} where ${sql.ref(column)} like 'v1:%'`,
  );
  const { rows } = await sql<{ key_id: string }>`${sql.join(parts, sql` union `)}`.execute(store.db);
  const ids = new Set(rows.map((r) => r.key_id));
  // Encrypted record payloads: each feed lists the key ids that wrote them (no scan of the records).
  const feeds = await store.db
    .selectFrom('records_feeds')
    .select('payload_key_ids')
    .where('payload_key_ids', '<>', ',')
    .execute();
  for (const f of feeds) for (const id of f.payload_key_ids.split(',')) if (id !== '') ids.add(id);
  return [...ids];
}

function missingKeys(ids: string[], encryptor: Encryptor): EncryptionKeyError {
  const list = ids.join(', ');
  return new EncryptionKeyError(
    `The configured encryption keys cannot decrypt data stored in this database: it holds secrets encrypted ` +
      `with key id ${list}, and no configured key has ${ids.length === 1 ? 'that id' : 'those ids'} ` +
      `(configured: ${encryptor.keyIds.join(', ')}). Set FERRY_ENCRYPTION_KEY to the key that wrote them, or add ` +
      `it to FERRY_PREVIOUS_ENCRYPTION_KEYS when rotating keys.`,
  );
}

/**
 * Refuses to start a server whose keys cannot read the database, before it serves (or writes) anything:
 * 1. every key id found in stored ciphertexts must be configured (current or previous key) — the data decides,
 *    so a previous key can be dropped once nothing encrypted with it remains;
 * 2. a check row, encrypted with the key the servers write with, is claimed on the first start and moved to the
 *    current key when that one is rotated in. A second process started with a different key over a database
 *    that holds no secret yet finds it and refuses, instead of writing secrets the first cannot read (two
 *    processes claiming an empty database at once: the insert lets one win, and the other refuses).
 * The key-id scan reads each encrypted column once (a sequential scan of `connections` on a large database, once
 * per start).
 * @throws EncryptionKeyError naming the key ids that are missing, or a key that does not decrypt the check row
 */
export async function checkEncryptionKeys(store: Store, encryptor: Encryptor): Promise<void> {
  const available = new Set(encryptor.keyIds);
  const missing = (await keyIdsInUse(store)).filter((id) => !available.has(id)).sort();
  if (missing.length > 0) throw missingKeys(missing, encryptor);

  await store.db
    .insertInto('encryption_key_check')
    .values({ id: 1, value_enc: encryptor.encrypt(CHECK_PLAINTEXT), updated_at: nowIso() })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  const row = await store.db
    .selectFrom('encryption_key_check')
    .select('value_enc')
    .where('id', '=', 1)
    .executeTakeFirstOrThrow();
  const id = keyIdOfCiphertext(row.value_enc) ?? '?';
  if (!available.has(id)) throw missingKeys([id], encryptor);
  let plaintext: string | undefined;
  try {
    plaintext = encryptor.decrypt(row.value_enc);
  } catch {
    // falls through: a different key with the same 8-hex id (or a damaged row)
  }
  if (plaintext !== CHECK_PLAINTEXT) {
    throw new EncryptionKeyError(
      `The configured encryption key with id ${id} does not decrypt this database's key check: it is not the key ` +
        `that wrote the stored secrets.`,
    );
  }
  if (id !== encryptor.keyId) {
    await store.db
      .updateTable('encryption_key_check')
      .set({ value_enc: encryptor.encrypt(CHECK_PLAINTEXT), updated_at: nowIso() })
      .where('id', '=', 1)
      .where('value_enc', '=', row.value_enc)
      .execute();
  }
}
