/* A program's entry: the Java scan of public and main classes, the names a
 * language gets, and the commands with {source} and {main} filled in. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/job/entry.h"
#include "server/job/java_source.h"
#include "server/job/language.h"

static struct sp_java_source scan(const char *text)
{
	struct sp_java_source s;

	sp_java_source_scan(text, strlen(text), &s);
	return s;
}

static void test_plain_classes(void **state)
{
	struct sp_java_source s;

	(void)state;
	s = scan("public class Main { public static void main(String[] a) {} }");
	assert_string_equal(s.public_type, "Main");
	assert_string_equal(s.main_type, "Main");
	assert_string_equal(s.package, "");

	s = scan("import java.util.*;\n\npublic final class HelloWorld {\n"
		 "  public static void main(String... args) { System.out.println(1); }\n}\n");
	assert_string_equal(s.public_type, "HelloWorld");
	assert_string_equal(s.main_type, "HelloWorld");

	/* no public class: the first one with main, not the first one */
	s = scan("class Helper { int main; }\nclass Solution {\n"
		 "  static public void main(String[] a) {}\n}\n");
	assert_string_equal(s.public_type, "");
	assert_string_equal(s.first_type, "Helper");
	assert_string_equal(s.main_type, "Solution");

	/* an empty file, and one that is not Java at all */
	s = scan("");
	assert_string_equal(s.first_type, "");
	s = scan("\x01\xff{{{ ))) ;; \"");
	assert_string_equal(s.public_type, "");
	assert_string_equal(s.main_type, "");
}

static void test_what_is_not_code(void **state)
{
	struct sp_java_source s;

	(void)state;
	s = scan("// public class Comment { static void main(\n"
		 "/* public class Block { public static void main(String[] a) {} } */\n"
		 "/** javadoc: public class Doc */\n"
		 "public class Real {\n"
		 "  String a = \"public class Str { static void main(\";\n"
		 "  char c = '{', d = '\\'', e = '\"';\n"
		 "  String b = \"\"\"\n    public class Text { }\n    \"\"\";\n"
		 "  public static void main(String[] x) { }\n"
		 "}\n");
	assert_string_equal(s.public_type, "Real");
	assert_string_equal(s.main_type, "Real");
	assert_string_equal(s.first_type, "Real");
}

static void test_packages_annotations_and_nesting(void **state)
{
	struct sp_java_source s;

	(void)state;
	s = scan("package com.example.app ;\nimport static java.lang.Math.*;\n"
		 "@SuppressWarnings({\"unchecked\", \"rawtypes\"})\n"
		 "@Deprecated(since = \"1\") public class App {\n"
		 "  static class Inner { public static void main(String[] a) {} }\n"
		 "  Object o = App.class;\n"
		 "  void run() { new Thread(() -> { int x = 1; }).start(); }\n"
		 "  public static <T> void main(final String[] args) throws Exception {}\n"
		 "}\n");
	assert_string_equal(s.package, "com.example.app");
	assert_string_equal(s.public_type, "App");
	assert_string_equal(s.main_type, "App");

	/* main of a nested class, or not static, does not count */
	s = scan("public class Outer { static class In { public static void main(String[] a) {} }"
		 " public void main(String[] a) {} }\nclass Other { void main() {} }");
	assert_string_equal(s.public_type, "Outer");
	assert_string_equal(s.main_type, "");

	/* records, enums, interfaces, annotation types, sealed classes */
	s = scan("record Point(int x, int y) { }\n"
		 "enum Color { RED { }, GREEN; public static void main(String[] a) {} }\n"
		 "public sealed interface Shape permits Sq {}\n"
		 "@interface Marker {}\n");
	assert_string_equal(s.first_type, "Point");
	assert_string_equal(s.public_type, "Shape");
	assert_string_equal(s.main_type, "Color");
	s = scan("@Retention(RetentionPolicy.RUNTIME) public @interface Marker {}");
	assert_string_equal(s.public_type, "Marker");

	/* a non-ASCII name */
	s = scan("public class Gr\xc3\xbc\xc3\x9f { public static void main(String[] a) {} }");
	assert_string_equal(s.public_type, "Gr\xc3\xbc\xc3\x9f");
}

static void test_too_long_names(void **state)
{
	char text[SP_JAVA_NAME_MAX * 2 + 64];
	struct sp_java_source s;

	(void)state;
	strcpy(text, "public class ");
	memset(text + strlen(text), 'A', SP_JAVA_NAME_MAX);
	strcpy(text + 13 + SP_JAVA_NAME_MAX, " {}");
	s = scan(text);
	assert_string_equal(s.public_type, "");
}

static struct sp_language java_language(void)
{
	struct sp_language lang = {
	    .name = "java", .source = "Main.java", .entry = SP_ENTRY_JAVA_CLASS};
	return lang;
}

static void entry_of(const struct sp_language *lang, const char *text, struct sp_entry *e)
{
	sp_entry_of(lang, text, strlen(text), e);
}

static void test_entries(void **state)
{
	struct sp_language java = java_language();
	struct sp_language py = {.name = "python", .source = "main.py"};
	struct sp_language bare = {.name = "bare", .source = "prog"};
	struct sp_entry e;

	(void)state;
	entry_of(&java, "public class HelloWorld { public static void main(String[] a) {} }", &e);
	assert_string_equal(e.source, "HelloWorld.java");
	assert_string_equal(e.main, "HelloWorld");
	entry_of(&java, "public class Main { public static void main(String[] a) {} }", &e);
	assert_string_equal(e.source, "Main.java");
	assert_string_equal(e.main, "Main");
	entry_of(&java, "package p.q; class Solution { static void main(String[] a) {} }", &e);
	assert_string_equal(e.source, "Main.java");
	assert_string_equal(e.main, "p.q.Solution");
	entry_of(&java, "does not compile", &e);
	assert_string_equal(e.source, "Main.java");
	assert_string_equal(e.main, "Main");
	/* other languages never look */
	entry_of(&py, "public class HelloWorld {}", &e);
	assert_string_equal(e.source, "main.py");
	assert_string_equal(e.main, "main");
	entry_of(&bare, "", &e);
	assert_string_equal(e.source, "prog");
	assert_string_equal(e.main, "prog");
}

static void test_commands(void **state)
{
	static const char *const compile[] = {"javac", "-d", ".", "{source}", NULL};
	static const char *const run[] = {"java", "-Dname={main}!", "{main}", "{x}", "{main", NULL};
	static const char *const extra[] = {"{main}", "", NULL};
	struct sp_entry e = {.source = "Hi.java", .main = "p.Hi"};
	char **argv;

	(void)state;
	argv = sp_entry_command(compile, &e, NULL, 0);
	assert_non_null(argv);
	assert_string_equal(argv[3], "Hi.java");
	assert_null(argv[4]);
	sp_argv_free(argv);
	argv = sp_entry_command(run, &e, extra, 2);
	assert_non_null(argv);
	assert_string_equal(argv[0], "java");
	assert_string_equal(argv[1], "-Dname=p.Hi!");
	assert_string_equal(argv[2], "p.Hi");
	assert_string_equal(argv[3], "{x}");
	assert_string_equal(argv[4], "{main");
	assert_string_equal(argv[5], "{main}"); /* the request's own: as they are */
	assert_string_equal(argv[6], "");
	assert_null(argv[7]);
	sp_argv_free(argv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plain_classes),
	    cmocka_unit_test(test_what_is_not_code),
	    cmocka_unit_test(test_packages_annotations_and_nesting),
	    cmocka_unit_test(test_too_long_names),
	    cmocka_unit_test(test_entries),
	    cmocka_unit_test(test_commands),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
