import { describe, expect, it } from 'vitest';
import { corsRouteFor } from './cors.js';

describe('corsRouteFor', () => {
  it.each([
    { given: ['POST', '/oauth/flows'], want: 'authorization, content-type' },
    { given: ['post', '/oauth/flows/'], want: 'authorization, content-type' },
    { given: ['GET', '/oauth/flows/f1'], want: 'authorization' },
    { given: ['POST', '/api-auth/api-key/stripe'], want: 'authorization, content-type' },
    { given: ['POST', '/api-auth/basic/jira'], want: 'authorization, content-type' },
    { given: ['POST', '/oauth2/auth/cc'], want: 'authorization, content-type' },
    { given: ['POST', '/auth/unauthenticated/open'], want: 'authorization, content-type' },
    { given: ['GET', '/oauth/flows'], want: undefined },
    { given: ['POST', '/oauth/flows/f1'], want: undefined },
    { given: ['DELETE', '/oauth/flows/f1'], want: undefined },
    { given: ['POST', '/api-auth/other/stripe'], want: undefined },
    { given: ['GET', '/oauth/connect/gh'], want: undefined },
    { given: ['GET', '/connections'], want: undefined },
    { given: ['POST', '/connect/sessions'], want: undefined },
    { given: ['GET', '/proxy/user'], want: undefined },
  ] as const)('$given → $want', ({ given: [method, path], want }) => {
    expect(corsRouteFor(method, path)?.headers.join(', ')).toBe(want);
  });
});
