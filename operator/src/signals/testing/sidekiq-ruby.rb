# Drives the real Sidekiq gem (Debian's ruby-sidekiq 6.4.1) for sidekiq-ruby.redis.test.ts.
#   ruby sidekiq-ruby.rb push    pushes jobs with Sidekiq::Client: two to "mailers" a second apart,
#                                 one scheduled an hour ahead and one whose time has already come
#   ruby sidekiq-ruby.rb measure  prints Sidekiq's own numbers for "mailers" as JSON
require 'json'
require 'sidekiq'
require 'sidekiq/api'

# With SIDEKIQ_NAMESPACE, under that redis-namespace (sidekiq-server-app.rb sets it up).
Sidekiq.configure_client { |config| config.redis = { url: ENV.fetch('REDIS_URL') } }
require_relative 'sidekiq-server-app' unless ENV.fetch('SIDEKIQ_NAMESPACE', '').empty?

class HardWorker
  include Sidekiq::Worker
  sidekiq_options queue: 'mailers'
  def perform(*); end
end

case ARGV[0]
when 'push'
  HardWorker.perform_async(1)
  sleep 1.0
  HardWorker.perform_async(2)
  HardWorker.perform_in(3600, 3)
  Sidekiq::Client.push('class' => HardWorker, 'args' => [4], 'queue' => 'mailers', 'at' => Time.now.to_f - 30)
when 'measure'
  queue = Sidekiq::Queue.new('mailers')
  # Queue#latency reads its own clock at some moment between these two.
  before = Time.now.to_f
  latency = queue.latency
  after = Time.now.to_f
  due = Sidekiq::ScheduledSet.new.count { |job| job.at.to_f <= after && job.queue == 'mailers' }
  puts JSON.generate(version: Sidekiq::VERSION, size: queue.size, latency: latency, before: before, after: after, due: due)
end

# ruby sidekiq-ruby.rb slow N   pushes N SlowWorker jobs that run 30 s each
# ruby sidekiq-ruby.rb quick N  pushes N SlowWorker jobs that finish at once
# ruby sidekiq-ruby.rb processes prints Sidekiq::ProcessSet as Sidekiq's Web UI sees it
# ruby sidekiq-ruby.rb stats    prints Sidekiq::Stats' processed and failed counts
case ARGV[0]
when 'slow'
  require_relative 'sidekiq-server-app'
  Integer(ARGV[1]).times { SlowWorker.perform_async(30) }
when 'quick'
  require_relative 'sidekiq-server-app'
  Integer(ARGV[1]).times { SlowWorker.perform_async(0) }
when 'stats'
  stats = Sidekiq::Stats.new
  puts JSON.generate(processed: stats.processed, failed: stats.failed)
when 'processes'
  procs = Sidekiq::ProcessSet.new.map { |p| { identity: p.identity, hostname: p['hostname'], busy: p['busy'], concurrency: p['concurrency'], quiet: p['quiet'] == 'true' } }
  puts JSON.generate(procs)
end
