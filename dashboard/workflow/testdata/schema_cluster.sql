CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_analysis_sessions_local` ON CLUSTER `prod`
(
    `session_id` String,
    `agent_workflow_id` String,
    `agent_workflow_name` String,
    `agent_id` String,
    `session_type` String,
    `status` String,
    `created_us` Int64,
    `completed_us` Int64,
    `findings_count` Int64,
    `risk_score` Int32,
    `sessions_analyzed` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_analysis_sessions_local', '{replica}', version)
ORDER BY `session_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_analysis_sessions` ON CLUSTER `prod` AS `perimeter`.`workflow_analysis_sessions_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_analysis_sessions_local', cityHash64(`session_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_findings_local` ON CLUSTER `prod`
(
    `finding_id` String,
    `session_id` String,
    `agent_workflow_id` String,
    `source_type` String,
    `category` String,
    `check_id` String,
    `file_path` String,
    `line_start` Int64,
    `line_end` Int64,
    `finding_type` String,
    `severity` String,
    `cvss_score` Float64,
    `title` String,
    `description` String,
    `evidence` String,
    `owasp_mapping` String,
    `cwe` String,
    `soc2_controls` String,
    `recommendation_id` String,
    `status` String,
    `correlation_state` String,
    `correlation_evidence` String,
    `created_us` Int64,
    `updated_us` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_findings_local', '{replica}', version)
ORDER BY `finding_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_findings` ON CLUSTER `prod` AS `perimeter`.`workflow_findings_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_findings_local', cityHash64(`finding_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_recommendations_local` ON CLUSTER `prod`
(
    `recommendation_id` String,
    `workflow_id` String,
    `source_type` String,
    `source_finding_id` String,
    `category` String,
    `severity` String,
    `cvss_score` Float64,
    `owasp_llm` String,
    `cwe` String,
    `soc2_controls` String,
    `title` String,
    `description` String,
    `impact` String,
    `fix_hints` String,
    `fix_complexity` String,
    `requires_architectural_change` UInt8,
    `file_path` String,
    `line_start` Int64,
    `line_end` Int64,
    `code_snippet` String,
    `related_files` String,
    `status` String,
    `fixed_by` String,
    `fixed_us` Int64,
    `fix_method` String,
    `fix_commit` String,
    `fix_notes` String,
    `files_modified` String,
    `verified_us` Int64,
    `verified_by` String,
    `verification_result` String,
    `dismissed_reason` String,
    `dismissed_by` String,
    `dismissed_us` Int64,
    `dismiss_type` String,
    `correlation_state` String,
    `correlation_evidence` String,
    `fingerprint` String,
    `created_us` Int64,
    `updated_us` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_recommendations_local', '{replica}', version)
ORDER BY `recommendation_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_recommendations` ON CLUSTER `prod` AS `perimeter`.`workflow_recommendations_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_recommendations_local', cityHash64(`recommendation_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_security_checks_local` ON CLUSTER `prod`
(
    `check_id` String,
    `agent_id` String,
    `agent_workflow_id` String,
    `analysis_session_id` String,
    `category_id` String,
    `check_type` String,
    `status` String,
    `title` String,
    `description` String,
    `value` String,
    `evidence` String,
    `recommendations` String,
    `created_us` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_security_checks_local', '{replica}', version)
ORDER BY `check_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_security_checks` ON CLUSTER `prod` AS `perimeter`.`workflow_security_checks_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_security_checks_local', cityHash64(`check_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_reports_local` ON CLUSTER `prod`
(
    `report_id` String,
    `agent_workflow_id` String,
    `report_type` String,
    `report_name` String,
    `generated_us` Int64,
    `generated_by` String,
    `risk_score` Int32,
    `gate_status` String,
    `findings_count` Int64,
    `recommendations_count` Int64,
    `report_data` String,
    `deleted` UInt8,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_reports_local', '{replica}', version)
ORDER BY `report_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_reports` ON CLUSTER `prod` AS `perimeter`.`workflow_reports_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_reports_local', cityHash64(`report_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_audit_log_local` ON CLUSTER `prod`
(
    `id` UInt64,
    `entity_type` String,
    `entity_id` String,
    `action` String,
    `previous_value` String,
    `new_value` String,
    `reason` String,
    `performed_by` String,
    `performed_us` Int64,
    `metadata` String,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_audit_log_local', '{replica}', version)
ORDER BY `id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_audit_log` ON CLUSTER `prod` AS `perimeter`.`workflow_audit_log_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_audit_log_local', cityHash64(`id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_agent_info_local` ON CLUSTER `prod`
(
    `agent_id` String,
    `agent_workflow_id` String,
    `display_name` String,
    `description` String,
    `updated_us` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_agent_info_local', '{replica}', version)
ORDER BY `agent_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_agent_info` ON CLUSTER `prod` AS `perimeter`.`workflow_agent_info_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_agent_info_local', cityHash64(`agent_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_ide_activity_local` ON CLUSTER `prod`
(
    `agent_workflow_id` String,
    `last_seen_us` Int64,
    `ide_type` String,
    `workspace_path` String,
    `model` String,
    `host` String,
    `user` String,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_ide_activity_local', '{replica}', version)
ORDER BY `agent_workflow_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_ide_activity` ON CLUSTER `prod` AS `perimeter`.`workflow_ide_activity_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_ide_activity_local', cityHash64(`agent_workflow_id`));

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_analyzed_sessions_local` ON CLUSTER `prod`
(
    `session_id` String,
    `agent_id` String,
    `agent_workflow_id` String,
    `analysis_session_id` String,
    `analyzed_us` Int64,
    `version` UInt64
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/perimeter/workflow_analyzed_sessions_local', '{replica}', version)
ORDER BY `session_id`
SETTINGS index_granularity = 8192;

CREATE TABLE IF NOT EXISTS `perimeter`.`workflow_analyzed_sessions` ON CLUSTER `prod` AS `perimeter`.`workflow_analyzed_sessions_local`
ENGINE = Distributed('prod', 'perimeter', 'workflow_analyzed_sessions_local', cityHash64(`session_id`));
