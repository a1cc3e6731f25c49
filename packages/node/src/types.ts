import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

type Method = 'get' | 'post' | 'patch' | 'delete';
type RouteOp<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;
type Json<T> = T extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body of a route's response with status `S` (200 unless given), from the generated `paths`. */
export type ResponseOf<P extends keyof paths, M extends Method, S extends number = 200> =
  RouteOp<P, M> extends { responses: infer R } ? (S extends keyof R ? Json<R[S]> : never) : never;

/** The JSON request body of a route, from the generated `paths`. */
export type BodyOf<P extends keyof paths, M extends Method> =
  RouteOp<P, M> extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;

/** The query parameters of a route, from the generated `paths`. */
export type QueryOf<P extends keyof paths, M extends Method> =
  RouteOp<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

type Schemas = components['schemas'];

/** A provider of the catalog. */
export type ApiProvider = Schemas['ApiProvider'];
/** An integration, as the API returns it. */
export type ApiPublicIntegration = Schemas['ApiPublicIntegration'];
/** An end user attached to a connection or connect session. */
export type ApiEndUser = Schemas['ApiEndUser'];
/** A connection in `listConnections` results. */
export type ConnectionSummary = Schemas['ConnectionSummary'];
/** A connection with its credentials, as `getConnection` returns it. */
export type ApiPublicConnectionFull = Schemas['ApiPublicConnectionFull'];
/** A connection's credentials; the shape depends on `type`. */
export type Credentials = Schemas['Credentials'];
/** A connect session, as `getConnectSession` returns it. */
export type ConnectSession = Schemas['ConnectSession'];
/** An activity-log operation. */
export type Operation = Schemas['Operation'];
/** A log message of an activity-log operation. */
export type Message = Schemas['Message'];
/** The server's error envelope. */
export type ErrorEnvelope = Schemas['Error'];

/** Body of `createIntegration`. */
export type CreateIntegrationBody = Schemas['CreateIntegrationBody'];
/** Body of `updateIntegration` (at least one field). */
export type UpdateIntegrationBody = Schemas['UpdateIntegrationBody'];
/** Body of `createConnection` (import of existing credentials). */
export type ImportConnectionBody = Schemas['ImportConnectionBody'];
/** Body of `patchConnection`. */
export type PatchConnectionBody = Schemas['PatchConnectionBody'];
/** Body of `createConnectSession`. */
export type CreateConnectSessionBody = Schemas['CreateConnectSessionBody'];
/** Body of `createReconnectSession`. */
export type CreateReconnectSessionBody = Schemas['CreateReconnectSessionBody'];
/** Body (and response) of `setMetadata` and `updateMetadata`. */
export type ConnectionMetadataBody = Schemas['ConnectionMetadataBody'];
/** A connection's metadata object. */
export type Metadata = Schemas['JsonObject'];

/** Query of `listProviders`. */
export type ListProvidersQuery = QueryOf<'/providers', 'get'>;
/** Query of `getIntegration`. */
export type GetIntegrationQuery = QueryOf<'/integrations/{uniqueKey}', 'get'>;
/** Query of `listConnections`. */
export type ListConnectionsQuery = QueryOf<'/connections', 'get'>;
/** Query of `listOperations`. */
export type ListOperationsQuery = QueryOf<'/logs/operations', 'get'>;
/** Query of `listOperationMessages`. */
export type ListOperationMessagesQuery = QueryOf<'/logs/operations/{operationId}/messages', 'get'>;

/** Options of `getConnection`. */
export interface GetConnectionOptions {
  /** Refresh the access token now, even if it has not expired. */
  readonly forceRefresh?: boolean;
  /** Include the refresh token in the credentials. */
  readonly refreshToken?: boolean;
}

/** What `getToken` returns for an OAUTH1 connection. */
export interface OAuth1Token {
  readonly oAuthToken: string;
  readonly oAuthTokenSecret: string;
}

/**
 * What `getToken` returns: the access token for OAUTH2, `{oAuthToken, oAuthTokenSecret}` for OAUTH1, and
 * the whole credentials object for every other type (as Nango's SDK does).
 */
export type Token = string | OAuth1Token | Exclude<Credentials, { type: 'OAUTH2' } | { type: 'OAUTH1' }>;

/** One record of `listRecords`: the stored record (your type `R`) with its `_nango_metadata`. */
export type SyncRecord<R extends object = Record<string, unknown>> = R & {
  id: string;
  _nango_metadata: Schemas['RecordMetadata'];
};
/** The answer of `listRecords`. */
export interface RecordsPage<R extends object = Record<string, unknown>> {
  records: SyncRecord<R>[];
  next_cursor: string | null;
}
/** Which changes `listRecords` returns: `added`, `updated`, `deleted`, or two joined by a comma (any case). */
export type RecordsFilter = string;

/** Arguments of `listRecords` (the same as `@nangohq/node`'s). */
export interface ListRecordsRequestConfig {
  readonly providerConfigKey: string;
  readonly connectionId: string;
  readonly model: string;
  readonly variant?: string | undefined;
  /** Only records changed after this time (ISO 8601 string or Date). */
  readonly modifiedAfter?: string | Date | undefined;
  /** @deprecated use `modifiedAfter` */
  readonly delta?: string | Date | undefined;
  /** Page size, 1–10,000 (default 100). */
  readonly limit?: number | undefined;
  readonly filter?: RecordsFilter | undefined;
  /** The `next_cursor` of the previous page, or a record's `_nango_metadata.cursor`. */
  readonly cursor?: string | null | undefined;
  /** Only these record ids (at most 100). */
  readonly ids?: readonly string[] | undefined;
}

/** Arguments of `pruneRecords` (the same as `@nangohq/node`'s). */
export interface PruneRecordsRequestConfig {
  readonly providerConfigKey: string;
  readonly connectionId: string;
  readonly model: string;
  /** Records up to and including this cursor lose their payload. */
  readonly untilCursor: string;
  readonly limit?: number | undefined;
  readonly variant?: string | undefined;
}
/** The answer of `pruneRecords`. */
export type PruneRecordsResult = Schemas['PruneRecordsResult'];
// --- Deployed scripts ---
/** A deployed script in Nango's `NangoSyncConfig` form. */
export type NangoSyncConfig = Schemas['NangoSyncConfig'];
/** The scripts of one integration, Nango's `StandardNangoConfig`. */
export type StandardNangoConfig = Schemas['StandardNangoConfig'];
/** An OpenAI function definition of an action. */
export type OpenAiFunction = Schemas['OpenAiFunction'];
/** The body of `POST /scripts/rollback`. */
export type RollbackScriptBody = BodyOf<'/scripts/rollback', 'post'>;
