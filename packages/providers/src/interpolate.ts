import { InterpolationError } from './errors.js';

/**
 * Values a template can refer to. `${connectionConfig.a.b}` and `${credentials.x}` walk the
 * objects; `${apiKey}` falls back to `credentials.apiKey` and `${accessToken}` to
 * `credentials.access_token`; any other `${name.path}` reads the same-named entry.
 */
export interface InterpolationContext {
  connectionConfig?: Readonly<Record<string, unknown>>;
  credentials?: Readonly<Record<string, unknown>>;
  apiKey?: string;
  accessToken?: string;
  readonly [name: string]: unknown;
}

type Functions = Record<string, (argument: string) => string>;

/** Functions callable as `${name(...)}`; their argument is itself a template. */
const functions: Functions = {
  base64: (argument) => Buffer.from(argument, 'utf8').toString('base64'),
};

/** The outcome of interpolating a template: the text, or the placeholders that had no value. */
type Outcome = { ok: true; value: string } | { ok: false; missing: string[] };

/**
 * Interpolates a template, trying each `||` alternative from left to right and returning the first
 * that fully resolves.
 *
 * @param template - Text with `${…}` placeholders, e.g. `https://${connectionConfig.subdomain}.zendesk.com`.
 * @param context - The values placeholders refer to.
 * @returns The interpolated text, or `undefined` when no alternative fully resolves.
 */
export function tryInterpolate(template: string, context: InterpolationContext): string | undefined {
  const outcome = interpolateAlternatives(template, context);
  return outcome.ok ? outcome.value : undefined;
}

/**
 * Interpolates a template like {@link tryInterpolate}, but throws when it cannot.
 *
 * @param template - Text with `${…}` placeholders and optional `A || B` alternatives.
 * @param context - The values placeholders refer to.
 * @returns The interpolated text.
 * @throws {InterpolationError} `missing_interpolation_value`, naming the placeholders without a value
 *   (never their values), or `invalid_template` for an unclosed `${` or an unknown function.
 */
export function interpolateString(template: string, context: InterpolationContext): string {
  const outcome = interpolateAlternatives(template, context);
  if (!outcome.ok) {
    throw new InterpolationError(
      'missing_interpolation_value',
      `No value for ${outcome.missing.map((name) => `\${${name}}`).join(', ')}`,
    );
  }
  return outcome.value;
}

/**
 * Interpolates every value of a map (proxy `headers` or `query`), dropping the entries whose
 * placeholders do not resolve, so that an optional header is simply left out.
 *
 * @param values - Map of name to template; `undefined` gives an empty map.
 * @param context - The values placeholders refer to.
 * @returns A new map with the entries that resolved.
 * @throws {InterpolationError} `invalid_template` for a malformed template.
 */
export function interpolateObject(
  values: Readonly<Record<string, string>> | undefined,
  context: InterpolationContext,
): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [name, template] of Object.entries(values ?? {})) {
    const value = tryInterpolate(template, context);
    if (value !== undefined) result[name] = value;
  }
  return result;
}

/**
 * Lists the placeholder expressions of a template, outermost first, e.g. `connectionConfig.subdomain`
 * or `base64(${credentials.username}:${credentials.password})` and then its inner placeholders.
 *
 * @param template - Text with `${…}` placeholders.
 * @returns The expressions, in order of appearance.
 * @throws {InterpolationError} `invalid_template` for an unclosed `${`.
 */
export function placeholdersOf(template: string): string[] {
  const found: string[] = [];
  for (const part of scan(template)) {
    if (part.kind === 'placeholder') {
      found.push(part.expression);
      const call = /^(\w+)\(([\s\S]*)\)$/.exec(part.expression);
      if (call?.[2] !== undefined) found.push(...placeholdersOf(call[2]));
    }
  }
  return found;
}

function interpolateAlternatives(template: string, context: InterpolationContext): Outcome {
  const missing: string[] = [];
  for (const alternative of splitAlternatives(template)) {
    const outcome = interpolateOne(alternative.trim(), context);
    if (outcome.ok) return outcome;
    missing.push(...outcome.missing);
  }
  return { ok: false, missing };
}

function interpolateOne(template: string, context: InterpolationContext): Outcome {
  let value = '';
  const missing: string[] = [];
  for (const part of scan(template)) {
    if (part.kind === 'text') {
      value += part.text;
      continue;
    }
    const outcome = evaluate(part.expression.trim(), context);
    if (outcome.ok) value += outcome.value;
    else missing.push(...outcome.missing);
  }
  return missing.length === 0 ? { ok: true, value } : { ok: false, missing };
}

function evaluate(expression: string, context: InterpolationContext): Outcome {
  const call = /^(\w+)\(([\s\S]*)\)$/.exec(expression);
  if (call) {
    const [, name = '', argument = ''] = call;
    const fn = Object.hasOwn(functions, name) ? functions[name] : undefined;
    if (!fn)
      throw new InterpolationError('invalid_template', `Unknown function ${name}() in \${${expression}}`);
    const inner = interpolateOne(argument, context);
    return inner.ok ? { ok: true, value: fn(inner.value) } : inner;
  }
  const value = lookup(expression, context);
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    return { ok: true, value: String(value) };
  }
  return { ok: false, missing: [expression] };
}

function lookup(path: string, context: InterpolationContext): unknown {
  const direct = walk(context, path.split('.'));
  if (direct !== undefined) return direct;
  if (path === 'apiKey') return walk(context, ['credentials', 'apiKey']);
  if (path === 'accessToken') return walk(context, ['credentials', 'access_token']);
  return undefined;
}

function walk(root: unknown, keys: readonly string[]): unknown {
  let current = root;
  for (const key of keys) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

type Part = { kind: 'text'; text: string } | { kind: 'placeholder'; expression: string };

/** Splits a template into text and `${…}` parts, matching nested braces. */
function scan(template: string): Part[] {
  const parts: Part[] = [];
  let index = 0;
  while (index < template.length) {
    const start = template.indexOf('${', index);
    if (start === -1) {
      parts.push({ kind: 'text', text: template.slice(index) });
      break;
    }
    if (start > index) parts.push({ kind: 'text', text: template.slice(index, start) });
    const end = closingBrace(template, start + 2);
    parts.push({ kind: 'placeholder', expression: template.slice(start + 2, end) });
    index = end + 1;
  }
  return parts;
}

function closingBrace(template: string, from: number): number {
  let depth = 1;
  for (let index = from; index < template.length; index += 1) {
    const char = template[index];
    if (char === '{') depth += 1;
    else if (char === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  throw new InterpolationError('invalid_template', `Unclosed \${ in template "${template}"`);
}

/** Splits on `||` outside placeholders. */
function splitAlternatives(template: string): string[] {
  const alternatives: string[] = [];
  let depth = 0;
  let start = 0;
  for (let index = 0; index < template.length; index += 1) {
    const char = template[index];
    if (char === '{') depth += 1;
    else if (char === '}') depth = Math.max(0, depth - 1);
    else if (depth === 0 && char === '|' && template[index + 1] === '|') {
      alternatives.push(template.slice(start, index));
      start = index + 2;
      index += 1;
    }
  }
  alternatives.push(template.slice(start));
  return alternatives;
}
