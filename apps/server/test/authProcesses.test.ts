import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAKE, fakeProvidersYaml, startFakeProvider } from './fakeProvider.js';
import { sharedPostgresSchema, startServerProcess, type ServerProcess } from './processes.js';

const pgUrl = process.env.FERRY_TEST_POSTGRES_URL;

describe.skipIf(!pgUrl)('a popup flow across two server processes on PostgreSQL', () => {
  let fake: Awaited<ReturnType<typeof startFakeProvider>>;
  let a: ServerProcess;
  let b: ServerProcess;
  let database: Awaited<ReturnType<typeof sharedPostgresSchema>> | undefined;
  const secretKey = randomUUID();

  beforeAll(async () => {
    const { publicKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
    });
    fake = await startFakeProvider(publicKey);
    const dir = mkdtempSync(join(tmpdir(), 'ferry-auth-proc-'));
    writeFileSync(join(dir, 'providers.yaml'), fakeProvidersYaml(fake.url));
    database = await sharedPostgresSchema();
    const env = {
      FERRY_DATABASE_URL: database.url,
      FERRY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      FERRY_SECRET_KEY: secretKey,
      FERRY_PROVIDERS_FILE: join(dir, 'providers.yaml'),
      FERRY_DATA_DIR: mkdtempSync(join(tmpdir(), 'ferry-proc-')),
      // Both processes sit behind one public URL, as behind a load balancer.
      FERRY_SERVER_URL: 'http://ferry.test',
    };
    a = await startServerProcess(env);
    b = await startServerProcess(env);
  }, 60_000);

  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await fake?.close();
    await database?.drop();
  });

  it('starts on A, comes back to B, and A answers the long-poll from the database', async () => {
    type Data = { token: string; flow_id: string; flow_secret: string; url: string };
    const json = async (
      base: string,
      path: string,
      body: unknown,
      token: string = secretKey,
    ): Promise<{ data: Data }> => {
      const r = await fetch(base + path, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          origin: 'http://app.test',
        },
        body: JSON.stringify(body),
      });
      return (await r.json()) as { data: Data };
    };
    const onA = (publicUrl: string): string => publicUrl.replace('http://ferry.test', a.url);
    await json(a.url, '/integrations', {
      provider: 'fake-oauth2',
      unique_key: 'fake-oauth2',
      credentials: { type: 'OAUTH2', client_id: FAKE.clientId, client_secret: FAKE.clientSecret },
    });
    const { data: session } = await json(b.url, '/connect/sessions', { end_user: { id: 'u' } });
    const { data: flow } = await json(
      a.url,
      '/oauth/flows',
      { provider_config_key: 'fake-oauth2' },
      session.token,
    );

    // A long-poll on A is already waiting when the callback reaches B.
    const poll = fetch(`${a.url}/oauth/flows/${flow.flow_id}?wait=20`, {
      headers: { authorization: `Bearer ${flow.flow_secret}` },
    }).then((r) => r.json() as Promise<{ data: Record<string, string> }>);

    const connect = await fetch(onA(flow.url), { redirect: 'manual' });
    const cookie = (connect.headers.get('set-cookie') ?? '').split(';')[0]!;
    const atProvider = await fetch(connect.headers.get('location')!, { redirect: 'manual' });
    const callbackUrl = atProvider.headers.get('location')!.replace('http://ferry.test', b.url);
    const page = await fetch(callbackUrl, { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('"http://app.test"');

    const { data } = await poll;
    expect(data).toMatchObject({ status: 'success', provider_config_key: 'fake-oauth2' });
    const conn = await fetch(`${a.url}/connections/${data.connection_id}?provider_config_key=fake-oauth2`, {
      headers: { authorization: `Bearer ${secretKey}` },
    });
    expect(conn.status).toBe(200);
  });
});
