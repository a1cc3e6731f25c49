import { describe, expectTypeOf, it } from 'vitest';
import type { Ferry } from './client.js';
import type {
  ApiPublicConnectionFull,
  ApiPublicIntegration,
  ConnectionSummary,
  Credentials,
  Operation,
  ResponseOf,
  Token,
} from './types.js';

describe('public types', () => {
  it('derive response bodies from the generated paths', () => {
    expectTypeOf<ResponseOf<'/health', 'get'>>().toEqualTypeOf<{ status: 'ok' }>();
    expectTypeOf<ResponseOf<'/integrations', 'get'>>().toEqualTypeOf<{ data: ApiPublicIntegration[] }>();
    expectTypeOf<ResponseOf<'/connections', 'post', 201>>().toEqualTypeOf<ApiPublicConnectionFull>();
    expectTypeOf<ResponseOf<'/connections', 'get'>>().toEqualTypeOf<{ connections: ConnectionSummary[] }>();
    expectTypeOf<ResponseOf<'/logs/operations', 'get'>>().toEqualTypeOf<{
      data: Operation[];
      next_cursor: string | null;
    }>();
  });

  it('type the client methods', () => {
    expectTypeOf<Ferry['getConnection']>().returns.resolves.toEqualTypeOf<ApiPublicConnectionFull>();
    expectTypeOf<Ferry['getToken']>().returns.resolves.toEqualTypeOf<Token>();
    expectTypeOf<Ferry['deleteConnectSession']>().returns.resolves.toBeVoid();
    expectTypeOf<Ferry['createIntegration']>().parameter(0).toHaveProperty('unique_key');
    expectTypeOf<ApiPublicConnectionFull['credentials']>().toEqualTypeOf<Credentials>();
  });

  it('narrows credentials by type', () => {
    expectTypeOf<Extract<Credentials, { type: 'OAUTH2' }>['access_token']>().toEqualTypeOf<string>();
    expectTypeOf<ApiPublicIntegration['webhook_url']>().toEqualTypeOf<string | null | undefined>();
  });
});
