--
-- Privacy screens of aggregated usage: the rules a group of customers must
-- pass before its figures are released, which class each service point's
-- customer is in, and the aggregates for external readers (suppressed
-- groups present with their figures NULL and the reason).
--
-- The rules shipped are New York's, set by the Public Service Commission's
-- Utility Energy Registry order (April 2018): the 15/15 screen kept for the
-- residential grouping (at least 15 customers, no customer accounting for
-- more than 15% of the group's consumption), 6/40 adopted for the small
-- commercial and "other" groupings.  A group passes with exactly
-- min_customers customers and with a largest customer of exactly max_share
-- of the total ("at least", "more than").
--
CREATE TABLE gridflow.privacy_rule (
    customer_class text PRIMARY KEY
        CHECK (customer_class OPERATOR(pg_catalog.~) '^[a-z][a-z0-9_]*$'),
    min_customers integer NOT NULL CHECK (min_customers OPERATOR(pg_catalog.>=) 1),
    max_share numeric(5,4) NOT NULL
        CHECK (max_share OPERATOR(pg_catalog.>) 0 AND max_share OPERATOR(pg_catalog.<=) 1),
    source text
);
COMMENT ON TABLE gridflow.privacy_rule IS 'Privacy screens of aggregated usage, one per customer class: a group (ZIP code, month, class, channel) is released only with at least min_customers customers and no customer above max_share of the group''s consumption. Shipped with New York''s (PSC Utility Energy Registry order, 2018): residential 15/15, small_commercial and other 6/40';
COMMENT ON COLUMN gridflow.privacy_rule.customer_class IS 'Customer class (lower case letters, digits, underscores): residential, small_commercial, other, or a class of your own';
COMMENT ON COLUMN gridflow.privacy_rule.min_customers IS 'Fewest customers a group may have (a group of exactly this many passes)';
COMMENT ON COLUMN gridflow.privacy_rule.max_share IS 'Largest share of the group''s consumption one customer may have, as a fraction (0.15 is 15%; a customer of exactly this share passes)';
COMMENT ON COLUMN gridflow.privacy_rule.source IS 'Where the rule comes from (free text)';
INSERT INTO gridflow.privacy_rule (customer_class, min_customers, max_share, source) VALUES
    ('residential', 15, 0.15, 'NY PSC, Utility Energy Registry order (2018): the 15/15 standard kept for the residential grouping'),
    ('small_commercial', 6, 0.40, 'NY PSC, Utility Energy Registry order (2018): the 6/40 standard adopted for the small commercial grouping'),
    ('other', 6, 0.40, 'NY PSC, Utility Energy Registry order (2018): the 6/40 standard adopted for the other grouping');

CREATE TABLE gridflow.privacy_setting (
    setting_row boolean PRIMARY KEY DEFAULT true CHECK (setting_row),
    zip_digits integer NOT NULL DEFAULT 3 CHECK (zip_digits OPERATOR(pg_catalog.=) ANY (ARRAY[3, 5])),
    default_customer_class text NOT NULL DEFAULT 'residential'
        REFERENCES gridflow.privacy_rule ON UPDATE CASCADE
);
COMMENT ON TABLE gridflow.privacy_setting IS 'How the privacy-screened aggregates group customers (one row)';
COMMENT ON COLUMN gridflow.privacy_setting.setting_row IS 'Always true: the table has one row';
COMMENT ON COLUMN gridflow.privacy_setting.zip_digits IS 'Leading digits of the service point''s ZIP code the aggregates group by: 3 (zip3) or 5 (zip5)';
COMMENT ON COLUMN gridflow.privacy_setting.default_customer_class IS 'Customer class of a service point that gridflow.service_point_class does not map (shipped: residential, the strictest rule)';
INSERT INTO gridflow.privacy_setting DEFAULT VALUES;

CREATE TABLE gridflow.service_point_class (
    utility_id text NOT NULL REFERENCES gridflow.utility ON UPDATE CASCADE ON DELETE CASCADE,
    service_point_id text NOT NULL,
    customer_class text NOT NULL REFERENCES gridflow.privacy_rule ON UPDATE CASCADE,
    PRIMARY KEY (utility_id, service_point_id)
);
COMMENT ON TABLE gridflow.service_point_class IS 'Customer class of a service point, for the privacy screens (the utility files carry no class); a service point not listed is in gridflow.privacy_setting.default_customer_class';
COMMENT ON COLUMN gridflow.service_point_class.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.service_point_class.service_point_id IS 'Service point, as in standardized.service_point';
COMMENT ON COLUMN gridflow.service_point_class.customer_class IS 'Its customer class (a class of gridflow.privacy_rule)';

--
-- The aggregates: experience.monthly_usage (one row per service point,
-- month and channel) grouped by the service point's ZIP code (its first
-- zip_digits characters), month, customer class and channel.  One service
-- point is one customer.  Like the other external views it runs with its
-- owner's rights, as a security barrier, and keeps the rows of the
-- reader's utilities.
--
CREATE VIEW gridflow.privacy_group WITH (security_barrier = true) AS
SELECT m.utility_id,
       pg_catalog.left(s.zip, p.zip_digits) AS zip,
       p.zip_digits,
       m.month_start,
       COALESCE(c.customer_class, p.default_customer_class) AS customer_class,
       m.channel,
       pg_catalog.min(m.unit) AS unit,
       pg_catalog.count(*) AS customers,
       pg_catalog.sum(m.total_usage::numeric) AS total_usage,
       pg_catalog.max(m.total_usage::numeric) AS largest_usage,
       pg_catalog.sum(m.interval_count) AS interval_count,
       pg_catalog.count(DISTINCT m.unit) AS units
  FROM gridflow_store.monthly_usage m
 CROSS JOIN gridflow.privacy_setting p
  LEFT JOIN gridflow_store.service_point s
    ON s.utility_id OPERATOR(pg_catalog.=) m.utility_id
   AND s.service_point_id OPERATOR(pg_catalog.=) m.service_point_id
  LEFT JOIN gridflow.service_point_class c
    ON c.utility_id OPERATOR(pg_catalog.=) m.utility_id
   AND c.service_point_id OPERATOR(pg_catalog.=) m.service_point_id
 WHERE m.total_usage IS NOT NULL
   AND ((SELECT pg_catalog.pg_has_role('gridflow_pipeline', 'USAGE'))
        OR m.utility_id OPERATOR(pg_catalog.=) ANY (
               SELECT r.utility_id
                 FROM gridflow.role_utility r
                 JOIN pg_catalog.pg_roles o ON o.rolname OPERATOR(pg_catalog.=) r.role_name
                WHERE pg_catalog.pg_has_role(o.oid, 'USAGE')))
 GROUP BY m.utility_id, pg_catalog.left(s.zip, p.zip_digits), p.zip_digits, m.month_start,
          COALESCE(c.customer_class, p.default_customer_class), m.channel;
COMMENT ON VIEW gridflow.privacy_group IS 'Unscreened groups behind external.usage_by_zip (grain: one row per utility_id, zip, month_start, customer_class, channel): every figure, suppressed or not; for the owner of gridflow (nobody else may read it)';
COMMENT ON COLUMN gridflow.privacy_group.utility_id IS 'Utility';
COMMENT ON COLUMN gridflow.privacy_group.zip IS 'First zip_digits characters of the service points'' ZIP code (NULL: service points without one, or unknown)';
COMMENT ON COLUMN gridflow.privacy_group.zip_digits IS 'Digits of the ZIP code grouped by (gridflow.privacy_setting)';
COMMENT ON COLUMN gridflow.privacy_group.month_start IS 'First local day of the month';
COMMENT ON COLUMN gridflow.privacy_group.customer_class IS 'Customer class (gridflow.service_point_class, else the default class)';
COMMENT ON COLUMN gridflow.privacy_group.channel IS 'Channel';
COMMENT ON COLUMN gridflow.privacy_group.unit IS 'Unit of the values (NULL: unknown; the smallest when units differs from 1)';
COMMENT ON COLUMN gridflow.privacy_group.customers IS 'Service points with usage in the group';
COMMENT ON COLUMN gridflow.privacy_group.total_usage IS 'Sum of their monthly total_usage';
COMMENT ON COLUMN gridflow.privacy_group.largest_usage IS 'Largest monthly total_usage of one service point';
COMMENT ON COLUMN gridflow.privacy_group.interval_count IS 'Reads behind the totals';
COMMENT ON COLUMN gridflow.privacy_group.units IS 'Distinct units of the service points'' months (more than 1: the total adds different units)';

CREATE VIEW gridflow.privacy_screen WITH (security_barrier = true) AS
SELECT g.utility_id,
       g.zip,
       g.zip_digits,
       g.month_start,
       g.customer_class,
       g.channel,
       g.unit,
       r.min_customers,
       r.max_share,
       CASE
           WHEN r.customer_class IS NULL THEN 'no privacy rule for the customer class'
           WHEN g.customers OPERATOR(pg_catalog.<) r.min_customers THEN 'too few customers'
           WHEN g.units OPERATOR(pg_catalog.>) 1 THEN 'several units'
           WHEN g.total_usage OPERATOR(pg_catalog.<=) 0 THEN 'no positive consumption'
           WHEN g.largest_usage OPERATOR(pg_catalog.>) (r.max_share OPERATOR(pg_catalog.*) g.total_usage)
               THEN 'one customer above the largest share'
       END AS suppressed_reason,
       g.customers,
       g.total_usage,
       g.largest_usage,
       g.interval_count
  FROM gridflow.privacy_group g
  LEFT JOIN gridflow.privacy_rule r ON r.customer_class OPERATOR(pg_catalog.=) g.customer_class;
COMMENT ON VIEW gridflow.privacy_screen IS 'The groups of gridflow.privacy_group with their rule and the reason each fails it (NULL: released), every figure kept: what external.usage_by_zip and external.privacy_suppression show; for the owner of gridflow (nobody else may read it)';
COMMENT ON COLUMN gridflow.privacy_screen.min_customers IS 'The rule''s fewest customers (NULL: the class has no rule)';
COMMENT ON COLUMN gridflow.privacy_screen.max_share IS 'The rule''s largest share of one customer (NULL: the class has no rule)';
COMMENT ON COLUMN gridflow.privacy_screen.suppressed_reason IS 'Why the group fails its rule (NULL: it passes); the first of: no privacy rule for the customer class, too few customers, several units, no positive consumption, one customer above the largest share';

CREATE VIEW external.usage_by_zip WITH (security_barrier = true) AS
SELECT s.utility_id,
       s.zip,
       s.zip_digits,
       s.month_start,
       s.customer_class,
       s.channel,
       s.unit,
       s.min_customers,
       s.max_share,
       s.suppressed_reason IS NULL AS released,
       s.suppressed_reason,
       CASE WHEN s.suppressed_reason IS NULL THEN s.customers END AS customers,
       CASE WHEN s.suppressed_reason IS NULL THEN s.total_usage::double precision END AS total_usage,
       CASE WHEN s.suppressed_reason IS NULL
            THEN (s.total_usage OPERATOR(pg_catalog./) s.customers)::double precision END AS avg_usage_per_customer,
       CASE WHEN s.suppressed_reason IS NULL THEN s.interval_count END AS interval_count
  FROM gridflow.privacy_screen s;
COMMENT ON VIEW external.usage_by_zip IS 'Usage aggregated by ZIP code (zip3 or zip5: gridflow.privacy_setting), month, customer class and channel (grain: one row per utility_id, zip, month_start, customer_class, channel), screened by the class''s gridflow.privacy_rule: a group that fails it keeps its row with customers and usage NULL and the reason; one service point is one customer; rows of the reader''s utilities';
COMMENT ON COLUMN external.usage_by_zip.utility_id IS 'Utility';
COMMENT ON COLUMN external.usage_by_zip.zip IS 'First zip_digits characters of the service points'' ZIP code (NULL: service points without one)';
COMMENT ON COLUMN external.usage_by_zip.zip_digits IS 'Digits of the ZIP code grouped by: 3 or 5 (gridflow.privacy_setting)';
COMMENT ON COLUMN external.usage_by_zip.month_start IS 'First local day of the month (the utility''s time zone)';
COMMENT ON COLUMN external.usage_by_zip.customer_class IS 'Customer class (gridflow.service_point_class; unmapped service points are in the default class of gridflow.privacy_setting)';
COMMENT ON COLUMN external.usage_by_zip.channel IS 'Channel';
COMMENT ON COLUMN external.usage_by_zip.unit IS 'Unit of the values (NULL: unknown)';
COMMENT ON COLUMN external.usage_by_zip.min_customers IS 'The rule''s fewest customers (NULL: the class has no rule)';
COMMENT ON COLUMN external.usage_by_zip.max_share IS 'The rule''s largest share of one customer, as a fraction (NULL: the class has no rule)';
COMMENT ON COLUMN external.usage_by_zip.released IS 'The group passed its rule: its figures are given';
COMMENT ON COLUMN external.usage_by_zip.suppressed_reason IS 'Why the figures are NULL, the first of: no privacy rule for the customer class, too few customers, several units, no positive consumption, one customer above the largest share; NULL when released';
COMMENT ON COLUMN external.usage_by_zip.customers IS 'Service points (customers) with usage in the group; NULL when suppressed';
COMMENT ON COLUMN external.usage_by_zip.total_usage IS 'Sum of their usage in the month, in unit; NULL when suppressed';
COMMENT ON COLUMN external.usage_by_zip.avg_usage_per_customer IS 'total_usage / customers; NULL when suppressed';
COMMENT ON COLUMN external.usage_by_zip.interval_count IS 'Reads behind the total; NULL when suppressed';

CREATE VIEW external.privacy_suppression WITH (security_barrier = true) AS
SELECT s.utility_id,
       s.month_start,
       s.customer_class,
       s.channel,
       pg_catalog.count(*) AS groups,
       pg_catalog.count(s.suppressed_reason) AS groups_suppressed,
       pg_catalog.sum(s.customers)::bigint AS customers,
       COALESCE(pg_catalog.sum(s.customers) FILTER (WHERE s.suppressed_reason IS NOT NULL), 0)::bigint AS customers_suppressed
  FROM gridflow.privacy_screen s
 GROUP BY s.utility_id, s.month_start, s.customer_class, s.channel;
COMMENT ON VIEW external.privacy_suppression IS 'What the privacy screens of external.usage_by_zip suppressed (grain: one row per utility_id, month_start, customer_class, channel): groups and customers, in all and suppressed; rows of the reader''s utilities';
COMMENT ON COLUMN external.privacy_suppression.utility_id IS 'Utility';
COMMENT ON COLUMN external.privacy_suppression.month_start IS 'First local day of the month';
COMMENT ON COLUMN external.privacy_suppression.customer_class IS 'Customer class';
COMMENT ON COLUMN external.privacy_suppression.channel IS 'Channel';
COMMENT ON COLUMN external.privacy_suppression.groups IS 'ZIP-code groups of the month, class and channel';
COMMENT ON COLUMN external.privacy_suppression.groups_suppressed IS 'Of those, groups whose figures were suppressed';
COMMENT ON COLUMN external.privacy_suppression.customers IS 'Customers (service points) in all the groups';
COMMENT ON COLUMN external.privacy_suppression.customers_suppressed IS 'Customers in the suppressed groups';

-- the columns gridflow.privacy_screen shares with gridflow.privacy_group
DO $$
DECLARE
    c record;
BEGIN
    FOR c IN
        SELECT a.attname, pg_catalog.col_description(a.attrelid, a.attnum) AS comment
          FROM pg_catalog.pg_attribute a
          JOIN pg_catalog.pg_attribute x ON x.attrelid OPERATOR(pg_catalog.=) 'gridflow.privacy_screen'::regclass
                                        AND x.attname OPERATOR(pg_catalog.=) a.attname
         WHERE a.attrelid OPERATOR(pg_catalog.=) 'gridflow.privacy_group'::regclass
           AND a.attnum OPERATOR(pg_catalog.>) 0
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN gridflow.privacy_screen.%I IS %L', c.attname, c.comment);
    END LOOP;
END
$$;

-- A role sees the classes of its utilities' service points only (the
-- policies of gridflow.vee_rule's, 65_layer_privileges.sql)
ALTER TABLE gridflow.service_point_class ENABLE ROW LEVEL SECURITY;
CREATE POLICY pipeline_all_rows ON gridflow.service_point_class TO gridflow_pipeline USING (true) WITH CHECK (true);
COMMENT ON POLICY pipeline_all_rows ON gridflow.service_point_class IS 'gridflow_pipeline sees and edits the configuration of every utility';
CREATE POLICY mapped_utility_rows ON gridflow.service_point_class FOR SELECT TO PUBLIC
    USING (utility_id OPERATOR(pg_catalog.=) ANY (gridflow.caller_utilities()));
COMMENT ON POLICY mapped_utility_rows ON gridflow.service_point_class IS 'A role sees the rows of the utilities mapped to it in gridflow.role_utility';

REVOKE ALL ON gridflow.privacy_group, gridflow.privacy_screen FROM PUBLIC;
GRANT SELECT ON gridflow.privacy_rule, gridflow.privacy_setting, gridflow.service_point_class
    TO gridflow_pipeline, gridflow_internal;
GRANT INSERT, UPDATE, DELETE ON gridflow.privacy_rule, gridflow.privacy_setting, gridflow.service_point_class
    TO gridflow_pipeline;
GRANT SELECT ON external.usage_by_zip, external.privacy_suppression TO gridflow_external;
