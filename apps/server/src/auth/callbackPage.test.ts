import { runInNewContext } from 'node:vm';
import type { Response } from 'express';
import { describe, expect, it } from 'vitest';
import { sendCallbackPage } from './callbackPage.js';

function capture(): {
  res: Response;
  out: { status?: number; headers: Record<string, string>; body?: string };
} {
  const out: { status?: number; headers: Record<string, string>; body?: string } = { headers: {} };
  const res = {
    status(s: number) {
      out.status = s;
      return res;
    },
    set(h: Record<string, string>) {
      Object.assign(out.headers, h);
      return res;
    },
    send(b: string) {
      out.body = b;
      return res;
    },
  } as unknown as Response;
  return { res, out };
}

/** Runs the page's script against a fake `window` and returns what it posted to the opener. */
function runPage(body: string, withOpener = true): { posted: [unknown, unknown][]; closed: boolean } {
  const scripts = [...body.matchAll(/<script nonce="[^"]+">([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  expect(scripts).toHaveLength(1);
  const posted: [unknown, unknown][] = [];
  const window = {
    opener: withOpener
      ? { postMessage: (message: unknown, targetOrigin: unknown) => posted.push([message, targetOrigin]) }
      : null,
    closed: false,
    close() {
      window.closed = true;
    },
  };
  runInNewContext(scripts[0]!, { window });
  // Structured clone across the vm boundary, so that toEqual compares plain data.
  return { posted: JSON.parse(JSON.stringify(posted)) as [unknown, unknown][], closed: window.closed };
}

describe('sendCallbackPage', () => {
  it('posts the message to the exact origin, never *, with a nonce CSP', () => {
    const { res, out } = capture();
    const message = {
      type: 'ferry_auth_success',
      flowId: 'f',
      providerConfigKey: 'github',
      connectionId: 'c',
    } as const;
    sendCallbackPage(res, message, 'http://localhost:5173');
    expect(out.status).toBe(200);
    expect(runPage(out.body!)).toEqual({ posted: [[message, 'http://localhost:5173']], closed: true });
    const nonce = /'nonce-([^']+)'/.exec(out.headers['content-security-policy']!)?.[1];
    expect(nonce).toMatch(/^[\w-]{16,}$/);
    expect(out.body).toContain(`<script nonce="${nonce}">`);
  });

  it('posts nothing and stays open without a known origin or without an opener', () => {
    const error = { type: 'ferry_auth_error', flowId: 'f', code: 'callback_err', message: 'x' } as const;
    const noOrigin = capture();
    sendCallbackPage(noOrigin.res, error, null);
    expect(runPage(noOrigin.out.body!)).toEqual({ posted: [], closed: false });
    const noOpener = capture();
    sendCallbackPage(noOpener.res, error, 'http://localhost:5173');
    expect(runPage(noOpener.out.body!, false)).toEqual({ posted: [], closed: false });
  });

  it('escapes an error message so it cannot end the script or inject markup', () => {
    const { res, out } = capture();
    const message = '</script><script>alert(1)</script><b>';
    sendCallbackPage(res, { type: 'ferry_auth_error', flowId: 'f', code: 'callback_err', message }, null);
    expect(out.status).toBe(400);
    expect(out.body!.match(/<script/g)).toHaveLength(1);
    expect(out.body).not.toContain('<b>');
    expect(out.body).toContain('&#60;/script&#62;');
    // With an opener, the one script still runs and posts the message intact.
    const posted = capture();
    const error = { type: 'ferry_auth_error', flowId: 'f', code: 'callback_err', message } as const;
    sendCallbackPage(posted.res, error, 'https://app.example.com');
    expect(runPage(posted.out.body!).posted).toEqual([[error, 'https://app.example.com']]);
  });
});
