import { Writable } from 'node:stream';
import type { ProviderCatalog } from '@ferry/providers';
import type { HostProxyRequest, HostProxyResponse, ProviderInfo } from '@ferry/runtime';
import { FerryError } from '../errors.js';
import type { OperationHandle } from '../logs/writer.js';
import { RequestBody } from './body.js';
import type { ProxyEngine } from './engine.js';
import type { ResponseHead } from './types.js';
import { addForwarded, HOP_BY_HOP } from './headers.js';
import { canDecompress, decompressorFor } from './helpers.js';

/** The run a script's requests belong to. */
export interface ScriptRun {
  environmentId: number;
  connectionId: string;
  providerConfigKey: string;
  /** The run's operation: each request becomes one of its messages. Without it, each is an operation. */
  operation?: OperationHandle | undefined;
  signal?: AbortSignal | undefined;
}

function bodyOf(data: HostProxyRequest['data'], headers: Record<string, string>): RequestBody {
  if (data === undefined || data === null) return new RequestBody(null);
  if (data instanceof Uint8Array)
    return new RequestBody(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  if (typeof data === 'string') {
    headers['content-type'] ??= 'text/plain; charset=utf-8';
    return new RequestBody(data);
  }
  headers['content-type'] ??= 'application/json';
  return new RequestBody(JSON.stringify(data));
}

function decode(body: Buffer, responseType: HostProxyRequest['responseType']): unknown {
  if (responseType === 'arraybuffer' || responseType === 'blob' || responseType === 'stream')
    return new Uint8Array(body);
  const text = body.toString('utf8');
  if (responseType === 'text' || responseType === 'document') return text;
  if (text === '') return '';
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // as axios does with an unparsable body
  }
}

/**
 * Builds the host side of `nango.proxy` for one script run: the same engine as `/proxy` (auth, retries,
 * rate-limit waits, 401 refresh, SSRF guard), with the response buffered and decoded for the isolate
 * (JSON parsed unless `responseType` asks for text or bytes; compressed bodies decompressed).
 * @returns A function to use as {@link RuntimeHost.proxy}; it rejects with FerryError `invalid_headers`
 *   (CR/LF in a header), `proxy_response_too_large`, and the codes of {@link ProxyEngine.forward}.
 */
export function createScriptProxy(
  engine: ProxyEngine,
  run: ScriptRun,
  options: { maxResponseBytes?: number } = {},
): (request: HostProxyRequest) => Promise<HostProxyResponse> {
  const limit = options.maxResponseBytes ?? engine.scriptResponseLimit;
  return async (request) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers ?? {})) addForwarded(headers, name, value);
    const body = bodyOf(request.data, headers);
    const params = request.params
      ? new URLSearchParams(
          Object.entries(request.params).map(([k, v]): [string, string] => [k, String(v)]),
        ).toString()
      : '';
    const chunks: Buffer[] = [];
    let size = 0;
    let head: ResponseHead | undefined;
    let done: Promise<void> = Promise.resolve();
    const collector = new Writable({
      write(chunk: Buffer, _enc, cb) {
        size += chunk.length;
        if (size > limit) {
          cb(new FerryError('proxy_response_too_large', `The response is larger than ${limit} bytes.`));
          return;
        }
        chunks.push(chunk);
        cb();
      },
    });
    await engine.forward(
      {
        environmentId: run.environmentId,
        connectionId: request.connectionId ?? run.connectionId,
        providerConfigKey: request.providerConfigKey ?? run.providerConfigKey,
        method: request.method,
        endpoint: request.endpoint,
        query: params || undefined,
        headers,
        body,
        retries: request.retries ?? 0,
        retryOn: request.retryOn ?? [],
        retryHeader: request.retryHeader,
        baseUrlOverride: request.baseUrlOverride,
        decompress: request.decompress,
        signal: run.signal,
        operation: run.operation,
      },
      (h) => {
        head = h;
        done = new Promise<void>((resolve, reject) => {
          collector.once('finish', resolve);
          collector.once('error', reject);
        });
        // When the collector fails, `forward` rejects with the same error and `done` is never awaited.
        done.catch(() => undefined);
        const z = decompressorFor(h.headers['content-encoding']);
        if (!z) return collector;
        z.on('error', (err) => collector.destroy(err));
        collector.on('error', (err) => z.destroy(err));
        z.pipe(collector);
        return z;
      },
    );
    await done;
    if (!head) throw new FerryError('server_error', 'The proxy returned no response.');
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(head.headers)) {
      if (value === undefined || HOP_BY_HOP.has(name)) continue;
      if (name === 'content-encoding' && canDecompress(value)) continue;
      out[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    return { status: head.status, headers: out, data: decode(Buffer.concat(chunks), request.responseType) };
  };
}

/** What a script knows about its provider: its name and `proxy.paginate` defaults for `nango.paginate`. */
export function scriptProviderInfo(providers: ProviderCatalog, name: string): ProviderInfo {
  const paginate = providers.get(name)?.proxy?.paginate;
  return paginate ? { name, proxy: { paginate: paginate } } : { name };
}
