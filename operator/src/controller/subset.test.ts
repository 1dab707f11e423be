import { describe, expect, it } from 'vitest';
import { isSubset } from './subset.ts';

const container = (fields: Record<string, unknown>) => ({
  spec: { template: { spec: { containers: [{ name: 'worker', image: 'w:1', ...fields }] } } },
});

describe('isSubset: would applying `wanted` change the live object?', () => {
  it('ignores what the server or other managers added', () => {
    expect(isSubset(container({}), container({ imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/x' }))).toBe(
      true,
    );
  });

  it('matches resource quantities as the API server answers them', () => {
    const written = container({ resources: { limits: { cpu: 1, memory: '1G' }, requests: { cpu: 0.5 } } });
    const answered = container({ resources: { limits: { cpu: '1', memory: '1G' }, requests: { cpu: '500m' } } });
    expect(isSubset(written, answered)).toBe(true);
    const overhead = {
      spec: { template: { spec: { overhead: { cpu: 0.25 }, volumes: [{ emptyDir: { sizeLimit: '1.5Gi' } }] } } },
    };
    const overheadAnswered = {
      spec: { template: { spec: { overhead: { cpu: '250m' }, volumes: [{ emptyDir: { sizeLimit: '1536Mi' } }] } } },
    };
    expect(isSubset(overhead, overheadAnswered)).toBe(true);
  });

  it('still sees a changed quantity', () => {
    expect(
      isSubset(container({ resources: { limits: { cpu: 2 } } }), container({ resources: { limits: { cpu: '1' } } })),
    ).toBe(false);
  });

  it('compares text outside quantities exactly, even where it looks like one', () => {
    expect(
      isSubset(
        container({ env: [{ name: 'LIMIT', value: '1k' }] }),
        container({ env: [{ name: 'LIMIT', value: '1000' }] }),
      ),
    ).toBe(false);
    const labelled = (value: string) => ({ spec: { template: { metadata: { labels: { limits: value } } } } });
    expect(isSubset(labelled('1k'), labelled('1000'))).toBe(false);
    const annotated = (value: string) => ({ metadata: { annotations: { sizeLimit: value } } });
    expect(isSubset(annotated('1k'), annotated('1000'))).toBe(false);
  });

  it('takes an absent field for the zero value the server leaves out', () => {
    expect(
      isSubset(
        container({ args: [], ports: [{ containerPort: 80, hostPort: 0 }], stdin: false }),
        container({ ports: [{ containerPort: 80 }] }),
      ),
    ).toBe(true);
    expect(
      isSubset({ spec: { template: { metadata: { annotations: {} } } } }, { spec: { template: { metadata: {} } } }),
    ).toBe(true);
    // ...but not a value that is not zero.
    expect(isSubset(container({ stdin: true }), container({}))).toBe(false);
  });

  it('matches lists item by item', () => {
    expect(isSubset(container({ args: ['a', 'b'] }), container({ args: ['a'] }))).toBe(false);
    expect(isSubset(container({ args: ['a'] }), container({ args: ['a', 'b'] }))).toBe(false);
  });
});
