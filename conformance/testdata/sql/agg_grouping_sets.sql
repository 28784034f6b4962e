-- GROUPING SETS, ROLLUP, CUBE and GROUPING().
CREATE TABLE sales (id int PRIMARY KEY, region text, product text, qty int);
INSERT INTO sales VALUES (1, 'east', 'a', 10), (2, 'east', 'b', 20), (3, 'west', 'a', 5), (4, 'west', 'a', 7), (5, 'west', NULL, 1);
SELECT region, product, sum(qty) FROM sales GROUP BY ROLLUP (region, product) ORDER BY region, product, 3;
SELECT region, product, sum(qty), GROUPING(region, product) AS g FROM sales GROUP BY CUBE (region, product) ORDER BY g, region, product, 3;
SELECT region, product, count(*) FROM sales GROUP BY GROUPING SETS ((region), (product), ()) ORDER BY region, product, 3;
SELECT region, product, count(*) FROM sales GROUP BY region, ROLLUP (product) ORDER BY region, product, 3;
SELECT region, GROUPING(region), sum(qty) FROM sales GROUP BY GROUPING SETS (region, ()) HAVING sum(qty) > 10 ORDER BY region;
SELECT count(*) FROM sales WHERE false GROUP BY ();
SELECT count(*) FROM sales WHERE false GROUP BY ROLLUP (region);
SELECT region, GROUPING(region) FROM sales GROUP BY region ORDER BY region;
SELECT GROUPING(product) FROM sales GROUP BY region;
SELECT id FROM sales WHERE GROUPING(id) = 0;
SELECT region, product FROM sales GROUP BY ROLLUP (region) ORDER BY 1;
