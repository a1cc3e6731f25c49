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

describe('sendCallbackPage', () => {
  it('posts to the exact origin, never *, with a nonce CSP', () => {
    const { res, out } = capture();
    sendCallbackPage(
      res,
      { type: 'ferry_auth_success', flowId: 'f', providerConfigKey: 'github', connectionId: 'c' },
      'http://localhost:5173',
    );
    expect(out.status).toBe(200);
    expect(out.body).toContain('postMessage(m,o)');
    expect(out.body).toContain('"http://localhost:5173"');
    expect(out.body).not.toContain("'*'");
    const nonce = /'nonce-([^']+)'/.exec(out.headers['content-security-policy']!)?.[1];
    expect(out.body).toContain(`<script nonce="${nonce}">`);
  });

  it('escapes an error message so it cannot end the script or inject markup', () => {
    const { res, out } = capture();
    const message = '</script><script>alert(1)</script><b>';
    sendCallbackPage(res, { type: 'ferry_auth_error', flowId: 'f', code: 'callback_err', message }, null);
    expect(out.status).toBe(400);
    expect(out.body!.match(/<script/g)).toHaveLength(1);
    expect(out.body).not.toContain('<b>');
    expect(out.body).toContain('&#60;/script&#62;');
  });
});
