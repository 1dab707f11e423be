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

# How each process lived and ended, in epoch seconds per event and pod (hash <prefix>lifecycle:<pod>):
# startup (about to fetch), shutdown (TERM handled: quiet, then -t to finish), exit (it ended on
# its own). A pod with shutdown and no exit was killed before Sidekiq finished stopping.
def record_lifecycle(event)
  Sidekiq.redis { |r| r.hset("#{RECORD_PREFIX}lifecycle:#{POD}", event, Time.now.to_f) }
rescue StandardError
  nil # evidence only: never in the way of Sidekiq itself
end

Sidekiq.configure_server do |config|
  config.on(:startup) { record_lifecycle('startup') }
  config.on(:shutdown) { record_lifecycle('shutdown') }
  at_exit { record_lifecycle('exit') }
end
