import { randomUUID } from 'node:crypto';
import { FerryError } from '../errors.js';
import type { Store } from '../store/store.js';
import { isUniqueViolation } from '../store/values.js';

/** How long a deploy may hold its environment's lock before another deploy may take it over. */
const LOCK_TTL_MS = 5 * 60_000;

/**
 * Takes an environment's deploy lock: a row in `script_deploy_locks`, so it holds across processes on PostgreSQL.
 * A lock older than its expiry (its deploy died) is taken over.
 * @returns The owner token to release it with.
 * @throws FerryError `concurrent_deployment` when another deploy holds it
 */
export async function acquireDeployLock(db: Store['db'], environmentId: number): Promise<string> {
  const owner = randomUUID();
  const now = new Date();
  const expires = new Date(now.getTime() + LOCK_TTL_MS).toISOString();
  try {
    await db
      .insertInto('script_deploy_locks')
      .values({ environment_id: environmentId, owner, expires_at: expires })
      .execute();
    return owner;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  const taken = await db
    .updateTable('script_deploy_locks')
    .set({ owner, expires_at: expires })
    .where('environment_id', '=', environmentId)
    .where('expires_at', '<', now.toISOString())
    .executeTakeFirst();
  if (Number(taken.numUpdatedRows) === 1) return owner;
  throw new FerryError(
    'concurrent_deployment',
    'Another deploy to this environment is in progress; try again when it has finished.',
  );
}

/** Releases a deploy lock taken with {@link acquireDeployLock} (only if still held by `owner`). */
export async function releaseDeployLock(
  db: Store['db'],
  environmentId: number,
  owner: string,
): Promise<void> {
  await db
    .deleteFrom('script_deploy_locks')
    .where('environment_id', '=', environmentId)
    .where('owner', '=', owner)
    .execute();
}
