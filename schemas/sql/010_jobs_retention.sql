-- Housekeeping of the queue: ended jobs and old scheduler ticks are deleted after
-- jobs.retention_days by the hourly `jobs.prune` job; these indexes keep its deletes short.
ALTER TABLE jobs ADD KEY idx_jobs_finished (state, finished_at);
ALTER TABLE job_ticks ADD KEY idx_ticks_created (created_at);
