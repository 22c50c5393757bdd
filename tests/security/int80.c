/* A 32-bit system call from a 64-bit process: the filter must kill it. */
#include <stdio.h>

int main(void)
{
	long ret;

	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L /* i386 getpid */) : "memory");
	printf("int 0x80 getpid returned %ld\n", ret);
	return 0;
}
