#import <Foundation/Foundation.h>

int main(void)
{
	NSAutoreleasePool *pool = [[NSAutoreleasePool alloc] init];
	NSArray *args = [[NSProcessInfo processInfo] arguments];
	NSUInteger i;
	for (i = 1; i < [args count]; i++) {
		NSString *arg = [args objectAtIndex:i];
		const char *bytes = [arg UTF8String];
		printf("%zu:%s\n", strlen(bytes), bytes);
	}
	[pool drain];
	return 0;
}
