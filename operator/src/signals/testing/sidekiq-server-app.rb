# A tiny app for a real Sidekiq 6 server process (sidekiq -r this file): a job that holds a
# worker thread for a while, so that heartbeats report busy threads.
require 'sidekiq'

class SlowWorker
  include Sidekiq::Worker
  sidekiq_options queue: 'mailers', retry: false
  def perform(seconds)
    sleep seconds
  end
end
