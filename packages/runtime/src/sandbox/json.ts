/**
 * JSON helpers of the isolate boundary, written with no method a script could patch (string indexing
 * and primordials captured when the sandbox loads), so a script cannot fool them. Shared by the sandbox
 * and the host.
 */

const { apply } = Reflect;
// eslint-disable-next-line @typescript-eslint/unbound-method -- a primordial, only called through apply
const { slice } = String.prototype;

/**
 * Tells whether JSON text nests objects and arrays deeper than `max`: one pass over the text, which is
 * exactly what crosses the boundary (no getter runs twice).
 * @param json - JSON text
 * @param max - the deepest nesting allowed
 */
export function jsonDeeperThan(json: string, max: number): boolean {
  const n = json.length;
  // Each level takes two characters.
  if (n < 2 * (max + 1)) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < n; i++) {
    const c = json[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (++depth > max) return true;
    } else if (c === '}' || c === ']') depth--;
  }
  return false;
}

/**
 * Cuts `text` to `max` UTF-16 code units, marking the cut.
 * @param text - any string
 * @param max - the longest text kept
 */
export function clip(text: string, max: number): string {
  return text.length > max ? apply(slice, text, [0, max]) + '… [truncated]' : text;
}

/** Why `JSON.stringify` refused a value, in a few words. */
export function jsonRefusal(error: unknown): string {
  const message = error instanceof Error ? String(error.message) : String(error);
  if (error instanceof TypeError && /circular/i.test(message)) return 'it holds a cycle';
  if (error instanceof TypeError && /BigInt/.test(message)) return 'a bigint is not JSON data';
  if (error instanceof RangeError && /call stack/.test(message)) return 'it is nested too deeply';
  return clip(message, 200);
}
