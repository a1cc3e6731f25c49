import { describe, expect, test } from 'vitest';
import {
  planDeploy,
  withoutRemovals,
  type IncomingScript,
  type PlanScope,
  type StoredScript,
} from './plan.js';

const inc = (
  integration: string,
  type: IncomingScript['type'],
  name: string,
  fp = 'a',
  models: string[] = [],
) =>
  ({
    integration,
    type,
    name,
    fingerprint: fp,
    autoStart: true,
    models,
    event: type === 'on-event' ? name : null,
  }) as IncomingScript;
const sto = (
  integration: string,
  type: StoredScript['type'],
  name: string,
  fp = 'a',
  models: string[] = [],
) => ({ ...inc(integration, type, name, fp, models), scriptId: name.length });
const scope = (over: Partial<PlanScope> = {}): PlanScope => ({
  mode: 'all',
  integration: 'gh',
  hasFlows: true,
  hasOnEvents: true,
  ...over,
});
const names = (xs: { name: string; providerConfigKey: string }[]) =>
  xs.map((x) => `${x.providerConfigKey}/${x.name}`);

describe('planDeploy', () => {
  const stored = [
    sto('gh', 'sync', 'issues', 'a', ['Issue']),
    sto('gh', 'action', 'create', 'a'),
    sto('gh', 'on-event', 'pre-connection-deletion'),
    sto('jira', 'sync', 'tickets', 'a', ['Ticket']),
  ];
  const cases: {
    given: string;
    incoming: IncomingScript[];
    scope: PlanScope;
    want: {
      newSyncs?: string[];
      updatedSyncs?: string[];
      deletedSyncs?: string[];
      deletedActions?: string[];
      deletedOnEvents?: string[];
      deletedModels?: string[];
    };
  }[] = [
    {
      given: 'the same scripts',
      incoming: [
        inc('gh', 'sync', 'issues', 'a', ['Issue']),
        inc('gh', 'action', 'create'),
        inc('gh', 'on-event', 'pre-connection-deletion'),
        inc('jira', 'sync', 'tickets', 'a', ['Ticket']),
      ],
      scope: scope(),
      want: {},
    },
    {
      given: 'a changed sync that drops a model',
      incoming: [
        inc('gh', 'sync', 'issues', 'b', ['Issue2']),
        inc('gh', 'action', 'create'),
        inc('gh', 'on-event', 'pre-connection-deletion'),
        inc('jira', 'sync', 'tickets', 'a', ['Ticket']),
      ],
      scope: scope(),
      want: { updatedSyncs: ['gh/issues'], deletedModels: ['Issue'] },
    },
    {
      given: 'all: one sync sent',
      incoming: [inc('gh', 'sync', 'issues', 'a', ['Issue'])],
      scope: scope({ hasOnEvents: false }),
      want: { deletedSyncs: ['jira/tickets'], deletedActions: ['gh/create'], deletedModels: ['Ticket'] },
    },
    {
      given: 'all: on-event scripts sent empty',
      incoming: [inc('gh', 'sync', 'issues', 'a', ['Issue'])],
      scope: scope(),
      want: {
        deletedSyncs: ['jira/tickets'],
        deletedActions: ['gh/create'],
        deletedOnEvents: ['gh/pre-connection-deletion'],
        deletedModels: ['Ticket'],
      },
    },
    {
      given: 'integration: only within gh',
      incoming: [inc('gh', 'sync', 'issues', 'a', ['Issue'])],
      scope: scope({ mode: 'integration', hasOnEvents: false }),
      want: { deletedActions: ['gh/create'] },
    },
    {
      given: 'single: nothing removed',
      incoming: [inc('gh', 'sync', 'new1', 'a', ['N'])],
      scope: scope({ mode: 'single', hasOnEvents: false }),
      want: { newSyncs: ['gh/new1'] },
    },
    {
      given: 'empty flowConfigs: nothing removed',
      incoming: [],
      scope: scope({ hasFlows: false, hasOnEvents: false }),
      want: {},
    },
    {
      given: 'a model moved to another sync is not deleted',
      incoming: [
        inc('gh', 'sync', 'issues2', 'a', ['Issue']),
        inc('gh', 'action', 'create'),
        inc('jira', 'sync', 'tickets', 'a', ['Ticket']),
      ],
      scope: scope({ hasOnEvents: false }),
      want: { newSyncs: ['gh/issues2'], deletedSyncs: ['gh/issues'] },
    },
  ];
  test.each(cases)('$given', ({ incoming, scope, want }) => {
    const { nango } = planDeploy(incoming, stored, scope, new Map([['gh', 3]]));
    expect({
      newSyncs: names(nango.newSyncs),
      updatedSyncs: names(nango.updatedSyncs),
      deletedSyncs: names(nango.deletedSyncs),
      deletedActions: names(nango.deletedActions),
      deletedOnEvents: names(nango.deletedOnEventScripts),
      deletedModels: nango.deletedModels,
    }).toEqual({
      newSyncs: [],
      updatedSyncs: [],
      deletedSyncs: [],
      deletedActions: [],
      deletedOnEvents: [],
      deletedModels: [],
      ...want,
    });
  });

  test('connections per integration; reconcile false drops removals', () => {
    const plan = planDeploy([], stored, scope({ hasFlows: true }), new Map([['gh', 3]]));
    expect(plan.nango.deletedSyncs).toEqual([
      { name: 'issues', providerConfigKey: 'gh', auto_start: true, connections: 3 },
      { name: 'tickets', providerConfigKey: 'jira', auto_start: true, connections: 0 },
    ]);
    const kept = withoutRemovals(plan);
    expect(kept.remove).toEqual([]);
    expect(kept.nango.deletedSyncs).toEqual([]);
  });
});
