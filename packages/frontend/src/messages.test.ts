import { describe, expect, it } from 'vitest';
import { assertCallbackMessage, assertFlowResult } from './messages.js';

describe('assertCallbackMessage', () => {
  it.each([
    {
      given: { type: 'ferry_auth_success', flowId: 'f', providerConfigKey: 'github', connectionId: 'c' },
      want: true,
    },
    { given: { type: 'ferry_auth_error', flowId: 'f', code: 'access_denied', message: 'no' }, want: true },
    { given: { type: 'ferry_auth_success', flowId: 'f', providerConfigKey: 'github' }, want: false },
    { given: { type: 'ferry_auth_error', flowId: 'f', code: 1, message: 'no' }, want: false },
    { given: { type: 'nango_oauth_callback_success' }, want: false },
    { given: 'ferry_auth_success', want: false },
    { given: null, want: false },
  ])('accepts $given → $want', ({ given, want }) => {
    const check = (): void => assertCallbackMessage(given);
    if (want) expect(check).not.toThrow();
    else expect(check).toThrow(TypeError);
  });
});

describe('assertFlowResult', () => {
  it.each([
    { given: { status: 'pending', started: true }, want: true },
    { given: { status: 'pending' }, want: false },
    { given: { status: 'expired' }, want: true },
    { given: { status: 'success', connection_id: 'c', provider_config_key: 'k' }, want: true },
    { given: { status: 'error', error: { code: 'token_err', message: 'm' } }, want: true },
    { given: { status: 'success' }, want: false },
    { given: { status: 'error', error: { code: 'x' } }, want: false },
    { given: { status: 'done' }, want: false },
  ])('accepts $given → $want', ({ given, want }) => {
    const check = (): void => assertFlowResult(given);
    if (want) expect(check).not.toThrow();
    else expect(check).toThrow(TypeError);
  });
});
