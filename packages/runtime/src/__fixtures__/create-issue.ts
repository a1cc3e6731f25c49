// Zero-yaml style: an action with zod input and output, validated with zodValidateInput; a 422 from
// the API becomes an ActionError whose payload reaches the caller.
import { z } from 'zod';
import { ActionError, createAction } from './nango.js';

const input = z.object({
  title: z.string().min(1),
  body: z.string().optional(),
  labels: z.array(z.string()).default([]),
});
const output = z.object({ id: z.string(), number: z.number(), url: z.string().url() });

export default createAction({
  description: 'Creates an issue',
  version: '1.0.0',
  endpoint: { method: 'POST', path: '/issues' },
  input,
  output,
  exec: async (nango, rawInput) => {
    const { data: parsed } = await nango.zodValidateInput({ zodSchema: input, input: rawInput });
    const { repo } = await nango.getMetadata<{ repo: string }>();
    try {
      const response = await nango.post({ endpoint: `/repos/${repo}/issues`, data: parsed, retries: 3 });
      return output.parse({
        id: String(response.data.id),
        number: response.data.number,
        url: response.data.html_url,
      });
    } catch (error: any) {
      if (error.response?.status === 422) {
        throw new ActionError({ message: 'GitHub rejected the issue', errors: error.response.data.errors });
      }
      throw error;
    }
  },
});
