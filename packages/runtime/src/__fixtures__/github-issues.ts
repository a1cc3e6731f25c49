// Legacy style (nango.yaml): a GitHub issues sync paginated by the Link header, with the provider's
// paginate defaults (type link, rel next, per_page) coming from providers.yaml.
import type { NangoSync } from './nango.js';

interface GithubIssue {
  id: string;
  number: number;
  title: string;
  state: string;
  author: string | null;
  labels: string[];
  createdAt: string;
  updatedAt: string;
  closedAt: Date | null;
}

export default async function fetchData(nango: NangoSync): Promise<void> {
  const { owner, repo } = await nango.getMetadata<{ owner: string; repo: string }>();
  const params: Record<string, string> = { state: 'all', sort: 'updated' };
  if (nango.lastSyncDate) params.since = nango.lastSyncDate.toISOString();
  let total = 0;
  for await (const page of nango.paginate<any>({
    endpoint: `/repos/${owner}/${repo}/issues`,
    params,
    paginate: { limit: 2 },
  })) {
    const issues: GithubIssue[] = page
      .filter((issue) => !issue.pull_request)
      .map((issue) => ({
        id: String(issue.id),
        number: issue.number,
        title: issue.title,
        state: issue.state,
        author: issue.user?.login ?? null,
        labels: issue.labels.map((label: { name: string }) => label.name),
        createdAt: issue.created_at,
        updatedAt: issue.updated_at,
        closedAt: issue.closed_at ? new Date(issue.closed_at) : null,
      }));
    await nango.batchSave<GithubIssue>(issues, 'GithubIssue');
    total += issues.length;
  }
  await nango.log(`Saved ${total} issues`, { level: 'info' });
}
