/** A provider's `error` on the callback (RFC 6749 §4.1.2.1, OpenID Connect §3.1.2.6) as a code and a readable line. */
export interface ProviderError {
  code: string;
  message: string;
}

const table: Record<string, ProviderError> = {
  access_denied: { code: 'access_denied', message: 'Access was denied at the provider.' },
  invalid_scope: { code: 'invalid_scope', message: 'The provider refused the requested scopes.' },
  unauthorized_client: {
    code: 'provider_config_err',
    message: 'The provider does not allow this OAuth app to sign users in this way; check the integration.',
  },
  invalid_client: {
    code: 'provider_config_err',
    message: 'The provider does not know this OAuth app; check the integration.',
  },
  invalid_request: {
    code: 'provider_config_err',
    message: 'The provider rejected the sign-in request; check the integration.',
  },
  unsupported_response_type: {
    code: 'provider_config_err',
    message: 'The provider does not support this sign-in flow; check the integration.',
  },
  server_error: { code: 'provider_unavailable', message: 'The provider had an error; try again later.' },
  temporarily_unavailable: {
    code: 'provider_unavailable',
    message: 'The provider is unavailable; try again later.',
  },
  login_required: { code: 'interaction_required', message: 'The provider needs the user to sign in.' },
  consent_required: { code: 'interaction_required', message: 'The provider needs the user to consent.' },
  interaction_required: { code: 'interaction_required', message: 'The provider needs the user to act.' },
};

/**
 * Maps a provider's callback `error` to a code the SDK reports: `access_denied`, `invalid_scope`,
 * `provider_config_err`, `provider_unavailable`, `interaction_required`, else `callback_err`. The provider's
 * `error_description` (trimmed to 300 characters) is added to the message.
 */
export function providerError(error: string, description: string | undefined): ProviderError {
  const known = Object.hasOwn(table, error) ? table[error] : undefined;
  const base = known ?? { code: 'callback_err', message: `The provider answered ${error.slice(0, 100)}.` };
  return description ? { code: base.code, message: `${base.message} (${description.slice(0, 300)})` } : base;
}
