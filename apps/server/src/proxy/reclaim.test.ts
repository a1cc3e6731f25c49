import { once } from 'node:events';
import { runInNewContext } from 'node:vm';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { collector, StreamReclaimer, type Collect } from './reclaim.js';

// Taken before anything here asks for V8's gc.
const gcBefore = Object.getOwnPropertyDescriptor(globalThis, 'gc');

/** A reclaimer over a fake collector that counts its calls and the options it was given. */
function counting(everyBytes: number) {
  const calls: Parameters<Collect>[0][] = [];
  let fetched = 0;
  const reclaimer = new StreamReclaimer(everyBytes, () => {
    fetched += 1;
    return (options) => calls.push(options);
  });
  return { reclaimer, calls, fetched: () => fetched };
}

describe('StreamReclaimer', () => {
  const cases: { name: string; every: number; chunks: number[]; want: number }[] = [
    { name: 'below the threshold', every: 10, chunks: [3, 3, 3], want: 0 },
    { name: 'reaching it exactly', every: 10, chunks: [3, 3, 3, 1], want: 1 },
    { name: 'once per threshold', every: 10, chunks: [10, 10, 10], want: 3 },
    { name: 'a chunk larger than the threshold counts once', every: 10, chunks: [25], want: 1 },
    { name: 'the count restarts after a collection', every: 10, chunks: [25, 5], want: 1 },
    { name: 'many small chunks', every: 64, chunks: Array<number>(1000).fill(16), want: 250 },
    {
      name: '8 MB in 64 KB chunks over 100 MB',
      every: 8 << 20,
      chunks: Array<number>(1600).fill(65536),
      want: 12,
    },
    { name: 'off (0)', every: 0, chunks: [1 << 30, 1 << 30], want: 0 },
    { name: 'off (negative)', every: -1, chunks: [1 << 30], want: 0 },
  ];
  it.each(cases)('$name: $want collection(s)', ({ every, chunks, want }) => {
    const { reclaimer, calls } = counting(every);
    for (const n of chunks) reclaimer.add(n);
    expect(calls).toHaveLength(want);
    for (const options of calls) expect(options).toEqual({ type: 'minor', execution: 'async' });
  });

  it('never asks for the collector when it is off', () => {
    const { reclaimer, fetched } = counting(0);
    reclaimer.add(1 << 30);
    expect(fetched()).toBe(0);
  });

  it('streams on when V8 gives no collector', () => {
    const reclaimer = new StreamReclaimer(10, () => null);
    expect(() => {
      for (let i = 0; i < 10; i++) reclaimer.add(10);
    }).not.toThrow();
  });
});

describe('collector', () => {
  it("returns V8's gc, once, and it can be called the way the reclaimer calls it", () => {
    const collect = collector();
    expect(typeof collect).toBe('function');
    expect(collector()).toBe(collect);
    expect(() => collect?.({ type: 'minor', execution: 'async' })).not.toThrow();
    // The real one, through the default factory.
    expect(() => new StreamReclaimer(1).add(1)).not.toThrow();
  });

  it('leaves no gc global behind: not here, not in a new vm context, not in a new worker', async () => {
    expect(collector()).not.toBeNull();
    expect(Object.getOwnPropertyDescriptor(globalThis, 'gc')).toEqual(gcBefore);
    expect(runInNewContext('typeof gc')).toBe('undefined');
    expect(runInNewContext('typeof globalThis.gc')).toBe('undefined');
    const worker = new Worker('require("node:worker_threads").parentPort.postMessage(typeof gc)', {
      eval: true,
    });
    const [seen] = (await once(worker, 'message')) as [string];
    await worker.terminate();
    expect(seen).toBe('undefined');
  });
});
