-- depends: 0021_portal_links
-- When each scheduled job (adapters/scheduler) last started and last succeeded, wall-clock
-- time: a scheduler that becomes active (a start, a restart, a failover) runs each job when
-- it is due from its last start, not one whole interval later, and exports the last
-- success another scheduler saw.
CREATE TABLE scheduled_jobs (
    job text PRIMARY KEY,
    last_started_at timestamptz,
    last_succeeded_at timestamptz
);
