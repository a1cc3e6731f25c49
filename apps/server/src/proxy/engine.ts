import type { Writable } from 'node:stream';
import { isIP } from 'node:net';
import { FerryError } from '../errors.js';
import { exchange, type Disposition, type Head } from './attempt.js';
import type { InjectedAuth } from './auth.js';
import { classifyFailure, sleep } from './failure.js';
import { redactHeaders, redactUrl } from './headers.js';
import type { OperationHandle } from '../logs/writer.js';
import { formOf, nextUrl } from './helpers.js';
import type { ProxyEngineDeps, ProxyOutcome, ProxyRequest, ResponseSink } from './types.js';

export type { ProxyEngineDeps, ProxyOutcome, ProxyRequest, ResponseHead, ResponseSink } from './types.js';
import { ConnectionResolver } from './resolve.js';
import { StreamReclaimer } from './reclaim.js';
import { isRetryableStatus, waitBeforeRetry } from './retry.js';
import type { BaseUrlOverridePolicy } from '../integrations/service.js';
import type { ProxySettings } from './settings.js';
import type { AddressPolicy } from '../outbound/addressPolicy.js';
import { hostOf } from '../outbound/guard.js';
import type { PoolCache } from '../outbound/pools.js';
import { buildTarget } from './target.js';

type Plan =
  { next: 'final' } | { next: 'retry'; waitMs: number } | { next: 'redirect'; to: URL } | { next: 'refresh' };

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_BUFFERED_401 = 1024 * 1024;

/** The proxy engine: credentials, auth injection, retries, rate-limit waits, redirects, SSRF guard, logging. */
export class ProxyEngine {
  readonly #deps: ProxyEngineDeps;
  readonly #settings: ProxySettings;
  readonly #policy: AddressPolicy;
  readonly #pools: PoolCache;
  readonly #resolver: ConnectionResolver;
  readonly #reclaimer: StreamReclaimer;
  readonly #targets = new WeakMap<InjectedAuth, Map<string, { first: URL; logUrl: string }>>();

  constructor(deps: ProxyEngineDeps, settings: ProxySettings) {
    this.#deps = deps;
    this.#settings = settings;
    // The server's one outbound mechanism: its pools check every socket against the address policy.
    this.#policy = deps.outbound.policy;
    this.#pools = deps.outbound.pools;
    this.#resolver = new ConnectionResolver(deps, settings);
    this.#reclaimer = new StreamReclaimer(settings.reclaimEveryBytes);
  }

  /** The largest response a script's `nango.proxy` buffers (`maxScriptResponseBytes`). */
  get scriptResponseLimit(): number {
    return this.#settings.maxScriptResponseBytes;
  }

  /**
   * The first URL of a request and its redacted form for the log. Remembered per connection state (the
   * resolved `auth`, replaced when the connection is read again) and path, as clients repeat their paths.
   */
  #target(
    req: ProxyRequest,
    auth: InjectedAuth,
    base: URL | undefined,
    policy: BaseUrlOverridePolicy | null,
  ): { first: URL; logUrl: string } {
    let known = this.#targets.get(auth);
    if (!known) this.#targets.set(auth, (known = new Map<string, { first: URL; logUrl: string }>()));
    const key = `${req.baseUrlOverride ?? ''}\u0000${req.endpoint}\u0000${req.query ?? ''}`;
    const hit = known.get(key);
    if (hit) return hit;
    const target = buildTarget({
      base: this.#resolver.target(req, base, policy),
      endpoint: req.endpoint,
      query: req.query,
      templateQuery: auth.query,
    });
    const found = {
      first: new URL(target.path, target.origin),
      logUrl: redactUrl(target.origin, target.path, auth.secretQuery),
    };
    if (known.size >= 256) known.clear();
    known.set(key, found);
    return found;
  }

  #checkHost(url: URL): void {
    const host = hostOf(url);
    if (isIP(host) !== 0 && !this.#policy.allows(host))
      throw new FerryError(
        'forbidden_url',
        `The proxy may not reach ${host}: it is a private or reserved address.`,
      );
  }

  #headers(
    req: ProxyRequest,
    auth: InjectedAuth,
    o: {
      method: string;
      url: URL;
      withAuth: boolean;
      decompress: boolean;
      body: boolean;
      form: Record<string, string> | undefined;
    },
  ) {
    const h: Record<string, string> = o.withAuth ? { ...auth.headers } : {};
    for (const name in req.headers)
      if (!auth.protectedHeaders.has(name)) h[name] = req.headers[name] as string;
    if (o.withAuth && auth.sign)
      h.authorization = auth.sign(o.method, o.url.href, o.body ? o.form : undefined);
    if (o.decompress && h['accept-encoding'] === undefined) h['accept-encoding'] = 'gzip, deflate, br';
    if (!o.body) delete h['content-type'];
    else if (req.body.length !== undefined) h['content-length'] = String(req.body.length);
    return h;
  }

  /**
   * Sends a request upstream with the connection's credentials and hands the final response to `sink`.
   * Retries network errors, 5xx, 429 and the configured statuses up to `retries` (capped by the server),
   * waiting as the provider asks (never longer than the maximum wait); on a 401 refreshes once and retries
   * if the token changed; follows redirects, checking each hop against the SSRF guard. A request body is
   * streamed; it is replayed for a retry only if it was small enough to keep (1 MiB).
   * @throws FerryError `unknown_connection`, `invalid_credentials`, `unknown_provider_config`,
   *   `invalid_uri_params`, `invalid_headers`, `forbidden_url`, `proxy_timeout`, `upstream_unreachable`;
   *   the thrown error carries `attempts`.
   */
  async forward(req: ProxyRequest, sink: ResponseSink): Promise<ProxyOutcome> {
    const started = performance.now();
    const deadline = Date.now() + this.#settings.timeoutMs;
    const initial = this.#resolver.peek(req) ?? (await this.#resolver.resolve(req, false));
    const { base, overridePolicy } = initial;
    let { provider, auth } = initial;
    const { first, logUrl } = this.#target(req, auth, base, overridePolicy);
    const own = req.operation === undefined;
    const startedAt = Date.now();
    req.body.reclaimer = this.#reclaimer;
    const opStart = {
      environmentId: req.environmentId,
      kind: 'proxy' as const,
      name: 'proxy',
      integration: req.providerConfigKey,
      connectionId: req.connectionId,
      meta: { method: req.method, url: logUrl },
    };
    // A request without retries is logged as one finished operation; a retry opens it to add messages.
    let handle = req.operation;
    let operationId: string | undefined;
    const op = (): OperationHandle => (handle ??= this.#deps.activity.start(opStart));
    const retry = provider.proxy?.retry;
    let maxAttempts = 1 + Math.min(req.retries, this.#settings.maxRetries);
    const decompress = req.decompress ?? provider.proxy?.decompress ?? false;
    const forwardOnRedirect =
      req.forwardHeadersOnRedirect ?? provider.proxy?.forward_headers_on_redirect ?? false;
    let attempts = 0;
    let newAttempt = true;
    let refreshed = false;
    let opened = false;
    let status = 0;
    let bytesBuffered = 0; // a kept 401 body, written to the sink by the engine itself
    let url = first;
    let method = req.method;
    let withBody = !req.body.empty;
    let redirects = 0;
    let sent: Record<string, string> = {};
    const end = (failed: boolean, extra: Record<string, unknown>) => {
      const meta = {
        method: req.method,
        url: logUrl,
        request_headers: redactHeaders(sent, auth.protectedHeaders),
        status,
        attempts,
        duration_ms: Math.round(performance.now() - started),
        bytes_in: req.body.bytes,
        bytes_out: received.bytes + bytesBuffered,
        ...extra,
      };
      if (own && handle) {
        handle.end(failed ? 'failed' : 'success', meta);
        operationId = handle.id;
      } else if (own) {
        operationId = this.#deps.activity.record(opStart, failed ? 'failed' : 'success', meta, startedAt);
      } else
        op().log(
          failed ? 'warn' : 'info',
          `${req.method} ${logUrl} → ${status || 'error'} after ${attempts} attempt(s)`,
          meta,
        );
    };
    // Body bytes handed to the final sink (as received from the provider), counted by the exchange.
    const received = { bytes: 0 };
    const open = (head: Head): Writable => {
      opened = true;
      return sink({ status: head.status, headers: head.headers, attempts, decompress });
    };
    try {
      for (;;) {
        if (newAttempt) {
          attempts += 1;
          newAttempt = false;
          redirects = 0;
          url = first;
          method = req.method;
          withBody = !req.body.empty;
        }
        this.#checkHost(url);
        const withAuth = url.origin === first.origin || forwardOnRedirect;
        const headers = this.#headers(req, auth, {
          method,
          url,
          withAuth,
          decompress,
          body: withBody,
          form: auth.sign ? await formOf(req) : undefined,
        });
        sent = headers;
        let plan: Plan = { next: 'final' };
        const decide = (head: Head): Disposition => {
          status = head.status;
          const location = head.headers.location;
          if (
            REDIRECTS.has(status) &&
            typeof location === 'string' &&
            redirects < this.#settings.maxRedirects
          ) {
            const to = nextUrl(location, url);
            if (to && (status < 307 || !withBody || req.body.replayable)) {
              plan = { next: 'redirect', to };
              return { kind: 'discard' };
            }
          }
          if (status === 401 && auth.refreshableToken !== undefined && !refreshed && req.body.replayable) {
            plan = { next: 'refresh' };
            return { kind: 'buffer', limit: MAX_BUFFERED_401 };
          }
          if (
            attempts < maxAttempts &&
            req.body.replayable &&
            isRetryableStatus(status, head.headers, retry, req.retryOn)
          ) {
            const waitMs = waitBeforeRetry({
              headers: head.headers,
              retry,
              retryHeader: req.retryHeader,
              attempt: attempts,
              backoffBaseMs: this.#settings.backoffBaseMs,
              now: Date.now(),
            });
            if (waitMs <= this.#settings.maxWaitMs && Date.now() + waitMs < deadline) {
              plan = { next: 'retry', waitMs };
              return { kind: 'discard' };
            }
          }
          return { kind: 'final', sink: open(head) };
        };
        let ex;
        try {
          ex = await exchange(
            this.#pools,
            url.origin,
            {
              method,
              path: url.pathname + url.search,
              headers,
              body: withBody ? req.body.next() : null,
              signal: req.signal,
              headersTimeout: Math.max(1, deadline - Date.now()),
              reclaimer: this.#reclaimer,
              received,
            },
            decide,
          );
        } catch (err) {
          if (opened) throw err;
          const failure = classifyFailure(err, req.signal, this.#settings.timeoutMs);
          if (failure.kind !== 'network' || attempts >= maxAttempts || !req.body.replayable)
            throw failure.error;
          const waitMs = waitBeforeRetry({
            headers: {},
            retry: undefined,
            attempt: attempts,
            backoffBaseMs: this.#settings.backoffBaseMs,
            now: Date.now(),
          });
          if (Date.now() + waitMs >= deadline) throw failure.error;
          op().log(
            'warn',
            `Attempt ${attempts} failed (${failure.error.message}); retrying in ${waitMs} ms.`,
          );
          await sleep(waitMs, req);
          newAttempt = true;
          continue;
        }
        const p = plan as Plan;
        if (p.next === 'final') break;
        if (p.next === 'redirect') {
          redirects += 1;
          if (status === 303 || ((status === 301 || status === 302) && method === 'POST')) {
            method = 'GET';
            withBody = false;
          }
          url = p.to;
          continue;
        }
        if (p.next === 'retry') {
          op().log('warn', `Attempt ${attempts} got ${status}; retrying in ${p.waitMs} ms.`);
          await sleep(p.waitMs, req);
          newAttempt = true;
          continue;
        }
        refreshed = true;
        const before = auth.refreshableToken;
        try {
          ({ provider, auth } = await this.#resolver.resolve(req, true));
        } catch {
          // The refresh failed: the caller gets the provider's 401 as it came.
        }
        if (auth.refreshableToken !== before) {
          op().log('info', `Attempt ${attempts} got 401; refreshed the credentials, retrying.`);
          maxAttempts += 1;
          newAttempt = true;
          continue;
        }
        const out = open(ex.head);
        await new Promise<void>((resolve, reject) => {
          out.once('error', reject);
          out.end(ex.buffered ?? Buffer.alloc(0), () => resolve());
        });
        bytesBuffered += ex.buffered?.length ?? 0;
        break;
      }
    } catch (err) {
      const code = err instanceof FerryError ? err.code : 'stream_error';
      end(true, { error: code });
      if (err instanceof FerryError) Object.assign(err, { attempts });
      throw err;
    }
    end(status >= 400, {});
    return { status, attempts, bytesOut: received.bytes + bytesBuffered, operationId };
  }
}
