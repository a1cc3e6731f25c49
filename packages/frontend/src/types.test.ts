import { describe, expectTypeOf, it } from 'vitest';
import { AuthError, Ferry, type AuthOptions, type AuthResult, type CallbackMessage } from './index.js';

describe('public types', () => {
  it('auth() and create() resolve to the connection', () => {
    expectTypeOf<Ferry['auth']>().returns.toEqualTypeOf<Promise<AuthResult>>();
    expectTypeOf<Ferry['create']>().returns.toEqualTypeOf<Promise<AuthResult>>();
    expectTypeOf<AuthResult>().toEqualTypeOf<{ providerConfigKey: string; connectionId: string }>();
  });

  it('credentials are an API key, a username and password, or an OAuth client', () => {
    expectTypeOf<{ apiKey: string }>().toExtend<NonNullable<AuthOptions['credentials']>>();
    expectTypeOf<{ username: string; password: string }>().toExtend<
      NonNullable<AuthOptions['credentials']>
    >();
    expectTypeOf<{ client_id: string; client_secret: string }>().toExtend<
      NonNullable<AuthOptions['credentials']>
    >();
    expectTypeOf<{ token: string }>().not.toExtend<NonNullable<AuthOptions['credentials']>>();
  });

  it('messages narrow on type', () => {
    const narrow = (m: CallbackMessage): string =>
      m.type === 'ferry_auth_success' ? m.connectionId : m.code;
    expectTypeOf(narrow).returns.toBeString();
    expectTypeOf<AuthError['code']>().toExtend<string>();
  });
});
