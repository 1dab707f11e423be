# A tiny app for a real Sidekiq 6 server process (sidekiq -r this file): a job that holds a
# worker thread for a while, so that heartbeats report busy threads.
require 'sidekiq'

# SIDEKIQ_NAMESPACE set: the app keeps its keys under "<namespace>:" through the redis-namespace
# gem, as Sidekiq 6 apps that share a Redis did (the `namespace:` option; gone in Sidekiq 7).
namespace = ENV.fetch('SIDEKIQ_NAMESPACE', '')
unless namespace.empty?
  redis = { url: ENV.fetch('REDIS_URL'), namespace: namespace }
  Sidekiq.configure_server { |config| config.redis = redis }
  Sidekiq.configure_client { |config| config.redis = redis }
end

class SlowWorker
  include Sidekiq::Worker
  sidekiq_options queue: 'mailers', retry: false
  def perform(seconds)
    sleep seconds
  end
end
