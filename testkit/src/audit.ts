import { existsSync, readFileSync } from 'node:fs';

// The API server's own record of who wrote what, and when: an audit log at Metadata level. Tests
// read it to prove facts no client can fake, such as two operator replicas never writing at once.

/** The fields of an audit.k8s.io/v1 Event that tests read. */
export interface AuditEvent {
  readonly stage: string;
  readonly verb: string;
  readonly user: { readonly username: string; readonly extra?: Record<string, readonly string[]> };
  readonly sourceIPs?: readonly string[];
  readonly objectRef?: {
    readonly resource?: string;
    readonly subresource?: string;
    readonly namespace?: string;
    readonly name?: string;
    readonly apiGroup?: string;
  };
  readonly responseStatus?: { readonly code?: number };
  readonly requestReceivedTimestamp: string;
  readonly stageTimestamp: string;
}

const WRITES = ['create', 'update', 'patch', 'delete', 'deletecollection'];

/**
 * Logs every write `username` makes to what an operator replica writes (Deployments, WorkerPool
 * status, pods' deletion cost, Events, its Lease) and nothing else, so that the log stays small
 * for every other test that shares the API server.
 */
export function writesOfUserPolicy(username: string): Record<string, unknown> {
  return {
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    omitStages: ['RequestReceived'],
    rules: [
      {
        level: 'Metadata',
        users: [username],
        verbs: WRITES,
        resources: [
          { group: 'apps', resources: ['deployments', 'deployments/scale'] },
          { group: 'workerpool.dev', resources: ['workerpools', 'workerpools/status'] },
          { group: '', resources: ['pods', 'events'] },
          { group: 'events.k8s.io', resources: ['events'] },
          { group: 'coordination.k8s.io', resources: ['leases'] },
        ],
      },
      { level: 'None' },
    ],
  };
}

/** Every completed request in the audit log so far, in the order the API server finished them. */
export function readAuditLog(path: string): AuditEvent[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((event) => event.stage === 'ResponseComplete');
}
