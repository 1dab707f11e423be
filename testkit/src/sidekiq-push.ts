import { join } from 'node:path';

/**
 * The Ruby script that pushes jobs with the real Sidekiq client, as a Rails app does:
 * `REDIS_URL=... ruby SIDEKIQ_PUSH QUEUE COUNT MS` prints the job ids as JSON;
 * `REDIS_URL=... ruby SIDEKIQ_PUSH QUEUE --lines` pushes one job per stdin line (its ms) and
 * prints each job id on a line.
 */
export const SIDEKIQ_PUSH = join(import.meta.dirname, 'sidekiq-push.rb');
