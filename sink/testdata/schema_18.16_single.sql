CREATE DATABASE IF NOT EXISTS `perimeter`;

CREATE TABLE IF NOT EXISTS `perimeter`.`schema_migrations`
(
    `version` UInt32,
    `name` String,
    `applied_at` DateTime
)
ENGINE = ReplacingMergeTree()
ORDER BY version;

CREATE TABLE IF NOT EXISTS `perimeter`.`events`
(
    `id` UUID,
    `date` Date,
    `ts` DateTime,
    `ts_us` UInt64,
    `name` String,
    `level` String,
    `trace_id` String,
    `span_id` String,
    `session_id` String,
    `agent_id` String,
    `vendor` String,
    `model` String,
    `status` UInt16,
    `duration_ms` Float64,
    `input_tokens` Int64,
    `output_tokens` Int64,
    `total_tokens` Int64,
    `cached_tokens` Int64,
    `cache_write_tokens` Int64,
    `tool_name` String,
    `finish_reason` String,
    `error_type` String,
    `error_message` String,
    `risk_score` Float32,
    `attributes` String,
    `category` String,
    `rule` String,
    `severity` String,
    `cost_usd` Nullable(Float64),
    `cost_status` String,
    `tags` String,
    `instance_id` String
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (agent_id, session_id, ts_us, id)
SETTINGS index_granularity = 8192;
