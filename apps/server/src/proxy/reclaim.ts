import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** V8's `gc` as the reclaimer calls it. */
export type Collect = (options: { type: 'minor'; execution: 'async' }) => void;

let collect: Collect | null | undefined;

/**
 * V8's `gc` function, fetched once without `--expose-gc` on the command line: the flag is set just long
 * enough to create one context that has it, then cleared, so no later context gets a `gc` global (not the
 * server's, not a sandbox's). Null where V8 refuses.
 */
export function collector(): Collect | null {
  if (collect === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      collect = runInNewContext('gc') as Collect;
    } catch {
      collect = null;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  return collect;
}

/**
 * Keeps the proxy's memory flat while bodies stream through it. Each chunk is a fresh buffer (one per socket
 * read) that is garbage once written on, but V8 frees such buffers only when it collects — and a fast stream
 * allocates little on the JavaScript heap, so collections hardly come: a 100 MB download used to leave 20–35 MB
 * of dead buffers behind. Counting the bytes that stream through and asking for a young-generation
 * collection (a scavenge, about a millisecond, run as a task) every `everyBytes` bounds that to about `everyBytes`.
 */
export class StreamReclaimer {
  readonly #every: number;
  readonly #collect: () => Collect | null;
  #pending = 0;

  /**
   * @param everyBytes - Bytes streamed between collections; 0 turns the reclaimer off.
   * @param collect - Where the collection function comes from (tests count the calls).
   */
  constructor(everyBytes: number, collect: () => Collect | null = collector) {
    this.#every = everyBytes;
    this.#collect = collect;
  }

  /** Counts `bytes` that streamed through. */
  add(bytes: number): void {
    if (this.#every <= 0) return;
    this.#pending += bytes;
    if (this.#pending < this.#every) return;
    this.#pending = 0;
    this.#collect()?.({ type: 'minor', execution: 'async' });
  }
}
