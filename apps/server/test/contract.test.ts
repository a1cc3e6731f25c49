import { describe, expect, it } from 'vitest';
import { checkResponse } from './contract.js';

describe('contract checker', () => {
  it.each([
    { given: { method: 'GET', route: '/health', status: 200, body: { status: 'ok' } }, want: undefined },
    { given: { method: 'GET', route: '/health', status: 200, body: { status: 'down' } }, want: 'const' },
    { given: { method: 'GET', route: '/nope', status: 200, body: {} }, want: 'not in openapi.yaml' },
    {
      given: {
        method: 'GET',
        route: undefined,
        status: 404,
        body: { error: { code: 'not_found', message: 'x' } },
      },
      want: undefined,
    },
    { given: { method: 'GET', route: undefined, status: 404, body: { error: 'x' } }, want: 'must be object' },
  ])('$given.method $given.route $given.status', ({ given, want }) => {
    const v = checkResponse(given);
    if (want === undefined) expect(v).toBeUndefined();
    else expect(v?.problem).toContain(want);
  });
});
