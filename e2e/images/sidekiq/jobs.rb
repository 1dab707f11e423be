# Jobs of the example Sidekiq app. Each run leaves evidence in Redis, under EXAMPLE_RECORD_PREFIX,
# the same keys the example native handlers write: started / finished counts per job id (jid)
# and the pod of the last run.
require 'sidekiq'

RECORD_PREFIX = ENV.fetch('EXAMPLE_RECORD_PREFIX', 'example:')
POD = ENV.fetch('HOSTNAME', 'unknown')

class WorkJob
  include Sidekiq::Worker
  sidekiq_options retry: 3

  # Sleeps `ms` milliseconds, as a job that takes time would.
  def perform(ms = 200)
    Sidekiq.redis { |r| r.multi { |m| m.hincrby("#{RECORD_PREFIX}started", jid, 1); m.hset("#{RECORD_PREFIX}pods", jid, POD) } }
    sleep(ms / 1000.0)
    Sidekiq.redis { |r| r.multi { |m| m.hincrby("#{RECORD_PREFIX}finished", jid, 1); m.incr("#{RECORD_PREFIX}done") } }
  end
end
