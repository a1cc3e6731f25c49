import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeEachDatabase } from './harness.js';

/**
 * The same malformed inputs sent to every operation of openapi/openapi.yaml, read at test time so that a new route
 * is covered without touching this file: a JSON body nested 5,000 deep, NUL (U+0000) in every string field of a
 * body (all at once, then one field at a time), a lone UTF-16 surrogate in every string field, more than 100 values for an array or deepObject query parameter,
 * and NUL in every path and query parameter. Each must be a 4xx — in the error envelope, or the HTML error page
 * for the popup's pages — and never a 5xx, on SQLite and PostgreSQL.
 */

type Schema = {
  $ref?: string;
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  allOf?: Schema[];
  oneOf?: Schema[];
  anyOf?: Schema[];
};
type Parameter = { $ref?: string; name: string; in: string; style?: string; schema?: Schema };
type Operation = {
  security?: Record<string, string[]>[];
  parameters?: Parameter[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { $ref?: string; content?: Record<string, unknown> }>;
};
type Spec = {
  security?: Record<string, string[]>[];
  paths: Record<string, Record<string, unknown> & { parameters?: Parameter[] }>;
};

const spec = parse(readFileSync(new URL('../../../openapi/openapi.yaml', import.meta.url), 'utf8')) as Spec;

function deref<T>(node: T & { $ref?: string }): T {
  let current: unknown = node;
  for (let hops = 0; hops < 10 && (current as { $ref?: string })?.$ref; hops++) {
    const ref = (current as { $ref: string }).$ref;
    current = ref
      .replace(/^#\//, '')
      .split('/')
      .reduce<unknown>(
        (n, part) => (n as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        spec,
      );
  }
  return current as T;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

interface Route {
  method: string;
  path: string;
  security: Record<string, string[]>[];
  parameters: Parameter[];
  jsonBody: Schema | undefined;
  anyBody: boolean;
  html: boolean;
}

const routes: Route[] = Object.entries(spec.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => {
    const op = item[m] as Operation;
    const parameters = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref(p));
    const content = op.requestBody?.content ?? {};
    const errorResponse = deref(op.responses?.['4XX'] ?? op.responses?.['400'] ?? {});
    return {
      method: m.toUpperCase(),
      path,
      security: op.security ?? spec.security ?? [],
      parameters,
      jsonBody: content['application/json']?.schema,
      anyBody: content['*/*'] !== undefined,
      html: errorResponse.content?.['text/html'] !== undefined,
    };
  }),
);

/** A plausible value for a schema; `text` makes every string (and enum or const string) of it. */
function example(node: Schema | undefined, text: (s: string) => string, depth = 0): unknown {
  const schema = deref(node ?? {});
  if (depth > 8) return {};
  if (schema.allOf) {
    return Object.assign({}, ...schema.allOf.map((s) => example(s, text, depth + 1) as object));
  }
  const choice = schema.oneOf?.[0] ?? schema.anyOf?.[0];
  if (choice) return example(choice, text, depth + 1);
  const fixed = schema.const ?? schema.enum?.find((v) => v !== null);
  if (fixed !== undefined) return typeof fixed === 'string' ? text(fixed) : fixed;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  switch (type ?? (schema.properties ? 'object' : 'string')) {
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(schema.properties ?? {})) out[k] = example(v, text, depth + 1);
      if (!schema.properties && typeof schema.additionalProperties === 'object')
        out[text('key')] = example(schema.additionalProperties, text, depth + 1);
      else if (!schema.properties) out[text('key')] = text('value');
      return out;
    }
    case 'array':
      return [example(schema.items, text, depth + 1)];
    case 'integer':
    case 'number':
      return 1;
    case 'boolean':
      return true;
    case 'string':
      return text(
        schema.format === 'email'
          ? 'bad@example.com'
          : schema.format === 'uri' || schema.format === 'url'
            ? 'https://example.com/hook'
            : schema.format === 'uuid'
              ? '0b8a1e3c-7f1d-4c55-9a2e-3c1f2b4d5e6f'
              : schema.format === 'date-time'
                ? '2030-01-01T00:00:00Z'
                : 'bad-input',
      );
    default:
      return text('bad-input');
  }
}

/** Paths to every string leaf of a value. */
function stringLeaves(value: unknown, path: string[] = []): string[][] {
  if (typeof value === 'string') return [path];
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, [...path, k]));
}

function withLeaf(value: unknown, path: string[], leaf: string): unknown {
  const copy = structuredClone(value) as Record<string, unknown>;
  let node = copy;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string, unknown>;
  node[path.at(-1) ?? ''] = leaf;
  return copy;
}

const NUL = (s: string) => `${s}\u0000x`;
const same = (s: string) => s;

interface Case {
  route: Route;
  label: string;
  path: Record<string, string>;
  query: string[];
  body?: string;
  /** The error code the central input check answers with (JSON routes). */
  code: string;
}

function cases(route: Route): Case[] {
  const out: Case[] = [];
  const pathParams = route.parameters.filter((p) => p.in === 'path');
  const queryParams = route.parameters.filter((p) => p.in === 'query');
  const base = { route, path: {}, query: [] };
  if (route.jsonBody || route.anyBody) {
    out.push({
      ...base,
      label: 'body nested 5,000 deep',
      body: '{"a":'.repeat(5000) + '1' + '}'.repeat(5000),
      code: 'invalid_body',
    });
  }
  if (route.jsonBody) {
    out.push({
      ...base,
      label: 'NUL in every string',
      body: JSON.stringify(example(route.jsonBody, NUL)),
      code: 'invalid_body',
    });
    out.push({
      ...base,
      label: 'a lone surrogate in every string',
      body: JSON.stringify(example(route.jsonBody, (s) => `${s}\ud800`)),
      code: 'invalid_body',
    });
    const valid = example(route.jsonBody, same);
    for (const leaf of stringLeaves(valid)) {
      out.push({
        ...base,
        label: `NUL in ${leaf.join('.') || '(body)'}`,
        body: JSON.stringify(
          withLeaf(
            valid,
            leaf,
            NUL(String(leaf.reduce<unknown>((n, k) => (n as Record<string, unknown>)[k], valid))),
          ),
        ),
        code: 'invalid_body',
      });
    }
  }
  out.push({
    ...base,
    label: 'NUL in an undeclared query parameter',
    query: ['bad=a%00b'],
    code: 'invalid_query_params',
  });
  for (const p of pathParams) {
    out.push({
      ...base,
      label: `NUL in path parameter ${p.name}`,
      path: { [p.name]: 'bad%00input' },
      code: 'invalid_uri_params',
    });
  }
  for (const p of queryParams) {
    out.push({
      ...base,
      label: `NUL in query parameter ${p.name}`,
      query: [`${p.name}=bad%00input`],
      code: 'invalid_query_params',
    });
    const schema = deref(p.schema ?? {});
    if (p.style === 'deepObject' || schema.type === 'object') {
      const many = Array.from({ length: 1000 }, (_, i) => `${p.name}[k${i}]=v`);
      out.push({ ...base, label: `1,000 values for ${p.name}`, query: many, code: 'invalid_query_params' });
    } else if (schema.type === 'array') {
      const item = example(schema.items, same);
      const many = Array.from({ length: 1000 }, () => `${p.name}=${encodeURIComponent(String(item))}`);
      out.push({ ...base, label: `1,000 values for ${p.name}`, query: many, code: 'invalid_query_params' });
    }
  }
  return out;
}

describeEachDatabase('bad input on every route of openapi.yaml', (get) => {
  const auth: Record<string, { header?: string; query?: string }> = {};

  beforeAll(async () => {
    const { api, secretKey, server } = get();
    auth.secretKey = { header: `Bearer ${secretKey}` };
    const integration = await api('POST', '/integrations', {
      provider: 'github',
      unique_key: 'bad-input',
      credentials: { type: 'OAUTH2', client_id: 'id', client_secret: 'secret' },
    });
    expect(integration.status).toBe(200);
    const connection = await api('POST', '/connections', {
      provider_config_key: 'bad-input',
      connection_id: 'bad-input',
      credentials: { type: 'OAUTH2', access_token: 'tok' },
    });
    expect(connection.status).toBe(201);
    const session = await api('POST', '/connect/sessions', { end_user: { id: 'bad-input' } });
    expect(session.status).toBe(201);
    auth.connectSession = { header: `Bearer ${session.body.data.token}` };
    const flow = await api(
      'POST',
      '/oauth/flows',
      { provider_config_key: 'bad-input' },
      {
        authorization: `Bearer ${session.body.data.token}`,
      },
    );
    expect(flow.status).toBe(201);
    auth.flowSecret = { header: `Bearer ${flow.body.data.flow_secret}` };
    const env = await server.services.store.db
      .selectFrom('environments')
      .select('public_key')
      .where('name', '=', 'dev')
      .executeTakeFirstOrThrow();
    auth.publicKey = { query: `public_key=${env.public_key}&connection_id=bad-input` };
  });

  it('covers every operation of the contract', () => {
    expect(routes.length).toBeGreaterThanOrEqual(30);
    expect(routes.flatMap(cases).length).toBeGreaterThanOrEqual(100);
  });

  for (const route of routes) {
    const all = cases(route);
    if (all.length === 0) continue;
    it(`${route.method} ${route.path}: ${all.length} malformed requests → 4xx`, async () => {
      const scheme = route.security.map((s) => Object.keys(s)[0]).find((name) => name && auth[name]);
      const credentials = scheme ? auth[scheme] : undefined;
      for (const c of all) {
        const path = route.path.replace(/\{(\w+)\}/g, (_, name: string) => c.path[name] ?? 'bad-input');
        const query = [...c.query, ...(credentials?.query ? [credentials.query] : [])].join('&');
        const headers: Record<string, string> = {};
        if (credentials?.header) headers.authorization = credentials.header;
        for (const p of route.parameters.filter((p) => p.in === 'header')) {
          const schema = deref(p.schema ?? {});
          headers[p.name] =
            schema.type === 'integer'
              ? '0'
              : typeof schema.enum?.[0] === 'string'
                ? schema.enum[0]
                : 'no-such-connection';
        }
        if (c.body !== undefined) headers['content-type'] = 'application/json';
        const res = await fetch(`${get().url}${path}${query ? `?${query}` : ''}`, {
          method: route.method,
          headers,
          redirect: 'manual',
          ...(c.body !== undefined ? { body: c.body } : {}),
        });
        const text = await res.text();
        const label = `${route.method} ${route.path} (${c.label}) → ${res.status} ${text.slice(0, 300)}`;
        expect(res.status, label).toBeGreaterThanOrEqual(400);
        expect(res.status, label).toBeLessThan(500);
        if (route.html) {
          expect(res.headers.get('content-type'), label).toContain('text/html');
          continue;
        }
        const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
        expect(typeof body.error?.message, label).toBe('string');
        // The proxy streams bodies and path to the provider: its answer here is about the unknown connection.
        if (route.path.startsWith('/proxy/')) expect(typeof body.error?.code, label).toBe('string');
        else expect(body.error?.code, label).toBe(c.code);
      }
    });
  }
});
