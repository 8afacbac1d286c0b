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
    `name` LowCardinality(String),
    `level` LowCardinality(String),
    `trace_id` String,
    `span_id` String,
    `session_id` String,
    `agent_id` String,
    `vendor` LowCardinality(String),
    `model` LowCardinality(String),
    `status` UInt16,
    `duration_ms` Float64,
    `input_tokens` Int64,
    `output_tokens` Int64,
    `total_tokens` Int64,
    `cached_tokens` Int64,
    `cache_write_tokens` Int64,
    `tool_name` LowCardinality(String),
    `finish_reason` LowCardinality(String),
    `error_type` LowCardinality(String),
    `error_message` String CODEC(ZSTD(1)),
    `risk_score` Float32,
    `attributes` String CODEC(ZSTD(1)),
    `category` LowCardinality(String),
    `rule` LowCardinality(String),
    `severity` LowCardinality(String),
    `cost_usd` Nullable(Float64),
    `cost_status` LowCardinality(String),
    `tags` String,
    `instance_id` LowCardinality(String)
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(date)
ORDER BY (agent_id, session_id, ts_us, id)
TTL date + INTERVAL 30 DAY
SETTINGS index_granularity = 8192;
