import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type ResponseObserver } from './api/app.js';
import { createConnectionFastPath } from './api/fastConnection.js';
import { createRecordsFastPath } from './api/fastRecords.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import { createProxyHandler, isProxyPath } from './proxy/http.js';
import type { ProxySettings } from './proxy/settings.js';
import { createServices, type RecordsSettings, type Services } from './services.js';

/** A running Ferry server. */
export interface RunningServer {
  url: string;
  port: number;
  services: Services;
  close(): Promise<void>;
}

export type StartOptions = Pick<
  Config,
  | 'encryptionKey'
  | 'previousEncryptionKeys'
  | 'secretKey'
  | 'serverUrl'
  | 'providersFile'
  | 'bodyLimit'
  | 'port'
  | 'host'
> & {
  database: Parameters<typeof createServices>[0]['database'];
  logger: Logger;
  observeResponses?: ResponseObserver | undefined;
  /** Proxy settings; defaults for those not given. */
  proxy?: Partial<ProxySettings> | undefined;
  /** Records settings; defaults for those not given. */
  records?: Partial<RecordsSettings> | undefined;
  /** Interval of the background refresh sweep; off when unset. */
  refreshSweepMs?: number | undefined;
};

/** Starts the services and the HTTP server; `close` drains connections, flushes logs and closes the store. */
export async function startServer(opts: StartOptions): Promise<RunningServer> {
  const services = await createServices(opts, opts.logger);
  const app = createApp(services, {
    bodyLimit: opts.bodyLimit,
    logger: opts.logger,
    observeResponses: opts.observeResponses,
  });
  // `/proxy` is dispatched before express: its hot path pays for no middleware.
  const proxy = createProxyHandler({
    engine: services.proxy,
    environments: services.environments,
    logger: opts.logger,
    observe: opts.observeResponses,
  });
  // So is the credential read, the API's hottest route (same schemas, service and envelope as express's).
  const connectionRead = createConnectionFastPath({
    connections: services.connections,
    environments: services.environments,
    logger: opts.logger,
    observe: opts.observeResponses,
  });
  // And the records feed, whose pages are large.
  const recordsRead = createRecordsFastPath({
    records: services.records,
    environments: services.environments,
    logger: opts.logger,
    observe: opts.observeResponses,
  });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      const s = createServer((req, res) => {
        if (isProxyPath(req.url ?? '')) proxy(req, res);
        else if (!connectionRead(req, res) && !recordsRead(req, res)) void app(req, res);
      });
      s.once('error', reject);
      s.listen(opts.port, opts.host, () => resolve(s));
    });
  } catch (err) {
    await services.close();
    throw err;
  }
  if (opts.refreshSweepMs) services.refresher.startSweep(opts.refreshSweepMs);
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 300_000;
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${opts.host === '0.0.0.0' || opts.host === '::' ? '127.0.0.1' : opts.host}:${port}`,
    port,
    services,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 5_000).unref();
        });
        await services.close();
      })();
      return closing;
    },
  };
}
