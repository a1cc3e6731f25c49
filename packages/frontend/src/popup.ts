import { AuthError, AuthErrorCode, toAuthError } from './errors.js';
import { call } from './http.js';
import { assertCallbackMessage, assertFlowResult } from './messages.js';

/** A connection made by an auth flow. */
export interface AuthResult {
  providerConfigKey: string;
  connectionId: string;
}

/** What a popup flow needs. */
export interface PopupFlowInput {
  host: string;
  hostOrigin: string;
  token: string;
  body: Record<string, unknown>;
  width: number;
  height: number;
  closedWindowGraceMs: number;
}

/** A running popup flow. */
export interface PopupFlow {
  result: Promise<AuthResult>;
  /** Ends the flow now with `window_closed` and closes the popup. */
  cancel(): void;
}

interface CreatedFlow {
  flow_id: string;
  flow_secret: string;
  url: string;
}

const windowClosed = (): AuthError =>
  new AuthError(
    AuthErrorCode.windowClosed,
    'The authorization window was closed before the connection was made.',
  );

/**
 * Opens the popup at once (call it synchronously inside the user's click, or popup blockers and Safari refuse it),
 * creates the flow on the server, then sends the popup to it. The result comes by `postMessage` — accepted only
 * from the server's origin and from this popup — or, when the popup looks closed without a message (a provider's
 * `Cross-Origin-Opener-Policy` severs it from this page), from the server's long-poll for this flow, for up to
 * `closedWindowGraceMs` before it counts as `window_closed`. A popup closed before it reached the server is
 * `window_closed` at once.
 */
export function startPopupFlow(input: PopupFlowInput): PopupFlow {
  const left = window.screenX + Math.max(0, (window.outerWidth - input.width) / 2);
  const top = window.screenY + Math.max(0, (window.outerHeight - input.height) / 2);
  const popup = window.open(
    '',
    '_blank',
    `popup=yes,width=${input.width},height=${input.height},left=${Math.round(left)},top=${Math.round(top)}`,
  );
  if (!popup) {
    const err = new AuthError(AuthErrorCode.blockedByBrowser, 'The browser blocked the authorization popup.');
    return { result: Promise.reject(err), cancel: () => undefined };
  }
  let finish: (err: AuthError | undefined, value?: AuthResult) => void = () => undefined;
  const result = new Promise<AuthResult>((resolve, reject) => {
    let flow: CreatedFlow | undefined;
    let done = false;
    let askedServer = false;
    const abort = new AbortController();
    finish = (err, value) => {
      if (done) return;
      done = true;
      window.removeEventListener('message', onMessage);
      clearInterval(timer);
      abort.abort();
      if (!popup.closed) popup.close();
      if (err) reject(err);
      else resolve(value as AuthResult);
    };
    const onMessage = (event: MessageEvent): void => {
      if (event.origin !== input.hostOrigin || event.source !== popup || !flow) return;
      const data: unknown = event.data;
      try {
        assertCallbackMessage(data);
      } catch {
        return;
      }
      if (data.flowId !== flow.flow_id) return;
      if (data.type === 'ferry_auth_success') {
        finish(undefined, { providerConfigKey: data.providerConfigKey, connectionId: data.connectionId });
      } else {
        finish(new AuthError(data.code, data.message));
      }
    };
    const askServer = async (current: CreatedFlow): Promise<void> => {
      const deadline = Date.now() + input.closedWindowGraceMs;
      // The first question is answered at once; then each one waits for the flow to end (long-poll).
      for (let first = true; !done; first = false) {
        const left = deadline - Date.now();
        if (left <= 0) return finish(windowClosed());
        const wait = first ? 0 : Math.min(25, Math.ceil(left / 1000));
        const { data } = await call<{ data: unknown }>(
          `${input.host}/oauth/flows/${encodeURIComponent(current.flow_id)}?wait=${wait}`,
          current.flow_secret,
          { method: 'GET', signal: abort.signal },
        );
        assertFlowResult(data);
        if (data.status === 'success') {
          return finish(undefined, {
            providerConfigKey: data.provider_config_key,
            connectionId: data.connection_id,
          });
        }
        if (data.status === 'error') return finish(new AuthError(data.error.code, data.error.message));
        // Closed before it ever reached the server: a real close (COOP can only cut it off at the provider).
        if (data.status === 'expired' || (data.status === 'pending' && !data.started))
          return finish(windowClosed());
      }
    };
    const timer = setInterval(() => {
      if (!popup.closed || askedServer) return;
      askedServer = true;
      if (!flow) return finish(windowClosed());
      askServer(flow).catch((err: unknown) => finish(toAuthError(err)));
    }, 300);
    window.addEventListener('message', onMessage);
    call<{ data: CreatedFlow }>(`${input.host}/oauth/flows`, input.token, {
      method: 'POST',
      body: input.body,
    }).then(
      ({ data }) => {
        flow = data;
        if (!done && !popup.closed) popup.location.href = data.url;
      },
      (err: unknown) => finish(toAuthError(err)),
    );
  });
  return { result, cancel: () => finish(windowClosed()) };
}
