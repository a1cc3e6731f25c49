import type { Response } from 'express';
import { randomSecret } from './pkce.js';

/** What the callback page posts to the window that opened it. */
export type CallbackMessage =
  | { type: 'ferry_auth_success'; flowId: string; providerConfigKey: string; connectionId: string }
  | { type: 'ferry_auth_error'; flowId: string; code: string; message: string };

/** JSON that is safe inside a <script> element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function html(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Sends the page the popup ends on. It posts `message` to `window.opener` with `targetOrigin` — the exact origin
 * captured when the flow started, never `*` — and closes itself once posted. Without an opener (the provider sent
 * `Cross-Origin-Opener-Policy`, or no origin is known) it stays open and shows the outcome; the SDK then reads the
 * result from the server. Errors are shown readably too. A strict CSP allows only this page's own script.
 */
export function sendCallbackPage(
  res: Response,
  message: CallbackMessage,
  targetOrigin: string | null,
  status?: number,
): void {
  const nonce = randomSecret(16);
  const ok = message.type === 'ferry_auth_success';
  const title = ok ? 'Connected' : 'Connection failed';
  const detail = ok ? 'You can close this window.' : `${message.message} (${message.code})`;
  const script =
    `(function(){var m=${scriptJson(message)},o=${scriptJson(targetOrigin)};` +
    `if(o&&window.opener){try{window.opener.postMessage(m,o);window.close();}catch(e){}}})();`;
  res
    .status(status ?? (ok ? 200 : 400))
    .set({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-store',
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      // This page must keep its opener to post the result back (a proxy's blanket COOP would cut it off).
      'cross-origin-opener-policy': 'unsafe-none',
      'content-security-policy': `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; base-uri 'none'; form-action 'none'`,
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title>` +
        `<meta name="viewport" content="width=device-width,initial-scale=1">` +
        `<style nonce="${nonce}">body{font:16px system-ui,sans-serif;margin:3rem auto;max-width:32rem;padding:0 1rem;color:#222}h1{font-size:1.3rem}.e{color:#a40000}</style>` +
        `</head><body><h1 class="${ok ? '' : 'e'}">${title}</h1><p id="detail">${html(detail)}</p>` +
        `<script nonce="${nonce}">${script}</script></body></html>`,
    );
}
