-- The arguments are the rows of the table argv(arg TEXT), in order.
SELECT length(CAST(arg AS BLOB)) || ':' || arg FROM argv ORDER BY rowid;
