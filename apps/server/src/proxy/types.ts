import type { Writable } from 'node:stream';
import type { ProviderCatalog } from '@ferry/providers';
import type { ConnectionService } from '../connections/service.js';
import type { IntegrationService } from '../integrations/service.js';
import type { ActivityLogWriter, OperationHandle } from '../logs/writer.js';
import type { Outbound } from '../outbound/client.js';
import type { RequestBody } from './body.js';
import type { HeaderMap, RetryHeader } from './retry.js';

/** One proxied request, from `/proxy` or from a script's `nango.proxy`. */
export interface ProxyRequest {
  environmentId: number;
  connectionId: string;
  providerConfigKey: string;
  method: string;
  /** Path relative to the provider's base URL, possibly with a query. */
  endpoint: string;
  /** Extra query string (without `?`), already encoded. */
  query?: string | undefined;
  /** Caller headers to forward, lower-case names, already checked. */
  headers: Record<string, string>;
  body: RequestBody;
  retries: number;
  retryOn: readonly number[];
  retryHeader?: RetryHeader | undefined;
  baseUrlOverride?: string | undefined;
  decompress?: boolean | undefined;
  forwardHeadersOnRedirect?: boolean | undefined;
  /** Aborts the request (a script run ended). */
  signal?: AbortSignal | undefined;
  /** Whether the caller went away (checked before each wait; a gone HTTP client also fails the stream). */
  gone?: (() => boolean) | undefined;
  /** Log into this operation instead of starting one per request (script runs). */
  operation?: OperationHandle | undefined;
}

/** The final upstream answer's head, as handed to the sink. */
export interface ResponseHead {
  status: number;
  headers: HeaderMap;
  attempts: number;
  /** Whether the body should be decompressed before it reaches the caller. */
  decompress: boolean;
}

/** Where the final answer goes: called once, synchronously, with its head; returns the body's destination. */
export type ResponseSink = (head: ResponseHead) => Writable;

/** What a proxied request came to. */
export interface ProxyOutcome {
  status: number;
  attempts: number;
  bytesOut: number;
  operationId: string | undefined;
}

/** The services the engine reads from. */
export interface ProxyEngineDeps {
  connections: Pick<ConnectionService, 'get'>;
  integrations: Pick<IntegrationService, 'find'>;
  providers: ProviderCatalog;
  activity: ActivityLogWriter;
  /** The server's outbound requests: the proxy uses its pools and address policy. */
  outbound: Pick<Outbound, 'pools' | 'policy'>;
}
