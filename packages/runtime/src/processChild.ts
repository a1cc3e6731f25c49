/**
 * The entry of a child process of `createProcessRuntime`: runs scripts in its own `createRuntime` and
 * forwards every host call to the parent over IPC. Started with `child_process.fork`, its options as
 * JSON in the first argument.
 */
import type { RuntimeHost } from './host.js';
import type { ChildMessage, ChildOptions, ParentMessage } from './processProtocol.js';
import { HOST_METHODS, ownProxyBytes } from './processProtocol.js';
import { createRuntime } from './runtime.js';

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

const send = process.send?.bind(process);
if (!send) throw new Error('@ferry/runtime: processChild must be started with child_process.fork');

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const runtime = createRuntime(options);
const aborts = new Map<number, AbortController>();
/** Host calls waiting for the parent, by run id and call id. */
const pending = new Map<number, Map<number, Pending>>();
let nextCallId = 0;

function post(message: ChildMessage): void {
  send!(message, undefined, undefined, (error: Error | null) => {
    // The parent is gone; 'disconnect' ends this process.
    if (error) aborts.forEach((controller) => controller.abort());
  });
}

/** A host whose every method is a call to the parent. */
function remoteHost(runId: number): RuntimeHost {
  const calls = new Map<number, Pending>();
  pending.set(runId, calls);
  const host: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const method of HOST_METHODS) {
    host[method] = (...args) =>
      new Promise((resolve, reject) => {
        const callId = nextCallId++;
        calls.set(callId, { resolve, reject });
        post({ type: 'host', runId, callId, method, args });
      });
  }
  return host as unknown as RuntimeHost;
}

function start(message: Extract<ParentMessage, { type: 'run' }>): void {
  const { runId, request } = message;
  const controller = new AbortController();
  aborts.set(runId, controller);
  runtime
    .run({ ...request, host: remoteHost(runId), signal: controller.signal })
    .then(
      (result) => post({ type: 'result', runId, result, stats: runtime.stats() }),
      (error: unknown) =>
        post({ type: 'rejected', runId, message: error instanceof Error ? error.message : String(error) }),
    )
    .finally(() => {
      aborts.delete(runId);
      // Calls a script left pending after its run never get an answer.
      pending.delete(runId);
    });
}

process.on('message', (message: ParentMessage) => {
  switch (message.type) {
    case 'run':
      start(message);
      break;
    case 'abort':
      aborts.get(message.runId)?.abort();
      break;
    case 'hostResult': {
      const calls = pending.get(message.runId);
      const call = calls?.get(message.callId);
      if (!call) break;
      calls!.delete(message.callId);
      if (message.error === undefined) call.resolve(ownProxyBytes(message.value));
      else call.reject(new Error(message.error));
      break;
    }
  }
});
// Without its parent this process has no purpose.
process.on('disconnect', () => process.exit(0));
post({ type: 'ready' });
