#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A finite, positive decimal number followed by a unit; returns the unit. */
static const char *parse_number(const char *text, double *value)
{
	char *end;

	if (text == NULL || !isdigit((unsigned char)text[0]))
		return NULL;
	errno = 0;
	*value = strtod(text, &end);
	if (errno != 0 || !isfinite(*value) || *value <= 0)
		return NULL;
	return end;
}

static int scale(double value, double factor, double divisor, uint64_t max, uint64_t *out)
{
	double scaled = ceil(value * factor / divisor);

	if (scaled < 1 || scaled > (double)max)
		return -1;
	*out = (uint64_t)scaled;
	return 0;
}

int sp_parse_size_kb(const char *text, uint64_t max_kb, uint64_t *kb)
{
	static const struct {
		const char *suffix;
		double factor;
	} units[] = {{"", 1},
		     {"B", 1},
		     {"K", 1024.0},
		     {"KB", 1024.0},
		     {"KiB", 1024.0},
		     {"M", 1048576.0},
		     {"MB", 1048576.0},
		     {"MiB", 1048576.0},
		     {"G", 1073741824.0},
		     {"GB", 1073741824.0},
		     {"GiB", 1073741824.0},
		     {"T", 1099511627776.0},
		     {"TB", 1099511627776.0},
		     {"TiB", 1099511627776.0}};
	double value;
	const char *unit = parse_number(text, &value);

	if (unit == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcasecmp(unit, units[i].suffix) == 0)
			return scale(value, units[i].factor, 1024.0, max_kb, kb);
	}
	return -1;
}

int sp_parse_duration_ms(const char *text, uint64_t max_ms, uint64_t *ms)
{
	static const struct {
		const char *suffix;
		double factor;
	} units[] = {{"", 1000},   {"s", 1000},	   {"ms", 1},
		     {"m", 60000}, {"min", 60000}, {"h", 3600000}};
	double value;
	const char *unit = parse_number(text, &value);

	if (unit == NULL)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].suffix) == 0)
			return scale(value, units[i].factor, 1.0, max_ms, ms);
	}
	return -1;
}

int sp_parse_count(const char *text, uint64_t max, uint64_t *count)
{
	char *end;
	unsigned long long value;

	if (text == NULL || !isdigit((unsigned char)text[0]))
		return -1;
	errno = 0;
	value = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || value == 0 || value > max)
		return -1;
	*count = value;
	return 0;
}
