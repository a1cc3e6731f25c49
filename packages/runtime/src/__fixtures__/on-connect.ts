// Zero-yaml style: a post-connection-creation event reading the connection and storing metadata.
import { createOnEvent } from './nango.js';

export default createOnEvent({
  event: 'post-connection-creation',
  description: 'Stores the account id',
  exec: async (nango) => {
    const connection = await nango.getConnection();
    const token = await nango.getToken();
    const me = await nango.get<{ account_id: string }>({ endpoint: '/me' });
    await nango.updateMetadata({
      accountId: me.data.account_id,
      hasToken: typeof token === 'string',
      subdomain: connection.connection_config?.subdomain,
    });
  },
});
