/* What a Java source file declares at its top level, read without a
 * compiler: its package, its public type (whose name javac wants the file to
 * have), and the class to run. Comments and string, character and text
 * block literals are skipped; nothing else of Java is checked: javac does
 * that, and a file it refuses only gets default names here. */
#ifndef SANDPOOL_JAVA_SOURCE_H
#define SANDPOOL_JAVA_SOURCE_H

#include <stddef.h>

/* The longest name kept: a longer package or type name is taken as none. */
#define SP_JAVA_NAME_MAX 256

struct sp_java_source {
	char package[SP_JAVA_NAME_MAX];	    /* "a.b", or "" */
	char public_type[SP_JAVA_NAME_MAX]; /* the first public top-level type, or "" */
	char main_type[SP_JAVA_NAME_MAX];   /* the first top-level type declaring a
					     * static main method, or "" */
	char first_type[SP_JAVA_NAME_MAX];  /* the first top-level type, or "" */
};

/* Read TEXT (LEN bytes, any bytes) into SOURCE. */
void sp_java_source_scan(const char *text, size_t len, struct sp_java_source *source);

#endif
