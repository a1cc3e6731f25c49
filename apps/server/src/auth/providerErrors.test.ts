import { describe, expect, it } from 'vitest';
import { providerError } from './providerErrors.js';

describe('providerError', () => {
  it.each([
    { given: ['access_denied', undefined], want: 'access_denied' },
    { given: ['invalid_scope', 'scope x'], want: 'invalid_scope' },
    { given: ['unauthorized_client', undefined], want: 'provider_config_err' },
    { given: ['temporarily_unavailable', undefined], want: 'provider_unavailable' },
    { given: ['consent_required', undefined], want: 'interaction_required' },
    { given: ['__proto__', undefined], want: 'callback_err' },
    { given: ['something_else', undefined], want: 'callback_err' },
  ] as const)('$given.0 → $want', ({ given, want }) => {
    expect(providerError(given[0], given[1]).code).toBe(want);
  });

  it('adds the description, trimmed', () => {
    expect(providerError('invalid_scope', 'x'.repeat(400)).message).toHaveLength(
      'The provider refused the requested scopes. ('.length + 300 + 1,
    );
  });
});
