-- to_char, to_date and to_timestamp with date/time templates.
SELECT to_char(timestamp '2024-05-07 14:05:09.123456', 'YYYY-MM-DD HH24:MI:SS.MS US'), to_char(timestamp '2024-05-07 14:05:09', 'Dy, DD Mon YYYY HH12:MI AM'), to_char(timestamp '2024-05-07 04:05:09', 'FMDay FMMonth FMDD, YYYY hh:mi pm');
SELECT to_char(timestamp '2024-05-07 14:05:09', 'Month|Day|MONTH|DAY|month|day|MON|DY|mon|dy'), to_char(timestamp '2024-05-07', 'YY Y YYY DDD D Q'), to_char(timestamp '2024-05-07', '"Year" YYYY "is" \Q');
SELECT to_char(timestamptz '2024-05-07 14:05:09+00', 'YYYY-MM-DD HH24:MI:SS TZ OF'), to_char(date '2024-12-25', 'DD/MM/YYYY'), to_char(interval '1 day 02:03:04', 'HH24:MI:SS'), to_char(timestamp 'infinity', 'YYYY');
SELECT to_timestamp('2024-05-07 14:05:09', 'YYYY-MM-DD HH24:MI:SS'), to_date('07 May 2024', 'DD Mon YYYY'), to_date('20240507', 'YYYYMMDD'), to_timestamp('05/07/2024 02:05 PM', 'MM/DD/YYYY HH12:MI AM'), to_date('December 25, 2024', 'Month DD, YYYY');
SELECT to_date('2024-13-01', 'YYYY-MM-DD');
SELECT to_date('xx', 'YYYY');
SELECT to_date('07 Foo 2024', 'DD Mon YYYY');
SET TimeZone = 'Asia/Tokyo';
SELECT to_char(timestamptz '2024-05-07 14:05:09+00', 'YYYY-MM-DD HH24:MI TZ OF'), to_timestamp('2024-05-07 10:00', 'YYYY-MM-DD HH24:MI');
