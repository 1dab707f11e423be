import { BlockList, isIP } from 'node:net';
import type { RedisEndpointSpec } from '../api/workerpool-schema.ts';

// Which Redis endpoints pools may name, as the platform team sets it (--allowed-redis-endpoints).
// A pool writes any host it likes into spec.queue.redis; without a policy the operator, which runs
// with its own network identity, would connect there on the tenant's behalf and report what it
// found. Entries: a host name ("redis.billing.svc"), a wildcard for every name under a domain
// ("*.cache.svc.cluster.local"), an IP address, or a CIDR ("10.20.0.0/16", "fd00::/8"). Names are
// matched as written, never resolved: an IP written in a pool must fall in an allowed CIDR or be
// listed itself. Sentinel and cluster endpoints are checked as written; the nodes they announce
// are not, so list only Sentinels and seeds you trust to announce your own Redis.

export interface EndpointPolicy {
  /** The entries as given, for messages. */
  readonly entries: readonly string[];
  allows(host: string): boolean;
}

export class EndpointPolicyError extends Error {
  override name = 'EndpointPolicyError';
}

const HOST_NAME = /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Parses the platform's list; an entry that is none of the accepted forms is refused by name. */
export function parseEndpointPolicy(entries: readonly string[]): EndpointPolicy {
  const cidrs = new BlockList();
  const names = new Set<string>();
  const suffixes: string[] = [];
  const cleaned = entries.map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
  for (const entry of cleaned) {
    const [address, prefix, extra] = entry.split('/');
    if (prefix !== undefined) {
      const family = isIP(address ?? '');
      const bits = Number(prefix);
      const max = family === 6 ? 128 : 32;
      if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(prefix) || bits > max)
        throw new EndpointPolicyError(`"${entry}" is not a CIDR (for example 10.20.0.0/16 or fd00::/8)`);
      cidrs.addSubnet(address as string, bits, family === 6 ? 'ipv6' : 'ipv4');
    } else if (isIP(entry) !== 0) {
      cidrs.addAddress(entry, isIP(entry) === 6 ? 'ipv6' : 'ipv4');
    } else if (HOST_NAME.test(entry) && entry.length <= 253) {
      if (entry.startsWith('*.')) suffixes.push(entry.slice(1));
      else names.add(entry);
    } else {
      throw new EndpointPolicyError(`"${entry}" is not a host name, a *.domain wildcard, an IP address or a CIDR`);
    }
  }
  return {
    entries: cleaned,
    allows(host: string): boolean {
      const bare = host
        .replace(/^\[|\]$/g, '')
        .toLowerCase()
        .replace(/\.$/, '');
      const family = isIP(bare);
      if (family !== 0) return cidrs.check(bare, family === 6 ? 'ipv6' : 'ipv4');
      return names.has(bare) || suffixes.some((suffix) => bare.endsWith(suffix));
    },
  };
}

/** Every host a pool's Redis spec names, with the field that names it. */
export function namedHosts(redis: RedisEndpointSpec): { field: string; host: string }[] {
  if (redis.url !== undefined) {
    let host: string;
    try {
      host = new URL(redis.url).hostname;
    } catch {
      host = '';
    }
    return [{ field: 'spec.queue.redis.url', host }];
  }
  const fromList = (field: string, endpoints: readonly string[]) =>
    endpoints.map((endpoint, index) => ({ field: `${field}[${index}]`, host: hostOf(endpoint) }));
  if (redis.sentinel) return fromList('spec.queue.redis.sentinel.endpoints', redis.sentinel.endpoints);
  if (redis.cluster) return fromList('spec.queue.redis.cluster.endpoints', redis.cluster.endpoints);
  return [];
}

/** The first host the policy does not allow, as a message naming the field; undefined when all are allowed. */
export function refusedEndpoint(policy: EndpointPolicy | undefined, redis: RedisEndpointSpec): string | undefined {
  if (!policy) return undefined;
  const refused = namedHosts(redis).find(({ host }) => !policy.allows(host));
  return refused
    ? `${refused.field}: host "${refused.host}" is not among the Redis endpoints this operator may reach (--allowed-redis-endpoints); ask the platform team to allow it`
    : undefined;
}

function hostOf(hostPort: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(hostPort);
  if (bracketed) return bracketed[1] as string;
  const lastColon = hostPort.lastIndexOf(':');
  return lastColon > 0 && isIP(hostPort) === 0 ? hostPort.slice(0, lastColon) : hostPort;
}
