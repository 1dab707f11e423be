import { join } from 'node:path';

/**
 * The Ruby script that pushes jobs with the real Sidekiq client, as a Rails app does:
 * `REDIS_URL=... ruby SIDEKIQ_PUSH QUEUE COUNT MS` prints the job ids as JSON.
 */
export const SIDEKIQ_PUSH = join(import.meta.dirname, 'sidekiq-push.rb');
