import type { Encryptor } from '../crypto/encryption.js';
import type { Store } from '../store/store.js';
import { nowIso, toIso } from '../store/values.js';
import { randomSecret } from './pkce.js';

/** How long the provider's consent screen may stay open. */
export const OAUTH_SESSION_TTL_MS = 10 * 60 * 1000;

/** Secrets an OAuth session keeps until its callback, stored encrypted. */
export interface OAuthSessionSecrets {
  codeVerifier?: string;
  requestTokenSecret?: string;
  redirectUri: string;
}

/** A single-use OAuth session, read (and deleted) by the callback. */
export interface OAuthSession {
  state: string;
  flowId: string;
  cookieHash: string;
  authMode: string;
  secrets: OAuthSessionSecrets;
}

/** Single-use OAuth state rows: created when the popup goes to the provider, deleted by the first callback. */
export class OAuthSessionStore {
  readonly #store: Store;
  readonly #encryptor: Encryptor;

  constructor(deps: { store: Store; encryptor: Encryptor }) {
    this.#store = deps.store;
    this.#encryptor = deps.encryptor;
  }

  /** A new random state of 256 bits. */
  newState(): string {
    return randomSecret(32);
  }

  /** Stores a session under `state`. */
  async create(s: OAuthSession): Promise<void> {
    const now = nowIso();
    await this.#store.db
      .insertInto('oauth_sessions')
      .values({
        state: s.state,
        flow_id: s.flowId,
        cookie_hash: s.cookieHash,
        auth_mode: s.authMode,
        secrets_enc: this.#encryptor.encryptJson(s.secrets),
        expires_at: new Date(Date.now() + OAUTH_SESSION_TTL_MS).toISOString(),
        created_at: now,
      })
      .execute();
    await this.#store.db.deleteFrom('oauth_sessions').where('expires_at', '<', now).execute();
  }

  /**
   * Takes the session of `state`: deletes it and returns it when this call was the one that deleted it and it had
   * not expired. A replayed or unknown state gives undefined.
   */
  async take(state: string): Promise<OAuthSession | undefined> {
    const row = await this.#store.db
      .deleteFrom('oauth_sessions')
      .where('state', '=', state)
      .returningAll()
      .executeTakeFirst();
    if (!row || new Date(toIso(row.expires_at)).getTime() <= Date.now()) return undefined;
    return {
      state: row.state,
      flowId: row.flow_id,
      cookieHash: row.cookie_hash,
      authMode: row.auth_mode,
      secrets: this.#encryptor.decryptJson<OAuthSessionSecrets>(row.secrets_enc),
    };
  }
}
