-- GROUP BY, HAVING and the aggregates, with their result types and errors.
CREATE TABLE emp (id int PRIMARY KEY, dept text, name text, salary int, bonus float8, active boolean, big bigint);
INSERT INTO emp VALUES
  (1, 'eng', 'ann', 100, '1.5', true, 10),
  (2, 'eng', 'bob', 120, NULL, true, 20),
  (3, 'ops', 'cid', 90, '2.25', false, NULL),
  (4, 'ops', 'dee', NULL, '0.5', NULL, 40),
  (5, 'hr', 'eve', 70, NULL, true, 50),
  (6, NULL, 'fay', 80, '3', false, 60);
SELECT count(*), count(salary), count(bonus), sum(salary), min(name), max(name), min(bonus), max(bonus), sum(bonus) FROM emp;
SELECT dept, count(*), sum(salary), min(salary), max(salary) FROM emp GROUP BY dept ORDER BY dept;
SELECT dept, count(*) AS n FROM emp GROUP BY dept HAVING count(*) > 1 ORDER BY dept;
SELECT dept AS d, count(*) FROM emp GROUP BY d ORDER BY d NULLS FIRST;
SELECT dept, count(*) FROM emp GROUP BY 1 ORDER BY 2 DESC, 1;
SELECT active, bool_and(salary > 80), bool_or(salary > 110), every(id > 0) FROM emp GROUP BY active ORDER BY active;
SELECT salary > 85 AS high, count(*) FROM emp GROUP BY salary > 85 ORDER BY 1;
SELECT upper(dept), count(*) FROM emp GROUP BY upper(dept) ORDER BY 1;
SELECT dept || '!' AS x, max(id) FROM emp GROUP BY dept ORDER BY x;
SELECT count(*) FROM emp WHERE false;
SELECT dept, count(*) FROM emp WHERE false GROUP BY dept;
SELECT sum(salary), max(name), bool_and(active) FROM emp WHERE false;
SELECT count(DISTINCT dept), count(DISTINCT active), sum(DISTINCT salary / 10) FROM emp;
SELECT count(*) FILTER (WHERE salary > 80), sum(salary) FILTER (WHERE dept = 'eng'), count(id) FILTER (WHERE false) FROM emp;
SELECT dept, string_agg(name, ',' ORDER BY name DESC) FROM emp GROUP BY dept ORDER BY dept;
SELECT string_agg(name, '-' ORDER BY id), string_agg(dept, NULL ORDER BY id), string_agg(DISTINCT dept, '|' ORDER BY dept) FROM emp;
SELECT string_agg(name, ', ') FILTER (WHERE id < 0) FROM emp;
SELECT pg_typeof(sum(big)), pg_typeof(sum(salary)), pg_typeof(avg(bonus)), pg_typeof(count(*)), pg_typeof(avg(salary)) FROM emp;
SELECT avg(bonus), sum(bonus) / count(bonus) FROM emp;
SELECT count(*) + 1, max(salary) - min(salary), count(*) * 2 AS twice FROM emp;
SELECT dept, count(*) FROM emp GROUP BY dept HAVING max(salary) > 95 OR dept IS NULL ORDER BY dept;
SELECT count(*) FROM emp HAVING count(*) > 100;
SELECT 1 FROM emp HAVING true;
SELECT max(id) FROM emp GROUP BY dept ORDER BY max(id);
SELECT dept, name FROM emp GROUP BY dept;
SELECT name, count(*) FROM emp;
SELECT dept FROM emp GROUP BY dept ORDER BY name;
SELECT dept, count(*) FROM emp GROUP BY dept HAVING salary > 1;
SELECT id FROM emp WHERE count(*) > 1;
SELECT sum(count(*)) FROM emp;
SELECT count(*) FROM emp GROUP BY count(*);
SELECT dept FROM emp GROUP BY 3;
SELECT sum(name) FROM emp;
SELECT count(DISTINCT dept ORDER BY name) FROM emp;
SELECT lower(DISTINCT name) FROM emp;
SELECT max(*) FROM emp;
SELECT e.dept, count(*) FROM emp e GROUP BY e.dept HAVING e.name = 'x';
SELECT sum(big), avg(salary), avg(big), avg(bonus), sum(salary::numeric / 3) FROM emp;
SELECT dept, avg(salary), sum(big) FROM emp GROUP BY dept ORDER BY dept;
CREATE TABLE nums (id int PRIMARY KEY, i int, b bigint, n numeric, f float4);
INSERT INTO nums VALUES (1, 1, 100000000000, 1.5, '0.5'), (2, 2, 3, 2.25, NULL), (3, 2, NULL, NULL, '1.25');
SELECT avg(i), sum(i), avg(b), sum(b), avg(n), sum(n), avg(f), sum(f), pg_typeof(sum(f)), pg_typeof(avg(n)) FROM nums;
SELECT max(n), min(n), max(f) FROM nums;
INSERT INTO nums VALUES (4, 2147483647, 9223372036854775807, 0, 0), (5, 1, 1, 0, 0);
SELECT sum(i), sum(b) FROM nums;
SELECT sum(i::bigint * 4294967296 * 2) FROM nums;
SELECT array_agg(id ORDER BY id DESC), array_agg(dept ORDER BY id), array_agg(DISTINCT dept) FROM emp;
SELECT dept, array_agg(salary ORDER BY salary NULLS FIRST) FROM emp GROUP BY dept ORDER BY dept;
SELECT array_agg(id) FILTER (WHERE false) FROM emp;
SELECT id % 2 AS g, count(*) FROM emp GROUP BY g ORDER BY g;
SELECT dept, count(*), (SELECT max(e2.salary) FROM emp e2 WHERE e2.dept = emp.dept) AS top FROM emp GROUP BY dept ORDER BY dept;
SELECT dept, dept IN (SELECT dept FROM emp WHERE salary > 100) AS rich FROM emp GROUP BY dept ORDER BY dept;
SELECT e.dept, count(*), sum(n.i) FROM emp e JOIN nums n ON n.id = e.id GROUP BY e.dept ORDER BY 1;
SELECT dept, count(*) FROM emp GROUP BY dept HAVING EXISTS (SELECT 1 FROM emp e2 WHERE e2.dept = emp.dept AND e2.salary > 100) ORDER BY 1;
SELECT count(*) FROM (SELECT DISTINCT dept FROM emp) s;
SELECT id, name, dept, count(*) FROM emp GROUP BY id ORDER BY id LIMIT 3;
SELECT e.id, e.name, sum(n.i) FROM emp e JOIN nums n ON n.id = e.id GROUP BY e.id ORDER BY 1;
SELECT sum(salary) FILTER (WHERE count(*) > 1) FROM emp;
SELECT x.name FROM emp x GROUP BY x.dept;
