-- Set-returning functions in FROM.
SELECT * FROM generate_series(1, 5);
SELECT * FROM generate_series(1, 10, 3) AS g;
SELECT g.x FROM generate_series(5, 1, -2) AS g(x);
SELECT * FROM generate_series(1, 3) WITH ORDINALITY;
SELECT * FROM generate_series(10, 12) WITH ORDINALITY AS t(v, i);
SELECT * FROM generate_series(1, 0);
SELECT * FROM generate_series(1, 3, 0);
SELECT * FROM generate_series(3000000000, 3000000002);
SELECT * FROM generate_series(2147483646, 2147483647);
SELECT * FROM generate_series(NULL::int, 3);
SELECT a.n, b.n FROM generate_series(1, 3) a(n), LATERAL generate_series(1, a.n) b(n) ORDER BY 1, 2;
SELECT a.n, b.m FROM generate_series(1, 3) a(n) JOIN generate_series(2, 4) b(m) ON a.n = b.m ORDER BY 1;
