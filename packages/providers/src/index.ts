export { loadProviders, type LoadProvidersOptions, type ProviderCatalog } from './catalog.js';
export {
  InterpolationError,
  ProviderCatalogError,
  type InterpolationErrorCode,
  type ProviderCatalogErrorCode,
  type ProviderIssue,
} from './errors.js';
export {
  interpolateObject,
  interpolateString,
  placeholdersOf,
  tryInterpolate,
  type InterpolationContext,
} from './interpolate.js';
export {
  paginateSchema,
  proxySchema,
  retrySchema,
  verificationSchema,
  type CursorPagination,
  type LinkPagination,
  type OffsetPagination,
  type PaginateConfig,
  type ProxyConfig,
  type RetryConfig,
  type VerificationConfig,
} from './proxySchema.js';
export {
  authModes,
  formFieldSchema,
  providerEntrySchema,
  providerSchema,
  type AuthMode,
  type FormField,
  type NamedProvider,
  type Provider,
} from './schema.js';
