/** Codes of {@link ProviderCatalogError}. They never change once released. */
export type ProviderCatalogErrorCode =
  /** An entry does not match the schema (a typo, a wrong type, a missing field). */
  | 'invalid_provider'
  /** An entry's `alias` names a provider that does not exist, or aliases form a cycle. */
  | 'invalid_alias'
  /** An overrides file could not be read or is not a YAML map of providers. */
  | 'invalid_providers_file';

/** Codes of {@link InterpolationError}. They never change once released. */
export type InterpolationErrorCode =
  /** A placeholder (in every `||` alternative) has no value in the context. */
  | 'missing_interpolation_value'
  /** The template is malformed: an unclosed `${` or an unknown function. */
  | 'invalid_template';

/** One problem found in a catalog: which provider, which field, what is wrong. */
export interface ProviderIssue {
  readonly provider: string;
  /** Dotted path of the field, e.g. `proxy.retry.at`; empty for the entry itself. */
  readonly path: string;
  readonly message: string;
}

/** Thrown when the built-in catalog or an operator's overrides cannot be loaded. */
export class ProviderCatalogError extends Error {
  override readonly name = 'ProviderCatalogError';
  readonly code: ProviderCatalogErrorCode;
  /** Every problem found, so an operator can fix a file in one pass. */
  readonly issues: readonly ProviderIssue[];

  /**
   * @param code - What kind of failure this is.
   * @param issues - The problems found; the message lists them, one a line.
   * @param options - `source` names the file or catalog; `cause` keeps the underlying error.
   */
  constructor(
    code: ProviderCatalogErrorCode,
    issues: readonly ProviderIssue[],
    options: { source?: string; cause?: unknown } = {},
  ) {
    const where = options.source ? ` in ${options.source}` : '';
    const lines = issues.map(
      (issue) => `  - ${issue.provider}${issue.path ? `.${issue.path}` : ''}: ${issue.message}`,
    );
    super(`Invalid providers${where}:\n${lines.join('\n')}`, { cause: options.cause });
    this.code = code;
    this.issues = issues;
  }
}

/** Thrown when a `${…}` template cannot be interpolated. Never carries the values it had. */
export class InterpolationError extends Error {
  override readonly name = 'InterpolationError';
  readonly code: InterpolationErrorCode;

  /**
   * @param code - What kind of failure this is.
   * @param message - Names the placeholders involved, never their values.
   */
  constructor(code: InterpolationErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}
