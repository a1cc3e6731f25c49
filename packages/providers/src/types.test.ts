import { describe, expectTypeOf, test } from 'vitest';
import {
  loadProviders,
  tryInterpolate,
  type AuthMode,
  type NamedProvider,
  type PaginateConfig,
  type Provider,
  type ProviderCatalog,
  type RetryConfig,
} from './index.js';

describe('public types', () => {
  test('loadProviders returns a read-only catalog of providers', () => {
    expectTypeOf(loadProviders).returns.toEqualTypeOf<ProviderCatalog>();
    expectTypeOf<ProviderCatalog['get']>().returns.toEqualTypeOf<Provider | undefined>();
    expectTypeOf<ReturnType<ProviderCatalog['list']>>().toEqualTypeOf<readonly NamedProvider[]>();
    expectTypeOf<ProviderCatalog>().toExtend<ReadonlyMap<string, Provider>>();
  });

  test('auth modes are a closed union', () => {
    expectTypeOf<Provider['auth_mode']>().toEqualTypeOf<AuthMode>();
    expectTypeOf<'OAUTH2'>().toExtend<AuthMode>();
    expectTypeOf<'TWO_STEP'>().not.toExtend<AuthMode>();
  });

  test('pagination narrows on its type', () => {
    const narrow = (paginate: PaginateConfig): string | undefined => {
      switch (paginate.type) {
        case 'cursor':
          return paginate.cursor_path_in_response;
        case 'link':
          return paginate.link_rel_in_response_header ?? paginate.link_path_in_response_body;
        case 'offset':
          return paginate.offset_name_in_request;
      }
    };
    expectTypeOf(narrow).returns.toEqualTypeOf<string | undefined>();
  });

  test('retry status patterns are strings even when YAML gives numbers', () => {
    expectTypeOf<RetryConfig['error_code']>().toEqualTypeOf<string[] | undefined>();
  });

  test('interpolation may not resolve', () => {
    expectTypeOf(tryInterpolate).returns.toEqualTypeOf<string | undefined>();
  });
});
