import ivm from 'isolated-vm';
import { compileEntry, type CodeEntry, type CompileCounts } from './codeCache.js';
import { SANDBOX_FILENAME } from './sandboxBundle.js';

const SCRIPTS_PER_ISOLATE = 32;
const TRIM_AFTER_MS = 30_000;

/** One warm isolate with its compiled sandbox and its most recently used scripts. */
export class PooledIsolate {
  runs = 0;
  private readonly scripts = new Map<string, ivm.Script>();
  private constructor(
    readonly isolate: ivm.Isolate,
    readonly sandbox: ivm.Script,
    readonly fence: ivm.Script,
  ) {}

  /** Creates an isolate and compiles the sandbox into it (from V8's code cache after the first). */
  static async create(memoryLimitMb: number, sandbox: CodeEntry): Promise<PooledIsolate> {
    const isolate = new ivm.Isolate({ memoryLimit: memoryLimitMb });
    try {
      const origin = { filename: SANDBOX_FILENAME };
      let script: ivm.Script & { cachedData?: ivm.ExternalCopy<ArrayBuffer> };
      if (sandbox.cachedData) {
        script = await isolate.compileScript(sandbox.wrapped, { ...origin, cachedData: sandbox.cachedData });
      } else {
        script = await isolate.compileScript(sandbox.wrapped, { ...origin, produceCachedData: true });
        sandbox.cachedData = script.cachedData;
      }
      return new PooledIsolate(isolate, script, await isolate.compileScript('0'));
    } catch (error) {
      if (!isolate.isDisposed) isolate.dispose();
      throw error;
    }
  }

  /** The compiled script of `entry` in this isolate (kept for the 32 most recent scripts). */
  async script(entry: CodeEntry, counts: CompileCounts): Promise<ivm.Script> {
    let script = this.scripts.get(entry.hash);
    if (script) {
      counts.reused++;
      this.scripts.delete(entry.hash);
    } else {
      script = await compileEntry(this.isolate, entry, counts);
      if (this.scripts.size >= SCRIPTS_PER_ISOLATE) {
        const [oldest, old] = this.scripts.entries().next().value as [string, ivm.Script];
        old.release();
        this.scripts.delete(oldest);
      }
    }
    this.scripts.set(entry.hash, script);
    return script;
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/** Options of {@link IsolatePool}. */
export interface PoolOptions {
  memoryLimitMb: number;
  /** Idle isolates kept warm for good. */
  size: number;
  /** Idle isolates kept for a while after a burst (trimmed back to `size` once idle for 30 s). */
  maxIdle: number;
  /** Isolates in use at once; more callers wait. */
  max: number;
  maxRunsPerIsolate: number;
}

/**
 * Hands out one isolate per run: a warm idle one when there is one, a new one otherwise, up to `max`
 * at once (then callers queue). Isolates come back clean (reused) or dirty (disposed and replaced).
 */
export class IsolatePool {
  private readonly idle: PooledIsolate[] = [];
  private readonly waiting: (() => void)[] = [];
  private readonly warmed: (() => void)[] = [];
  private busy = 0;
  private warming = 0;
  private disposed = false;
  private trim: NodeJS.Timeout | undefined;
  replaced = 0;

  constructor(
    private readonly options: PoolOptions,
    private readonly sandbox: Promise<CodeEntry>,
  ) {}

  /** Creates isolates in the background until `size` are idle. */
  warm(): void {
    while (!this.disposed && this.idle.length + this.warming < this.options.size) {
      this.warming++;
      this.sandbox
        .then((entry) => PooledIsolate.create(this.options.memoryLimitMb, entry))
        .then(
          (pooled) => {
            if (this.disposed || this.idle.length >= this.options.maxIdle) pooled.dispose();
            else this.idle.push(pooled);
          },
          () => undefined,
        )
        .finally(() => {
          this.warming--;
          for (const wake of this.warmed.splice(0)) wake();
        });
    }
  }

  /** Waits for a slot and returns an isolate for one run (one being warmed up, if no idle one). */
  async acquire(): Promise<PooledIsolate> {
    while (this.busy >= this.options.max) await new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.disposed) throw new TypeError('The runtime is disposed');
    this.busy++;
    try {
      if (this.idle.length === 0 && this.warming > 0)
        await new Promise<void>((resolve) => this.warmed.push(resolve));
      return this.idle.pop() ?? (await PooledIsolate.create(this.options.memoryLimitMb, await this.sandbox));
    } catch (error) {
      this.leave();
      throw error;
    }
  }

  /** Gives an isolate back: kept warm when `clean`, disposed (and replaced in the background) otherwise. */
  release(pooled: PooledIsolate, clean: boolean): void {
    pooled.runs++;
    const keep =
      clean && !this.disposed && !pooled.isolate.isDisposed && pooled.runs < this.options.maxRunsPerIsolate;
    if (keep && this.idle.length < this.options.maxIdle) {
      this.idle.push(pooled);
      if (this.idle.length > this.options.size) this.scheduleTrim();
    } else {
      if (!clean) this.replaced++;
      pooled.dispose();
      this.warm();
    }
    this.leave();
  }

  // Creating and disposing isolates under load fragments the heap (RSS grows), so a burst's isolates
  // are kept, and only trimmed once the pool has had more idle isolates than `size` for 30 s.
  private scheduleTrim(): void {
    this.trim ??= setTimeout(() => {
      this.trim = undefined;
      while (this.idle.length > this.options.size) this.idle.shift()?.dispose();
    }, TRIM_AFTER_MS).unref();
  }

  private leave(): void {
    this.busy--;
    this.waiting.shift()?.();
  }

  stats(): { idle: number; busy: number; queued: number; idleHeapBytes: number } {
    let idleHeapBytes = 0;
    for (const pooled of this.idle) idleHeapBytes += pooled.isolate.getHeapStatisticsSync().used_heap_size;
    return { idle: this.idle.length, busy: this.busy, queued: this.waiting.length, idleHeapBytes };
  }

  /** Disposes the idle isolates; busy ones are disposed by their runs. */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.trim);
    for (const pooled of this.idle.splice(0)) pooled.dispose();
    for (const wake of this.waiting.splice(0)) wake();
  }
}
