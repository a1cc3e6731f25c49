import type { Bridge } from './bridge.js';

type Callback = (...args: unknown[]) => void;

/**
 * setTimeout / setInterval driven by the host's clock (each pending timer is one waiting host call,
 * bounded by `maxTimers`). A callback that throws is reported through `onUncaught`.
 */
export function createTimers(bridge: Bridge, onUncaught: (error: unknown) => void) {
  const live = new Map<number, boolean>();
  let next = 1;

  const schedule = (fn: unknown, ms: unknown, args: unknown[], repeat: boolean): number => {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = next++;
    const delay = Math.max(0, Number(ms) || 0);
    const tick = (): void => {
      bridge.sleep(delay).then(
        () => {
          if (!live.has(id)) return;
          if (!repeat) live.delete(id);
          try {
            (fn as Callback)(...args);
          } catch (error) {
            onUncaught(error);
          }
          if (repeat && live.has(id)) {
            try {
              tick();
            } catch (error) {
              live.delete(id);
              onUncaught(error);
            }
          }
        },
        (error: unknown) => {
          live.delete(id);
          onUncaught(error);
        },
      );
    };
    tick();
    live.set(id, repeat);
    return id;
  };
  const clear = (id: unknown): void => {
    live.delete(Number(id));
  };

  return {
    setTimeout: (fn: unknown, ms?: unknown, ...args: unknown[]) => schedule(fn, ms, args, false),
    setInterval: (fn: unknown, ms?: unknown, ...args: unknown[]) => schedule(fn, ms, args, true),
    setImmediate: (fn: unknown, ...args: unknown[]) => schedule(fn, 0, args, false),
    clearTimeout: clear,
    clearInterval: clear,
    clearImmediate: clear,
  };
}
