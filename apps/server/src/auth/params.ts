import type { Provider } from '@ferry/providers';
import { FerryError } from '../errors.js';

const URL_BREAKERS = /[/?#@\\\s%]/;

/**
 * Checks connection-config values typed in the browser before they are interpolated into provider URLs (a
 * subdomain must not become `evil.example/x?`): primitives only; a field declared with `format: uri` must be an
 * http(s) URL; any other value must not contain `/ ? # @ \ %` or spaces, and must match the field's `pattern`.
 * @throws FerryError `invalid_body` naming the field
 */
export function checkConnectionParams(provider: Provider, params: Record<string, unknown> | undefined): void {
  for (const [key, value] of Object.entries(params ?? {})) {
    const field = provider.connection_config?.[key];
    const fail = (message: string): never => {
      throw new FerryError('invalid_body', `Connection config "${key}" ${message}.`, {
        errors: [{ path: `params.${key}`, message }],
      });
    };
    if (typeof value === 'number' || typeof value === 'boolean') continue;
    if (typeof value !== 'string') fail('must be a string, number or boolean');
    const text = value as string;
    if (text.length > 1024) fail('is too long');
    if (field?.format === 'uri') {
      let url: URL | undefined;
      try {
        url = new URL(text);
      } catch {
        fail('must be a URL');
      }
      if (url && url.protocol !== 'https:' && url.protocol !== 'http:') fail('must be an http(s) URL');
      continue;
    }
    if (URL_BREAKERS.test(text)) fail('contains characters that are not allowed (/ ? # @ \\ % or spaces)');
    if (field?.pattern && !new RegExp(field.pattern).test(text)) fail('does not match the expected format');
  }
}
