import type { Kysely, Selectable } from 'kysely';
import type { Database, EndUsersTable } from '../store/schema.js';
import { fromJson, nowIso, toJson } from '../store/values.js';

/** An end user as sent by the product's backend. */
export interface EndUserInput {
  id: string;
  email?: string | null | undefined;
  display_name?: string | null | undefined;
  tags?: Record<string, string> | undefined;
  organization?: OrganizationInput | undefined;
}

/** An organization as sent by the product's backend. */
export interface OrganizationInput {
  id: string;
  display_name?: string | null | undefined;
}

/** An end user as the API returns it. */
export interface ApiEndUser {
  id: string;
  email: string | null;
  display_name: string | null;
  tags?: Record<string, string>;
  organization: { id: string; display_name: string | null } | null;
}

/** The end-user columns (table alias `u`) that {@link toApiEndUser} reads. */
export const endUserColumns = [
  'u.end_user_id',
  'u.email',
  'u.display_name',
  'u.tags as end_user_tags',
  'u.organization_id',
  'u.organization_display_name',
] as const;

/** Creates or updates an end user by its external id and returns its row id. */
export async function upsertEndUser(
  db: Kysely<Database>,
  environmentId: number,
  endUser: EndUserInput,
  orgInput?: OrganizationInput | null,
): Promise<number> {
  const now = nowIso();
  const organization = orgInput ?? endUser.organization;
  const row = await db
    .insertInto('end_users')
    .values({
      environment_id: environmentId,
      end_user_id: endUser.id,
      email: endUser.email ?? null,
      display_name: endUser.display_name ?? null,
      tags: toJson(endUser.tags ?? null),
      organization_id: organization?.id ?? null,
      organization_display_name: organization?.display_name ?? null,
      created_at: now,
      updated_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['environment_id', 'end_user_id']).doUpdateSet((eb) => ({
        email: eb.ref('excluded.email'),
        display_name: eb.ref('excluded.display_name'),
        tags: eb.ref('excluded.tags'),
        organization_id: eb.ref('excluded.organization_id'),
        organization_display_name: eb.ref('excluded.organization_display_name'),
        updated_at: now,
      })),
    )
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

type EndUserColumns = Pick<
  Selectable<EndUsersTable>,
  'end_user_id' | 'email' | 'display_name' | 'tags' | 'organization_id' | 'organization_display_name'
>;

/** Shapes an end user row (possibly absent, from a left join) for the API. */
export function toApiEndUser(row: {
  [K in keyof EndUserColumns]: EndUserColumns[K] | null;
}): ApiEndUser | null {
  if (row.end_user_id === null) return null;
  const tags = fromJson<Record<string, string> | null>(row.tags);
  return {
    id: row.end_user_id,
    email: row.email,
    display_name: row.display_name,
    ...(tags ? { tags } : {}),
    organization: row.organization_id
      ? { id: row.organization_id, display_name: row.organization_display_name }
      : null,
  };
}
