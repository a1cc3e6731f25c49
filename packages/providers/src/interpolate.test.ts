import { describe, expect, test } from 'vitest';
import {
  InterpolationError,
  interpolateObject,
  interpolateString,
  placeholdersOf,
  tryInterpolate,
  type InterpolationContext,
} from './index.js';

const context: InterpolationContext = {
  connectionConfig: { subdomain: 'acme', region: { name: 'eu' }, port: 8443, empty: '' },
  credentials: { username: 'ada', password: 'p4ss:word', apiKey: 'cred-key', access_token: 'cred-token' },
};

describe('tryInterpolate', () => {
  const cases: { name: string; given: string; context?: InterpolationContext; want: string | undefined }[] = [
    { name: 'text without placeholders', given: 'https://api.example.com', want: 'https://api.example.com' },
    {
      name: 'connection config',
      given: 'https://${connectionConfig.subdomain}.zendesk.com',
      want: 'https://acme.zendesk.com',
    },
    {
      name: 'nested connection config key',
      given: 'https://${connectionConfig.region.name}.api.com',
      want: 'https://eu.api.com',
    },
    { name: 'number value', given: 'https://h:${connectionConfig.port}', want: 'https://h:8443' },
    { name: 'empty string is a value', given: 'a${connectionConfig.empty}b', want: 'ab' },
    { name: 'credentials', given: '${credentials.username}', want: 'ada' },
    { name: 'apiKey from credentials', given: 'Bearer ${apiKey}', want: 'Bearer cred-key' },
    {
      name: 'apiKey given directly wins',
      given: 'Bearer ${apiKey}',
      context: { ...context, apiKey: 'direct' },
      want: 'Bearer direct',
    },
    {
      name: 'accessToken from credentials.access_token',
      given: 'Bearer ${accessToken}',
      want: 'Bearer cred-token',
    },
    { name: 'spaces inside the braces', given: '${ connectionConfig.subdomain }', want: 'acme' },
    { name: 'missing key', given: 'https://${connectionConfig.nope}.com', want: undefined },
    { name: 'object is not a value', given: '${connectionConfig.region}', want: undefined },
    { name: 'no inherited properties', given: '${connectionConfig.toString}', want: undefined },
    { name: 'unknown root', given: '${nothing.here}', want: undefined },
    {
      name: 'base64 with nested placeholders',
      given: 'Basic ${base64(${credentials.username}:${credentials.password})}',
      want: `Basic ${Buffer.from('ada:p4ss:word').toString('base64')}`,
    },
    { name: 'base64 of literal text', given: '${base64(abc)}', want: 'YWJj' },
    { name: 'base64 with a missing inner value', given: '${base64(${credentials.nope}:x)}', want: undefined },
    {
      name: 'fallback takes the left side when it resolves',
      given: 'https://${connectionConfig.subdomain}.example.com || https://default.example.com',
      want: 'https://acme.example.com',
    },
    {
      name: 'fallback takes the right side when the left does not resolve',
      given: 'https://${connectionConfig.host}/api || https://default.example.com/api',
      want: 'https://default.example.com/api',
    },
    {
      name: 'fallback chain of three',
      given: '${connectionConfig.a} || ${connectionConfig.b} || ${credentials.username}',
      want: 'ada',
    },
    {
      name: 'every alternative missing',
      given: '${connectionConfig.a} || ${connectionConfig.b}',
      want: undefined,
    },
    {
      name: 'fallback to a placeholder',
      given: '${connectionConfig.a}||${connectionConfig.subdomain}',
      want: 'acme',
    },
  ];
  test.each(cases)('$name', ({ given, context: ctx, want }) => {
    expect(tryInterpolate(given, ctx ?? context)).toBe(want);
  });
});

describe('interpolateString', () => {
  test('returns the text when every placeholder resolves', () => {
    expect(interpolateString('${connectionConfig.subdomain}-${credentials.username}', context)).toBe(
      'acme-ada',
    );
  });

  const failures: { name: string; given: string; code: string; message: RegExp }[] = [
    {
      name: 'names the missing placeholder',
      given: 'https://${connectionConfig.host}',
      code: 'missing_interpolation_value',
      message: /\$\{connectionConfig\.host\}/,
    },
    {
      name: 'names every alternative',
      given: '${connectionConfig.a} || ${credentials.b}',
      code: 'missing_interpolation_value',
      message: /connectionConfig\.a.*credentials\.b/,
    },
    {
      name: 'unclosed placeholder',
      given: 'https://${connectionConfig.host',
      code: 'invalid_template',
      message: /Unclosed/,
    },
    { name: 'unknown function', given: '${sha512(${apiKey})}', code: 'invalid_template', message: /sha512/ },
  ];
  test.each(failures)('$name', ({ given, code, message }) => {
    const error = captureError(() => interpolateString(given, context));
    expect(error).toBeInstanceOf(InterpolationError);
    expect(error).toMatchObject({ code });
    expect((error as Error).message).toMatch(message);
  });

  test('never puts a secret value in the error message', () => {
    const error = captureError(() =>
      interpolateString('${credentials.password}${credentials.nope}', context),
    ) as Error;
    expect(error.message).not.toContain('p4ss');
  });
});

describe('interpolateObject', () => {
  const cases: { name: string; given: Record<string, string> | undefined; want: Record<string, string> }[] = [
    { name: 'undefined gives an empty map', given: undefined, want: {} },
    {
      name: 'interpolates every value',
      given: { authorization: 'Bearer ${apiKey}', 'x-site': '${connectionConfig.subdomain}' },
      want: { authorization: 'Bearer cred-key', 'x-site': 'acme' },
    },
    {
      name: 'drops entries that do not resolve',
      given: { authorization: 'Bearer ${apiKey}', 'x-team': '${connectionConfig.teamId}' },
      want: { authorization: 'Bearer cred-key' },
    },
    {
      name: 'keeps plain values',
      given: { 'notion-version': '2022-06-28' },
      want: { 'notion-version': '2022-06-28' },
    },
    {
      name: 'applies fallbacks',
      given: { 'x-region': '${connectionConfig.zone} || us' },
      want: { 'x-region': 'us' },
    },
  ];
  test.each(cases)('$name', ({ given, want }) => {
    expect(interpolateObject(given, context)).toEqual(want);
  });
});

describe('placeholdersOf', () => {
  const cases: { given: string; want: string[] }[] = [
    { given: 'https://api.example.com', want: [] },
    {
      given: 'https://${connectionConfig.subdomain}.x.com/${connectionConfig.v}',
      want: ['connectionConfig.subdomain', 'connectionConfig.v'],
    },
    {
      given: '${base64(${credentials.username}:${credentials.password})}',
      want: [
        'base64(${credentials.username}:${credentials.password})',
        'credentials.username',
        'credentials.password',
      ],
    },
  ];
  test.each(cases)('$given', ({ given, want }) => {
    expect(placeholdersOf(given)).toEqual(want);
  });
});

function captureError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}
