import { z } from 'zod';

/** Query booleans: `true`/`false` strings (and real booleans). */
export const queryBool = z
  .union([z.boolean(), z.enum(['true', 'false', '1', '0', ''])])
  .transform((v) => v === true || v === 'true' || v === '1');

/** An integration unique key (Nango's provider config key). */
export const uniqueKey = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9~:.@ _-]+$/, 'may contain letters, digits and ~ : . @ _ - and spaces');

/** A connection id. */
export const connectionId = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[a-zA-Z0-9,.;:=+~[\]|@${}"'\\/_ -]+$/, 'contains characters that are not allowed');

/** String-to-string tags, bounded. */
export const tags = z
  .record(z.string().min(1).max(64), z.string().max(255))
  .refine((t) => Object.keys(t).length <= 64, 'at most 64 tags');

export const organization = z.object({
  id: z.string().min(1).max(255),
  display_name: z.string().max(255).nullish(),
});

export const endUser = z.object({
  id: z.string().min(1).max(255),
  email: z.email().max(255).nullish(),
  display_name: z.string().max(255).nullish(),
  tags: tags.optional(),
  organization: organization.optional(),
});

/** A JSON object, bounded in size by the body limit. */
export const jsonObject = z.record(z.string(), z.unknown());

/** Positive page size with a default and a maximum. */
export const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);

/** A single query value (rejects repeated keys and nested objects). */
export const queryString = (max = 255) => z.string().max(max);
