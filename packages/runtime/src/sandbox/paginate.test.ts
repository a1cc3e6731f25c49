import { describe, expect, it } from 'vitest';
import { linkFromHeader, paginate, pick, type Paginate } from './paginate.js';
import type { ProxyConfig, ProxyResponse } from './proxy.js';

/** Runs paginate against scripted pages and returns the pages yielded and the requests made. */
async function drive(config: ProxyConfig, defaults: Paginate | undefined, pages: ProxyResponse[]) {
  const requests: ProxyConfig[] = [];
  const proxy = async (request: ProxyConfig): Promise<ProxyResponse> => {
    requests.push(structuredClone({ ...request, paginate: undefined }));
    const page = pages[requests.length - 1];
    if (!page) throw new Error('paginate asked for one page too many');
    return page;
  };
  const yielded: unknown[][] = [];
  for await (const page of paginate(proxy, config, defaults)) yielded.push(page);
  return { yielded, requests };
}
const page = (data: unknown, headers: Record<string, string> = {}): ProxyResponse => ({
  status: 200,
  headers,
  data,
});

describe('paginate', () => {
  it('follows a cursor, with provider defaults overridden by the call', async () => {
    const { yielded, requests } = await drive(
      { endpoint: '/contacts', params: { q: 'x' }, paginate: { limit: 2, response_path: 'results' } },
      {
        type: 'cursor',
        cursor_path_in_response: 'paging.next',
        cursor_name_in_request: 'after',
        limit_name_in_request: 'limit',
        response_path: 'ignored',
      },
      [page({ results: [1, 2], paging: { next: 'c2' } }), page({ results: [3], paging: { next: '' } })],
    );
    expect(yielded).toEqual([[1, 2], [3]]);
    expect(requests.map((r) => r.params)).toEqual([
      { q: 'x', limit: 2 },
      { q: 'x', limit: 2, after: 'c2' },
    ]);
  });

  it('puts paging parameters in the body of a POST', async () => {
    const { requests } = await drive(
      {
        endpoint: '/search',
        method: 'post',
        data: { filter: 'a' },
        paginate: {
          type: 'cursor',
          cursor_path_in_response: 'next',
          cursor_name_in_request: 'cursor',
          response_path: 'items',
        },
      },
      undefined,
      [page({ items: [1], next: 'n2' }), page({ items: [2] })],
    );
    expect(requests.map((r) => [r.method, r.data, r.params])).toEqual([
      ['POST', { filter: 'a' }, {}],
      ['POST', { filter: 'a', cursor: 'n2' }, {}],
    ]);
  });

  it('follows Link headers to absolute URLs and stops when the link repeats', async () => {
    const next = '<https://api.x.io/items?page=2>; rel="next"';
    const { yielded, requests } = await drive(
      { endpoint: '/items' },
      { type: 'link', link_rel_in_response_header: 'next' },
      [page([1], { Link: next }), page([2], { link: next })],
    );
    expect(yielded).toEqual([[1], [2]]);
    expect(requests.map((r) => [r.baseUrlOverride, r.endpoint])).toEqual([
      [undefined, '/items'],
      ['https://api.x.io', '/items?page=2'],
    ]);
  });

  it('follows a link found in the body', async () => {
    const { requests } = await drive(
      { endpoint: '/a' },
      { type: 'link', link_path_in_response_body: 'meta.next', response_path: 'data' },
      [page({ data: [1], meta: { next: '/a?p=2' } }), page({ data: [2], meta: {} })],
    );
    expect(requests.map((r) => r.endpoint)).toEqual(['/a', '/a?p=2']);
  });

  it.each([
    { method: 'by-response-size' as const, offsets: [0, 2, 4] },
    { method: 'per-page' as const, offsets: [0, 1, 2] },
  ])('moves an offset $method and stops on a short page', async ({ method, offsets }) => {
    const { yielded, requests } = await drive(
      {
        endpoint: '/u',
        paginate: {
          type: 'offset',
          offset_name_in_request: 'offset',
          offset_calculation_method: method,
          limit: 2,
          limit_name_in_request: 'n',
        },
      },
      undefined,
      [page([1, 2]), page([3, 4]), page([5])],
    );
    expect(yielded).toEqual([[1, 2], [3, 4], [5]]);
    expect(requests.map((r) => (r.params as Record<string, unknown>).offset)).toEqual(offsets);
  });

  it('stops on an empty page and refuses a page that is not an array', async () => {
    expect(
      (await drive({ endpoint: '/' }, { type: 'offset', offset_name_in_request: 'o' }, [page([1]), page([])]))
        .yielded,
    ).toEqual([[1]]);
    await expect(
      drive({ endpoint: '/' }, { type: 'cursor', response_path: 'items' }, [page({ items: 'no' })]),
    ).rejects.toThrow(/at "items" is not an array/);
    await expect(drive({ endpoint: '/' }, undefined, [])).rejects.toThrow(/unknown pagination type/);
  });

  const linkBody = (next?: string): ProxyResponse => page({ items: [next ?? 'end'], next });
  it.each([
    {
      name: 'cursor, two pages',
      settings: { type: 'cursor', cursor_path_in_response: 'next', cursor_name_in_request: 'c' },
      pages: [page({ items: [1], next: 'c2' }), page({ items: [2], next: ' ' })],
      want: ['c2', undefined],
    },
    {
      name: 'cursor, one page',
      settings: { type: 'cursor', cursor_path_in_response: 'next', cursor_name_in_request: 'c' },
      pages: [page({ items: [1] })],
      want: [undefined],
    },
    {
      name: 'link in a header, two pages',
      settings: { type: 'link', link_rel_in_response_header: 'next' },
      pages: [page({ items: [1] }, { link: '</p2>; rel="next"' }), page({ items: [2] })],
      want: ['/p2', undefined],
    },
    {
      name: 'link in the body, last link repeated',
      settings: { type: 'link', link_path_in_response_body: 'next' },
      pages: [linkBody('/p2'), linkBody('/p2')],
      want: ['/p2', '/p2'],
    },
    {
      name: 'link in the body, one page',
      settings: { type: 'link', link_path_in_response_body: 'next' },
      pages: [linkBody()],
      want: [undefined],
    },
    {
      name: 'offset, a full page then a short one',
      settings: { type: 'offset', offset_name_in_request: 'o', limit: 2, limit_name_in_request: 'n' },
      pages: [page({ items: [1, 2] }), page({ items: [3] })],
      want: [0],
    },
    {
      name: 'offset, full pages then an empty one',
      settings: { type: 'offset', offset_name_in_request: 'o', limit: 1, limit_name_in_request: 'n' },
      pages: [page({ items: [1] }), page({ items: [2] }), page({ items: [] })],
      want: [0, 1],
    },
  ] as { name: string; settings: Paginate; pages: ProxyResponse[]; want: unknown[] }[])(
    'calls on_page after each page as Nango does: $name',
    async ({ settings, pages, want }) => {
      const seen: unknown[] = [];
      const after: number[] = [];
      const on_page: Paginate['on_page'] = ({ nextPageParam, response }) => {
        after.push(pages.indexOf(response));
        seen.push(nextPageParam);
      };
      const { requests } = await drive(
        { endpoint: '/items', paginate: { response_path: 'items', on_page } },
        settings,
        pages,
      );
      // Once per page, in order, each with its own response.
      expect(after).toEqual(want.map((_, i) => i));
      expect(seen).toEqual(want);
      expect(requests).toHaveLength(pages.length);
    },
  );

  it('reads paths and Link headers', () => {
    expect(pick({ a: { b: [{ c: 1 }] } }, 'a.b[0].c')).toBe(1);
    expect(pick({ a: null }, 'a.b')).toBeUndefined();
    expect(linkFromHeader('<https://x/2>; rel="next", <https://x/9>; rel="last"', 'last')).toBe(
      'https://x/9',
    );
    expect(linkFromHeader('<https://x/2>; rel="prev"', 'next')).toBeUndefined();
  });
});
