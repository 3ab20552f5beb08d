-- The differential corpus of /execute/sql (tests/python/test_sql.py): every
-- statement runs on our engine and on DuckDB over the same tables; answers
-- must be equal, as multisets of rows unless the statement has ORDER BY (then
-- in order), doubles to a relative 1e-9. One statement per line; `--` lines
-- are comments. Grow it whenever a bug is found.

-- Projections and filters (t: 3,000 rows, nulls in k and s, duplicate keys)
SELECT id FROM t WHERE x > 500
SELECT id FROM t WHERE k = 3
SELECT id FROM t WHERE k <> 3
SELECT id FROM t WHERE k IS NULL
SELECT id FROM t WHERE k IS NOT NULL
SELECT id FROM t WHERE s = 'apple'
SELECT id FROM t WHERE s <> 'apple'
SELECT id FROM t WHERE s LIKE 'ap%'
SELECT id FROM t WHERE s LIKE '%an%'
SELECT id FROM t WHERE s NOT LIKE 'b%'
SELECT id FROM t WHERE s ILIKE 'kiwi'
SELECT id FROM t WHERE s IS NULL
SELECT id FROM t WHERE s = ''
SELECT id FROM t WHERE x BETWEEN 250 AND 260
SELECT id FROM t WHERE x NOT BETWEEN 1 AND 999
SELECT id FROM t WHERE k IN (1, 2, 3)
SELECT id FROM t WHERE k NOT IN (1, 2, 3)
SELECT id FROM t WHERE s IN ('apple', 'band')
SELECT id FROM t WHERE s NOT IN ('apple', 'band')
SELECT id FROM t WHERE big % 3 = 0
SELECT id FROM t WHERE big / 7.0 > 100
SELECT id FROM t WHERE x * 2 < 10
SELECT id FROM t WHERE x + big > 1900
SELECT id FROM t WHERE k > 10 AND s = 'kiwi'
SELECT id FROM t WHERE k < 5 OR s = 'Kiwi'
SELECT id FROM t WHERE NOT (k > 5)
SELECT id FROM t WHERE NOT (k > 5 OR x < 100)
SELECT id FROM t WHERE (k = 1 OR k = 2) AND x > 500
SELECT id FROM t WHERE k = big % 40
SELECT id FROM t WHERE x > big
SELECT id FROM t WHERE id % 100 = 7
SELECT id FROM t WHERE length(s) = 5
SELECT id FROM t WHERE lower(s) = 'kiwi'
SELECT id FROM t WHERE upper(s) LIKE 'A%'
SELECT id FROM t WHERE abs(x - 500) < 5
SELECT id FROM t WHERE COALESCE(k, -1) = -1
SELECT id FROM t WHERE CASE WHEN k > 20 THEN 1 ELSE 0 END = 1
SELECT id FROM t WHERE k + 1 = 2
SELECT id FROM t WHERE -k = -7
SELECT id FROM t WHERE x >= 999.5
SELECT id FROM t WHERE s >= 'b' AND s < 'c'
SELECT id FROM t WHERE s > 'kiwi' OR s < 'apple'
SELECT id, x * 2 + 1 AS v FROM t WHERE id < 300
SELECT id, big - k AS v FROM t WHERE id < 300
SELECT id, x / 3 AS v FROM t WHERE id < 300
SELECT id, big / 7.0 AS v FROM t WHERE id < 300
SELECT id, big % 7 AS v FROM t WHERE id < 300
SELECT id, -x AS v FROM t WHERE id < 300
SELECT id, k * k AS v FROM t WHERE id < 300
SELECT id, abs(k - 20) AS v FROM t WHERE id < 300
SELECT id, round(x) AS v FROM t WHERE id < 300
SELECT id, floor(x) AS v FROM t WHERE id < 300
SELECT id, ceil(x) AS v FROM t WHERE id < 300
SELECT id, sqrt(x) AS v FROM t WHERE id < 300
SELECT id, lower(s) AS v FROM t WHERE id < 300
SELECT id, upper(s) AS v FROM t WHERE id < 300
SELECT id, length(s) AS v FROM t WHERE id < 300
SELECT id, substring(s, 1, 2) AS v FROM t WHERE id < 300
SELECT id, COALESCE(s, 'none') AS v FROM t WHERE id < 300
SELECT id, COALESCE(k, big) AS v FROM t WHERE id < 300
SELECT id, NULLIF(k, 3) AS v FROM t WHERE id < 300
SELECT id, CASE WHEN x > 500 THEN 'hi' ELSE 'lo' END AS v FROM t WHERE id < 300
SELECT id, CASE k WHEN 1 THEN 10 WHEN 2 THEN 20 ELSE 0 END AS v FROM t WHERE id < 300
SELECT id, CAST(k AS DOUBLE) / 4 AS v FROM t WHERE id < 300
SELECT id, k IS NULL AS v FROM t WHERE id < 300
SELECT id, x > 500 AND k < 5 AS v FROM t WHERE id < 300
SELECT id, substring(s, 2, 3) AS v FROM t WHERE id < 300
SELECT id, power(k, 2) AS v FROM t WHERE id < 300
SELECT id, big * 1.5 AS v FROM t WHERE id < 300
SELECT id, k = 3 AS v FROM t WHERE id < 300
SELECT id, greatest(k, 10) AS v, least(x, 100) AS w FROM t WHERE id < 300
SELECT id, mod(big, 9) AS v, sign(x - 500) AS w FROM t WHERE id < 300
SELECT * FROM t
SELECT t.id, t.x FROM t WHERE t.k = 4
SELECT u.id FROM t AS u WHERE u.big < 20
SELECT id, x * 2 + big / 10.0 AS v FROM t WHERE big % 7 = 0

-- Aggregates, grouped and not
SELECT count(*) FROM t
SELECT count(k) FROM t
SELECT count(s) FROM t
SELECT count(DISTINCT k) FROM t
SELECT count(DISTINCT s) FROM t
SELECT sum(x) FROM t
SELECT sum(k) FROM t
SELECT sum(big) FROM t
SELECT min(x) FROM t
SELECT max(x) FROM t
SELECT min(s) FROM t
SELECT max(s) FROM t
SELECT avg(x) FROM t
SELECT avg(k) FROM t
SELECT stddev(x) FROM t
SELECT variance(x) FROM t
SELECT stddev_pop(big) FROM t
SELECT var_pop(k) FROM t
SELECT sum(x * 2) FROM t
SELECT max(big - k) FROM t
SELECT avg(CASE WHEN x > 500 THEN 1 ELSE 0 END) FROM t
SELECT sum(COALESCE(k, 0)) FROM t
SELECT k, count(*) FROM t GROUP BY k
SELECT k, count(k) FROM t GROUP BY k
SELECT k, count(s) FROM t GROUP BY k
SELECT k, count(DISTINCT k) FROM t GROUP BY k
SELECT k, count(DISTINCT s) FROM t GROUP BY k
SELECT k, sum(x) FROM t GROUP BY k
SELECT k, sum(k) FROM t GROUP BY k
SELECT k, sum(big) FROM t GROUP BY k
SELECT k, min(x) FROM t GROUP BY k
SELECT k, max(x) FROM t GROUP BY k
SELECT k, min(s) FROM t GROUP BY k
SELECT k, max(s) FROM t GROUP BY k
SELECT k, avg(x) FROM t GROUP BY k
SELECT k, avg(k) FROM t GROUP BY k
SELECT k, stddev(x) FROM t GROUP BY k
SELECT k, variance(x) FROM t GROUP BY k
SELECT s, count(*) FROM t GROUP BY s
SELECT k, s, count(*) FROM t GROUP BY k, s
SELECT count(*) FROM t WHERE x > 700
SELECT count(*) FROM empty
SELECT s, sum(x) FROM t GROUP BY s
SELECT k, s, sum(x) FROM t GROUP BY k, s
SELECT sum(x) FROM t WHERE x > 700
SELECT sum(v) FROM empty
SELECT s, min(big) FROM t GROUP BY s
SELECT k, s, min(big) FROM t GROUP BY k, s
SELECT min(big) FROM t WHERE x > 700
SELECT min(v) FROM empty
SELECT s, max(k) FROM t GROUP BY s
SELECT k, s, max(k) FROM t GROUP BY k, s
SELECT max(k) FROM t WHERE x > 700
SELECT max(id) FROM empty
SELECT s, avg(x) FROM t GROUP BY s
SELECT k, s, avg(x) FROM t GROUP BY k, s
SELECT avg(x) FROM t WHERE x > 700
SELECT avg(v) FROM empty
SELECT s, count(DISTINCT k) FROM t GROUP BY s
SELECT k, s, count(DISTINCT k) FROM t GROUP BY k, s
SELECT count(DISTINCT k) FROM t WHERE x > 700
SELECT count(DISTINCT id) FROM empty
SELECT k % 5 AS m, count(*) FROM t GROUP BY k % 5
SELECT floor(big / 100.0) AS b, sum(x) FROM t GROUP BY floor(big / 100.0)
SELECT lower(s) AS l, count(*) FROM t GROUP BY lower(s)
SELECT k, count(*) FROM t WHERE s LIKE '%a%' GROUP BY k HAVING count(*) > 20
SELECT k, sum(x) AS total FROM t GROUP BY k HAVING sum(x) > 40000 AND k IS NOT NULL
SELECT k, max(x) - min(x) AS spread FROM t GROUP BY k
SELECT k, count(*) * 2 AS twice FROM t GROUP BY k
SELECT k, avg(x) + 1 AS a FROM t GROUP BY k
SELECT count(*), count(k), count(s), count(DISTINCT big) FROM t
SELECT s, count(*) FROM t GROUP BY s HAVING count(DISTINCT k) > 30
SELECT k FROM t GROUP BY k
SELECT k, s FROM t GROUP BY k, s HAVING count(*) > 12
SELECT count(*) FROM t GROUP BY k
SELECT k + 1 AS k1, count(*) FROM t GROUP BY k
SELECT s, sum(x) / count(*) AS mean FROM t GROUP BY s, k HAVING min(big) > 5
SELECT k, count(*) AS n, sum(x) AS total FROM t GROUP BY k HAVING count(*) > 60
SELECT stddev_samp(x), var_samp(x), stddev_pop(x), var_pop(x) FROM t
SELECT k, stddev(x) AS sd FROM t GROUP BY k

-- IS [NOT] DISTINCT FROM (nulls equal each other)
SELECT count(*) FROM t WHERE s IS DISTINCT FROM 'apple'
SELECT count(*) FROM t WHERE k IS NOT DISTINCT FROM NULL
SELECT id FROM t WHERE id < 200 AND k IS DISTINCT FROM id % 20
SELECT id, k IS NOT DISTINCT FROM 3 AS same FROM t WHERE id < 40

-- Grouping expressions with operators, ordered and filtered by them (nullable keys)
SELECT k % 7 AS m, count(*) FROM t GROUP BY 1 ORDER BY 1
SELECT x * 2 AS d, count(*) FROM t WHERE id < 50 GROUP BY x * 2 ORDER BY x * 2 DESC
SELECT k + 1, count(*) FROM t GROUP BY k + 1 HAVING (k + 1) > 3 ORDER BY 1 DESC NULLS FIRST

-- Qualified grouping columns of a join, ordered and filtered by name (nullable keys)
SELECT t.k, u.name, count(*) FROM t JOIN u ON t.k = u.k GROUP BY t.k, u.name ORDER BY t.k, u.name
SELECT u.k AS key, count(*) FROM t JOIN u ON t.k = u.k GROUP BY 1 HAVING count(*) > 10 ORDER BY 1 DESC

-- Aggregates with FILTER (WHERE ...)
SELECT k, count(*) FILTER (WHERE x > 500) AS big, sum(x) FILTER (WHERE s = 'apple') AS apples, count(*) FROM t GROUP BY k
SELECT count(s) FILTER (WHERE k < 5), max(x) FILTER (WHERE s IS NULL), avg(big) FILTER (WHERE x BETWEEN 100 AND 200), min(id) FILTER (WHERE k IS NULL) FROM t
SELECT s, count(*) FILTER (WHERE k IS NOT NULL) AS n FROM t GROUP BY s HAVING count(*) FILTER (WHERE x < 10) > 0

-- DISTINCT
SELECT DISTINCT k FROM t
SELECT DISTINCT s FROM t
SELECT DISTINCT k, s FROM t
SELECT DISTINCT big % 10 FROM t
SELECT DISTINCT lower(s) FROM t
SELECT DISTINCT k IS NULL FROM t
SELECT DISTINCT k FROM t WHERE x > 900
SELECT DISTINCT name FROM u
SELECT DISTINCT s, k FROM t WHERE id < 500

-- ORDER BY, LIMIT, OFFSET (nulls last ascending, first descending, as in PostgreSQL)
SELECT id, x FROM t ORDER BY x LIMIT 12
SELECT id, x FROM t ORDER BY x DESC LIMIT 12
SELECT id, x FROM t ORDER BY id DESC LIMIT 12
SELECT id, x FROM t ORDER BY big, x DESC LIMIT 12
SELECT id, x FROM t ORDER BY x * -1 LIMIT 12
SELECT id, x FROM t ORDER BY 2, 1 LIMIT 12
SELECT id, x FROM t ORDER BY 1 DESC LIMIT 12
SELECT id, k, s FROM t ORDER BY k, id LIMIT 12
SELECT id, k, s FROM t ORDER BY k DESC, id LIMIT 12
SELECT id, k, s FROM t ORDER BY s, id LIMIT 12
SELECT id, k, s FROM t ORDER BY s DESC, id LIMIT 12
SELECT id, k, s FROM t ORDER BY k NULLS FIRST, id LIMIT 12
SELECT id, k, s FROM t ORDER BY k DESC NULLS LAST, id LIMIT 12
SELECT id, k, s FROM t ORDER BY length(s), id LIMIT 12
SELECT id, k, s FROM t ORDER BY s NULLS FIRST, k DESC, id LIMIT 12
SELECT id FROM t ORDER BY id LIMIT 5 OFFSET 0
SELECT id FROM t ORDER BY id LIMIT 10 OFFSET 10
SELECT id FROM t ORDER BY id LIMIT 3 OFFSET 2995
SELECT id FROM t ORDER BY id LIMIT 10 OFFSET 3000
SELECT id FROM t ORDER BY id LIMIT 0 OFFSET 0
SELECT id FROM t ORDER BY id LIMIT 100 OFFSET 1500
SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY n DESC, k LIMIT 4
SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY k DESC LIMIT 4
SELECT k, count(*) AS n FROM t GROUP BY k ORDER BY k LIMIT 4 OFFSET 38
SELECT s, sum(x) FROM t GROUP BY s ORDER BY 2 DESC
SELECT DISTINCT s FROM t ORDER BY s
SELECT DISTINCT s FROM t ORDER BY s DESC
SELECT id, x FROM t WHERE k = 7 ORDER BY x DESC LIMIT 3
SELECT * FROM u ORDER BY rank, id
SELECT * FROM u ORDER BY rank DESC, id
SELECT k, avg(x) AS a FROM t WHERE k IS NOT NULL GROUP BY k ORDER BY k
SELECT s, count(*) FROM t GROUP BY s ORDER BY count(*) DESC, s LIMIT 3
SELECT k, count(*) FROM t GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5

-- Joins (u: 50 rows, duplicate keys below 5, nullable rank)
SELECT t.id, u.id FROM t JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t LEFT JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t LEFT JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t RIGHT JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t RIGHT JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t FULL JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t FULL JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t INNER JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t INNER JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t LEFT OUTER JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t LEFT OUTER JOIN u ON t.k = u.rank
SELECT t.id, u.id FROM t FULL OUTER JOIN u ON t.k = u.k WHERE t.id < 200 OR t.id IS NULL
SELECT count(*), count(t.id), count(u.id) FROM t FULL OUTER JOIN u ON t.k = u.rank
SELECT t.id, u.name FROM t JOIN u ON t.k = u.k AND t.s = u.name
SELECT t.id, u.name FROM t JOIN u ON t.k = u.k AND u.rank > 4 WHERE t.x < 100
SELECT t.id FROM t JOIN u ON t.s = u.name
SELECT t.id, u.id FROM t JOIN u ON t.id = u.id
SELECT a.id, b.id FROM u AS a JOIN u AS b ON a.k = b.k
SELECT a.id, b.id FROM u AS a, u AS b WHERE a.rank = b.k AND a.id < b.id
SELECT count(*) FROM u AS a CROSS JOIN u AS b
SELECT u.k, count(*) FROM t JOIN u ON t.k = u.k GROUP BY u.k
SELECT u.name, sum(t.x) AS total, count(DISTINCT t.k) FROM t JOIN u ON t.k = u.k GROUP BY u.name
SELECT t.s, max(u.rank) FROM t LEFT JOIN u ON t.k = u.k GROUP BY t.s
SELECT t.id, u.rank FROM t JOIN u ON t.k = u.k ORDER BY u.rank DESC, t.id LIMIT 10
SELECT t.id, u.name, v.name FROM t JOIN u ON t.k = u.k LEFT JOIN u AS v ON t.id = v.id WHERE t.id < 100
SELECT count(*) FROM t JOIN u ON t.k = u.k JOIN u AS v ON u.rank = v.rank
SELECT t.id FROM t JOIN empty ON t.id = empty.id
SELECT t.id, empty.v FROM t LEFT JOIN empty ON t.id = empty.id WHERE t.id < 5
SELECT u.id FROM t RIGHT JOIN u ON t.id = u.rank WHERE t.id IS NULL
SELECT t.k, u.k FROM t FULL JOIN u ON t.k = u.rank WHERE t.k IS NULL OR u.k IS NULL
SELECT t.id, u.name FROM t JOIN u ON t.k = u.k WHERE t.x > 900
SELECT t.id, u.name FROM t RIGHT JOIN u ON t.k = u.k AND t.s = u.name
SELECT u.name, count(*) AS n, avg(t.x) AS a FROM t JOIN u ON t.k = u.k GROUP BY u.name
SELECT t.id, u.rank FROM t, u WHERE t.k = u.k AND t.big < 10
SELECT * FROM t JOIN u ON t.k = u.k WHERE t.id < 30
SELECT a.id, b.id FROM t AS a JOIN t AS b ON a.id = b.big WHERE a.id < 20
SELECT t.id, u.name, v.name FROM t JOIN u ON t.k = u.k JOIN u AS v ON u.rank = v.k WHERE t.id < 200
SELECT name, sum(x) AS total FROM t JOIN u ON t.k = u.k WHERE rank IS NOT NULL GROUP BY name ORDER BY total DESC LIMIT 3
SELECT count(*), sum(t.x) FROM t, u AS a, u AS b WHERE t.k = b.k AND a.k = b.rank AND t.id < 1000
SELECT t.id, a.id, b.id FROM u AS a, t, u AS b WHERE b.rank = a.k AND t.k = b.k AND t.x > 990
-- Three tables or more, joined in the order of least estimated rows: the
-- FROM order scrambled, equalities implied through a third table (a.k = b.k
-- and b.k = t.k join t to a), conditions of two tables applied once both
-- are joined, SELECT * in the FROM order
SELECT t.id, a.id, b.id FROM u AS a, u AS b, t WHERE t.k = a.k AND a.k = b.k AND t.id < 50
SELECT count(*) FROM t, u AS a, u AS b WHERE t.k = a.k AND t.k = b.rank
SELECT t.id, a.name FROM u AS b, t, u AS a WHERE a.k = b.k AND b.k = t.k AND a.rank > b.rank AND t.x < 300
SELECT * FROM u AS a JOIN t ON t.k = a.k JOIN u AS b ON b.id = a.rank WHERE t.id < 40
SELECT a.name, count(*) AS n, sum(t.x) AS total FROM t JOIN u AS a ON t.k = a.k JOIN u AS b ON a.rank = b.k JOIN w ON w.g = b.k GROUP BY a.name
SELECT count(*) FROM t AS t1 JOIN t AS t2 ON t1.id = t2.big JOIN u ON u.k = t2.k JOIN u AS v ON v.k = t1.k WHERE u.rank = 2
SELECT t.id, u.id FROM t CROSS JOIN u WHERE t.id < 3 AND u.id < 4
SELECT count(*) FROM u AS a JOIN u AS b ON a.k = b.k JOIN u AS c ON b.k = c.k JOIN u AS d ON c.k = d.k WHERE d.id < 10

-- Subqueries in FROM and WITH
SELECT a.k, a.n FROM (SELECT k, count(*) AS n FROM t GROUP BY k) AS a WHERE a.n > 70
SELECT max(n), min(n) FROM (SELECT k, count(*) AS n FROM t GROUP BY k) s
SELECT count(*) FROM (SELECT id FROM t ORDER BY x DESC LIMIT 10) s
SELECT * FROM (SELECT k, sum(x) AS total FROM t GROUP BY k ORDER BY total DESC LIMIT 3) s ORDER BY total
SELECT k, count(*) FROM (SELECT k FROM t UNION ALL SELECT k FROM u) s GROUP BY k
SELECT t.id, s2.name FROM t JOIN (SELECT k, name FROM u WHERE rank IS NOT NULL) s2 ON t.k = s2.k WHERE t.id < 300
SELECT s.v FROM (SELECT x * 2 AS v FROM t WHERE id < 10) s WHERE s.v > 100
SELECT count(*) FROM (SELECT DISTINCT k, s FROM t) d
SELECT d.s, count(*) FROM (SELECT DISTINCT k, s FROM t) d GROUP BY d.s
SELECT a.k, a.n, b.m FROM (SELECT k, count(*) AS n FROM t GROUP BY k) a JOIN (SELECT k, max(x) AS m FROM t GROUP BY k) b ON a.k = b.k
SELECT c FROM (SELECT count(*) AS c FROM t) s
WITH big AS (SELECT id, x FROM t WHERE x > 990) SELECT count(*), sum(x) FROM big
WITH g AS (SELECT k, sum(x) AS total FROM t GROUP BY k), h AS (SELECT k FROM g WHERE total > 30000) SELECT count(*) FROM h
WITH a AS (SELECT k FROM u), b AS (SELECT k FROM a WHERE k > 40) SELECT * FROM b
WITH c AS (SELECT k, count(*) AS n FROM t GROUP BY k) SELECT t.id, c.n FROM t JOIN c ON t.k = c.k WHERE t.id < 50
WITH c AS (SELECT * FROM u WHERE rank > 2) SELECT name, count(*) FROM c GROUP BY name
WITH e AS (SELECT * FROM empty) SELECT count(*) FROM e
WITH top AS (SELECT id, x FROM t ORDER BY x DESC LIMIT 5) SELECT id FROM top ORDER BY x

-- IN, EXISTS and scalar subqueries (uncorrelated)
SELECT id FROM t WHERE k IN (SELECT k FROM u WHERE rank > 5)
SELECT id FROM t WHERE k NOT IN (SELECT k FROM u WHERE rank > 5)
SELECT id FROM t WHERE k NOT IN (SELECT rank FROM u)
SELECT id FROM t WHERE k IN (SELECT rank FROM u)
SELECT id FROM t WHERE s IN (SELECT name FROM u)
SELECT id FROM t WHERE k IN (SELECT id FROM empty)
SELECT id FROM t WHERE k NOT IN (SELECT id FROM empty) AND id < 10
SELECT count(*) FROM t WHERE EXISTS (SELECT 1 FROM u WHERE rank = 8)
SELECT count(*) FROM t WHERE NOT EXISTS (SELECT id FROM empty)
SELECT count(*) FROM t WHERE EXISTS (SELECT id FROM empty)
SELECT id, x FROM t WHERE x > (SELECT avg(x) FROM t) AND id < 100
SELECT id FROM t WHERE id = (SELECT max(id) FROM u)
SELECT (SELECT max(k) FROM u) AS m, id FROM t WHERE id < 3
SELECT k, count(*) AS n FROM t GROUP BY k HAVING count(*) > (SELECT avg(rank) FROM u) * 10
SELECT DISTINCT k FROM t WHERE k IN (SELECT k FROM t WHERE x > 990)
SELECT k, sum(x) FROM t WHERE k IN (SELECT k FROM u) GROUP BY k ORDER BY k
SELECT id FROM t WHERE x > (SELECT max(v) FROM empty)
SELECT id FROM t WHERE k IN (SELECT k FROM u WHERE name IN (SELECT s FROM t WHERE id < 3))

-- UNION, INTERSECT, EXCEPT
SELECT k FROM t WHERE id < 10 UNION SELECT k FROM u WHERE id < 10
SELECT k FROM t WHERE id < 10 UNION ALL SELECT k FROM u WHERE id < 10
SELECT k FROM t INTERSECT SELECT k FROM u
SELECT k FROM t EXCEPT SELECT k FROM u
SELECT k FROM u EXCEPT SELECT k FROM t WHERE k < 30 ORDER BY 1
SELECT s, k FROM t WHERE id < 20 UNION SELECT name, k FROM u WHERE id < 20 ORDER BY 2, 1
SELECT x FROM t WHERE id < 5 UNION ALL SELECT rank FROM u WHERE id < 5
SELECT k FROM t UNION SELECT k FROM u UNION SELECT id FROM empty
SELECT s FROM t INTERSECT SELECT name FROM u
SELECT name FROM u EXCEPT SELECT s FROM t
SELECT k, count(*) FROM t GROUP BY k UNION ALL SELECT k, count(*) FROM u GROUP BY k
SELECT id FROM empty UNION SELECT id FROM empty
SELECT k FROM t WHERE k < 3 UNION SELECT k FROM t WHERE k > 37 ORDER BY 1 DESC LIMIT 3

-- Empty tables and no rows
SELECT * FROM empty
SELECT count(*) FROM empty
SELECT id, v * 2 FROM empty WHERE v > 1
SELECT id, count(*) FROM empty GROUP BY id
SELECT DISTINCT id FROM empty
SELECT id FROM t WHERE x > 2000
SELECT k, count(*) FROM t WHERE x > 2000 GROUP BY k
SELECT sum(x), min(s) FROM t WHERE x > 2000

-- Skew (w: 4,000 rows, 90% of them in one group; nullable v)
SELECT g, count(*) FROM w GROUP BY g
SELECT g, sum(v), avg(v), count(v) FROM w GROUP BY g
SELECT count(DISTINCT g) FROM w
SELECT name, max(v) FROM w GROUP BY name
SELECT w.g, count(*) FROM w JOIN u ON w.g = u.k GROUP BY w.g
SELECT count(*) FROM w AS a JOIN w AS b ON a.g = b.g WHERE a.id < 100 AND b.id < 100
SELECT id FROM w WHERE g <> 1
SELECT g, v FROM w ORDER BY v DESC, id LIMIT 5
SELECT DISTINCT g FROM w ORDER BY g
SELECT name, count(*) FROM w WHERE v IS NULL GROUP BY name
SELECT id FROM w WHERE g IN (SELECT k FROM u WHERE rank = 2)
-- IN subqueries of tens of thousands of values (many: 60,000 distinct ids and strings)
SELECT count(*), sum(id) FROM many WHERE id IN (SELECT id FROM many WHERE id % 3 <> 0)
SELECT count(*), min(id) FROM many WHERE s NOT IN (SELECT s FROM many WHERE id > 100)
SELECT count(*) FROM many WHERE id IN (SELECT id % 50 FROM many)
SELECT id FROM t WHERE id IN (SELECT id + 2900 FROM many) AND k IS NOT NULL
-- ... joined as tables of their distinct values (past 1,000 of them): beside SELECT *, other
-- joins, an outer join, two at once, nulls on the tested side
SELECT * FROM many WHERE id IN (SELECT id FROM many WHERE id % 7 = 0) AND id < 200
SELECT m.s, count(*) AS n FROM many m JOIN t ON t.id = m.id WHERE m.id IN (SELECT id * 2 FROM many) GROUP BY m.s
SELECT count(*), count(many.id) FROM t LEFT JOIN many ON t.id = many.id WHERE many.id IN (SELECT id FROM many WHERE id > 1000)
SELECT id FROM many WHERE s IN (SELECT s FROM many WHERE id % 3 = 0) AND id IN (SELECT id FROM many WHERE id % 2 = 0) AND id < 100
SELECT count(*), sum(x) FROM t WHERE k IN (SELECT id % 5000 FROM many)
-- ... and their negations joined as anti joins: NOT IN (no row for a null key, none at all when
-- the values hold a null), NOT EXISTS (null keys kept)
SELECT count(*), sum(id) FROM many WHERE id NOT IN (SELECT id FROM many WHERE id % 3 = 0)
SELECT count(*), sum(x) FROM t WHERE k NOT IN (SELECT id % 5000 FROM many)
SELECT count(*) FROM many WHERE id NOT IN (SELECT CASE WHEN id = 50005 THEN NULL ELSE id END FROM many WHERE id > 50000)
SELECT count(*), count(k) FROM t WHERE NOT EXISTS (SELECT * FROM many WHERE many.id = t.k)
SELECT id FROM many WHERE NOT EXISTS (SELECT 1 FROM many AS m WHERE m.id = many.id AND m.id % 2 = 0) AND id > 59990
-- EXISTS correlated by one equality (answered as IN; NOT EXISTS keeps rows of a null key)
SELECT id FROM t WHERE EXISTS (SELECT * FROM u WHERE u.k = t.k AND u.rank > 2)
SELECT count(*) FROM t WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.k = t.k)
SELECT count(*) FROM t WHERE NOT EXISTS (SELECT * FROM u WHERE u.rank = t.k)
SELECT t.id FROM t WHERE EXISTS (SELECT * FROM many WHERE many.id = t.id AND many.id % 2 = 0) AND t.id < 500
SELECT count(*) FROM u WHERE EXISTS (SELECT * FROM w WHERE g = k)
SELECT u.name, count(*) FROM u JOIN t ON t.k = u.k WHERE EXISTS (SELECT 1 FROM w AS x WHERE x.g = t.k AND x.v > 0) GROUP BY u.name
SELECT g FROM w EXCEPT SELECT k FROM u

-- Window functions (nulls last ascending, first descending, as in PostgreSQL)
SELECT id, row_number() OVER (ORDER BY id) AS rn FROM t WHERE id < 50
SELECT id, k, rank() OVER (PARTITION BY k ORDER BY x DESC) AS r FROM t WHERE id < 300
SELECT id, dense_rank() OVER (ORDER BY k) AS r FROM t WHERE id < 300
SELECT id, lag(x) OVER (PARTITION BY s ORDER BY id) AS prev, lead(x, 2) OVER (PARTITION BY s ORDER BY id) AS next FROM t WHERE id < 300
SELECT id, sum(x) OVER (PARTITION BY k) AS total, count(*) OVER (PARTITION BY k) AS n FROM t
SELECT id, sum(x) OVER (PARTITION BY k ORDER BY id) AS running, avg(x) OVER (PARTITION BY k ORDER BY id) AS mean FROM t
SELECT id, min(big) OVER (ORDER BY x DESC) AS lo, max(big) OVER (PARTITION BY s) AS hi, count(k) OVER () AS c FROM t
SELECT t.id, u.name, row_number() OVER (PARTITION BY u.name ORDER BY t.id) AS rn FROM t JOIN u ON t.k = u.k
SELECT id, k, rank() OVER (ORDER BY k) FROM t ORDER BY 3, id LIMIT 20
SELECT * FROM (SELECT id, k, row_number() OVER (PARTITION BY k ORDER BY x DESC) AS rn FROM t) s WHERE rn <= 2
SELECT id, sum(k) OVER (ORDER BY k) AS rs FROM t WHERE id < 500
SELECT id, k, rank() OVER (ORDER BY k DESC) AS r, dense_rank() OVER (ORDER BY k DESC NULLS LAST) AS d FROM t WHERE id < 400
SELECT g, v, row_number() OVER (PARTITION BY g ORDER BY v, id) AS rn, lag(v, 1) OVER (PARTITION BY g ORDER BY id) AS pv FROM w WHERE id < 600
SELECT id, count(*) OVER (ORDER BY v) AS c, max(v) OVER (PARTITION BY name ORDER BY id DESC) AS m FROM w
-- Window functions over groups: after GROUP BY and HAVING, reading keys and aggregates
SELECT k, count(*) AS n, rank() OVER (ORDER BY count(*) DESC, k) AS r FROM t GROUP BY k
SELECT k, sum(x) AS sx, sum(sum(x)) OVER () AS total, sum(x) / sum(sum(x)) OVER () AS share FROM t GROUP BY k
SELECT s, k, max(x) AS m, row_number() OVER (PARTITION BY s ORDER BY max(x) DESC, k) AS rn FROM t WHERE id < 500 GROUP BY s, k HAVING count(*) > 1
SELECT k, lag(count(*)) OVER (ORDER BY k) AS prev, lead(min(id), 2) OVER (ORDER BY k) AS next FROM t GROUP BY k
SELECT * FROM (SELECT s, sum(x) AS sx, dense_rank() OVER (ORDER BY sum(x) DESC) AS d FROM t GROUP BY s) z WHERE d <= 2
SELECT g, count(*) AS n, avg(count(*)) OVER (PARTITION BY g % 2) AS mean FROM w GROUP BY g ORDER BY n DESC, g LIMIT 5
SELECT u.name, count(*) AS n, rank() OVER (ORDER BY count(*)) AS r FROM t JOIN u ON t.k = u.k GROUP BY u.name
SELECT count(*) AS n, row_number() OVER () AS rn FROM t

-- SELECT without FROM (one row)
SELECT 1
SELECT 1 + 2 AS three, 'x' AS s, 2.5 * 2 AS f
SELECT (SELECT max(k) FROM u) AS m, (SELECT count(*) FROM t) AS n
SELECT 2 WHERE 1 = 0
SELECT count(*)
SELECT id, count(s) OVER (PARTITION BY k) AS c FROM t WHERE id < 50
SELECT id, count(*) OVER (ORDER BY s) AS c FROM t WHERE id < 50

-- CAST to integers (halves to even, as PostgreSQL and DuckDB round a double) and of string constants
SELECT id, CAST(x AS INTEGER) AS i, CAST(x / 2 AS BIGINT) AS b FROM t WHERE id < 300
SELECT id, CAST(k AS BIGINT) AS kk, CAST(big / 3.0 AS INTEGER) AS h FROM t WHERE id < 300
SELECT CAST('42' AS INT) + 1 AS n, CAST('abc' AS VARCHAR) AS s
SELECT CAST(2.5 AS DOUBLE) AS d, CAST(x AS INTEGER) % 7 AS m, count(*) FROM t GROUP BY CAST(x AS INTEGER) % 7 ORDER BY m
