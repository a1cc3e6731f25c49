// Legacy style: a full sync with delete tracking and offset pagination; records missing from this run
// are deleted at the end.
import type { NangoSync } from './nango.js';

interface User {
  id: string;
  name: string;
  email: string;
  active: boolean;
}

export default async function fetchData(nango: NangoSync): Promise<void> {
  await nango.trackDeletesStart('User');
  await nango.setMergingStrategy({ strategy: 'override' }, 'User');
  const proxyConfig = {
    endpoint: '/api/users',
    paginate: {
      type: 'offset',
      offset_name_in_request: 'offset',
      limit_name_in_request: 'limit',
      limit: 3,
      response_path: 'users',
    },
  };
  for await (const users of nango.paginate<{ id: number; full_name: string; email: string; status: string }>(
    proxyConfig,
  )) {
    await nango.batchSave<User>(
      users.map((u) => ({
        id: String(u.id),
        name: u.full_name,
        email: u.email.toLowerCase(),
        active: u.status === 'active',
      })),
      'User',
    );
  }
  const { deletedKeys } = await nango.trackDeletesEnd('User');
  await nango.log('deleted', deletedKeys.length);
}
