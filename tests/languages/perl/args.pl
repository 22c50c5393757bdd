use strict;
use warnings;
# @ARGV holds bytes (no "use utf8", no -C): length counts bytes.
print length($_), ":$_\n" for @ARGV;
