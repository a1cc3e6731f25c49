import { Pool, type Dispatcher } from 'undici';
import { ClientErrorCode, FerryError, type FieldError } from './errors.js';
import { buildQuery, type BaseUrl, type QueryParams } from './url.js';

/** HTTP methods the Ferry API uses. */
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One API call, before serialisation. */
export interface ApiRequest {
  /** The HTTP method. */
  readonly method: HttpMethod;
  /** The route's path, already percent-encoded (see `path`). */
  readonly path: string;
  /** Query parameters, serialised by `buildQuery`. */
  readonly query?: QueryParams | undefined;
  /** A JSON-serialisable body; sent with `content-type: application/json` when present. */
  readonly body?: unknown;
  /** The bearer token: the secret key, or a connect session token. */
  readonly token: string;
  /** Extra request headers (e.g. `Connection-Id`). */
  readonly headers?: Readonly<Record<string, string>> | undefined;
}

/** A request sent as is (the proxy): any method, headers and body; the response is not decoded. */
export interface RawRequest {
  readonly method: string;
  /** Path and query, already encoded. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Uint8Array | undefined;
  readonly token: string;
}

/** The undecoded answer to a {@link RawRequest}. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** What {@link createTransport} takes. */
export interface TransportOptions {
  /** Where requests go. */
  readonly baseUrl: BaseUrl;
  /** Deadline of a whole request (connect, headers and body), in milliseconds. */
  readonly timeoutMs: number;
  /** A dispatcher to use instead of an own keep-alive pool; the transport never closes it. */
  readonly dispatcher?: Dispatcher | undefined;
}

/** Sends API requests and decodes their responses. */
export interface Transport {
  /**
   * Sends one request and returns its decoded JSON body (`undefined` for a 204).
   * @throws FerryError with the server's code for an error response; `network_error` when no response
   *   arrived (including timeouts); `unexpected_response` when the body is not the JSON the API promises.
   */
  send(request: ApiRequest): Promise<unknown>;
  /**
   * Sends one request as is and returns the raw response, whatever its status.
   * @throws FerryError `network_error` when no response arrived (including timeouts).
   */
  sendRaw(request: RawRequest): Promise<RawResponse>;
  /** Closes the own pool (gracefully: in-flight requests finish). An injected dispatcher is left open. */
  close(): Promise<void>;
}

const USER_AGENT = 'ferry-node';
/** Connection establishment gets at most this long, within the overall request deadline. */
const MAX_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Creates the HTTP transport of a client: one keep-alive undici `Pool` for the server's origin (or the
 * injected dispatcher), JSON in and out, a deadline per request.
 *
 * @param options - Base URL, timeout and optional dispatcher.
 * @returns The transport.
 */
export function createTransport(options: TransportOptions): Transport {
  const { baseUrl, timeoutMs } = options;
  const ownPool =
    options.dispatcher === undefined
      ? new Pool(baseUrl.origin, {
          connect: { timeout: Math.min(timeoutMs, MAX_CONNECT_TIMEOUT_MS) },
          headersTimeout: timeoutMs,
          bodyTimeout: timeoutMs,
        })
      : undefined;
  const dispatcher: Dispatcher = options.dispatcher ?? (ownPool as Pool);

  async function send(request: ApiRequest): Promise<unknown> {
    const headers: Record<string, string> = {
      ...request.headers,
      accept: 'application/json',
      authorization: `Bearer ${request.token}`,
      'user-agent': USER_AGENT,
    };
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const route = `${request.method} ${request.path}`;
    const target = baseUrl.prefix + request.path + buildQuery(request.query);
    let response: Dispatcher.ResponseData;
    let text: string;
    try {
      response = await dispatcher.request({
        origin: baseUrl.origin,
        path: target,
        method: request.method,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      text = await response.body.text();
    } catch (cause) {
      throw networkError(route, timeoutMs, cause);
    }
    return decode(route, response.statusCode, text);
  }

  async function sendRaw(request: RawRequest): Promise<RawResponse> {
    const route = `${request.method} ${request.path.split('?')[0] ?? ''}`;
    try {
      const response = await dispatcher.request({
        origin: baseUrl.origin,
        path: baseUrl.prefix + request.path,
        method: request.method,
        headers: { 'user-agent': USER_AGENT, ...request.headers, authorization: `Bearer ${request.token}` },
        body: request.body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      return { status: response.statusCode, headers, body };
    } catch (cause) {
      throw networkError(route, timeoutMs, cause);
    }
  }

  return {
    send,
    sendRaw,
    async close() {
      await ownPool?.close();
    },
  };
}

function networkError(route: string, timeoutMs: number, cause: unknown): FerryError {
  const name = cause instanceof Error ? cause.name : '';
  const timedOut = name === 'TimeoutError' || /Timeout/.test(name);
  const detail = timedOut
    ? `timed out after ${timeoutMs} ms`
    : cause instanceof Error
      ? cause.message
      : 'unknown failure';
  return new FerryError({
    code: ClientErrorCode.networkError,
    status: 0,
    message: `${route} failed: ${detail}`,
    cause,
  });
}

function decode(route: string, status: number, text: string): unknown {
  if (status === 204) return undefined;
  let json: unknown;
  let parsed = false;
  if (text !== '') {
    try {
      json = JSON.parse(text);
      parsed = true;
    } catch {
      parsed = false;
    }
  }
  if (status >= 200 && status < 300) {
    if (parsed) return json;
    throw unexpected(route, status, 'the response body is not JSON');
  }
  const envelope = parsed ? readEnvelope(json, status) : undefined;
  throw envelope ?? unexpected(route, status, `HTTP ${status}`);
}

function unexpected(route: string, status: number, detail: string): FerryError {
  return new FerryError({
    code: ClientErrorCode.unexpectedResponse,
    status,
    message: `${route}: unexpected response (${detail})`,
  });
}

/** Reads `{ error: { code, message, errors?, payload? } }` into a FerryError; anything else is not an envelope. */
export function readEnvelope(json: unknown, status: number): FerryError | undefined {
  if (!isRecord(json) || !isRecord(json.error)) return undefined;
  const { code, message, errors, payload } = json.error;
  if (typeof code !== 'string' || code === '') return undefined;
  return new FerryError({
    code,
    status,
    message: typeof message === 'string' && message !== '' ? message : code,
    errors: Array.isArray(errors) ? errors.filter(isFieldError) : undefined,
    payload,
  });
}

function isFieldError(value: unknown): value is FieldError {
  return isRecord(value) && typeof value.path === 'string' && typeof value.message === 'string';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
