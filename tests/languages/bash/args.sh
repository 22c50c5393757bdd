# byte counts, whatever the locale says of characters
LC_ALL=C
for arg in "$@"; do
	printf '%d:%s\n' "${#arg}" "$arg"
done
