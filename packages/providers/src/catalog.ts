import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { builtinYamlUrl, parseYaml, readBuiltin } from './builtin.js';
import { ProviderCatalogError, type ProviderCatalogErrorCode, type ProviderIssue } from './errors.js';
import { deepFreeze, isPlainObject, mergeEntry, withoutNulls } from './merge.js';
import { providerEntrySchema, providerSchema, type NamedProvider, type Provider } from './schema.js';

/** Where {@link loadProviders} takes operator additions and overrides from. */
export interface LoadProvidersOptions {
  /**
   * A YAML file shaped like `providers.yaml` (a map of provider name to entry), e.g. the path in
   * `FERRY_PROVIDERS_FILE`. Each entry is deep-merged over the built-in one of the same name (maps merge,
   * lists and scalars replace, `null` deletes a field; a top-level `null` removes the provider); new
   * names add providers.
   */
  overridesFile?: string | URL;
  /** The same as `overridesFile`, already parsed. Applied after the file when both are given. */
  overrides?: unknown;
}

/** The loaded providers: a frozen, read-only map from provider name to its alias-resolved entry. */
export interface ProviderCatalog extends ReadonlyMap<string, Provider> {
  /** The provider named `name` (its catalog key, e.g. `google-calendar`), or `undefined`. */
  get(name: string): Provider | undefined;
  /** Every provider with its name, sorted by name. The array and its items are frozen. */
  list(): readonly NamedProvider[];
}

const namePattern = /^[a-z0-9][a-z0-9._-]*$/;

let builtinRaw: Record<string, unknown> | undefined;
let builtinCatalog: ProviderCatalog | undefined;

/**
 * Loads the built-in catalog (parsed and checked once per process, then cached) and applies an
 * operator's overrides, checking every resulting entry against the schema.
 *
 * @param options - Optional overrides, as a file path or as parsed YAML.
 * @returns A frozen catalog; without overrides the same cached instance every time.
 * @throws {ProviderCatalogError} `invalid_providers_file` when the overrides file cannot be read or
 *   parsed, `invalid_provider` when an entry breaks the schema, `invalid_alias` when an alias is
 *   unknown or circular. The message lists every issue as `provider.field: problem`.
 * @throws {TypeError} When `options` is not an object or `overridesFile` is not a string or URL.
 */
export function loadProviders(options: LoadProvidersOptions = {}): ProviderCatalog {
  checkOptions(options);
  builtinRaw ??= readYaml(builtinYamlUrl, 'the built-in providers.yaml', readBuiltin);
  if (options.overridesFile === undefined && options.overrides === undefined) {
    builtinCatalog ??= buildCatalog(builtinRaw, 'the built-in providers.yaml');
    return builtinCatalog;
  }
  let raw = builtinRaw;
  let source = 'provider overrides';
  if (options.overridesFile !== undefined) {
    source = String(options.overridesFile);
    raw = applyOverrides(raw, readYaml(options.overridesFile, source), source);
  }
  if (options.overrides !== undefined) raw = applyOverrides(raw, options.overrides, source);
  return buildCatalog(raw, source);
}

function checkOptions(options: unknown): asserts options is LoadProvidersOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('loadProviders(options): options must be an object such as { overridesFile }');
  }
  const file = (options as LoadProvidersOptions).overridesFile;
  if (file !== undefined && typeof file !== 'string' && !(file instanceof URL)) {
    throw new TypeError('loadProviders(options): overridesFile must be a path string or a file URL');
  }
}

function readYaml(
  file: string | URL,
  source: string,
  parse: (text: string) => unknown = parseYaml,
): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw fileError(`cannot be read (${(cause as NodeJS.ErrnoException).code ?? 'error'})`, source, cause);
  }
  let parsed: unknown;
  try {
    parsed = parse(text);
  } catch (cause) {
    throw fileError(`is not valid YAML: ${(cause as Error).message}`, source, cause);
  }
  return parsed === null || parsed === undefined ? {} : asProviderMap(parsed, source);
}

function asProviderMap(value: unknown, source: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw fileError('must be a map of provider name to provider entry', source);
  return value;
}

function fileError(problem: string, source: string, cause?: unknown): ProviderCatalogError {
  return new ProviderCatalogError(
    'invalid_providers_file',
    [{ provider: '(file)', path: '', message: `${source} ${problem}` }],
    {
      source,
      cause,
    },
  );
}

function applyOverrides(
  base: Record<string, unknown>,
  overrides: unknown,
  source: string,
): Record<string, unknown> {
  const result: Record<string, unknown> = { ...base };
  for (const [name, entry] of Object.entries(asProviderMap(overrides, source))) {
    if (entry === null) delete result[name];
    else result[name] = Object.hasOwn(base, name) ? mergeEntry(base[name], entry) : entry;
  }
  return result;
}

type Issue = ProviderIssue & { code: ProviderCatalogErrorCode };

function buildCatalog(raw: Record<string, unknown>, source: string): ProviderCatalog {
  const issues: Issue[] = [];
  for (const [name, entry] of Object.entries(raw)) {
    if (!namePattern.test(name)) {
      issues.push({
        code: 'invalid_provider',
        provider: name,
        path: '',
        message: 'names use lowercase letters, digits, ".", "_" and "-"',
      });
    }
    const checked = providerEntrySchema.safeParse(withoutNulls(entry));
    if (!checked.success) issues.push(...zodIssues(name, checked.error));
  }
  const providers = new Map<string, Provider>();
  if (issues.length === 0) {
    for (const name of Object.keys(raw).sort()) {
      const resolved = resolveAlias(raw, name, [], issues);
      if (resolved === undefined) continue;
      const checked = providerSchema.safeParse(resolved);
      if (checked.success) providers.set(name, deepFreeze(checked.data));
      else issues.push(...zodIssues(name, checked.error));
    }
  }
  const first = issues[0];
  if (first) {
    throw new ProviderCatalogError(
      first.code,
      issues.map(({ provider, path, message }) => ({ provider, path, message })),
      { source },
    );
  }
  return new Catalog(providers);
}

function resolveAlias(
  raw: Record<string, unknown>,
  name: string,
  seen: string[],
  issues: Issue[],
): Record<string, unknown> | undefined {
  const entry = raw[name] as Record<string, unknown>;
  const alias = entry['alias'];
  if (typeof alias !== 'string') return entry;
  const chain = [...seen, name];
  if (chain.includes(alias)) {
    issues.push({
      code: 'invalid_alias',
      provider: chain[0] ?? name,
      path: 'alias',
      message: `circular alias: ${[...chain, alias].join(' -> ')}`,
    });
    return undefined;
  }
  if (!Object.hasOwn(raw, alias)) {
    issues.push({
      code: 'invalid_alias',
      provider: name,
      path: 'alias',
      message: `unknown provider "${alias}"`,
    });
    return undefined;
  }
  const base = resolveAlias(raw, alias, chain, issues);
  if (base === undefined) return undefined;
  return { ...(mergeEntry(base, entry) as Record<string, unknown>), alias };
}

function zodIssues(provider: string, error: z.ZodError): Issue[] {
  return error.issues.map((issue) => ({
    code: 'invalid_provider',
    provider,
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

class Catalog implements ProviderCatalog {
  readonly #providers: ReadonlyMap<string, Provider>;
  readonly #list: readonly NamedProvider[];

  constructor(providers: Map<string, Provider>) {
    this.#providers = providers;
    this.#list = Object.freeze(
      [...providers].map(([name, provider]) => Object.freeze({ name, ...provider })),
    );
    Object.freeze(this);
  }

  get size(): number {
    return this.#providers.size;
  }
  get(name: string): Provider | undefined {
    return this.#providers.get(name);
  }
  has(name: string): boolean {
    return this.#providers.has(name);
  }
  list(): readonly NamedProvider[] {
    return this.#list;
  }
  keys(): MapIterator<string> {
    return this.#providers.keys();
  }
  values(): MapIterator<Provider> {
    return this.#providers.values();
  }
  entries(): MapIterator<[string, Provider]> {
    return this.#providers.entries();
  }
  forEach(
    callback: (value: Provider, key: string, map: ReadonlyMap<string, Provider>) => void,
    thisArg?: unknown,
  ): void {
    this.#providers.forEach((value, key) => callback.call(thisArg, value, key, this));
  }
  [Symbol.iterator](): MapIterator<[string, Provider]> {
    return this.#providers.entries();
  }
}
