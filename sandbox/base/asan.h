/* What AddressSanitizer needs to be told (make sanitize); nothing otherwise. */
#ifndef SANDPOOL_ASAN_H
#define SANDPOOL_ASAN_H

#if defined(__SANITIZE_ADDRESS__)
#define SP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SP_ASAN 1
#endif
#endif

#ifdef SP_ASAN
#include <sanitizer/asan_interface.h>
/* Clear the poison that frames left on a stack they never returned from. */
#define sp_asan_unpoison(addr, size) ASAN_UNPOISON_MEMORY_REGION(addr, size)
#else
#define sp_asan_unpoison(addr, size) ((void)(addr), (void)(size))
#endif

#endif
