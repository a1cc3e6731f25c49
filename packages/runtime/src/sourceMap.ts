import { originalPositionFor, TraceMap } from '@jridgewell/trace-mapping';
import { SCRIPT_FILENAME } from './codeCache.js';
import { SANDBOX_FILENAME } from './sandboxBundle.js';

const INLINE =
  /\/\/# sourceMappingURL=data:application\/json;(?:charset=[^;,]+;)?base64,([A-Za-z0-9+/=]+)\s*$/;
const maps = new Map<string, TraceMap | null>();

/** Reads the inline source map at the end of `code` (cached by `hash`); null when it has none. */
export function inlineSourceMap(hash: string, code: string): TraceMap | null {
  let map = maps.get(hash);
  if (map === undefined) {
    const match = INLINE.exec(code.slice(-Math.min(code.length, 4 * 1024 * 1024)));
    try {
      map = match?.[1] ? new TraceMap(Buffer.from(match[1], 'base64').toString('utf8')) : null;
    } catch {
      map = null;
    }
    if (maps.size >= 32) maps.delete(maps.keys().next().value as string);
    maps.set(hash, map);
  }
  return map;
}

const FRAME = new RegExp(`(\\(|at )${SCRIPT_FILENAME.replace('.', '\\.')}:(\\d+):(\\d+)(\\)?)$`);

/**
 * Rewrites the frames of a script's stack to its original sources (`at fn (src/syncs/issues.ts:12:7)`)
 * and drops the sandbox's own frames. Frames without a mapping are kept as they are.
 */
export function mapStack(stack: string, map: TraceMap | null): string {
  const out: string[] = [];
  for (const line of stack.split('\n')) {
    if (line.includes('<isolated-vm boundary>')) break;
    if (line.includes(SANDBOX_FILENAME)) continue;
    const match = map ? FRAME.exec(line) : null;
    if (!map || !match) {
      out.push(line);
      continue;
    }
    const pos = originalPositionFor(map, { line: Number(match[2]), column: Number(match[3]) - 1 });
    if (pos.source === null || pos.line === null) {
      out.push(line);
      continue;
    }
    const where = `${pos.source}:${pos.line}:${pos.column + 1}`;
    const name = pos.name && !line.includes(' (') ? `${pos.name} (${where})` : where;
    out.push(line.slice(0, match.index) + (match[1] === '(' ? `(${where})` : `at ${name}`));
  }
  return out.join('\n');
}
