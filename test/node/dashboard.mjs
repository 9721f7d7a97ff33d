// The queries of a usage dashboard, as a Node.js application sends them
// through node-postgres (pg): parameterized ($1, $2, ...), as a role granted
// gridflow_internal, then the external view of the same service point as a
// role granted gridflow_external.  Each query's rows go to RESULTS/NAME.out;
// test/bi.sh compares them with test/node/expected/NAME.out.  Besides, the
// program checks that the external role reads the internal one's rows of
// the service point under its pseudonym, not under its id, and cannot read
// experience.daily_usage.
//
//   node dashboard.mjs RESULTS_DIR
//
// Connection: PGHOST, PGPORT, PGDATABASE; the roles GRIDFLOW_BI_INTERNAL and
// GRIDFLOW_BI_EXTERNAL, both with the password GRIDFLOW_BI_PASSWORD; the
// service point's pseudonym in GRIDFLOW_BI_SP_PSEUDONYM.
// Exits 1 when a check fails, 2 on a connection error.
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const resultsDir = process.argv[2];
if (!resultsDir) {
  console.error('usage: node dashboard.mjs RESULTS_DIR');
  process.exit(2);
}
fs.mkdirSync(resultsDir, { recursive: true });

// Dates and times as the server writes them, in the session's time zone
// (the utilities' zone): node-postgres would otherwise make dates into
// JavaScript Dates at the client machine's local midnight.
const asText = (value) => value;
const types = {
  getTypeParser(oid, format) {
    if (oid === 1082 || oid === 1114 || oid === 1184) return asText;
    return pg.types.getTypeParser(oid, format);
  },
};

function client(user) {
  return new pg.Client({
    user,
    password: process.env.GRIDFLOW_BI_PASSWORD,
    application_name: 'gridflow dashboard test',
    options: '-c TimeZone=America/New_York -c DateStyle=ISO,YMD',
    types,
  });
}

// A query's rows as text: a header naming the query, its SQL and
// parameters, the columns, one tab-separated line per row.
function listing(name, description, sql, params, result) {
  const lines = [
    `-- ${name}: ${description}`,
    `-- ${sql.replace(/\s+/g, ' ').trim()}`,
    `-- parameters: ${JSON.stringify(params)}`,
    result.fields.map((f) => f.name).join('\t'),
  ];
  for (const row of result.rows) {
    lines.push(result.fields.map((f) => {
      const v = row[f.name];
      return v === null ? '' : String(v);
    }).join('\t'));
  }
  lines.push(`(${result.rows.length} rows)`);
  return lines.join('\n') + '\n';
}

const failures = [];

// shown: the parameters as the listing shows them (a pseudonym, which
// changes with each database's key, is shown by what it stands for)
async function run(db, name, description, sql, params, shown = params) {
  const result = await db.query(sql, params);
  fs.writeFileSync(path.join(resultsDir, `${name}.out`), listing(name, description, sql, shown, result));
  return result;
}

// UTILITY2's busiest service point in the sample, its main channel, and a
// meter with a read on every channel of one day
const sp = ['UTILITY2', 'PREM-16248064'];
const month = ['2025-01-01', '2025-02-01'];
// what external readers know the service point by: its pseudonym, which
// only the owner of gridflow can compute (test/bi.sh passes it)
const spPseudonym = process.env.GRIDFLOW_BI_SP_PSEUDONYM;
if (!/^sp_[0-9a-f]{24}$/.test(spPseudonym || ''))
  failures.push(`GRIDFLOW_BI_SP_PSEUDONYM is not a service point pseudonym: ${spPseudonym}`);

const internal = client(process.env.GRIDFLOW_BI_INTERNAL);
const external = client(process.env.GRIDFLOW_BI_EXTERNAL);
try {
  await internal.connect();
  await external.connect();
} catch (e) {
  console.error(`dashboard.mjs: cannot connect: ${e.message}`);
  process.exit(2);
}

try {
  const daily = await run(internal, 'service_point_days',
    "one service point's daily usage over a month (internal role)",
    `SELECT local_date, channel, unit, time_resolution, total_usage, interval_count,
            peak_usage_value, peak_usage_ts, peak_local, pit_usage_value, pit_usage_ts, pit_local
       FROM experience.daily_usage
      WHERE utility_id = $1 AND service_point_id = $2 AND local_date >= $3 AND local_date < $4
      ORDER BY local_date, channel`,
    [...sp, ...month]);

  const totals = await run(internal, 'daily_totals',
    'daily totals per utility and channel over a month (internal role, mapped to both utilities)',
    `SELECT utility_id, local_date, channel, count(*) AS service_points,
            sum(total_usage::numeric) AS total_usage, sum(interval_count) AS reads
       FROM experience.daily_usage
      WHERE local_date >= $1 AND local_date < $2
      GROUP BY utility_id, local_date, channel
      ORDER BY utility_id, local_date, channel`,
    month);

  const rollup = await run(internal, 'utility_daily_totals',
    'the same daily totals from the rollup builds and ingests keep, experience.utility_daily_usage (internal role)',
    `SELECT utility_id, local_date, channel, service_points, total_usage, interval_count AS reads
       FROM experience.utility_daily_usage
      WHERE local_date >= $1 AND local_date < $2
      ORDER BY utility_id, local_date, channel`,
    month);
  const key = (r) => [r.utility_id, r.local_date, r.channel, r.service_points, r.reads].join('|');
  if (JSON.stringify(rollup.rows.map(key)) !== JSON.stringify(totals.rows.map(key)))
    failures.push('utility_daily_totals: the rollup differs from the days added up');

  await run(internal, 'top_peaks',
    'the top 10 service points by peak of one channel in a day (internal role)',
    `SELECT service_point_id, peak_usage_value, peak_usage_ts, total_usage
       FROM experience.daily_usage
      WHERE utility_id = $1 AND channel = $2 AND local_date = $3
      ORDER BY peak_usage_value DESC, service_point_id
      LIMIT 10`,
    ['UTILITY2', '1', '2025-01-23']);

  await run(internal, 'meter_day_reads',
    "one local day's reads of one meter, as a range of interval_start_ts, which prunes the products (internal role)",
    `SELECT interval_start_ts, interval_end_ts, channel, value, quality, duration_seconds,
            service_point_id, service_point_known, meter_known
       FROM product.usage_interval
      WHERE utility_id = $1 AND meter_id = $2 AND interval_start_ts >= $3 AND interval_start_ts < $4
      ORDER BY interval_start_ts, channel`,
    ['UTILITY2', '3942009480', '2025-01-24 00:00 America/New_York', '2025-01-25 00:00 America/New_York']);

  const dense = await run(internal, 'calendar_days',
    'every day of a month for one service point and channel, with or without usage: the calendar joined to daily usage through the utility\'s time zone (internal role)',
    `SELECT c.local_date, c.weekday_name, c.is_weekend, c.us_federal_holiday, c.ny_state_holiday,
            d.total_usage, d.interval_count
       FROM gridflow.utility u
       JOIN experience.calendar c ON c.time_zone = u.time_zone
       LEFT JOIN experience.daily_usage d
              ON d.utility_id = u.utility_id AND d.local_date = c.local_date
             AND d.service_point_id = $2 AND d.channel = $3
      WHERE u.utility_id = $1 AND c.local_date >= $4 AND c.local_date < $5
      ORDER BY c.local_date`,
    [...sp, '3', '2025-01-15', '2025-02-15']);
  if (dense.rows.length !== 31)
    failures.push(`calendar_days: ${dense.rows.length} days from 2025-01-15 to 2025-02-14, not 31`);

  const outside = await run(external, 'external_service_point_days',
    "the same service point's daily usage over the month through external.daily_usage, found by its pseudonym (external role)",
    `SELECT local_date, channel, unit, time_resolution, total_usage, interval_count,
            peak_usage_value, peak_usage_ts, peak_local, pit_usage_value, pit_usage_ts, pit_local
       FROM external.daily_usage
      WHERE utility_id = $1 AND service_point_id = $2 AND local_date >= $3 AND local_date < $4
      ORDER BY local_date, channel`,
    [sp[0], spPseudonym, ...month], [sp[0], `pseudonym of ${sp[1]}`, ...month]);
  const named = await external.query(
    'SELECT count(*)::int AS n FROM external.daily_usage WHERE service_point_id = $1', [sp[1]]);
  if (named.rows[0].n !== 0)
    failures.push('external.daily_usage shows the service point under its own id');
  if (JSON.stringify(outside.rows) !== JSON.stringify(daily.rows))
    failures.push('external_service_point_days: the external role does not read the internal role\'s rows');
  if (daily.rows.length === 0)
    failures.push('service_point_days: no rows');

  try {
    await external.query('SELECT count(*) FROM experience.daily_usage');
    failures.push('the external role read experience.daily_usage');
  } catch (e) {
    if (e.code !== '42501')
      failures.push(`the external role reading experience.daily_usage: ${e.code} ${e.message}, not 42501`);
  }
} finally {
  await internal.end();
  await external.end();
}

for (const f of failures) console.error(`dashboard.mjs: FAILED: ${f}`);
process.exit(failures.length ? 1 : 0);
