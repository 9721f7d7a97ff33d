-- Validation of interval reads (VEE), configuration: the quality codes and
-- the validation rules shipped for the sample utilities, the checks on the
-- rules' parameters, and the rules in the configuration a dump keeps.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS gridflow CASCADE;
CREATE EXTENSION gridflow;
RESET client_min_messages;

-- the ESPI QualityOfReading codes gridflow uses
SELECT code, espi_name FROM gridflow.quality_code ORDER BY code;

-- the shipped rules: the same defaults for both utilities, ceiling off
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule ORDER BY utility_id, rule;

-- parameters: exactly the rule's own keys, numbers in range
SELECT r.rule, p.parameters, gridflow.vee_parameters_valid(r.rule, p.parameters::jsonb) AS valid
  FROM (VALUES ('negative', '{}'),
               ('negative', '{"max": 1}'),
               ('negative', '[]'),
               ('negative', 'null'),
               ('zero_run', '{"min_intervals": 8}'),
               ('zero_run', '{"min_intervals": 2}'),
               ('zero_run', '{"min_intervals": 1}'),
               ('zero_run', '{"min_intervals": 8.5}'),
               ('zero_run', '{"min_intervals": "8"}'),
               ('zero_run', '{}'),
               ('flat_line', '{"min_intervals": 16, "floor": 1}'),
               ('spike', '{"ratio": 10, "floor": 1}'),
               ('spike', '{"ratio": 2.5, "floor": 0}'),
               ('spike', '{"ratio": 0.5, "floor": 1}'),
               ('spike', '{"ratio": 10, "floor": -1}'),
               ('spike', '{"ratio": 10}'),
               ('ceiling', '{"max": 999000}'),
               ('ceiling', '{"max": -1}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 28, "min_days": 7}'),
               ('high_low', '{"low": 5, "high": 5, "days": 28, "min_days": 7}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 5, "min_days": 7}'),
               ('high_low', '{"low": 0.2, "high": 5, "days": 28.5, "min_days": 7}'),
               ('gap', '{}'),
               ('no_such_rule', '{}')) AS p(rule_name, parameters)
  CROSS JOIN LATERAL (SELECT p.rule_name AS rule) r;

-- the table refuses what the check refuses, and unknown rules
INSERT INTO gridflow.utility (utility_id, time_zone) VALUES ('VEETEST', 'Europe/Paris');
INSERT INTO gridflow.vee_rule (utility_id, rule, parameters) VALUES ('VEETEST', 'zero_run', '{"min_intervals": 1}');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'spike');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'stuck');
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('NOSUCH', 'negative');
-- a rule without parameters takes {} and is enabled
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'negative');
INSERT INTO gridflow.vee_rule (utility_id, rule, enabled, parameters)
VALUES ('VEETEST', 'zero_run', false, '{"min_intervals": 4}');
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule WHERE utility_id = 'VEETEST' ORDER BY rule;
-- one rule per utility and name
INSERT INTO gridflow.vee_rule (utility_id, rule) VALUES ('VEETEST', 'negative');
-- the rules follow their utility
UPDATE gridflow.utility SET utility_id = 'VEETEST2' WHERE utility_id = 'VEETEST';
SELECT utility_id, rule FROM gridflow.vee_rule WHERE utility_id LIKE 'VEETEST%' ORDER BY rule;

-- the configuration a dump keeps holds the rules, and a document restored
-- (what pg_restore inserts) puts them back
SELECT pg_catalog.jsonb_array_length(document -> 'vee_rule') AS rules_in_dump FROM gridflow.configuration_dump;
CREATE TEMP TABLE saved AS SELECT document FROM gridflow.configuration_dump;
DELETE FROM gridflow.utility WHERE utility_id = 'VEETEST2';
UPDATE gridflow.vee_rule SET enabled = false WHERE rule = 'spike';
SELECT count(*) AS rules, count(*) FILTER (WHERE NOT enabled) AS disabled FROM gridflow.vee_rule;
INSERT INTO gridflow.configuration_dump (document) SELECT document FROM saved;
SELECT count(*) AS rules, count(*) FILTER (WHERE NOT enabled) AS disabled,
       count(*) FILTER (WHERE utility_id = 'VEETEST2') AS veetest2_rules
  FROM gridflow.vee_rule;
SELECT utility_id, rule, enabled, parameters FROM gridflow.vee_rule WHERE rule IN ('spike', 'zero_run') ORDER BY 1, 2;
SELECT (SELECT document FROM gridflow.configuration_dump) = (SELECT document FROM saved) AS dump_as_saved;

-- who may read and edit them: the pipeline edits the rules; internal
-- readers read the codes; external readers neither
SELECT r.role, t.tbl, p.priv, has_table_privilege(r.role, t.tbl, p.priv) AS granted
  FROM (VALUES ('gridflow_pipeline'), ('gridflow_internal'), ('gridflow_external')) r(role)
 CROSS JOIN (VALUES ('gridflow.vee_rule'), ('gridflow.quality_code')) t(tbl)
 CROSS JOIN (VALUES ('SELECT'), ('UPDATE')) p(priv)
 ORDER BY 1, 2, 3;
