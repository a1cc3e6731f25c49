import { z } from 'zod';
import { proxySchema } from './proxySchema.js';

/** Every authentication mode a provider can declare. */
export const authModes = ['OAUTH2', 'OAUTH1', 'OAUTH2_CC', 'API_KEY', 'BASIC', 'APP', 'JWT', 'NONE'] as const;

/** How a connection authenticates to a provider. Structurally equal to `AuthMode` in `@ferry/types`. */
export type AuthMode = (typeof authModes)[number];

const authModeSchema = z.enum(authModes);
const stringMap = z.record(z.string(), z.string());

/** One field of a connect form: a connection-config value or a credential the end user types. */
export const formFieldSchema = z.strictObject({
  type: z.enum(['string', 'number', 'boolean']).default('string'),
  title: z.string().min(1),
  description: z.string().optional(),
  example: z.string().optional(),
  /** A regular expression the value must match (JavaScript syntax, unanchored unless written so). */
  pattern: z.string().refine(isRegExp, { message: 'not a valid regular expression' }).optional(),
  format: z.enum(['hostname', 'uri', 'uuid', 'email', 'ipv4']).optional(),
  optional: z.boolean().optional(),
  /** Shown masked and never logged. */
  secret: z.boolean().optional(),
  default_value: z.string().optional(),
  prefix: z.string().optional(),
  suffix: z.string().optional(),
  doc_section: z.string().optional(),
  /** Filled by Ferry (for example from the token response), not typed by the user. */
  automated: z.boolean().optional(),
  hidden: z.boolean().optional(),
  enum: z.array(z.string()).min(1).optional(),
  order: z.number().int().optional(),
});

/** A connect-form field. */
export type FormField = z.infer<typeof formFieldSchema>;

/** The fields shared by provider entries, before the checks that need every field in place. */
const providerShape = {
  display_name: z.string().min(1),
  categories: z.array(z.string().min(1)).optional(),
  docs: z.url(),
  docs_connect: z.url().optional(),
  setup_guide_url: z.url().optional(),
  auth_mode: authModeSchema,

  authorization_url: z.string().min(1).optional(),
  /** A URL, or one URL per auth mode for providers with several flows. */
  token_url: z.union([z.string().min(1), z.partialRecord(authModeSchema, z.string().min(1))]).optional(),
  refresh_url: z.string().min(1).optional(),
  authorization_params: stringMap.optional(),
  token_params: stringMap.optional(),
  refresh_params: stringMap.optional(),
  /** Joins scopes in the authorize URL; a space when absent. */
  scope_separator: z.string().min(1).optional(),
  default_scopes: z.array(z.string().min(1)).optional(),
  /** The provider rejects or ignores PKCE, so no `code_challenge` is sent. */
  disable_pkce: z.boolean().optional(),
  /** How the client authenticates at the token URL: form body (default), HTTP Basic, or provider-specific. */
  token_request_auth_method: z.enum(['body', 'basic', 'custom', 'private_key_jwt']).optional(),
  /** Where the access token goes on API calls: the Authorization header (default) or the body. */
  authorization_method: z.enum(['header', 'body']).optional(),
  /** Encoding of the token request body (form by default). */
  body_format: z.enum(['form', 'json', 'xml']).optional(),
  /** Dotted paths in the token response copied into the connection config. */
  token_response_metadata: z.array(z.string().min(1)).optional(),
  /** Query parameters of the callback URL copied into the connection config. */
  redirect_uri_metadata: z.array(z.string().min(1)).optional(),
  /** Seconds before expiry at which a token is refreshed (overrides the server's default margin). */
  token_expiration_buffer: z.number().int().nonnegative().optional(),
  /** Dotted path to the access token when the response does not use `access_token`. */
  alternate_access_token_response_path: z.string().min(1).optional(),
  expires_in_unit: z.enum(['seconds', 'milliseconds']).optional(),
  authorization_url_replacements: stringMap.optional(),
  authorization_url_fragment: z.string().optional(),
  authorization_url_skip_encode: z.array(z.string()).optional(),
  authorization_url_skip_empty: z.boolean().optional(),
  authorization_code_param_in_callback: z.string().min(1).optional(),

  /** OAUTH1: the request-token URL. */
  request_url: z.string().min(1).optional(),
  request_params: stringMap.optional(),
  signature_method: z.enum(['HMAC-SHA1', 'HMAC-SHA256', 'RSA-SHA1', 'PLAINTEXT']).optional(),

  proxy: proxySchema.optional(),

  connection_config: z.record(z.string(), formFieldSchema).optional(),
  credentials: z.record(z.string(), formFieldSchema).optional(),
  integration_config: z.record(z.string(), formFieldSchema).optional(),

  post_connection_script: z.string().min(1).optional(),
  pre_connection_deletion_script: z.string().min(1).optional(),
  credentials_verification_script: z.string().min(1).optional(),
  webhook_routing_script: z.string().min(1).optional(),
  webhook_user_defined_secret: z.boolean().optional(),
  webhook_allowed_query_params: z.array(z.string()).optional(),
  require_client_certificate: z.boolean().optional(),
  installation: z.enum(['outbound']).optional(),

  /** Inherit every field of this provider; fields set here win. */
  alias: z.string().min(1).optional(),
};

/**
 * One entry as written in a YAML file: every field optional, so an alias or an override can carry
 * only what differs. Unknown keys are rejected so that typos fail loudly.
 */
export const providerEntrySchema = z.strictObject(providerShape).partial();

/**
 * A complete provider after alias resolution and overrides, with the checks between fields:
 * OAUTH2 needs `authorization_url` and `token_url`, OAUTH1 also `request_url`, OAUTH2_CC and APP a
 * `token_url`, and an alias may not point at itself.
 */
export const providerSchema = z.strictObject(providerShape).superRefine((provider, ctx) => {
  const need = (field: keyof typeof provider): void => {
    if (provider[field] === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [field],
        message: `required when auth_mode is ${provider.auth_mode}`,
      });
    }
  };
  switch (provider.auth_mode) {
    case 'OAUTH2':
      need('authorization_url');
      need('token_url');
      break;
    case 'OAUTH1':
      need('request_url');
      need('authorization_url');
      need('token_url');
      break;
    case 'OAUTH2_CC':
    case 'APP':
      need('token_url');
      break;
    case 'API_KEY':
    case 'BASIC':
    case 'JWT':
    case 'NONE':
      break;
  }
});

/** A provider of the catalog, aliases resolved. */
export type Provider = z.infer<typeof providerSchema>;

/** A provider together with its catalog key (the name integrations refer to). */
export type NamedProvider = Provider & { readonly name: string };

function isRegExp(source: string): boolean {
  try {
    new RegExp(source);
    return true;
  } catch {
    return false;
  }
}
