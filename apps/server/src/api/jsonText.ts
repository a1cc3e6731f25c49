import type { Response } from 'express';

/** Set on `res.locals` by the response observer: sees a JSON body sent as text. */
export interface JsonTextLocals {
  observeJsonText?: (text: string) => void;
}

/**
 * Sends JSON that is already serialised (the records feed splices stored payloads into its answer instead of
 * parsing and re-serialising them); the response observer still sees it.
 */
export function sendJsonText(res: Response, text: string): void {
  (res.locals as JsonTextLocals).observeJsonText?.(text);
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.send(text);
}
