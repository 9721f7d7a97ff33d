-- pgbench script of "make bench-readers" (test/bench/readers.sh): one dashboard user's look-ups.  -D nsp=<rows of bench.sp_ids>
\set n random(1, :nsp)
SELECT service_point_id AS sp FROM bench.sp_ids WHERE n = :n \gset
SELECT local_date, channel, total_usage, peak_usage_value FROM experience.daily_usage WHERE service_point_id = ':sp';
SELECT d.local_date, d.channel, d.total_usage, s.city, s.zip FROM experience.daily_usage d JOIN standardized.service_point s ON s.utility_id = d.utility_id AND s.service_point_id = d.service_point_id WHERE d.service_point_id = ':sp';
