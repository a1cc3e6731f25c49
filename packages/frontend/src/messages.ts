/** The callback page's message when the connection was made. */
export interface SuccessMessage {
  type: 'ferry_auth_success';
  flowId: string;
  providerConfigKey: string;
  connectionId: string;
}

/** The callback page's message when the flow failed. */
export interface ErrorMessage {
  type: 'ferry_auth_error';
  flowId: string;
  code: string;
  message: string;
}

/** What the callback page posts to the window that opened it. */
export type CallbackMessage = SuccessMessage | ErrorMessage;

const isString = (v: unknown): v is string => typeof v === 'string';

/**
 * Narrows a `message` event's data to a {@link CallbackMessage}.
 * @throws TypeError when the data is not one (any other window's messages land here)
 */
export function assertCallbackMessage(data: unknown): asserts data is CallbackMessage {
  const d = data as Record<string, unknown> | null;
  const ok =
    typeof d === 'object' &&
    d !== null &&
    isString(d.flowId) &&
    ((d.type === 'ferry_auth_success' && isString(d.providerConfigKey) && isString(d.connectionId)) ||
      (d.type === 'ferry_auth_error' && isString(d.code) && isString(d.message)));
  if (!ok) throw new TypeError('not a Ferry callback message');
}

/** A flow's state as `GET /oauth/flows/:id` reports it. */
export type FlowResult =
  | { status: 'expired' }
  /** `started`: the popup reached the server and went on to the provider. */
  | { status: 'pending'; started: boolean }
  | { status: 'success'; connection_id: string; provider_config_key: string }
  | { status: 'error'; error: { code: string; message: string } };

/**
 * Narrows the long-poll answer's `data`.
 * @throws TypeError when it is not a flow result
 */
export function assertFlowResult(data: unknown): asserts data is FlowResult {
  const d = data as Record<string, unknown> | null;
  const e = d?.error as Record<string, unknown> | undefined;
  const ok =
    typeof d === 'object' &&
    d !== null &&
    ((d.status === 'pending' && typeof d.started === 'boolean') ||
      d.status === 'expired' ||
      (d.status === 'success' && isString(d.connection_id)) ||
      (d.status === 'error' && isString(e?.code) && isString(e.message)));
  if (!ok) throw new TypeError('not a flow result');
}
