import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import {
  builtinSnapshotUrl,
  builtinYamlUrl,
  digest,
  parseYaml,
  readBuiltin,
  type Snapshot,
} from './builtin.js';

describe('the built-in snapshot', () => {
  const yamlText = readFileSync(builtinYamlUrl, 'utf8');

  test('matches providers.yaml (run `pnpm --filter @ferry/providers snapshot` after editing it)', () => {
    const snapshot = JSON.parse(readFileSync(builtinSnapshotUrl, 'utf8')) as Snapshot;
    expect(snapshot.sha256).toBe(digest(yamlText));
    expect(snapshot.providers).toEqual(parseYaml(yamlText));
  });

  test('is bypassed when the YAML no longer matches it', () => {
    const edited = `${yamlText}\nextra-provider:\n  alias: github\n`;
    expect(readBuiltin(edited)).toHaveProperty('extra-provider.alias', 'github');
  });
});
