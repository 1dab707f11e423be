# Pushes jobs the way a Rails app does, with the real Sidekiq gem (Debian's ruby-sidekiq):
#   REDIS_URL=... ruby sidekiq-push.rb QUEUE COUNT MS   prints the job ids (jids) as JSON
# The job class, WorkJob, lives in the worker image (e2e/images/sidekiq/jobs.rb); a client needs
# only its name.
require 'json'
require 'sidekiq'

Sidekiq.configure_client { |config| config.redis = { url: ENV.fetch('REDIS_URL') } }
queue, count, ms = ARGV[0], Integer(ARGV[1]), Integer(ARGV[2])
jids = Sidekiq::Client.push_bulk('class' => 'WorkJob', 'queue' => queue, 'args' => Array.new(count) { [ms] })
puts JSON.generate(jids)
