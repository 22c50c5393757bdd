/* The loader of a prepared Java runtime (languages/README.md, "prepare"): a
 * JVM TI agent. The step put it below /tmp and started the language's java
 * (or javac) command with -agentpath pointing at it, before the job came.
 * The JVM calls it once it is initialized, before the launcher loads the
 * program's main class (or javac's, which then reads the job's source):
 * it takes its file away, warms javac up when asked ("=compile": it
 * compiles a small program of its own, in the same JVM, so that javac's
 * classes are loaded and compiled when the job's source comes; not when
 * the job has come already, which would wait for that compile), waits on
 * descriptor 3 for the job (the end of the stream), and returns. The
 * launcher then goes on as it would have from the start. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <jvmti.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WARM_SOURCE                                                                                \
	"import java.util.*;\n"                                                                    \
	"import java.io.*;\n"                                                                      \
	"import java.util.stream.*;\n"                                                             \
	"public class Warm {\n"                                                                    \
	"    record Pair(int a, long b) {}\n"                                                      \
	"    interface Shape { double area(); }\n"                                                 \
	"    enum Kind { A, B }\n"                                                                 \
	"    static <T extends Comparable<T>> T max(List<T> xs) {\n"                               \
	"        return xs.stream().max(Comparator.naturalOrder()).orElseThrow();\n"               \
	"    }\n"                                                                                  \
	"    public static void main(String[] args) throws IOException {\n"                        \
	"        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));\n"      \
	"        Scanner sc = new Scanner(System.in);\n"                                           \
	"        Map<String, List<Integer>> m = new HashMap<>();\n"                                \
	"        int[] a = new int[10];\n"                                                         \
	"        for (int i = 0; i < a.length; i++) a[i] = i * i;\n"                               \
	"        Arrays.sort(a);\n"                                                                \
	"        long s = Arrays.stream(a).asLongStream().sum();\n"                                \
	"        StringBuilder sb = new StringBuilder();\n"                                        \
	"        sb.append(String.format(\"%d %s%n\", s, Kind.A));\n"                              \
	"        Shape c = () -> Math.PI;\n"                                                       \
	"        System.out.println(sb + \" \" + c.area() + new Pair(1, 2L) + max(List.of(3, "     \
	"1)));\n"                                                                                  \
	"    }\n"                                                                                  \
	"}\n"

/* This agent's own file, and the folder the step made for it. */
static char self[PATH_MAX];

static void find_self(void)
{
	Dl_info info;

	if (dladdr((void *)find_self, &info) != 0 && info.dli_fname != NULL)
		snprintf(self, sizeof(self), "%s", info.dli_fname);
}

/* Remove the folder the step made for this agent, and all in it (the
 * agent, the warm-up's files): the program finds /tmp as a fresh start has
 * it. */
static void remove_tree(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *e;
	char child[PATH_MAX];

	if (dir == NULL) {
		unlink(path);
		return;
	}
	while ((e = readdir(dir)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (snprintf(child, sizeof(child), "%s/%s", path, e->d_name) < (int)sizeof(child))
			remove_tree(child);
	}
	closedir(dir);
	rmdir(path);
}

static jobjectArray strings(JNIEnv *jni, const char *const *list, int n)
{
	jclass string = (*jni)->FindClass(jni, "java/lang/String");
	jobjectArray out;

	if (string == NULL)
		return NULL;
	out = (*jni)->NewObjectArray(jni, n, string, NULL);
	for (int i = 0; out != NULL && i < n; i++)
		(*jni)->SetObjectArrayElement(jni, out, i, (*jni)->NewStringUTF(jni, list[i]));
	return out;
}

/* Compile a small program with javac's own entry, in a folder of the
 * agent's: javac's classes loaded for the job's source (a second compile in
 * one JVM takes a tenth of the first).
 * Any failure only leaves javac cold. */
static void warm_javac(JNIEnv *jni, const char *dir)
{
	char source[PATH_MAX], out[PATH_MAX];
	const char *args[] = {"-encoding", "UTF-8", "-d", out, source};
	jclass main;
	jmethodID compile;
	FILE *f;

	if (snprintf(source, sizeof(source), "%s/Warm.java", dir) >= (int)sizeof(source) ||
	    snprintf(out, sizeof(out), "%s/classes", dir) >= (int)sizeof(out))
		return;
	f = fopen(source, "w");
	if (f == NULL)
		return;
	fputs(WARM_SOURCE, f);
	fclose(f);
	main = (*jni)->FindClass(jni, "com/sun/tools/javac/Main");
	compile =
	    main ? (*jni)->GetStaticMethodID(jni, main, "compile", "([Ljava/lang/String;)I") : NULL;
	if (compile != NULL) {
		jobjectArray a = strings(jni, args, 5);

		if (a != NULL)
			(*jni)->CallStaticIntMethod(jni, main, compile, a);
	}
	if ((*jni)->ExceptionCheck(jni))
		(*jni)->ExceptionClear(jni);
}

/* Has the job come (its command, or the end of descriptor 3)? Then javac
 * is not warmed up: the job would wait for the warm-up's compile. */
static int job_came(void)
{
	struct pollfd fd = {.fd = 3, .events = POLLIN};

	return poll(&fd, 1, 0) == 1;
}

/* The job: the end of descriptor 3. */
static void wait_for_job(void)
{
	char buf[4096];

	while (read(3, buf, sizeof(buf)) > 0) {
	}
	close(3);
}

static int warm; /* "=compile" */

static void JNICALL vm_init(jvmtiEnv *jvmti, JNIEnv *jni, jthread thread)
{
	char dir[PATH_MAX];

	(void)jvmti;
	(void)thread;
	snprintf(dir, sizeof(dir), "%s", self);
	dirname(dir);
	if (warm && !job_came())
		warm_javac(jni, dir);
	if (self[0] != '\0' && strncmp(dir, "/tmp/", 5) == 0)
		remove_tree(dir);
	wait_for_job();
}

JNIEXPORT jint JNICALL Agent_OnLoad(JavaVM *vm, char *options, void *reserved)
{
	jvmtiEventCallbacks callbacks = {.VMInit = vm_init};
	jvmtiEnv *jvmti;

	(void)reserved;
	warm = options != NULL && strcmp(options, "compile") == 0;
	find_self();
	if ((*vm)->GetEnv(vm, (void **)&jvmti, JVMTI_VERSION_1_2) != JNI_OK ||
	    (*jvmti)->SetEventCallbacks(jvmti, &callbacks, sizeof(callbacks)) != JVMTI_ERROR_NONE ||
	    (*jvmti)->SetEventNotificationMode(jvmti, JVMTI_ENABLE, JVMTI_EVENT_VM_INIT, NULL) !=
		JVMTI_ERROR_NONE)
		return JNI_ERR;
	return JNI_OK;
}
