import { createHash } from 'node:crypto';
import ivm from 'isolated-vm';

/** What is kept per distinct script: V8's code cache, shared by every isolate. */
export interface CodeEntry {
  hash: string;
  /** The bundle wrapped as a CommonJS function expression. */
  wrapped: string;
  cachedData?: ivm.ExternalCopy<ArrayBuffer>;
}

// isolated-vm sets these on the compiled script object (its typings leave them out).
type CompiledScript = ivm.Script & {
  cachedData?: ivm.ExternalCopy<ArrayBuffer>;
  cachedDataRejected?: boolean;
};

/** Line 1 of the wrapped source is the wrapper; the bundle starts on line 2, compiled at line offset -1. */
export const WRAPPER_LINE_OFFSET = -1;
/** The file name scripts are compiled under (as it appears in their stack frames). */
export const SCRIPT_FILENAME = 'script.js';

/**
 * An LRU of compiled-code caches keyed by the sha256 of the bundle, so a script is parsed from source
 * once per process and every isolate after the first compiles it from V8's code cache.
 */
export class CodeCache {
  /** How scripts were obtained: compiled from source, from V8's code cache, or reused compiled. */
  readonly counts: CompileCounts = { fromSource: 0, fromCodeCache: 0, reused: 0 };
  private readonly entries = new Map<string, CodeEntry>();
  constructor(private readonly capacity = 256) {}

  /** The entry of `code`, created (without cached data yet) on first sight. */
  get(code: string): CodeEntry {
    const hash = createHash('sha256').update(code).digest('hex');
    let entry = this.entries.get(hash);
    if (entry) {
      this.entries.delete(hash);
    } else {
      entry = { hash, wrapped: `(function (exports, require, module, __filename, __dirname) {\n${code}\n})` };
      if (this.entries.size >= this.capacity) {
        const oldest = this.entries.keys().next().value as string;
        this.entries.get(oldest)?.cachedData?.release();
        this.entries.delete(oldest);
      }
    }
    this.entries.set(hash, entry);
    return entry;
  }

  /** Releases every cached buffer. */
  clear(): void {
    for (const entry of this.entries.values()) entry.cachedData?.release();
    this.entries.clear();
  }
}

/** Counters of {@link compileEntry} and of compiled scripts reused by an isolate. */
export interface CompileCounts {
  fromSource: number;
  fromCodeCache: number;
  reused: number;
}

/**
 * Compiles `entry` in `isolate`, from V8's code cache when one exists, producing it otherwise.
 * @throws the V8 SyntaxError when the bundle does not parse
 */
export async function compileEntry(
  isolate: ivm.Isolate,
  entry: CodeEntry,
  counts: CompileCounts,
): Promise<ivm.Script> {
  const origin = { filename: SCRIPT_FILENAME, lineOffset: WRAPPER_LINE_OFFSET };
  if (entry.cachedData) {
    const script = await isolate.compileScript(entry.wrapped, { ...origin, cachedData: entry.cachedData });
    if (!(script as CompiledScript).cachedDataRejected) {
      counts.fromCodeCache++;
      return script;
    }
    script.release();
  }
  const script: CompiledScript = await isolate.compileScript(entry.wrapped, {
    ...origin,
    produceCachedData: true,
  });
  counts.fromSource++;
  if (script.cachedData) {
    entry.cachedData?.release();
    entry.cachedData = script.cachedData;
  }
  return script;
}
