// Runs duckdb_pipeline.sql on a drop directory in an in-memory DuckDB
// database.  Prints the seconds the whole pipeline took (reading the files
// included) on the first line, then the rows of its closing SELECTs, one
// tab-separated line per row, for the harness's agreement check.
// usage: node duckdb_run.mjs PIPELINE.sql DROP_DIR
import { readFileSync } from 'node:fs';
import { DuckDBInstance } from '@duckdb/node-api';

const [sqlFile, drop] = process.argv.slice(2);
const sql = readFileSync(sqlFile, 'utf8').replaceAll(':drop', drop);
const statements = sql.split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
const t0 = process.hrtime.bigint();
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const out = [];
for (const s of statements) {
    const reader = await con.runAndReadAll(s);
    if (/^select/i.test(s)) {
        for (const row of reader.getRows()) {
            out.push(row.map((v) => String(v)).join('\t'));
        }
    }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(seconds.toFixed(3));
for (const line of out) {
    console.log(line);
}
