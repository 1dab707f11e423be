# Pushes jobs the way a Rails app does, with the real Sidekiq gem (Debian's ruby-sidekiq):
#   REDIS_URL=... ruby sidekiq-push.rb QUEUE COUNT MS   prints the job ids (jids) as JSON
#   REDIS_URL=... ruby sidekiq-push.rb QUEUE --lines    pushes one job per line of stdin (the line is
#     its MS) and prints each jid on a line of its own: an app that enqueues over time, without
#     starting Ruby for every job
# The job class, WorkJob, lives in the worker image (e2e/images/sidekiq/jobs.rb); a client needs
# only its name.
require 'json'
require 'sidekiq'

Sidekiq.configure_client { |config| config.redis = { url: ENV.fetch('REDIS_URL') } }
queue = ARGV[0]
if ARGV[1] == '--lines'
  $stdout.sync = true
  $stdin.each_line do |line|
    puts Sidekiq::Client.push('class' => 'WorkJob', 'queue' => queue, 'args' => [Integer(line)])
  end
else
  count, ms = Integer(ARGV[1]), Integer(ARGV[2])
  jids = Sidekiq::Client.push_bulk('class' => 'WorkJob', 'queue' => queue, 'args' => Array.new(count) { [ms] })
  puts JSON.generate(jids)
end
