// Legacy style: a sync whose webhook handler verifies an HMAC signature with `crypto`, then applies
// the change with batchUpdate / batchDelete.
import * as crypto from 'crypto';
import type { NangoSync } from './nango.js';

export default async function fetchData(nango: NangoSync): Promise<void> {
  await nango.log('nothing to poll');
}

interface Payload {
  signature: string;
  body: string;
}

export async function onWebhookPayloadReceived(
  nango: NangoSync,
  payload: Payload,
): Promise<{ handled: number }> {
  const vars = (await nango.getEnvironmentVariables()) ?? [];
  const secret = vars.find((v) => v.name === 'WEBHOOK_SECRET')?.value ?? '';
  const expected = crypto.createHmac('sha256', secret).update(payload.body).digest('hex');
  if (expected !== payload.signature) {
    await nango.log('bad signature', { level: 'warn' });
    return { handled: 0 };
  }
  const event = JSON.parse(payload.body) as {
    type: 'updated' | 'deleted';
    ticket: { id: string; status?: string };
  };
  if (event.type === 'deleted') await nango.batchDelete([{ id: event.ticket.id }], 'Ticket');
  else await nango.batchUpdate([{ id: event.ticket.id, status: event.ticket.status }], 'Ticket');
  return { handled: 1 };
}
