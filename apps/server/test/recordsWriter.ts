// A child process for recordsCrash.test.ts: saves batches of 1,000 records into one feed until it is killed,
// writing "batch <n>" to stdout after each batch commits. Store options come as JSON in argv[2].
import { randomBytes } from 'node:crypto';
import { createEncryptor } from '../src/crypto/encryption.js';
import { RecordsService } from '../src/records/service.js';
import { createStore, type StoreOptions } from '../src/store/store.js';

const store = await createStore(JSON.parse(process.argv[2] ?? '{}') as StoreOptions);
const records = new RecordsService({ store, encryptor: createEncryptor(randomBytes(32).toString('base64')) });
const feed = await records.feed({ environmentId: 1, connectionRowId: 1 }, 'Item', true);
const pad = 'x'.repeat(2000);
for (let b = 0; ; b++) {
  await records.save(
    feed,
    'Item',
    Array.from({ length: 1000 }, (_, i) => ({ id: `${b}-${i}`, batch: b, pad })),
  );
  process.stdout.write(`batch ${b}\n`);
}
