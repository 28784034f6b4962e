// node-postgres against a Postgres server (argv[2] is the connection
// string). Prints what each step returned; the test compares the output
// between the gateway and PostgreSQL 15.
const { Client } = require('pg');

function show(label, value) {
  console.log(label, JSON.stringify(value));
}

function err(e) {
  return `${e.code} ${e.message}`;
}

async function main() {
  const c = new Client({ connectionString: process.argv[2] });
  await c.connect();
  await c.query('CREATE TABLE nj (id int PRIMARY KEY, t text, f float8, b bool)');
  let r = await c.query('INSERT INTO nj VALUES ($1, $2, $3, $4), ($5, $6, $7, $8)', [1, 'one', 1.5, true, 2, null, null, false]);
  show('insert', [r.command, r.rowCount]);
  r = await c.query('SELECT * FROM nj ORDER BY id');
  show('rows', r.rows);
  show('fields', r.fields.map((f) => [f.name, f.dataTypeID]));
  r = await c.query({ name: 'byid', text: 'SELECT t FROM nj WHERE id = $1', values: [1] });
  show('prepared', r.rows);
  r = await c.query({ name: 'byid', text: 'SELECT t FROM nj WHERE id = $1', values: [2] });
  show('prepared again', r.rows);
  r = await c.query({ text: 'SELECT id, t FROM nj ORDER BY id', rowMode: 'array' });
  show('array rows', r.rows);
  try {
    await c.query('INSERT INTO nj VALUES (1)');
  } catch (e) {
    show('dup', err(e));
  }
  await c.query('BEGIN');
  try {
    await c.query('SELECT nosuch FROM nj');
  } catch (e) {
    show('in tx', err(e));
  }
  try {
    await c.query('SELECT 1');
  } catch (e) {
    show('aborted', err(e));
  }
  await c.query('ROLLBACK');
  r = await c.query('SELECT 1 AS a; SELECT 2 AS b');
  show('multi', r.map((x) => x.rows));
  try {
    await c.query('SELECT pg_sleep(0); SELECT 1/0');
  } catch (e) {
    show('multi error', err(e));
  }
  await c.end();
}

main().catch((e) => {
  console.log('failed', e.code, e.message);
  process.exit(1);
});
