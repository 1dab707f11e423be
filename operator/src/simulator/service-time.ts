import { exponential, standardNormal, type Random } from './prng.ts';

// How long one job runs. Log-normal with a large sigma is the heavy tail seen in real job
// queues (most jobs are quick, a few take minutes); its mean is kept as given so that traces
// with different shapes carry the same work.

export type ServiceTimeSpec =
  | { kind: 'fixed'; seconds: number }
  | { kind: 'exponential'; meanSeconds: number }
  | { kind: 'lognormal'; meanSeconds: number; sigma: number };

export function meanServiceSeconds(spec: ServiceTimeSpec): number {
  return spec.kind === 'fixed' ? spec.seconds : spec.meanSeconds;
}

export function drawServiceSeconds(spec: ServiceTimeSpec, random: Random): number {
  switch (spec.kind) {
    case 'fixed':
      return spec.seconds;
    case 'exponential':
      return exponential(random, spec.meanSeconds);
    case 'lognormal': {
      // E[e^(mu + sigma Z)] = e^(mu + sigma²/2): choose mu so the mean is meanSeconds.
      const mu = Math.log(spec.meanSeconds) - (spec.sigma * spec.sigma) / 2;
      return Math.exp(mu + spec.sigma * standardNormal(random));
    }
  }
}

export function describeServiceTime(spec: ServiceTimeSpec): string {
  switch (spec.kind) {
    case 'fixed':
      return `fixed ${spec.seconds}s`;
    case 'exponential':
      return `exponential, mean ${spec.meanSeconds}s`;
    case 'lognormal':
      return `log-normal, mean ${spec.meanSeconds}s, sigma ${spec.sigma}`;
  }
}
