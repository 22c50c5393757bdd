-- stdin is the program's input: the sqlite3 shell's .import reads it into
-- a table, here through cat ("|cat": the output of a command).
CREATE TABLE input(a INTEGER, b INTEGER);
.separator " "
.import |cat input
SELECT a + b FROM input;
