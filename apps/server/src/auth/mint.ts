import { interpolateObject, interpolateString, type Provider } from '@ferry/providers';
import type { StoredCredentials } from '../connections/credentials.js';
import type { CredentialMinter } from '../connections/refresh.js';
import { requestToken } from '../connections/tokenRequest.js';
import { FerryError } from '../errors.js';
import type { Outbound } from '../outbound/client.js';
import type { IntegrationCredentials } from '../integrations/service.js';
import { splitScopes } from './caller.js';
import { installationToken, signAppJwt } from './githubApp.js';
import { tokenUrlOf } from './oauth2.js';

/** What {@link mintCredentials} needs to (re-)mint OAUTH2_CC or APP credentials. */
export interface MintInput {
  /** The server's outbound requests. */
  http: Outbound;
  /** The provider's catalog entry (`auth_mode` OAUTH2_CC or APP). */
  provider: Provider;
  /** The integration's decrypted client credentials (the OAuth app, or the GitHub App id and private key). */
  integrationCredentials: IntegrationCredentials | null;
  /** The connection's config (`installation_id` for APP; `${connectionConfig.x}` in the token URL). */
  connectionConfig: Record<string, unknown>;
  /** The connection's current credentials, when re-minting: OAUTH2_CC keeps its own client id and secret. */
  current?: StoredCredentials | undefined;
  /** Client id and secret the end user typed (OAUTH2_CC), winning over the integration's. */
  client?: { client_id: string; client_secret: string } | undefined;
}

/**
 * Mints fresh credentials for the modes that have no refresh token: OAUTH2_CC (a `client_credentials` grant at the
 * token URL) and APP (a GitHub App JWT signed with jose, exchanged for an installation token). The refresher calls it
 * when such credentials near expiry; the auth routes call it when the connection is created.
 * @returns credentials to store, `expires_at` set when the provider says
 * @throws FerryError `missing_client_credentials` (no client id/secret, private key or installation id),
 *   `auth_mode_err` (another auth mode); TokenEndpointError when the provider refuses or cannot be reached
 */
export async function mintCredentials(input: MintInput): Promise<StoredCredentials> {
  const { provider } = input;
  const vars = { connectionConfig: input.connectionConfig };
  if (provider.auth_mode === 'OAUTH2_CC') {
    const ic = input.integrationCredentials;
    const fromCurrent =
      input.current?.type === 'OAUTH2_CC' && input.current.client_id
        ? { client_id: input.current.client_id, client_secret: input.current.client_secret }
        : undefined;
    const fromIntegration =
      ic && ic.type !== 'APP' ? { client_id: ic.client_id, client_secret: ic.client_secret } : undefined;
    const client = input.client ?? fromCurrent ?? fromIntegration;
    if (!client?.client_id) {
      throw new FerryError(
        'missing_client_credentials',
        'No client id and secret for the client-credentials grant.',
      );
    }
    const params: Record<string, string> = { grant_type: 'client_credentials' };
    const scopes =
      ic && ic.type !== 'APP' && ic.scopes ? splitScopes(ic.scopes) : (provider.default_scopes ?? []);
    if (scopes.length > 0) params.scope = scopes.join(provider.scope_separator ?? ' ');
    Object.assign(params, interpolateObject(provider.token_params, vars));
    const token = await requestToken({
      http: input.http,
      url: tokenUrlOf(provider, 'OAUTH2_CC') ?? '',
      provider,
      clientId: client.client_id,
      clientSecret: client.client_secret,
      params,
      connectionConfig: input.connectionConfig,
    });
    return {
      type: 'OAUTH2_CC',
      token: token.accessToken,
      ...(token.expiresAt ? { expires_at: token.expiresAt } : {}),
      client_id: client.client_id,
      client_secret: client.client_secret,
      raw: token.raw,
    };
  }
  if (provider.auth_mode === 'APP') {
    const ic = input.integrationCredentials;
    if (ic?.type !== 'APP' || !ic.private_key || !ic.app_id) {
      throw new FerryError(
        'missing_client_credentials',
        'The integration has no GitHub App id and private key.',
      );
    }
    const installationId = input.connectionConfig.installation_id;
    if (typeof installationId !== 'string' && typeof installationId !== 'number') {
      throw new FerryError('missing_client_credentials', 'The connection has no installation_id.');
    }
    const url = interpolateString(tokenUrlOf(provider, 'APP') ?? '', vars);
    const jwt = await signAppJwt(ic.app_id, ic.private_key);
    const t = await installationToken(input.http, url, jwt);
    return {
      type: 'APP',
      access_token: t.token,
      ...(t.expiresAt ? { expires_at: t.expiresAt } : {}),
      app_id: ic.app_id,
      installation_id: String(installationId),
      raw: t.raw,
    };
  }
  throw new FerryError('auth_mode_err', `Credentials of auth mode ${provider.auth_mode} are not minted.`);
}

/** {@link mintCredentials} shaped as the refresher's minter, for OAUTH2_CC and APP connections nearing expiry. */
export const remintCredentials: CredentialMinter = ({
  http,
  provider,
  integration,
  credentials,
  connectionConfig,
}) =>
  mintCredentials({
    http,
    provider,
    integrationCredentials: integration.credentials,
    connectionConfig,
    current: credentials,
  });
