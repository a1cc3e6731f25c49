import { describe, expect, it } from 'vitest';
import { exactOrigin, originOfReferer } from './origin.js';

describe('exactOrigin', () => {
  it.each([
    { given: 'http://localhost:5173', want: 'http://localhost:5173' },
    { given: 'https://app.example.com', want: 'https://app.example.com' },
    { given: 'https://app.example.com/', want: undefined },
    { given: 'https://app.example.com/path', want: undefined },
    { given: '*', want: undefined },
    { given: 'null', want: undefined },
    { given: 'javascript:alert(1)', want: undefined },
    { given: 'file:///etc/passwd', want: undefined },
    { given: 'HTTPS://APP.EXAMPLE.COM', want: undefined },
    { given: 42, want: undefined },
  ])('$given → $want', ({ given, want }) => {
    expect(exactOrigin(given)).toBe(want);
  });
});

describe('originOfReferer', () => {
  it.each([
    { given: 'http://localhost:5173/settings?x=1', want: 'http://localhost:5173' },
    { given: 'not a url', want: undefined },
    { given: undefined, want: undefined },
  ])('$given → $want', ({ given, want }) => {
    expect(originOfReferer(given)).toBe(want);
  });
});
