// Writes providers.snapshot.json: providers.yaml parsed, with the SHA-256 of its text, so that the
// server starts without parsing 100 kB of YAML. Run `pnpm --filter @ferry/providers snapshot` after
// editing providers.yaml; a test fails while the snapshot is stale (the loader then parses the YAML).
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { parse } from 'yaml';

const text = readFileSync(new URL('../providers.yaml', import.meta.url), 'utf8');
const sha256 = createHash('sha256').update(text).digest('hex');
const snapshot = { sha256, providers: parse(text) };
writeFileSync(new URL('../providers.snapshot.json', import.meta.url), `${JSON.stringify(snapshot)}\n`);
