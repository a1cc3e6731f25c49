/** Authentication modes a provider can use. */
export type AuthMode = 'OAUTH2' | 'OAUTH1' | 'OAUTH2_CC' | 'API_KEY' | 'BASIC' | 'APP' | 'JWT' | 'NONE';

/** The two environments every Ferry installation starts with. */
export type EnvironmentName = 'dev' | 'prod' | (string & {});

/** Kinds of operation recorded in the activity log. */
export type OperationKind = 'auth' | 'proxy' | 'sync' | 'action' | 'webhook' | 'deploy' | 'admin';

/** Status of an activity-log operation. */
export type OperationStatus = 'running' | 'success' | 'failed' | 'cancelled';

/** Level of an activity-log message. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
