// Zero-yaml style: an incremental CRM contacts sync with cursor pagination (HubSpot-like
// `paging.next.after`), a lastSyncDate filter, zod models and a checkpoint.
import { z } from 'zod';
import { createSync } from './nango.js';

const Contact = z.object({
  id: z.string(),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  updatedAt: z.string(),
});
type Contact = z.infer<typeof Contact>;

export default createSync({
  description: 'Contacts changed since the last run',
  version: '1.0.0',
  frequency: 'every hour',
  autoStart: true,
  models: { Contact },
  exec: async (nango) => {
    const since = nango.lastSyncDate ?? new Date(0);
    let pages = 0;
    for await (const page of nango.paginate<any>({
      endpoint: '/crm/v3/objects/contacts',
      params: { properties: 'email,firstname,lastname', updatedAfter: since.toISOString() },
      paginate: {
        type: 'cursor',
        cursor_path_in_response: 'paging.next.after',
        cursor_name_in_request: 'after',
        response_path: 'results',
        limit_name_in_request: 'limit',
        limit: 2,
      },
    })) {
      const contacts: Contact[] = page.map((row) =>
        Contact.parse({
          id: row.id,
          email: row.properties.email ?? null,
          firstName: row.properties.firstname ?? null,
          lastName: row.properties.lastname ?? null,
          updatedAt: row.updatedAt,
        }),
      );
      await nango.batchSave(contacts, 'Contact');
      pages++;
    }
    await nango.saveCheckpoint({ pages, lastRun: since.toISOString() });
  },
});
