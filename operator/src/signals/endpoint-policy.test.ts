import { describe, expect, it } from 'vitest';
import { parseEndpointPolicy, refusedEndpoint } from './endpoint-policy.ts';

describe('the Redis endpoint policy', () => {
  const policy = parseEndpointPolicy([
    'redis.billing.svc',
    '*.cache.svc.cluster.local',
    '10.20.0.0/16',
    'fd00::/8',
    '192.0.2.7',
  ]);

  it.each([
    { host: 'redis.billing.svc', allowed: true },
    { host: 'REDIS.billing.svc.', allowed: true },
    { host: 'redis.shipping.svc', allowed: false },
    { host: 'sessions.cache.svc.cluster.local', allowed: true },
    { host: 'cache.svc.cluster.local', allowed: false },
    { host: 'evilcache.svc.cluster.local', allowed: false },
    { host: '10.20.3.4', allowed: true },
    { host: '10.21.0.1', allowed: false },
    { host: '192.0.2.7', allowed: true },
    { host: '127.0.0.1', allowed: false },
    { host: '[fd00::1]', allowed: true },
    { host: '::1', allowed: false },
  ])('$host: allowed $allowed', ({ host, allowed }) => {
    expect(policy.allows(host)).toBe(allowed);
  });

  it('refuses a pool by the field that names the host, for url, sentinel and cluster', () => {
    expect(refusedEndpoint(policy, { url: 'redis://redis.billing.svc:6379/0' })).toBeUndefined();
    expect(refusedEndpoint(policy, { url: 'redis://10.96.0.1:443/0' })).toMatch(
      /^spec\.queue\.redis\.url: host "10\.96\.0\.1" is not among the Redis endpoints this operator may reach/,
    );
    expect(
      refusedEndpoint(policy, {
        sentinel: { masterName: 'main', endpoints: ['10.20.0.5:26379', 'sentinel.other.svc:26379'], db: 0 },
      }),
    ).toMatch(/^spec\.queue\.redis\.sentinel\.endpoints\[1\]: host "sentinel\.other\.svc"/);
    expect(refusedEndpoint(policy, { cluster: { endpoints: ['[fd00::5]:7000'] } })).toBeUndefined();
    expect(refusedEndpoint(undefined, { url: 'redis://anything:6379' })).toBeUndefined();
  });

  it.each(['10.0.0.0/33', '10.0.0.0/8/1', 'redis_billing', 'http://redis', '*.', 'fd00::/129'])(
    'refuses the entry %s with a message naming it',
    (entry) => {
      expect(() => parseEndpointPolicy([entry])).toThrow(`"${entry}" is not`);
    },
  );
});
