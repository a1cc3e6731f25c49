import { loadProviders, type ProviderCatalog } from '@ferry/providers';
import { AuthService } from './auth/service.js';
import { remintCredentials } from './auth/mint.js';
import type { Config } from './config.js';
import { ConnectSessionService } from './connect/service.js';
import { ConnectionService } from './connections/service.js';
import { CredentialRefresher } from './connections/refresh.js';
import { createEncryptor, type Encryptor } from './crypto/encryption.js';
import { checkEncryptionKeys } from './crypto/keyCheck.js';
import { EnvironmentRegistry, ensureEnvironments, type GeneratedKey } from './environments/service.js';
import { IntegrationService } from './integrations/service.js';
import type { Logger } from './logger.js';
import { ActivityLogService } from './logs/service.js';
import { ActivityLogWriter } from './logs/writer.js';
import { Outbound } from './outbound/client.js';
import { ProxyEngine } from './proxy/engine.js';
import { defaultProxySettings, type ProxySettings } from './proxy/settings.js';
import { RecordsJanitor } from './records/janitor.js';
import { RecordsService } from './records/service.js';
import { ScriptRegistry } from './scripts/registry.js';
import { createStore, type Store, type StoreOptions } from './store/store.js';

/** Every service of the server, wired together. */
export interface Services {
  store: Store;
  encryptor: Encryptor;
  providers: ProviderCatalog;
  environments: EnvironmentRegistry;
  integrations: IntegrationService;
  connections: ConnectionService;
  refresher: CredentialRefresher;
  auth: AuthService;
  connectSessions: ConnectSessionService;
  activity: ActivityLogWriter;
  logs: ActivityLogService;
  /** The proxy engine behind `/proxy` and scripts' `nango.proxy`. */
  proxy: ProxyEngine;
  /** The records store behind `GET /records` and scripts' `batchSave` & co. */
  records: RecordsService;
  /** Prunes deleted records past retention and drops the records of deleted connections, in the background. */
  recordsJanitor: RecordsJanitor;
  /** Every request the server makes to other hosts on a user's behalf goes through this (SSRF guard). */
  outbound: Outbound;
  /** The script registry: deployed syncs, actions and on-event scripts, every version kept. */
  scripts: ScriptRegistry;
  /** Secret keys generated during this start, to show once. */
  generatedKeys: GeneratedKey[];
  close(): Promise<void>;
}

export type ServicesConfig = Pick<
  Config,
  'encryptionKey' | 'previousEncryptionKeys' | 'secretKey' | 'serverUrl' | 'providersFile'
> & {
  database: StoreOptions;
  proxy?: Partial<ProxySettings> | undefined;
  /** Records settings (`FERRY_RECORDS_*`); defaults for those not given. */
  records?: Partial<RecordsSettings> | undefined;
};

/** Records settings. */
export interface RecordsSettings {
  /** Encrypt record payloads at rest (`FERRY_RECORDS_ENCRYPTION`, default false). */
  encryption: boolean;
  /** Records deleted longer ago than this are removed (`FERRY_RECORDS_DELETED_RETENTION_DAYS`, default 30). */
  deletedRetentionDays: number;
  /** How often the retention job runs; 0 turns it off (default one hour). */
  janitorIntervalMs: number;
}

const defaultRecordsSettings: RecordsSettings = {
  encryption: false,
  deletedRetentionDays: 30,
  janitorIntervalMs: 3_600_000,
};

/**
 * Opens the store (migrating it), checks that the encryption keys can read it, seeds the environments and builds
 * the services.
 * @throws EncryptionKeyError when the configured keys cannot decrypt what the database holds
 */
export async function createServices(config: ServicesConfig, logger: Logger): Promise<Services> {
  const providers = loadProviders(config.providersFile ? { overridesFile: config.providersFile } : {});
  const store = await createStore(config.database);
  const encryptor = createEncryptor(config.encryptionKey, config.previousEncryptionKeys);
  try {
    await checkEncryptionKeys(store, encryptor);
  } catch (err) {
    await store.destroy();
    throw err;
  }
  const generatedKeys = await ensureEnvironments(store, config.secretKey);
  const environments = new EnvironmentRegistry(store);
  const activity = new ActivityLogWriter(store, logger);
  const proxySettings = { ...defaultProxySettings, ...config.proxy };
  const outbound = new Outbound(proxySettings, logger);
  const integrations = new IntegrationService({ store, encryptor, providers, serverUrl: config.serverUrl });
  const refresher = new CredentialRefresher({
    store,
    encryptor,
    integrations,
    providers,
    activity,
    logger,
    outbound,
  });
  // OAUTH2_CC and APP credentials have no refresh token: the refresher re-mints them.
  refresher.registerMinter('OAUTH2_CC', remintCredentials);
  refresher.registerMinter('APP', remintCredentials);
  const auth = new AuthService({
    store,
    encryptor,
    providers,
    integrations,
    activity,
    serverUrl: config.serverUrl,
    outbound,
  });
  const recordsSettings = { ...defaultRecordsSettings, ...config.records };
  const records = new RecordsService({ store, encryptor, encrypt: recordsSettings.encryption });
  const recordsJanitor = new RecordsJanitor({
    records,
    logger,
    deletedRetentionDays: recordsSettings.deletedRetentionDays,
  });
  integrations.onDeleted(() => recordsJanitor.kick());
  const connections = new ConnectionService({ store, encryptor, integrations, activity, refresher });
  connections.onDeleted(() => recordsJanitor.kick());
  const connectSessions = new ConnectSessionService({ store, integrations, serverUrl: config.serverUrl });
  const logs = new ActivityLogService(store, activity);
  const scripts = new ScriptRegistry({ store, integrations, connections, activity, logger });
  if (recordsSettings.janitorIntervalMs > 0) recordsJanitor.start(recordsSettings.janitorIntervalMs);
  const proxy = new ProxyEngine({ connections, integrations, providers, activity, outbound }, proxySettings);
  return {
    store,
    encryptor,
    providers,
    environments,
    integrations,
    connections,
    refresher,
    auth,
    connectSessions,
    activity,
    logs,
    proxy,
    records,
    recordsJanitor,
    outbound,
    scripts,
    generatedKeys,
    async close() {
      refresher.stopSweep();
      await recordsJanitor.stop();
      await outbound.close();
      await connections.flush();
      await activity.close();
      await store.destroy();
    },
  };
}
