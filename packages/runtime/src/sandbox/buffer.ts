import type { Buffer as NodeBuffer } from 'node:buffer';

type BufferClass = typeof NodeBuffer;
let cached: BufferClass | undefined;

/** The `buffer` package's Buffer, evaluated on first use only (most runs never touch it). */
export function loadBuffer(): BufferClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  cached ??= (require('buffer') as { Buffer: BufferClass }).Buffer;
  return cached;
}
