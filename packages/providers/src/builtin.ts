import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The built-in catalog, the source of truth (shipped in the package). */
export const builtinYamlUrl = new URL('../providers.yaml', import.meta.url);
/** `providers.yaml` already parsed, with the digest of the text it came from (see `pnpm run snapshot`). */
export const builtinSnapshotUrl = new URL('../providers.snapshot.json', import.meta.url);

/** The shape of `providers.snapshot.json`. */
export interface Snapshot {
  sha256: string;
  providers: Record<string, unknown>;
}

/** The hex SHA-256 of a text, used to tell whether the snapshot still matches the YAML. */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Parses YAML with the `yaml` package, loaded on first use: the common start-up path reads the JSON
 * snapshot instead, and parsing 100 kB of YAML costs ~10× more than the rest of the load.
 */
export function parseYaml(text: string): unknown {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule.parse(text);
}

let yamlModule: typeof import('yaml') | undefined;

/**
 * Reads the raw built-in catalog: from the snapshot when its digest matches `providers.yaml`,
 * otherwise (an edited YAML, a stale or missing snapshot) by parsing the YAML itself.
 *
 * @param yamlText - The content of `providers.yaml`.
 * @returns The parsed YAML document (not yet checked by the schema).
 */
export function readBuiltin(yamlText: string): unknown {
  try {
    const snapshot = JSON.parse(readFileSync(builtinSnapshotUrl, 'utf8')) as Snapshot;
    if (snapshot.sha256 === digest(yamlText)) return snapshot.providers;
  } catch {
    // No usable snapshot: fall through to the YAML.
  }
  return parseYaml(yamlText);
}
