import { z } from 'zod';
import { uniqueKey } from '../api/schemas.js';

/** A script name: the file's basename, which the CLI strips to letters and digits (`-` and `_` kept for on-event). */
export const scriptName = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9_-]+$/, 'may contain letters, digits, _ and -');

const fileBody = z.strictObject({ js: z.string().min(1), ts: z.string() });

const endpoint = z.union([
  z.strictObject({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    path: z.string().min(1).max(2048),
    group: z.string().min(1).max(64).optional(),
  }),
  // The legacy form `{GET: '/path'}` of older CLIs.
  z
    .record(z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']), z.string().min(1).max(2048))
    .refine((e) => Object.keys(e).length === 1, 'one method per endpoint'),
]);

/** One sync or action of a deploy body, exactly as `nango deploy` 0.71.10 sends it (plus older CLIs' keys). */
export const flowConfig = z
  .strictObject({
    syncName: scriptName,
    providerConfigKey: uniqueKey,
    type: z.enum(['sync', 'action']),
    models: z.array(z.string().min(1).max(255)).max(100),
    version: z.string().max(255).optional(),
    runs: z.string().max(255).nullable().optional(),
    track_deletes: z.boolean().optional(),
    auto_start: z.boolean().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
    metadata: z
      .strictObject({
        description: z.string().max(2000).optional(),
        scopes: z.array(z.string().max(1024)).max(200).optional(),
      })
      .optional(),
    input: z
      .union([z.string().max(255), z.record(z.string(), z.unknown())])
      .nullable()
      .optional(),
    sync_type: z.enum(['full', 'incremental']).optional(),
    fileBody,
    endpoints: z.array(endpoint).max(100).optional(),
    webhookSubscriptions: z.array(z.string().min(1).max(255)).max(100).optional(),
    models_json_schema: z
      .strictObject({ definitions: z.record(z.string(), z.unknown()) })
      .nullable()
      .optional(),
    features: z.array(z.enum(['checkpoints'])).optional(),
    // Keys older CLIs send; accepted and ignored.
    model_schema: z.unknown().optional(),
    public_route: z.unknown().optional(),
    provider: z.unknown().optional(),
  })
  .superRefine((f, ctx) => {
    if (f.sync_type === 'incremental' && f.track_deletes) {
      ctx.addIssue({
        code: 'custom',
        path: ['track_deletes'],
        message: 'an incremental sync cannot track deletes',
      });
    }
    const defs = f.models_json_schema?.definitions;
    if (!defs) return;
    for (const m of f.models) {
      if (!(m in defs))
        ctx.addIssue({
          code: 'custom',
          path: ['models'],
          message: `model ${m} is not in models_json_schema`,
        });
    }
    if (typeof f.input === 'string' && !(f.input in defs)) {
      ctx.addIssue({
        code: 'custom',
        path: ['input'],
        message: `model ${f.input} is not in models_json_schema`,
      });
    }
  });

export const onEventName = z.enum([
  'post-connection-creation',
  'pre-connection-deletion',
  'validate-connection',
]);

const onEventScript = z.strictObject({ name: scriptName, event: onEventName, fileBody });

/** The body of `POST /sync/deploy/confirmation` and `POST /sync/deploy`. */
export const deployBody = z.strictObject({
  flowConfigs: z.array(flowConfig).max(1000),
  onEventScriptsByProvider: z
    .array(z.strictObject({ providerConfigKey: uniqueKey, scripts: z.array(onEventScript).max(100) }))
    .max(1000)
    .optional(),
  deployMode: z.enum(['all', 'integration', 'single']).optional(),
  reconcile: z.boolean().optional(),
  debug: z.boolean().optional(),
  nangoYamlBody: z.string().nullable().optional(),
  sdkVersion: z
    .string()
    .max(64)
    .regex(/^[0-9]+\.[0-9]+\.[0-9]+-(zero|yaml)$/, 'must look like 0.71.10-zero')
    .optional(),
  source: z.enum(['standalone', 'repo']).optional(),
  // Keys older CLIs send; accepted (singleDeployMode picks the mode when deployMode is absent).
  singleDeployMode: z.boolean().optional(),
  jsonSchema: z.unknown().optional(),
  postConnectionScriptsByProvider: z.unknown().optional(),
});

export type DeployBody = z.infer<typeof deployBody>;
export type FlowConfig = z.infer<typeof flowConfig>;
export type OnEventName = z.infer<typeof onEventName>;

/** `POST /scripts/rollback`. */
export const rollbackBody = z.strictObject({
  integration: uniqueKey,
  name: scriptName,
  version: z.string().min(1).max(255),
  type: z.enum(['sync', 'action', 'on-event']).optional(),
});
