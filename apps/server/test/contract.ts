import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parse } from 'yaml';

/** A response the server sent that the contract does not describe. */
export interface ContractViolation {
  method: string;
  route: string;
  status: number;
  problem: string;
  body: unknown;
}

const specUrl = new URL('../../../openapi/openapi.yaml', import.meta.url);
const spec = parse(readFileSync(specUrl, 'utf8')) as {
  paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string } & ResponseObject> }>>;
};
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
const addFormats = addFormatsModule as unknown as (a: Ajv2020) => void;
addFormats(ajv);
ajv.addSchema(spec, 'openapi');
const cache = new Map<string, ValidateFunction | string>();

type ResponseObject = { content?: Record<string, { schema?: unknown }> };

function resolve(ref: string): ResponseObject | undefined {
  let node: unknown = spec;
  for (const part of ref.replace(/^#\//, '').split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return node as ResponseObject | undefined;
}

const escape = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function validatorFor(method: string, route: string | undefined, status: number): ValidateFunction | string {
  const key = `${method} ${route ?? '*'} ${status}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let result: ValidateFunction | string;
  if (route === undefined) {
    result = ajv.compile({ $ref: 'openapi#/components/schemas/Error' });
  } else {
    const path = route.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
    const op = spec.paths[path]?.[method.toLowerCase()];
    if (!op) {
      result = `route ${method} ${path} is not in openapi.yaml`;
    } else {
      const code = op.responses?.[String(status)]
        ? String(status)
        : op.responses?.[`${String(status)[0]}XX`]
          ? `${String(status)[0]}XX`
          : op.responses?.default
            ? 'default'
            : undefined;
      let pointer = code ? `#/paths/${escape(path)}/${method.toLowerCase()}/responses/${code}` : undefined;
      let response = code ? op.responses?.[code] : undefined;
      if (response?.$ref) {
        pointer = response.$ref;
        response = resolve(response.$ref);
      }
      if (!code || !pointer) result = `status ${status} of ${method} ${path} is not in openapi.yaml`;
      else if (!response?.content?.['application/json']?.schema)
        result = `status ${status} of ${method} ${path} has no application/json schema`;
      else result = ajv.compile({ $ref: `openapi${pointer}/content/application~1json/schema` });
    }
  }
  cache.set(key, result);
  return result;
}

/** Checks one JSON response against openapi/openapi.yaml; returns what is wrong, or undefined. */
export function checkResponse(entry: {
  method: string;
  route: string | undefined;
  status: number;
  body: unknown;
}): ContractViolation | undefined {
  const v = validatorFor(entry.method, entry.route, entry.status);
  const base = {
    method: entry.method,
    route: entry.route ?? '(no route)',
    status: entry.status,
    body: entry.body,
  };
  if (typeof v === 'string') return { ...base, problem: v };
  if (v(JSON.parse(JSON.stringify(entry.body)))) return undefined;
  return { ...base, problem: ajv.errorsText(v.errors) };
}
