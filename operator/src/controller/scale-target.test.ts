import type { V2HorizontalPodAutoscaler } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import { templatePool } from '../testing/fixtures.ts';
import { scaleTargetClaim } from './scale-target.ts';

function targetPool(name: string, target: string, createdAt: string): WorkerPool {
  const pool = templatePool('billing', name);
  delete pool.spec.template;
  pool.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: target };
  pool.metadata.creationTimestamp = new Date(createdAt);
  return pool;
}

const hpa = (name: string, kind: string, target: string): V2HorizontalPodAutoscaler => ({
  metadata: { name, namespace: 'billing' },
  spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind, name: target }, maxReplicas: 4 },
});

describe('scaleTargetClaim', () => {
  const first = targetPool('first', 'sidekiq', '2026-12-01T10:00:00Z');
  const second = targetPool('second', 'sidekiq', '2026-12-01T11:00:00Z');
  const elsewhere = targetPool('elsewhere', 'other', '2026-12-01T09:00:00Z');
  const all = [second, elsewhere, first];

  it('gives the Deployment to the oldest pool that names it, and refuses the others by name', () => {
    expect(scaleTargetClaim(first, all, [])).toBeUndefined();
    expect(scaleTargetClaim(elsewhere, all, [])).toBeUndefined();
    expect(scaleTargetClaim(second, all, [])).toBe(
      'Deployment billing/sidekiq is already scaled by WorkerPool billing/first (the first pool to name it); point spec.scaleTargetRef elsewhere',
    );
  });

  it('breaks a tie of creation times by name, so that every operator replica agrees', () => {
    const twin = targetPool('a-twin', 'sidekiq', '2026-12-01T10:00:00Z');
    expect(scaleTargetClaim(first, [first, twin], [])).toMatch(/WorkerPool billing\/a-twin/);
    expect(scaleTargetClaim(twin, [first, twin], [])).toBeUndefined();
  });

  it('leaves a Deployment that a HorizontalPodAutoscaler drives to it, even for the oldest pool', () => {
    expect(scaleTargetClaim(first, all, [hpa('web', 'Deployment', 'sidekiq')])).toMatch(
      /^Deployment billing\/sidekiq is already scaled by HorizontalPodAutoscaler billing\/web;/,
    );
    expect(scaleTargetClaim(first, all, [hpa('web', 'StatefulSet', 'sidekiq')])).toBeUndefined();
  });

  it("leaves a template-mode pool's own Deployment to it, unless an HPA drives it too", () => {
    const mailers = templatePool('billing', 'mailers');
    expect(scaleTargetClaim(mailers, [mailers, ...all], [hpa('web', 'Deployment', 'sidekiq')])).toBeUndefined();
    expect(scaleTargetClaim(mailers, [mailers, ...all], [hpa('web', 'Deployment', 'mailers')])).toBe(
      'Deployment billing/mailers is already scaled by HorizontalPodAutoscaler billing/web; delete it: the WorkerPool scales the Deployment it builds',
    );
  });

  it("refuses a scaleTargetRef to another pool's built Deployment, even when the reference is older", () => {
    const mailers = templatePool('billing', 'mailers');
    mailers.metadata.creationTimestamp = new Date('2026-12-02T00:00:00Z');
    const borrower = targetPool('borrower', 'mailers', '2026-12-01T00:00:00Z');
    expect(scaleTargetClaim(borrower, [borrower, mailers], [])).toBe(
      'Deployment billing/mailers is owned by WorkerPool billing/mailers (built from its template); point spec.scaleTargetRef elsewhere',
    );
    expect(scaleTargetClaim(mailers, [borrower, mailers], [])).toBeUndefined();
  });
});
