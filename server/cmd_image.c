#include "cmd_image.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rootfs/store.h"
#include "sandbox/base/cleanup.h"

#define EXIT_FAILED  1
#define EXIT_USAGE   2
#define MAX_OPERANDS 4

enum {
	OPT_STATE_DIR = 256,
	OPT_REPLACE,
	OPT_JSON,
	OPT_HELP,
};

static const struct option long_options[] = {
    {"state-dir", required_argument, NULL, OPT_STATE_DIR},
    {"replace", no_argument, NULL, OPT_REPLACE},
    {"json", no_argument, NULL, OPT_JSON},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

struct image_cli {
	const char *command; /* "import", "ls"... */
	const char *state_dir_option;
	bool replace;
	bool json;
	char *args[MAX_OPERANDS]; /* the operands after the command */
	int arg_count;
	char state_dir[PATH_MAX];
};

/* A subcommand: its operands and the option it takes besides --state-dir. */
struct image_command {
	const char *name;
	const char *operands;
	int arg_count;
	int extra_option;
	int (*run)(struct image_cli *cli);
};

static void usage(FILE *to)
{
	fputs("usage: sandpool image [--state-dir DIR] COMMAND [ARGS]\n"
	      "  import NAME SOURCE [--replace]  import an image: SOURCE is an OCI layout\n"
	      "                                  (DIR or DIR:TAG), an OCI archive or a\n"
	      "                                  docker save tarball\n"
	      "  ls [--json]                     list the images\n"
	      "  inspect NAME                    print an image's image.json\n"
	      "  rm NAME                         remove an image\n"
	      "NAME: lowercase letters, digits, '.', '_' and '-', at most 64.\n"
	      "--state-dir DIR  where images live (default $SANDPOOL_STATE_DIR, else\n"
	      "                 /var/lib/sandpool as root, ~/.local/share/sandpool otherwise)\n"
	      "Exit status 0 on success, 1 on failure, 2 on bad usage.\n",
	      to);
}

/* "sandpool image CMD: MESSAGE" on one line, whatever the message holds. */
static int fail(const struct image_cli *cli, const struct sp_error *err)
{
	char text[SP_ERROR_MESSAGE_MAX + 64];

	/* "no image X" and "image X exists" say all that strerror would. */
	if (err->errnum == ENOENT || err->errnum == EEXIST)
		snprintf(text, sizeof(text), "%s", err->message);
	else
		sp_error_describe(err, text, sizeof(text));
	for (char *p = text; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	}
	fprintf(stderr, "sandpool image%s%s: %s\n", cli->command ? " " : "",
		cli->command ? cli->command : "", text);
	return EXIT_FAILED;
}

static int bad_usage(const struct image_cli *cli, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One line on stderr; the exit status of bad usage. */
static int bad_usage(const struct image_cli *cli, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sandpool image%s%s: ", cli->command ? " " : "",
		cli->command ? cli->command : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void human_size(uint64_t bytes, char *buf, size_t size)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
	double value = (double)bytes;
	size_t unit = 0;

	if (bytes < 1024) {
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
		return;
	}
	value /= 1024;
	while (value >= 1024 && unit + 1 < SP_ARRAY_SIZE(units)) {
		value /= 1024;
		unit++;
	}
	snprintf(buf, size, "%.1f %s", value, units[unit]);
}

static int open_state(struct image_cli *cli)
{
	struct sp_error err = {0};

	if (sp_state_dir(cli->state_dir_option, cli->state_dir, sizeof(cli->state_dir), &err) < 0)
		return fail(cli, &err);
	return 0;
}

static int check_name(const struct image_cli *cli, const char *name)
{
	if (sp_image_name_valid(name))
		return 0;
	return bad_usage(cli, "invalid image name (want [a-z0-9][a-z0-9._-]*, at most %d)",
			 SP_IMAGE_NAME_MAX);
}

/* One updating line on a terminal: "layer 2/5  35.2 MiB". */
struct progress {
	bool shown;
};

static void show_progress(void *ctx, size_t layer, size_t layers, uint64_t bytes)
{
	struct progress *p = ctx;
	char size[32];

	human_size(bytes, size, sizeof(size));
	fprintf(stderr, "\r\033[Klayer %zu/%zu  %s", layer, layers, size);
	fflush(stderr);
	p->shown = true;
}

static int cmd_import(struct image_cli *cli)
{
	struct progress progress = {0};
	struct sp_import_options opts = {.replace = cli->replace};
	struct sp_import_result res = {0};
	struct sp_error err = {0};
	char size[32];
	int rc;

	if (isatty(STDERR_FILENO)) {
		opts.progress = show_progress;
		opts.progress_ctx = &progress;
	}
	rc = sp_store_import(cli->state_dir, cli->args[0], cli->args[1], &opts, &res, &err);
	if (progress.shown)
		fputs("\r\033[K", stderr);
	if (rc < 0)
		return fail(cli, &err);
	human_size(res.size, size, sizeof(size));
	printf("imported %s: %zu layer%s, %s\n", cli->args[0], res.layers,
	       res.layers == 1 ? "" : "s", size);
	return 0;
}

/* "2024-01-02T15:04:05.123Z" as "2024-01-02 15:04". */
static void short_time(const char *created, char *buf, size_t size)
{
	if (created == NULL || strlen(created) < 16 || created[10] != 'T') {
		snprintf(buf, size, "-");
		return;
	}
	snprintf(buf, size, "%.10s %.5s", created, created + 11);
}

static void print_table(json_t *list)
{
	int width = 4;
	size_t i;
	json_t *img;

	json_array_foreach(list, i, img)
	{
		const char *name = json_string_value(json_object_get(img, "name"));

		if (name != NULL && (int)strlen(name) > width)
			width = (int)strlen(name);
	}
	printf("%-*s  %10s  %6s  %s\n", width, "NAME", "SIZE", "LAYERS", "CREATED");
	json_array_foreach(list, i, img)
	{
		const char *name = json_string_value(json_object_get(img, "name"));
		char size[32];
		char created[32];

		human_size((uint64_t)json_integer_value(json_object_get(img, "size")), size,
			   sizeof(size));
		short_time(json_string_value(json_object_get(img, "created")), created,
			   sizeof(created));
		printf("%-*s  %10s  %6lld  %s\n", width, name ? name : "?", size,
		       (long long)json_integer_value(json_object_get(img, "layers")), created);
	}
}

static int cmd_ls(struct image_cli *cli)
{
	struct sp_error err = {0};
	json_auto_t *list = sp_store_list(cli->state_dir, &err);

	if (list == NULL)
		return fail(cli, &err);
	if (cli->json) {
		json_dumpf(list, stdout, JSON_INDENT(2));
		putchar('\n');
	} else {
		print_table(list);
	}
	return 0;
}

static int cmd_inspect(struct image_cli *cli)
{
	struct sp_error err = {0};
	json_auto_t *record = sp_store_image_config(cli->state_dir, cli->args[0], &err);

	if (record == NULL)
		return fail(cli, &err);
	json_dumpf(record, stdout, JSON_INDENT(2));
	putchar('\n');
	return 0;
}

static int cmd_rm(struct image_cli *cli)
{
	struct sp_error err = {0};

	if (sp_store_remove(cli->state_dir, cli->args[0], &err) < 0)
		return fail(cli, &err);
	return 0;
}

static const struct image_command commands[] = {
    {"import", "NAME SOURCE", 2, OPT_REPLACE, cmd_import},
    {"ls", "", 0, OPT_JSON, cmd_ls},
    {"inspect", "NAME", 1, 0, cmd_inspect},
    {"rm", "NAME", 1, 0, cmd_rm},
};

static const struct image_command *find_command(const char *name)
{
	for (size_t i = 0; i < SP_ARRAY_SIZE(commands); i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

/* getopt_long over ARGV; ALLOWED is the one option besides --state-dir and
 * --help (0 for none). PERMUTE lets options follow operands. Returns -1 on
 * bad usage (said), 1 on --help, 0 otherwise. */
static int parse_options(struct image_cli *cli, int argc, char **argv, int allowed, bool permute)
{
	int opt;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, permute ? "-" : "+", long_options, NULL)) != -1) {
		if (opt == 1) { /* an operand, in order ("-" mode) */
			if (cli->arg_count < MAX_OPERANDS)
				cli->args[cli->arg_count] = optarg;
			cli->arg_count++;
			continue;
		}
		if (opt == OPT_HELP)
			return 1;
		if (opt == '?' && optopt == OPT_STATE_DIR) {
			bad_usage(cli, "'%s' needs a value", argv[optind - 1]);
			return -1;
		}
		if (opt == '?' || (opt != OPT_STATE_DIR && opt != allowed)) {
			bad_usage(cli, "unknown option '%s' (see sandpool image --help)",
				  argv[optind - 1]);
			return -1;
		}
		if (opt == OPT_STATE_DIR)
			cli->state_dir_option = optarg;
		else if (opt == OPT_REPLACE)
			cli->replace = true;
		else if (opt == OPT_JSON)
			cli->json = true;
	}
	return 0;
}

static int run_command(struct image_cli *cli, int argc, char **argv)
{
	const struct image_command *c = find_command(argv[0]);
	int rc;

	if (c == NULL) {
		return bad_usage(cli, "unknown command '%s' (see sandpool image --help)", argv[0]);
	}
	cli->command = c->name;
	cli->arg_count = 0;
	rc = parse_options(cli, argc, argv, c->extra_option, true);
	if (rc != 0) {
		if (rc > 0)
			usage(stdout);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	if (cli->arg_count != c->arg_count) {
		char expected[64];

		snprintf(expected, sizeof(expected), "expected %s",
			 c->arg_count ? c->operands : "no operands");
		return bad_usage(cli, "%s", expected);
	}
	if (c->arg_count > 0 && check_name(cli, cli->args[0]) != 0)
		return EXIT_USAGE;
	if (open_state(cli) != 0)
		return EXIT_FAILED;
	return c->run(cli);
}

int sp_cmd_image(int argc, char **argv)
{
	struct image_cli cli = {0};
	int rc = parse_options(&cli, argc, argv, 0, false);

	if (rc != 0) {
		if (rc > 0)
			usage(stdout);
		return rc > 0 ? 0 : EXIT_USAGE;
	}
	if (optind >= argc) {
		return bad_usage(&cli, "no command given (see sandpool image --help)");
	}
	/* argv[optind] is the command, as argv[0] of its own arguments. */
	return run_command(&cli, argc - optind, argv + optind);
}
